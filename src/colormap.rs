//! The paper's diverging colormap for easy-axis components and magnetisation: red at −1,
//! white at 0, blue at +1 (ColorBrewer RdBu, as matplotlib's "RdBu"), and its inverse so
//! that a picture painted with it can be read back into numbers.

/// RdBu control colours from −1 (dark red) to +1 (dark blue), evenly spaced.
const STOPS: [[u8; 3]; 11] = [
    [0x67, 0x00, 0x1f],
    [0xb2, 0x18, 0x2b],
    [0xd6, 0x60, 0x4d],
    [0xf4, 0xa5, 0x82],
    [0xfd, 0xdb, 0xc7],
    [0xf7, 0xf7, 0xf7],
    [0xd1, 0xe5, 0xf0],
    [0x92, 0xc5, 0xde],
    [0x43, 0x93, 0xc3],
    [0x21, 0x66, 0xac],
    [0x05, 0x30, 0x61],
];

/// Colour of `v` in [−1, 1] (values outside are clamped; NaN maps to white's neighbour 0).
pub fn rgb(v: f64) -> [u8; 3] {
    let v = if v.is_nan() { 0.0 } else { v.clamp(-1.0, 1.0) };
    let x = (v + 1.0) * 0.5 * (STOPS.len() - 1) as f64;
    let k = (x.floor() as usize).min(STOPS.len() - 2);
    let t = x - k as f64;
    let (a, b) = (STOPS[k], STOPS[k + 1]);
    let mix = |c: usize| (a[c] as f64 + t * (b[c] as f64 - a[c] as f64)).round() as u8;
    [mix(0), mix(1), mix(2)]
}

/// Colour of `v` mapped linearly from [lo, hi] onto the colormap's [−1, 1].
pub fn rgb_in(v: f64, lo: f64, hi: f64) -> [u8; 3] {
    if hi > lo {
        rgb(2.0 * (v - lo) / (hi - lo) - 1.0)
    } else {
        rgb(0.0)
    }
}

/// Number of entries of the inverse look-up table (resolution 2/(N−1) in value).
const LUT: usize = 2001;

/// The value in [−1, 1] whose colour is nearest to `c`, and the squared RGB distance to
/// it (0 for a colour painted by [`rgb`] up to rounding, large for a foreign colour).
pub fn value_of(c: [u8; 3]) -> (f64, u32) {
    let mut best = (0.0, u32::MAX);
    for k in 0..LUT {
        let v = -1.0 + 2.0 * k as f64 / (LUT - 1) as f64;
        let p = rgb(v);
        let d: u32 = (0..3)
            .map(|i| (p[i] as i32 - c[i] as i32).pow(2) as u32)
            .sum();
        if d < best.1 {
            best = (v, d);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_and_middle() {
        assert_eq!(rgb(-1.0), STOPS[0]);
        assert_eq!(rgb(1.0), STOPS[10]);
        assert_eq!(rgb(0.0), STOPS[5]);
        assert_eq!(rgb(-5.0), STOPS[0]);
    }

    #[test]
    fn inverse_recovers_values_to_colour_resolution() {
        for k in 0..=200 {
            let v = -1.0 + k as f64 * 0.01;
            let (back, d) = value_of(rgb(v));
            assert_eq!(d, 0);
            // Colours are 8-bit: the steepest channel moves ~0.55 levels per 0.01 in v.
            assert!((back - v).abs() < 0.02, "{v} -> {back}");
        }
    }
}

//! Axis ranges that plotters can draw: finite, with min < max, from data that may hold
//! NaN, infinities, a single point or all-equal values.

use super::error::{PlotError, Result};

/// Smallest and largest finite value, or None if there is none.
pub fn finite_extent<'a>(values: impl IntoIterator<Item = &'a f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc, &v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// A drawable range around the data extent: 5 % padding, and a unit-sized window around
/// a single value (all-equal data), so plotters never sees an empty range.
pub fn padded((lo, hi): (f64, f64)) -> (f64, f64) {
    let span = hi - lo;
    // A span lost in rounding (1 .. 1+1e-16) is treated as a single value.
    if span > 1e-12 * lo.abs().max(hi.abs()) && span.is_finite() {
        (lo - 0.05 * span, hi + 0.05 * span)
    } else {
        let half = if lo == 0.0 { 1.0 } else { 0.1 * lo.abs() };
        (lo - half, hi + half)
    }
}

/// Checks a user-given or computed range: finite ends, min < max, finite span.
pub fn checked(axis: &str, (lo, hi): (f64, f64)) -> Result<(f64, f64)> {
    if lo.is_finite() && hi.is_finite() && lo < hi && (hi - lo).is_finite() {
        Ok((lo, hi))
    } else {
        Err(PlotError::BadRange {
            axis: axis.to_string(),
            lo,
            hi,
        })
    }
}

/// "Nice" tick values (1, 2, 5 × 10^k steps) inside [lo, hi], about `n` of them.
pub fn ticks(lo: f64, hi: f64, n: usize) -> (Vec<f64>, f64) {
    let raw = (hi - lo) / n.max(1) as f64;
    if !(raw > 0.0 && raw.is_finite()) {
        return (Vec::new(), 1.0);
    }
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    // Snap to exact multiples so that 0 prints as "0", not "-0.0000000001".
    let values = (first..=last).map(|k| k as f64 * step).collect();
    (values, step)
}

/// A tick label with just enough decimals for `step`.
pub fn tick_label(v: f64, step: f64) -> String {
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    let s = format!("{v:.decimals$}");
    // "-0" and "-0.0" are noise on an axis.
    if s.trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        s.trim_start_matches('-').to_string()
    } else {
        s
    }
}

/// A label for a tick an axis placed itself near steps of about `step`: two decimals more
/// than `step` needs, trailing zeros dropped ("100", "0.0026", "0.3").
pub fn axis_label(v: f64, step: f64) -> String {
    let s = tick_label(v, step / 100.0);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extent_skips_non_finite() {
        let v = [f64::NAN, 2.0, f64::INFINITY, -1.0];
        assert_eq!(finite_extent(&v), Some((-1.0, 2.0)));
        assert_eq!(finite_extent(&[f64::NAN]), None);
    }

    #[test]
    fn degenerate_extent_gets_a_window() {
        assert_eq!(padded((0.0, 0.0)), (-1.0, 1.0));
        let (lo, hi) = padded((5.0, 5.0));
        assert!(lo < 5.0 && hi > 5.0);
        assert!(checked("x", padded((1e-300, 1e-300))).is_ok());
    }

    #[test]
    fn bad_ranges_are_reported() {
        assert!(checked("x", (1.0, 1.0)).is_err());
        assert!(checked("x", (2.0, 1.0)).is_err());
        assert!(checked("y", (f64::NAN, 1.0)).is_err());
        assert!(checked("y", (-f64::MAX, f64::MAX)).is_err());
    }

    #[test]
    fn nice_ticks() {
        let (t, step) = ticks(-1.0, 1.0, 4);
        assert_eq!(t, vec![-1.0, -0.5, 0.0, 0.5, 1.0]);
        let labels: Vec<_> = t.iter().map(|v| tick_label(*v, step)).collect();
        assert_eq!(labels, ["-1.0", "-0.5", "0.0", "0.5", "1.0"]);
        let (t, step) = ticks(0.0, 100.0, 5);
        assert_eq!(step, 20.0);
        assert_eq!(t.len(), 6);
        assert_eq!(tick_label(-0.0, 1.0), "0");
        assert_eq!(axis_label(100.0, 100.0), "100");
        assert_eq!(axis_label(0.0026, 0.0002), "0.0026");
        assert_eq!(axis_label(0.1 + 0.2, 0.1), "0.3");
        assert_eq!(axis_label(-0.0, 0.5), "0");
        assert_eq!(axis_label(0.25, 0.5), "0.25");
        assert_eq!(ticks(1.0, 1.0, 5).0, Vec::<f64>::new());
    }
}

//! Polylines cut to the visible window in data space. plotters does not clip, and a far
//! outlier beyond a fixed axis range would become a saturated pixel coordinate (huge
//! loops, i32 overflow); clipping first keeps every drawn coordinate on the canvas.

/// The visible window: x in [x0, x1], y in [y0, y1].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Window {
    pub x0: f64,
    pub x1: f64,
    pub y0: f64,
    pub y1: f64,
}

impl Window {
    pub fn new((x0, x1): (f64, f64), (y0, y1): (f64, f64)) -> Window {
        Window { x0, x1, y0, y1 }
    }

    pub fn contains(&self, (x, y): (f64, f64)) -> bool {
        x >= self.x0 && x <= self.x1 && y >= self.y0 && y <= self.y1
    }
}

/// The part of segment a–b inside the window (Liang–Barsky), if any.
pub fn segment(a: (f64, f64), b: (f64, f64), w: &Window) -> Option<((f64, f64), (f64, f64))> {
    // Halved differences: the ratios q/p are unchanged, and ±1e308 data cannot overflow.
    let half = |u: f64, v: f64| 0.5 * u - 0.5 * v;
    let (dx, dy) = (half(b.0, a.0), half(b.1, a.1));
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, half(a.0, w.x0)),
        (dx, half(w.x1, a.0)),
        (-dy, half(a.1, w.y0)),
        (dy, half(w.y1, a.1)),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    // Uncut ends are returned exactly, so that `runs` can tell a continued line.
    let at = |t: f64| match t {
        0.0 => a,
        1.0 => b,
        _ => ((1.0 - t) * a.0 + t * b.0, (1.0 - t) * a.1 + t * b.1),
    };
    // `t0 <= t1` is false for NaN too.
    let (p, q) = (at(t0), at(t1));
    let finite = p.0.is_finite() && p.1.is_finite() && q.0.is_finite() && q.1.is_finite();
    (t0 <= t1 && finite).then_some((p, q))
}

/// The polyline through (xs[k], ys[k]) as runs of connected, visible points: a NaN or
/// infinite point breaks the line, and so does leaving the window.
pub fn runs(xs: &[f64], ys: &[f64], w: &Window) -> Vec<Vec<(f64, f64)>> {
    let pts: Vec<(f64, f64)> = xs.iter().copied().zip(ys.iter().copied()).collect();
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut open = false;
    for pair in pts.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        match segment(a, b, w) {
            Some((p, q)) if [a.0, a.1, b.0, b.1].iter().all(|v| v.is_finite()) => {
                match out.last_mut() {
                    Some(run) if open => run.push(q),
                    _ => out.push(vec![p, q]),
                }
                open = q == b;
            }
            _ => open = false,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: Window = Window {
        x0: -1.0,
        x1: 1.0,
        y0: -1.0,
        y1: 1.0,
    };

    #[test]
    fn segments_are_cut_at_the_window() {
        assert_eq!(
            segment((0.0, 0.0), (0.5, 0.5), &W),
            Some(((0.0, 0.0), (0.5, 0.5)))
        );
        assert_eq!(
            segment((0.0, 0.0), (4.0, 0.0), &W),
            Some(((0.0, 0.0), (1.0, 0.0)))
        );
        assert_eq!(segment((2.0, 2.0), (3.0, 3.0), &W), None);
        // Extreme data loses precision in t, but what comes back stays in the window.
        let (p, q) = segment((-1e308, 0.0), (1e308, 0.0), &W).unwrap();
        assert!(W.contains(p) && W.contains(q));
        assert_eq!(segment((-1e308, 5.0), (1e308, 5.0), &W), None);
    }

    #[test]
    fn runs_break_at_nan_and_outside() {
        let xs = [-0.5, 0.0, f64::NAN, 0.2, 0.4, 5.0, 0.6, 0.8];
        let ys = [0.0; 8];
        let r = runs(&xs, &ys, &W);
        assert_eq!(r.len(), 3, "{r:?}");
        assert_eq!(r[0], vec![(-0.5, 0.0), (0.0, 0.0)]);
        assert_eq!(r[1], vec![(0.2, 0.0), (0.4, 0.0), (1.0, 0.0)]);
        assert_eq!(r[2], vec![(1.0, 0.0), (0.6, 0.0), (0.8, 0.0)]);
        assert!(runs(&[0.0], &[0.0], &W).is_empty());
    }
}

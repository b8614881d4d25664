//! The regression targets of docs/physics.md §4 from a descending curve M(h) (M = mean m_y in
//! units of Ms, h in units of HA): M1 = M(+1), Mr = M(0), Hk90/Hk80/Hk70 = first field at
//! which M ≤ 0.9/0.8/0.7·Mr, Hc = first field at which M ≤ 0, reported as positive
//! magnitudes (the applied field is −Hk), linearly interpolated between the bracketing
//! steps. An anchor the curve does not reach is `None`, never invented.

/// Anchor points; `None` = missing.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Anchors {
    pub m1: Option<f64>,
    pub mr: Option<f64>,
    pub hk90: Option<f64>,
    pub hk80: Option<f64>,
    pub hk70: Option<f64>,
    pub hc: Option<f64>,
}

impl Anchors {
    /// (name, value) in the order M1, Mr, Hk90, Hk80, Hk70, Hc.
    pub fn named(&self) -> [(&'static str, Option<f64>); 6] {
        [
            ("M1", self.m1),
            ("Mr", self.mr),
            ("Hk90", self.hk90),
            ("Hk80", self.hk80),
            ("Hk70", self.hk70),
            ("Hc", self.hc),
        ]
    }

    /// The points (h, M) the anchors mark on the curve, in order of decreasing h:
    /// (1, M1), (0, Mr), (−Hk90, 0.9·Mr), (−Hk80, 0.8·Mr), (−Hk70, 0.7·Mr), (−Hc, 0);
    /// an Hk needs Mr, missing anchors are left out.
    pub fn points(&self) -> Vec<(&'static str, f64, f64)> {
        let mut p = vec![];
        if let Some(v) = self.m1 {
            p.push(("M1", 1.0, v));
        }
        if let Some(v) = self.mr {
            p.push(("Mr", 0.0, v));
            for (name, level, hk) in [
                ("Hk90", 0.9, self.hk90),
                ("Hk80", 0.8, self.hk80),
                ("Hk70", 0.7, self.hk70),
            ] {
                if let Some(hk) = hk {
                    p.push((name, -hk, level * v));
                }
            }
        }
        if let Some(hc) = self.hc {
            p.push(("Hc", -hc, 0.0));
        }
        p
    }
}

const SNAP: f64 = 1e-9;

/// M at field `target`, from a step at that field or interpolated between bracketing steps.
fn value_at(h: &[f64], m: &[f64], target: f64) -> Option<f64> {
    if let Some(k) = h.iter().position(|v| (v - target).abs() <= SNAP) {
        return Some(m[k]);
    }
    (1..h.len()).find_map(|k| {
        let (a, b) = (h[k - 1], h[k]);
        ((a - target) * (b - target) < 0.0)
            .then(|| m[k - 1] + (m[k] - m[k - 1]) * (target - a) / (b - a))
    })
}

/// Field magnitude −h at which M first falls to `level` or below.
fn first_crossing(h: &[f64], m: &[f64], level: f64) -> Option<f64> {
    let k = m.iter().position(|&v| v <= level)?;
    if k == 0 {
        return Some(-h[0]);
    }
    let (m0, m1) = (m[k - 1], m[k]);
    let t = if m1 < m0 {
        (m0 - level) / (m0 - m1)
    } else {
        1.0
    };
    Some(-(h[k - 1] + t * (h[k] - h[k - 1])))
}

/// Anchors of the descending curve given by fields `h` and magnetisations `m` (same length).
pub fn anchors(h: &[f64], m: &[f64]) -> Anchors {
    let n = h.len().min(m.len());
    let (h, m) = (&h[..n], &m[..n]);
    if n == 0 || h.iter().chain(m).any(|v| !v.is_finite()) {
        return Anchors::default();
    }
    let mr = value_at(h, m, 0.0);
    let hk = |f: f64| mr.and_then(|r| first_crossing(h, m, f * r));
    Anchors {
        m1: value_at(h, m, 1.0),
        mr,
        hk90: hk(0.9),
        hk80: hk(0.8),
        hk70: hk(0.7),
        hc: first_crossing(h, m, 0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solver::validation::reference_curve;

    #[test]
    fn reproduces_reference_readme_anchors() {
        let table = [
            (
                "small_fixed_dm1e-6",
                [0.99054, 0.96166, 0.47389, 0.51037, 0.51090, 0.51460],
            ),
            (
                "sw_8x8_30deg_nodemag",
                [0.96716, 0.86603, 0.24110, 0.37043, 0.44732, 0.52304],
            ),
        ];
        for (folder, want) in table {
            let (h, m) = reference_curve(folder);
            let a = anchors(&h, &m);
            for ((name, got), w) in a.named().iter().zip(want) {
                let got = got.expect("anchor present");
                assert!((got - w).abs() < 6e-6, "{folder} {name}: {got} vs {w}");
            }
        }
    }

    #[test]
    fn missing_and_interpolated() {
        let h = [1.0, 0.5, 0.0, -0.5, -1.0];
        let m = [1.0, 1.0, 0.8, 0.7, 0.6];
        let a = anchors(&h, &m);
        assert_eq!(a.m1, Some(1.0));
        assert_eq!(a.mr, Some(0.8));
        // 0.9·0.8 = 0.72 between 0.8 at 0 and 0.7 at −0.5: h = −0.4.
        assert!((a.hk90.unwrap() - 0.4).abs() < 1e-12);
        // 0.8·0.8 = 0.64 between 0.7 at −0.5 and 0.6 at −1: h = −0.8.
        assert!((a.hk80.unwrap() - 0.8).abs() < 1e-12);
        assert_eq!(a.hk70, None);
        assert_eq!(a.hc, None);
        // A curve that never reaches h = 0 has no Mr and so no Hk.
        let a = anchors(&[1.0, 0.5], &[1.0, 0.9]);
        assert_eq!((a.mr, a.hk90, a.hc), (None, None, None));
        assert_eq!(anchors(&[], &[]), Anchors::default());
    }
}

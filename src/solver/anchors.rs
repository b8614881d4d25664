//! The regression targets of docs/physics.md §4 from a descending curve M(h) (M = mean m_y in
//! units of Ms, h in units of HA): M1 = M(+1), Mr = M(0), Hk90/Hk80/Hk70 = first field at
//! which M ≤ 0.9/0.8/0.7·Mr, Hc = first field at which M ≤ 0, reported as positive
//! magnitudes (the applied field is −Hk), linearly interpolated between the bracketing
//! steps. An anchor the curve does not reach, or whose level the curve does not cross from
//! above (it starts at or below it), is `None`, never invented; an Hk needs Mr > 0. Anchors
//! are defined on descending sweeps only: an ascending curve has none. Every step
//! warm-starts from the previous one, so an anchor also depends on every step before it:
//! [`Anchors::unreliable`] flags those with a non-converged step among them.

/// One anchor point of a descending curve. The one definition of the anchors' names, order,
/// units and levels; every table, map, file column and network output follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Anchor {
    M1,
    Mr,
    Hk90,
    Hk80,
    Hk70,
    Hc,
}

impl Anchor {
    /// Every anchor, in the order of tables, files and network outputs.
    pub const ALL: [Anchor; 6] = [
        Anchor::M1,
        Anchor::Mr,
        Anchor::Hk90,
        Anchor::Hk80,
        Anchor::Hk70,
        Anchor::Hc,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Anchor::M1 => "M1",
            Anchor::Mr => "Mr",
            Anchor::Hk90 => "Hk90",
            Anchor::Hk80 => "Hk80",
            Anchor::Hk70 => "Hk70",
            Anchor::Hc => "Hc",
        }
    }

    pub fn from_name(name: &str) -> Option<Anchor> {
        Anchor::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Position in [`Anchor::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The largest |Δ| a faster descent may leave against the short-step path
    /// ([`super::SweepOptions::short_step`]; issue 11), and the limit on the mean |Δ| over
    /// many structures (fields only).
    pub const fn path_limits(self) -> (f64, Option<f64>) {
        match self {
            Anchor::M1 | Anchor::Mr => (1e-3, None),
            Anchor::Hk90 => (2e-3, None),
            _ => (0.01, Some(0.003)),
        }
    }

    /// Ms for magnetisations, HA for fields (reported as positive magnitudes).
    pub const fn unit(self) -> &'static str {
        match self {
            Anchor::M1 | Anchor::Mr => "Ms",
            _ => "HA",
        }
    }

    /// For an Hk: the fraction of Mr whose first crossing it marks.
    pub const fn level(self) -> Option<f64> {
        match self {
            Anchor::Hk90 => Some(0.9),
            Anchor::Hk80 => Some(0.8),
            Anchor::Hk70 => Some(0.7),
            _ => None,
        }
    }
}

/// The anchors' names in the order of [`Anchor::ALL`].
pub const ANCHOR_NAMES: [&str; 6] = {
    let mut n = [""; 6];
    let mut i = 0;
    while i < 6 {
        n[i] = Anchor::ALL[i].name();
        i += 1;
    }
    n
};

/// Anchor points; `None` = missing.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Anchors([Option<f64>; 6]);

impl Anchors {
    /// From values in the order of [`Anchor::ALL`].
    pub fn from_values(values: [Option<f64>; 6]) -> Anchors {
        Anchors(values)
    }

    /// Values in the order of [`Anchor::ALL`].
    pub fn values(&self) -> [Option<f64>; 6] {
        self.0
    }

    pub fn get(&self, a: Anchor) -> Option<f64> {
        self.0[a.index()]
    }

    /// (name, value) in the order of [`Anchor::ALL`].
    pub fn named(&self) -> [(&'static str, Option<f64>); 6] {
        Anchor::ALL.map(|a| (a.name(), self.get(a)))
    }

    /// The points (h, M) the anchors mark on the curve, in order of decreasing h:
    /// (1, M1), (0, Mr), (−Hk90, 0.9·Mr), (−Hk80, 0.8·Mr), (−Hk70, 0.7·Mr), (−Hc, 0);
    /// an Hk needs Mr, missing anchors are left out.
    pub fn points(&self) -> Vec<(&'static str, f64, f64)> {
        let mr = self.get(Anchor::Mr);
        Anchor::ALL
            .into_iter()
            .filter_map(|a| {
                let v = self.get(a)?;
                match (a, a.level()) {
                    (Anchor::M1, _) => Some((a.name(), 1.0, v)),
                    (Anchor::Mr, _) => Some((a.name(), 0.0, v)),
                    (_, Some(level)) => mr.map(|r| (a.name(), -v, level * r)),
                    _ => Some((a.name(), -v, 0.0)),
                }
            })
            .collect()
    }

    /// Per anchor (order of [`Anchor::ALL`]): whether a step it depends on — any step up
    /// to the first at or past its field, or every step for a missing anchor — did not
    /// converge. `h` and `converged` are the curve's steps.
    pub fn unreliable(&self, h: &[f64], converged: &[bool]) -> [bool; 6] {
        let n = h.len().min(converged.len());
        // The step index up to which the curve was used to find the point at field `at`.
        let upto = |at: Option<f64>| match at {
            Some(f) => h[..n]
                .iter()
                .position(|&v| v <= f + SNAP)
                .unwrap_or(n.max(1) - 1),
            None => n.max(1) - 1,
        };
        let bad = |k: usize| converged[..n.min(k + 1)].iter().any(|c| !c);
        let mr = upto(self.get(Anchor::Mr).map(|_| 0.0));
        Anchor::ALL.map(|a| {
            let v = self.get(a);
            match a {
                Anchor::M1 => bad(upto(v.map(|_| 1.0))),
                Anchor::Mr => bad(mr),
                // An Hk is found from Mr on: it depends on every step up to Mr's too.
                _ if a.level().is_some() => bad(upto(v.map(|x| -x)).max(mr)),
                _ => bad(upto(v.map(|x| -x))),
            }
        })
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

/// Field magnitude −h at which M first falls to `level` or below; `None` unless the curve
/// starts above `level` (a curve starting below it never crossed it where we can see).
fn first_crossing(h: &[f64], m: &[f64], level: f64) -> Option<f64> {
    let k = m.iter().position(|&v| v <= level)?;
    if k == 0 {
        return None;
    }
    let (m0, m1) = (m[k - 1], m[k]);
    let t = if m1 < m0 {
        (m0 - level) / (m0 - m1)
    } else {
        1.0
    };
    Some(-(h[k - 1] + t * (h[k] - h[k - 1])))
}

/// Whether the fields strictly decrease (one field counts as descending).
pub fn descending(h: &[f64]) -> bool {
    h.windows(2).all(|w| w[1] < w[0])
}

/// Anchors of the descending curve given by fields `h` and magnetisations `m` (same length).
pub fn anchors(h: &[f64], m: &[f64]) -> Anchors {
    let n = h.len().min(m.len());
    let (h, m) = (&h[..n], &m[..n]);
    if n == 0 || h.iter().chain(m).any(|v| !v.is_finite()) || !descending(h) {
        return Anchors::default();
    }
    let mr = value_at(h, m, 0.0);
    let hk = |f: f64| {
        mr.filter(|&r| r > 0.0)
            .and_then(|r| first_crossing(h, m, f * r))
    };
    Anchors(Anchor::ALL.map(|a| match (a, a.level()) {
        (Anchor::M1, _) => value_at(h, m, 1.0),
        (Anchor::Mr, _) => mr,
        (_, Some(level)) => hk(level),
        _ => first_crossing(h, m, 0.0),
    }))
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
        assert_eq!(a.get(Anchor::M1), Some(1.0));
        assert_eq!(a.get(Anchor::Mr), Some(0.8));
        // 0.9·0.8 = 0.72 between 0.8 at 0 and 0.7 at −0.5: h = −0.4.
        assert!((a.get(Anchor::Hk90).unwrap() - 0.4).abs() < 1e-12);
        // 0.8·0.8 = 0.64 between 0.7 at −0.5 and 0.6 at −1: h = −0.8.
        assert!((a.get(Anchor::Hk80).unwrap() - 0.8).abs() < 1e-12);
        assert_eq!(a.get(Anchor::Hk70), None);
        assert_eq!(a.get(Anchor::Hc), None);
        // A curve that never reaches h = 0 has no Mr and so no Hk.
        let a = anchors(&[1.0, 0.5], &[1.0, 0.9]);
        assert_eq!(
            (a.get(Anchor::Mr), a.get(Anchor::Hk90), a.get(Anchor::Hc)),
            (None, None, None)
        );
        assert_eq!(anchors(&[], &[]), Anchors::default());
    }

    #[test]
    fn levels_not_crossed_from_above_are_missing() {
        // Issue #12: a sweep from −0.9 that switches at once used to give Hc = 0.9.
        let a = anchors(&[-0.9, -0.95, -1.0], &[-0.99, -0.99, -1.0]);
        assert_eq!(a.get(Anchor::Hc), None);
        // Never saturated (Js = 100 T): M ≤ 0 from the first step, Mr < 0 has no Hk.
        let h = [1.0, 0.5, 0.0, -0.5, -1.0];
        let a = anchors(&h, &[-0.1, -0.2, -0.3, -0.4, -0.5]);
        assert_eq!(a.get(Anchor::Mr), Some(-0.3));
        assert_eq!(
            (
                a.get(Anchor::Hk90),
                a.get(Anchor::Hk80),
                a.get(Anchor::Hk70),
                a.get(Anchor::Hc)
            ),
            (None, None, None, None)
        );
        // A curve that starts above a level and crosses it still gives the anchor.
        let a = anchors(&h, &[1.0, 0.9, 0.8, 0.1, -0.5]);
        assert!((a.get(Anchor::Hc).unwrap() - (0.5 + 0.5 * 0.1 / 0.6)).abs() < 1e-12);
    }

    #[test]
    fn ascending_curves_have_no_anchors() {
        let h = [-1.0, -0.5, 0.0, 0.5, 1.0];
        let m = [-1.0, -0.9, -0.5, 0.9, 1.0];
        assert!(!descending(&h));
        assert_eq!(anchors(&h, &m), Anchors::default());
    }

    #[test]
    fn anchors_after_a_non_converged_step_are_unreliable() {
        let h = [1.0, 0.5, 0.0, -0.5, -1.0];
        let m = [1.0, 1.0, 0.8, 0.7, -0.6];
        let a = anchors(&h, &m);
        assert_eq!(a.unreliable(&h, &[true; 5]), [false; 6]);
        // Step −0.5 failed: M1 and Mr come before it; Hk90 (at −0.4) is found at that
        // step, the others later.
        let c = [true, true, true, false, true];
        assert_eq!(a.unreliable(&h, &c), [false, false, true, true, true, true]);
        // The first step failed: everything depends on it (missing anchors included).
        let c = [false, true, true, true, true];
        assert_eq!(a.unreliable(&h, &c), [true; 6]);
        // A failure after the last anchor touches only anchors that are missing.
        let m = [1.0, 1.0, 0.8, 0.75, 0.74];
        let a = anchors(&h, &m);
        let c = [true, true, true, true, false];
        assert_eq!(a.get(Anchor::Hk70), None);
        assert_eq!(a.unreliable(&h, &c), [false, false, true, true, true, true]);
    }
}

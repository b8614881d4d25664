//! First-order reversal curves as data, wherever they come from — the solver or a
//! magnetometer's file: their distribution, the recoil they imply, and the readers of
//! measured sets (docs/physics.md §3.9). One estimator serves both, so a simulated and a
//! measured FORC diagram can be compared point for point.

mod diagram;
mod distribution;
mod mean;
mod read;
mod recoil;

pub use diagram::{Diagram, Grid, Peak};
pub use distribution::Distribution;
pub use read::{Format, ReadOptions, read};
pub use recoil::Recoil;

/// One reversal curve: M at rising fields h, from its reversal field h_r up.
#[derive(Debug, Clone, PartialEq)]
pub struct Reversal {
    pub h_r: f64,
    pub h: Vec<f64>,
    pub m: Vec<f64>,
}

/// A set of reversal curves, in falling h_r.
#[derive(Debug, Clone, PartialEq)]
pub struct Reversals {
    curves: Vec<Reversal>,
    /// Ms/HA in one unit: turns dm/dh into ΔM/ΔH for the recoil permeability. A simulation
    /// knows it from its material; a measurement is told it.
    pub ms_per_ha: Option<f64>,
    /// Whether h is in units of HA and M in units of Ms (a measurement read without `ha`
    /// and `ms` keeps its file's units).
    pub reduced: bool,
}

impl Reversals {
    /// Checks the curves (each non-empty, finite, with rising fields; no two at one h_r)
    /// and orders them by falling h_r.
    pub fn new(
        mut curves: Vec<Reversal>,
        ms_per_ha: Option<f64>,
        reduced: bool,
    ) -> Result<Self, String> {
        if curves.is_empty() {
            return Err("no reversal curves".into());
        }
        for (k, c) in curves.iter().enumerate() {
            let at = format!("curve {} (h_r = {})", k + 1, c.h_r);
            if c.h.is_empty() || c.h.len() != c.m.len() {
                return Err(format!(
                    "{at}: {} fields and {} moments; expected as many, at least one",
                    c.h.len(),
                    c.m.len()
                ));
            }
            if !c.h_r.is_finite() {
                return Err(format!("{at}: the reversal field is not finite"));
            }
            if let Some(j) = (0..c.h.len()).find(|&j| !(c.h[j].is_finite() && c.m[j].is_finite())) {
                return Err(format!("{at}: point {} is not finite", j + 1));
            }
            if let Some(j) = (1..c.h.len()).find(|&j| c.h[j] <= c.h[j - 1]) {
                return Err(format!(
                    "{at}: the field does not rise at point {} ({} after {})",
                    j + 1,
                    c.h[j],
                    c.h[j - 1]
                ));
            }
        }
        curves.sort_by(|a, b| b.h_r.total_cmp(&a.h_r));
        if let Some(w) = curves.windows(2).find(|w| w[0].h_r == w[1].h_r) {
            return Err(format!("two curves at h_r = {}", w[0].h_r));
        }
        Ok(Self {
            curves,
            ms_per_ha,
            reduced,
        })
    }

    /// The curves, in falling h_r.
    pub fn curves(&self) -> &[Reversal] {
        &self.curves
    }

    pub fn reversal_fields(&self) -> Vec<f64> {
        self.curves.iter().map(|c| c.h_r).collect()
    }

    /// The descending branch the curves start from: each curve's first point.
    pub fn descending(&self) -> (Vec<f64>, Vec<f64>) {
        self.curves.iter().map(|c| (c.h[0], c.m[0])).unzip()
    }

    /// The typical spacings (medians) of the reversal fields and of the fields along the
    /// curves; on the solver's lattice both are its `h_step`.
    pub fn steps(&self) -> (f64, f64) {
        let along: Vec<f64> = self
            .curves
            .iter()
            .flat_map(|c| c.h.windows(2).map(|w| w[1] - w[0]))
            .collect();
        let across: Vec<f64> = self
            .curves
            .windows(2)
            .map(|w| w[0].h_r - w[1].h_r)
            .collect();
        let dh = median(along).unwrap_or(1.0);
        (median(across).unwrap_or(dh), dh)
    }

    /// Field and moment units, for labels.
    pub fn units(&self) -> (&'static str, &'static str) {
        if self.reduced {
            ("HA", "Ms")
        } else {
            ("file units", "file units")
        }
    }
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(v[v.len() / 2])
}

/// M at `x` on the rising fields `h`, linear between the nearest points; None outside.
fn interpolate(h: &[f64], m: &[f64], x: f64) -> Option<f64> {
    let j = h.partition_point(|&v| v < x);
    if j < h.len() && h[j] == x {
        return Some(m[j]);
    }
    if j == 0 || j == h.len() {
        return None;
    }
    let t = (x - h[j - 1]) / (h[j] - h[j - 1]);
    Some(m[j - 1] + t * (m[j] - m[j - 1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(h_r: f64, h: &[f64]) -> Reversal {
        Reversal {
            h_r,
            h: h.to_vec(),
            m: vec![0.5; h.len()],
        }
    }

    #[test]
    fn curves_are_ordered_by_falling_reversal_field_and_checked() {
        let r = Reversals::new(
            vec![curve(-0.5, &[-0.5, 0.0]), curve(0.5, &[0.5, 1.0])],
            None,
            true,
        )
        .unwrap();
        assert_eq!(r.reversal_fields(), vec![0.5, -0.5]);
        assert_eq!(r.steps(), (1.0, 0.5));
        let falling = Reversals::new(vec![curve(0.0, &[0.0, -0.1])], None, true).unwrap_err();
        assert!(falling.contains("does not rise at point 2"), "{falling}");
        let twice = Reversals::new(
            vec![curve(0.0, &[0.0]), curve(0.0, &[0.0, 0.1])],
            None,
            true,
        )
        .unwrap_err();
        assert!(twice.contains("two curves at h_r = 0"), "{twice}");
        let mut nan = curve(0.0, &[0.0, 0.1]);
        nan.m[1] = f64::NAN;
        let e = Reversals::new(vec![nan], None, true).unwrap_err();
        assert!(e.contains("point 2 is not finite"), "{e}");
        assert!(Reversals::new(vec![], None, true).is_err());
    }

    #[test]
    fn interpolation_is_linear_and_exact_on_points() {
        let (h, m) = ([0.0, 1.0, 3.0], [1.0, 2.0, 4.0]);
        assert_eq!(interpolate(&h, &m, 1.0), Some(2.0));
        assert_eq!(interpolate(&h, &m, 2.0), Some(3.0));
        assert_eq!(interpolate(&h, &m, 3.0), Some(4.0));
        assert_eq!(interpolate(&h, &m, 3.5), None);
        assert_eq!(interpolate(&h, &m, -0.1), None);
    }
}

//! What a reverse field leaves behind: the recoil from each reversal field below zero back
//! to h = 0, as a motor designer reads a magnet exposed to it.

use super::{Reversals, interpolate};

/// One entry per reversal field h_r < 0 whose curve reaches h = 0, in falling h_r.
#[derive(Debug, Clone, PartialEq)]
pub struct Recoil {
    pub h_r: Vec<f64>,
    /// M at h = 0 on the way back.
    pub m_back: Vec<f64>,
    /// The irreversible loss Mr − m_back.
    pub loss: Vec<f64>,
    /// Relative recoil permeability of the chord from h_r to 0: 1 + ΔM/ΔH in SI, as the
    /// slope of B = μ0(H + M) over μ0. Only where Ms/HA is known.
    pub mu_rec: Option<Vec<f64>>,
}

impl Reversals {
    /// The recoil of every curve from h_r < 0 to h = 0; Mr is the descending branch at
    /// h = 0. Between measured fields M is read linearly; on the solver's lattice through
    /// h = 0 it is read exactly.
    pub fn recoil(&self) -> Result<Recoil, String> {
        let (h, m) = self.descending();
        let (h_up, m_up): (Vec<f64>, Vec<f64>) = h.iter().rev().zip(m.iter().rev()).unzip();
        let mr = interpolate(&h_up, &m_up, 0.0).ok_or_else(|| {
            format!(
                "the reversal fields ({} … {}) do not reach h = 0, where Mr is read",
                h_up[0],
                h_up[h_up.len() - 1]
            )
        })?;
        let mut out = Recoil {
            h_r: vec![],
            m_back: vec![],
            loss: vec![],
            mu_rec: self.ms_per_ha.map(|_| vec![]),
        };
        for c in self.curves().iter().filter(|c| c.h_r < 0.0) {
            let Some(back) = interpolate(&c.h, &c.m, 0.0) else {
                continue;
            };
            out.h_r.push(c.h_r);
            out.m_back.push(back);
            out.loss.push(mr - back);
            if let (Some(mu), Some(ratio)) = (out.mu_rec.as_mut(), self.ms_per_ha) {
                // ΔM/ΔH in SI is (Ms/HA)·Δm/Δh; the permeability is in units of μ0.
                mu.push(1.0 + ratio * (back - c.m[0]) / (0.0 - c.h[0]));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Reversal, Reversals};

    #[test]
    fn a_linear_recoil_between_measured_fields_is_read_exactly() {
        // A branch through (0, 0.8); from h_r = −0.3 the curve rises with slope 0.1 to
        // m 0.7 at h = 0, measured at fields that miss 0.
        let curves = vec![
            Reversal {
                h_r: 0.1,
                h: vec![0.1],
                m: vec![0.81],
            },
            Reversal {
                h_r: -0.1,
                h: vec![-0.1, 0.0],
                m: vec![0.79, 0.8],
            },
            Reversal {
                h_r: -0.3,
                h: vec![-0.3, -0.12, 0.04, 0.2],
                m: vec![0.67, 0.688, 0.704, 0.72],
            },
            Reversal {
                h_r: -0.5,
                h: vec![-0.5, -0.2],
                m: vec![-0.9, -0.8],
            },
        ];
        let r = Reversals::new(curves.clone(), Some(0.25), true)
            .unwrap()
            .recoil()
            .unwrap();
        assert_eq!(
            r.h_r,
            vec![-0.1, -0.3],
            "the curve short of h = 0 is left out"
        );
        assert!((r.m_back[1] - 0.7).abs() < 1e-12 && (r.loss[1] - 0.1).abs() < 1e-12);
        assert!((r.mu_rec.unwrap()[1] - (1.0 + 0.25 * 0.1)).abs() < 1e-12);
        let unknown = Reversals::new(curves, None, false)
            .unwrap()
            .recoil()
            .unwrap();
        assert!(unknown.mu_rec.is_none(), "no permeability without Ms/HA");
        let above = vec![Reversal {
            h_r: 0.2,
            h: vec![0.2],
            m: vec![1.0],
        }];
        let e = Reversals::new(above, None, true)
            .unwrap()
            .recoil()
            .unwrap_err();
        assert!(e.contains("do not reach h = 0"), "{e}");
    }
}

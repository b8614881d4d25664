//! A state cell by cell: its effective field, the demag part, the torque and each term's
//! energy density — what a micromagnetician maps to see where reversal starts (mumax3's
//! B_eff, B_demag, torque and Edens_*).

use super::{Energy, zeeman};
use crate::solver::{SolverError, check_cells};

/// The local quantities of a state, one value per cell (c = j·nx + i). Fields in units of
/// HA (with per-cell Ms the cell's own field, not the energy weight σ·h of the descent),
/// energy densities in J/m³.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LocalFields {
    /// The effective field, every term together; its exchange part the whole Laplacian
    /// Σ_j w (m_j − m_i), so a uniform state has none.
    pub h_eff: Vec<[f64; 2]>,
    /// Its demagnetising part (zero with demag off).
    pub h_demag: Vec<[f64; 2]>,
    /// (m × h_eff)_z: the torque the descent drives to zero (|torque| < tol when converged).
    pub torque: Vec<f64>,
    pub energy_density: Densities,
}

/// Energy density per term and cell (J/m³); their means are the state's [`super::Energies`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Densities {
    /// Half of each link's A(1 − m_i·m_j)·2/Δ² to each of its two cells.
    pub exchange: Vec<f64>,
    pub anisotropy: Vec<f64>,
    pub zeeman: Vec<f64>,
    pub demag: Vec<f64>,
}

impl Energy {
    /// The [`LocalFields`] of the state φ at applied field h (units of HA).
    pub fn local_fields(&mut self, phi: &[f64], h: [f64; 2]) -> Result<LocalFields, SolverError> {
        check_cells("angles phi", phi, self.cells())?;
        self.fields_at(phi, h, None)?;
        let n = self.cells();
        let (mx, my) = (&self.mx, &self.my);
        let dot = |hx: &[f64], hy: &[f64], c: usize| hx[c] * mx[c] + hy[c] * my[c];
        let to_density = self.material.cell_density_unit();
        // A quadratic term's density is −½ h·m per cell, h its own (σ-weighted) field.
        let quadratic = |add: &dyn Fn(&mut [f64], &mut [f64])| -> Vec<f64> {
            let (mut hx, mut hy) = (vec![0.0; n], vec![0.0; n]);
            add(&mut hx, &mut hy);
            (0..n)
                .map(|c| -0.5 * dot(&hx, &hy, c) * to_density)
                .collect()
        };
        let mut density = Densities {
            exchange: vec![0.0; n],
            anisotropy: vec![0.0; n],
            zeeman: vec![0.0; n],
            demag: vec![0.0; n],
        };
        // The descent's exchange field leaves out the Laplacian's −m_i part (parallel to m,
        // no torque); a field reported is the whole one.
        let mut hx = self.hx.clone();
        let mut hy = self.hy.clone();
        if self.terms.exchange {
            let ex = &self.exchange;
            let e = quadratic(&|hx, hy| ex.add_field(mx, my, 0..n, hx, hy));
            for c in 0..n {
                let w = ex.cell_weight(c);
                hx[c] -= w * mx[c];
                hy[c] -= w * my[c];
                // −½(h − w m)·m = −½ h·m + ½ w.
                density.exchange[c] = e[c] + 0.5 * w * to_density;
            }
        }
        if self.terms.anisotropy {
            let an = &self.anisotropy;
            density.anisotropy = quadratic(&|hx, hy| an.add_field(mx, my, 0..n, hx, hy));
        }
        if self.terms.zeeman {
            let sigma = self.sigma.as_deref();
            let (mut zx, mut zy) = (vec![0.0; n], vec![0.0; n]);
            zeeman::add_field(h, sigma, &mut zx, &mut zy);
            density.zeeman = (0..n).map(|c| -dot(&zx, &zy, c) * to_density).collect();
        }
        if self.demag.is_some() {
            density.demag = (0..n)
                .map(|c| -0.5 * dot(&self.dx, &self.dy, c) * to_density)
                .collect();
        }
        // The evaluation's fields carry each cell's σ (its energy weight): divide it out.
        let sigma = |c: usize| self.sigma.as_ref().map_or(1.0, |s| s[c]);
        let per_cell = |x: &[f64], y: &[f64]| -> Vec<[f64; 2]> {
            (0..n).map(|c| [x[c] / sigma(c), y[c] / sigma(c)]).collect()
        };
        let h_eff = per_cell(&hx, &hy);
        let h_demag = if self.demag.is_some() {
            per_cell(&self.dx, &self.dy)
        } else {
            vec![[0.0; 2]; n]
        };
        let torque = (0..n)
            .map(|c| mx[c] * h_eff[c][1] - my[c] * h_eff[c][0])
            .collect();
        Ok(LocalFields {
            h_eff,
            h_demag,
            torque,
            energy_density: density,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solver::demag::Precision;
    use crate::solver::energy::tests::{close, scrambled};
    use crate::solver::energy::{Terms, with_graded_ms};
    use crate::solver::material::MU0;
    use crate::solver::{Material, Mesh, Problem};

    /// Uniform m ∥ +y on aligned and on 30° axes, without demag: no exchange field, the
    /// anisotropy field (k·m)k and the applied field, and the torque of that field.
    #[test]
    fn local_fields_of_a_uniform_state_are_the_analytic_ones() {
        let mesh = Mesh::paper(6, 4).unwrap();
        let psi: Vec<f64> = (0..24)
            .map(|c| if c % 2 == 0 { 0.0 } else { 0.5236 })
            .collect();
        let p = Problem::new(mesh, &psi)
            .unwrap()
            .with_terms(Terms::all().without_demag());
        let mut e = Energy::new(&p, Precision::F64).unwrap();
        let f = e.local_fields(&vec![0.0; 24], [0.1, -0.3]).unwrap();
        for c in 0..24 {
            let (s, k) = psi[c].sin_cos();
            let want = [k * s + 0.1, k * k - 0.3];
            assert!(close(f.h_eff[c][0], want[0], 1e-12) && close(f.h_eff[c][1], want[1], 1e-12));
            assert_eq!(f.h_demag[c], [0.0, 0.0]);
            // m = (0, 1): (m × h)_z = −h_x.
            assert!(close(f.torque[c], -want[0], 1e-12));
        }
    }

    /// A spiral along x, φ = q·x, with exchange alone: inside, the discrete Laplacian gives
    /// w·(2cos q − 2)·m; at a free end one neighbour, w·(m_next − m).
    #[test]
    fn local_exchange_field_of_a_spiral_is_the_discrete_laplacian() {
        let mesh = Mesh::paper(8, 1).unwrap();
        let terms = Terms {
            exchange: true,
            anisotropy: false,
            zeeman: false,
            demag: false,
        };
        let p = Problem::new(mesh, &[0.0; 8]).unwrap().with_terms(terms);
        let w = Material::nd2fe14b().exchange_weight(2e-9);
        let q = 0.3;
        let phi: Vec<f64> = (0..8).map(|i| q * i as f64).collect();
        let f = Energy::new(&p, Precision::F64)
            .unwrap()
            .local_fields(&phi, [0.0, 0.0])
            .unwrap();
        let m = |i: usize| [phi[i].sin(), phi[i].cos()];
        for i in 1..7 {
            let want = m(i).map(|v| w * (2.0 * q.cos() - 2.0) * v);
            assert!(close(f.h_eff[i][0], want[0], 1e-12) && close(f.h_eff[i][1], want[1], 1e-12));
            assert!(f.torque[i].abs() < 1e-12, "inside, h ∥ m");
        }
        let end = [0, 1].map(|k| w * (m(1)[k] - m(0)[k]));
        assert!(close(f.h_eff[0][0], end[0], 1e-12) && close(f.h_eff[0][1], end[1], 1e-12));
        // The end cell is pulled towards its neighbour: (m × h)_z = ∂ε/∂φ_0 = −w sin q.
        assert!(close(f.torque[0], -w * q.sin(), 1e-12));
    }

    /// The paper's 160 × 160 grid uniformly along +y: the mean demag field is Aharoni's
    /// −N·Ms, in units of HA −N·μ0Ms²/(2K1); with Ms halved on every cell (the units still
    /// the reference material's) half of it.
    #[test]
    fn local_demag_field_of_the_uniform_block_is_aharonis() {
        let mesh = Mesh::paper(160, 160).unwrap();
        let n = mesh.cells();
        let p = Problem::new(mesh, &vec![0.0; n]).unwrap();
        let w = Material::nd2fe14b().demag_weight();
        let mut e = Energy::new(&p, Precision::F32).unwrap();
        let f = e.local_fields(&vec![0.0; n], [0.0, 0.0]).unwrap();
        let mean = |k: usize| f.h_demag.iter().map(|v| v[k]).sum::<f64>() / n as f64;
        assert!((mean(1) + 0.49790 * w).abs() < 1e-4 * w, "{}", mean(1) / w);
        assert!(mean(0).abs() < 1e-6);
        let half = Material {
            ms: Material::nd2fe14b().ms / 2.0,
            ..Material::nd2fe14b()
        };
        let soft = p.clone().with_cell_materials(vec![half; n]).unwrap();
        let g = Energy::new(&soft, Precision::F32)
            .unwrap()
            .local_fields(&vec![0.0; n], [0.0, 0.0])
            .unwrap();
        let mean = g.h_demag.iter().map(|v| v[1]).sum::<f64>() / n as f64;
        assert!((mean + 0.49790 * w / 2.0).abs() < 1e-4 * w, "{}", mean / w);
    }

    /// Each term's density map averages to the state's mean energy density of that term
    /// (graded Ms, all terms, a field off the axis); aligned and saturated, the anisotropy
    /// density is −K1 and the Zeeman one −μ0Ms·H per cell.
    #[test]
    fn energy_density_maps_average_to_the_energies() {
        let (p, phi) = scrambled(13, 9);
        let (mesh, n) = (*p.mesh(), phi.len());
        let p = with_graded_ms(p, 0.3, 7);
        let h = [0.2, -0.35];
        let mut e = Energy::new(&p, Precision::F64).unwrap();
        let want = e.energies(&phi, h).unwrap();
        let d = e.local_fields(&phi, h).unwrap().energy_density;
        let mean = |v: &[f64]| v.iter().sum::<f64>() / n as f64;
        for (got, want) in [
            (mean(&d.exchange), want.exchange),
            (mean(&d.anisotropy), want.anisotropy),
            (mean(&d.zeeman), want.zeeman),
            (mean(&d.demag), want.demag),
        ] {
            assert!(close(got, want, 1e-9), "{got} {want}");
        }
        let m = Material::nd2fe14b();
        let aligned = Problem::new(mesh, &vec![0.0; n]).unwrap();
        let d = Energy::new(&aligned, Precision::F64)
            .unwrap()
            .local_fields(&vec![0.0; n], [0.0, 0.3])
            .unwrap()
            .energy_density;
        let hy = 0.3 * 2.0 * m.k1 / (MU0 * m.ms);
        for c in 0..n {
            assert!(close(d.anisotropy[c], -m.k1, 1e-12));
            assert!(close(d.zeeman[c], -MU0 * m.ms * hy, 1e-12));
            assert!(d.exchange[c].abs() < 1e-6, "uniform: no exchange energy");
        }
    }
}

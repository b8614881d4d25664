//! Uniaxial anisotropy −K1V(k·m)², k = (sin ψ, cos ψ). Reduced: ε = −½Σ κ(k·m)² with
//! κ = K1_cell/K1_ref; h = κ(k·m)k.

use super::problem::Problem;

pub struct Anisotropy {
    kx: Vec<f64>,
    ky: Vec<f64>,
    kappa: Vec<f64>,
}

impl Anisotropy {
    pub fn new(p: &Problem) -> Self {
        let k1 = p.material().k1;
        let n = p.mesh().cells();
        let (kx, ky) = p.psi().iter().map(|a| a.sin_cos()).unzip();
        let kappa = (0..n)
            .map(|c| {
                if k1 > 0.0 {
                    p.cell_material(c).k1 / k1
                } else {
                    0.0
                }
            })
            .collect();
        Anisotropy { kx, ky, kappa }
    }

    /// h += κ(k·m)k for the cells `cells` (`hx`, `hy` hold just those cells).
    pub fn add_field(
        &self,
        mx: &[f64],
        my: &[f64],
        cells: std::ops::Range<usize>,
        hx: &mut [f64],
        hy: &mut [f64],
    ) {
        let (kx, ky, kappa) = (
            &self.kx[cells.clone()],
            &self.ky[cells.clone()],
            &self.kappa[cells.clone()],
        );
        let (mx, my) = (&mx[cells.clone()], &my[cells]);
        for c in 0..hx.len() {
            let s = kappa[c] * (kx[c] * mx[c] + ky[c] * my[c]);
            hx[c] += s * kx[c];
            hy[c] += s * ky[c];
        }
    }

    /// Easy axes (k_x, k_y) and κ per cell, for the tensor backend.
    pub(crate) fn axes(&self) -> [&[f64]; 3] {
        [&self.kx, &self.ky, &self.kappa]
    }

    pub fn energy(&self, mx: &[f64], my: &[f64]) -> f64 {
        let mut e = 0.0;
        for c in 0..mx.len() {
            let d = self.kx[c] * mx[c] + self.ky[c] * my[c];
            e -= 0.5 * self.kappa[c] * d * d;
        }
        e
    }
}

//! Grain statistics: sizes and the spread of easy axes. Means run over grains that own
//! cells (seeds swallowed by their neighbours have no grain); "area-weighted" weighs each
//! grain by its cells, i.e. it is the mean over cells.

use super::structure::Structure;

#[derive(Clone, Debug, PartialEq)]
pub struct GrainStats {
    /// Cells per grain id (0 for a seed that owns no cell).
    pub area_cells: Vec<usize>,
    /// Area per grain id, nm².
    pub area_nm2: Vec<f64>,
    /// Equivalent-circle diameter per grain id, 2·√(A/π), nm.
    pub ecd_nm: Vec<f64>,
    /// Grains owning cells.
    pub n_grains: usize,
    /// Mean grain area, nm².
    pub mean_area_nm2: f64,
    /// Mean grain size: mean equivalent-circle diameter, nm.
    pub mean_size_nm: f64,
    /// Area-weighted mean equivalent-circle diameter, nm (the size a random cell sees).
    pub mean_size_area_weighted_nm: f64,
    /// Mean and standard deviation of ψ over grains (radians).
    pub psi_mean: f64,
    pub psi_std: f64,
    /// The same weighted by grain area.
    pub psi_mean_area_weighted: f64,
    pub psi_std_area_weighted: f64,
    /// Largest |ψ| over grains.
    pub psi_max_abs: f64,
    /// Axis order |⟨e^{2iψ}⟩| over cells: 1 for parallel axes, ~0 for isotropic ones (an
    /// axis is a line, so ψ and ψ ± π count as the same).
    pub axis_order: f64,
}

/// Mean and population standard deviation of `x` with weights `w`.
fn weighted_moments(x: impl Iterator<Item = (f64, f64)> + Clone) -> (f64, f64) {
    let total: f64 = x.clone().map(|(_, w)| w).sum();
    let mean = x.clone().map(|(v, w)| v * w).sum::<f64>() / total;
    let var = x.map(|(v, w)| w * (v - mean) * (v - mean)).sum::<f64>() / total;
    (mean, var.max(0.0).sqrt())
}

impl Structure {
    pub fn stats(&self) -> GrainStats {
        let mut area_cells = vec![0usize; self.n_grains()];
        for &g in self.grains() {
            area_cells[g as usize] += 1;
        }
        let cell2 = self.cell_nm() * self.cell_nm();
        let area_nm2: Vec<f64> = area_cells.iter().map(|&a| a as f64 * cell2).collect();
        let ecd_nm: Vec<f64> = area_nm2
            .iter()
            .map(|a| 2.0 * (a / std::f64::consts::PI).sqrt())
            .collect();
        // (grain angle, area in cells, ecd) of grains owning cells.
        let owned: Vec<(f64, f64, f64)> = (0..self.n_grains())
            .filter(|&g| area_cells[g] > 0)
            .map(|g| (self.grain_angles()[g], area_cells[g] as f64, ecd_nm[g]))
            .collect();
        let n = owned.len() as f64;
        let (psi_mean, psi_std) = weighted_moments(owned.iter().map(|o| (o.0, 1.0)));
        let (psi_mean_a, psi_std_a) = weighted_moments(owned.iter().map(|o| (o.0, o.1)));
        let (size_a, _) = weighted_moments(owned.iter().map(|o| (o.2, o.1)));
        let cells = self.n_cells() as f64;
        let (c2, s2) = owned.iter().fold((0.0, 0.0), |(c, s), o| {
            (c + o.1 * (2.0 * o.0).cos(), s + o.1 * (2.0 * o.0).sin())
        });
        GrainStats {
            n_grains: owned.len(),
            mean_area_nm2: cells * cell2 / n,
            mean_size_nm: owned.iter().map(|o| o.2).sum::<f64>() / n,
            mean_size_area_weighted_nm: size_a,
            psi_mean,
            psi_std,
            psi_mean_area_weighted: psi_mean_a,
            psi_std_area_weighted: psi_std_a,
            psi_max_abs: owned.iter().map(|o| o.0.abs()).fold(0.0, f64::max),
            axis_order: (c2 * c2 + s2 * s2).sqrt() / cells,
            area_cells,
            area_nm2,
            ecd_nm,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grains_stats_of_a_small_raster() {
        // 4 × 2 cells of 2 nm: grain 0 owns 6 cells, grain 2 owns 2, grain 1 none.
        let s = Structure::from_grains(
            4,
            2,
            2.0,
            vec![0, 0, 0, 2, 0, 0, 0, 2],
            vec![0.2, 1.0, -0.6],
        )
        .unwrap();
        let st = s.stats();
        assert_eq!(st.area_cells, vec![6, 0, 2]);
        assert_eq!(st.area_nm2, vec![24.0, 0.0, 8.0]);
        assert_eq!(st.n_grains, 2);
        assert_eq!(st.mean_area_nm2, 16.0);
        let ecd = |a: f64| 2.0 * (a / std::f64::consts::PI).sqrt();
        assert!((st.mean_size_nm - 0.5 * (ecd(24.0) + ecd(8.0))).abs() < 1e-12);
        assert!(
            (st.mean_size_area_weighted_nm - (0.75 * ecd(24.0) + 0.25 * ecd(8.0))).abs() < 1e-12
        );
        assert!((st.psi_mean + 0.2).abs() < 1e-12 && (st.psi_std - 0.4).abs() < 1e-12);
        assert!((st.psi_mean_area_weighted - 0.0).abs() < 1e-12);
        assert!((st.psi_std_area_weighted - (0.75f64 * 0.04 + 0.25 * 0.36).sqrt()).abs() < 1e-12);
        assert_eq!(st.psi_max_abs, 0.6);
        let axis =
            Structure::from_grains(2, 1, 2.0, vec![0, 1], vec![0.0, std::f64::consts::PI]).unwrap();
        assert!((axis.stats().axis_order - 1.0).abs() < 1e-12);
    }
}

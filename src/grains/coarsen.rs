//! The same magnet on a coarser mesh: each block of f × f cells becomes one cell of f times
//! the size, owned by the grain that owns most of the block. One rule for every structure
//! (drawn, decoded or read from a file), so a model that takes coarse-mesh quantities as
//! inputs sees the same coarsening at training and at design time.

use super::error::{Result, invalid};
use super::structure::Structure;

impl Structure {
    /// This structure on cells `factor` times larger: the grain of each f × f block is the
    /// one owning most of its cells, on a tie the one met first in raster order (c = j·nx +
    /// i within the block). Grain ids and angles are kept, so a grain too small to win any
    /// block owns no cell. `factor` must divide nx and ny; factor 1 returns a copy without
    /// its generator.
    pub fn coarsen(&self, factor: usize) -> Result<Structure> {
        let (cx, cy) = self.coarse_grid(factor)?;
        let mut grain = Vec::with_capacity(cx * cy);
        let mut block: Vec<(u32, usize)> = Vec::with_capacity(factor * factor);
        for bj in 0..cy {
            for bi in 0..cx {
                block.clear();
                for j in bj * factor..(bj + 1) * factor {
                    for i in bi * factor..(bi + 1) * factor {
                        let g = self.grains()[self.index(i, j)];
                        match block.iter_mut().find(|(h, _)| *h == g) {
                            Some((_, n)) => *n += 1,
                            None => block.push((g, 1)),
                        }
                    }
                }
                // `max_by_key` keeps the last of equal maxima: search from the back.
                let (g, _) = *block
                    .iter()
                    .rev()
                    .max_by_key(|(_, n)| *n)
                    .expect("a block has cells");
                grain.push(g);
            }
        }
        Structure::from_grains(
            cx,
            cy,
            self.cell_nm() * factor as f64,
            grain,
            self.grain_angles().to_vec(),
        )
    }

    /// The anisotropy of each f × f block as the mean of its cells': with m in the plane, the
    /// block's mean of −K1(k·m)² is −ρK1(k̄·m)² up to a constant, where ρe^{2iψ̄} is the mean
    /// of e^{2iψ} over the block (k = (sin ψ, cos ψ)). Returns (ψ̄, ρ) per coarse cell: the
    /// exact anisotropy of a block that turns as one, with no tie to break, so every image
    /// of a magnet under the grid's symmetries gets the image of its blocks.
    pub fn block_anisotropy(&self, factor: usize) -> Result<(Vec<f64>, Vec<f64>)> {
        let (cx, cy) = self.coarse_grid(factor)?;
        let psi = self.cell_angles();
        let mut axis = Vec::with_capacity(cx * cy);
        let mut strength = Vec::with_capacity(cx * cy);
        for bj in 0..cy {
            for bi in 0..cx {
                let (mut c, mut s) = (0.0, 0.0);
                for j in bj * factor..(bj + 1) * factor {
                    for i in bi * factor..(bi + 1) * factor {
                        let (s2, c2) = (2.0 * psi[self.index(i, j)]).sin_cos();
                        c += c2;
                        s += s2;
                    }
                }
                let n = (factor * factor) as f64;
                axis.push(0.5 * s.atan2(c));
                strength.push((s.hypot(c) / n).min(1.0));
            }
        }
        Ok((axis, strength))
    }

    /// (nx / factor, ny / factor), or why `factor` cannot coarsen this grid.
    fn coarse_grid(&self, factor: usize) -> Result<(usize, usize)> {
        let (nx, ny) = (self.nx(), self.ny());
        if factor == 0 || nx % factor != 0 || ny % factor != 0 {
            return Err(invalid(
                "coarsening factor",
                format!("a whole number ≥ 1 dividing nx = {nx} and ny = {ny}"),
                factor,
            ));
        }
        Ok((nx / factor, ny / factor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_takes_its_majority_and_the_first_grain_on_ties() {
        // 4 × 2 cells, factor 2: left block 0,1 / 1,1 → grain 1; right block 2,3 / 3,2 → tie,
        // 2 met first.
        let s =
            Structure::from_grains(4, 2, 2.0, vec![0, 1, 2, 3, 1, 1, 3, 2], vec![0.0; 4]).unwrap();
        let c = s.coarsen(2).unwrap();
        assert_eq!((c.nx(), c.ny(), c.cell_nm()), (2, 1, 4.0));
        assert_eq!(c.grains(), &[1, 2]);
        assert_eq!(c.grain_angles().len(), 4, "ids and angles kept");
        assert_eq!(c.n_owning(), 2);
    }

    #[test]
    fn a_voronoi_structure_coarsens_close_to_its_own_coarse_tessellation() {
        let fine = super::super::voronoi(&super::super::VoronoiOptions {
            nx: 64,
            ny: 64,
            cell_nm: 2.0,
            grains: Some(12),
            seed: 3,
            ..Default::default()
        })
        .unwrap();
        let g = fine.generator().unwrap();
        let direct = Structure::from_seeds(
            32,
            32,
            4.0,
            g.seeds_nm.clone(),
            fine.grain_angles().to_vec(),
            g.periodic,
        )
        .unwrap();
        let c = fine.coarsen(2).unwrap();
        let differ = (0..c.n_cells())
            .filter(|&k| c.grains()[k] != direct.grains()[k])
            .count();
        // Only cells on a boundary can differ.
        assert!(
            differ * 10 < c.n_cells(),
            "{differ} of {} cells",
            c.n_cells()
        );
        assert_eq!(fine.coarsen(1).unwrap().grains(), fine.grains());
    }

    #[test]
    fn a_block_takes_the_mean_anisotropy_of_its_cells() {
        use std::f64::consts::{FRAC_PI_2, PI};
        // 4 × 2 cells, factor 2: the left block is one grain; the right one has two cells
        // on each of two perpendicular axes, which cancel.
        let s = Structure::from_grains(
            4,
            2,
            2.0,
            vec![0, 0, 1, 2, 0, 0, 2, 1],
            vec![0.3, 0.2, 0.2 + FRAC_PI_2],
        )
        .unwrap();
        let (axis, strength) = s.block_anisotropy(2).unwrap();
        assert!((axis[0] - 0.3).abs() < 1e-12 && (strength[0] - 1.0).abs() < 1e-12);
        assert!(strength[1] < 1e-12, "{}", strength[1]);
        // Any block: the cells' mean −(k·m)² is −ρ(k̄·m)² − (1 − ρ)/2 for every in-plane m.
        let psi = [0.1, 0.9, -0.7];
        let s = Structure::from_grains(2, 2, 2.0, vec![0, 1, 1, 2], psi.to_vec()).unwrap();
        let (axis, strength) = s.block_anisotropy(2).unwrap();
        let (a, r) = (axis[0], strength[0]);
        assert!(r > 0.05 && r < 0.95, "a mixed block: {r}");
        for k in 0..36 {
            let phi = k as f64 * PI / 18.0;
            let cells = [0, 1, 1, 2].map(|g| -(phi - psi[g]).cos().powi(2));
            let fine = cells.iter().sum::<f64>() / 4.0;
            let coarse = -r * (phi - a).cos().powi(2) - (1.0 - r) / 2.0;
            assert!(
                (fine - coarse).abs() < 1e-12,
                "φ = {phi}: {fine} against {coarse}"
            );
        }
    }

    #[test]
    fn every_image_of_a_magnet_averages_to_the_image_of_its_blocks() {
        use super::super::Symmetry;
        let s = super::super::voronoi(&super::super::VoronoiOptions {
            nx: 32,
            ny: 24,
            cell_nm: 2.0,
            grains: Some(9),
            seed: 5,
            ..Default::default()
        })
        .unwrap();
        let (axis, strength) = s.block_anisotropy(2).unwrap();
        let (cx, cy) = (16, 12);
        for t in Symmetry::ALL {
            let (fx, fy) = t.flips();
            let (ta, ts) = s.transformed(t).block_anisotropy(2).unwrap();
            for j in 0..cy {
                for i in 0..cx {
                    let (si, sj) = (
                        if fx { cx - 1 - i } else { i },
                        if fy { cy - 1 - j } else { j },
                    );
                    let (c, k) = (sj * cx + si, j * cx + i);
                    let sign = if t.negates_angle() { -1.0 } else { 1.0 };
                    // Axes compare mod π: as the point ρe^{2iψ}.
                    let want = (2.0 * sign * axis[c]).sin_cos();
                    let got = (2.0 * ta[k]).sin_cos();
                    let d = (strength[c] * want.0 - ts[k] * got.0).abs()
                        + (strength[c] * want.1 - ts[k] * got.1).abs();
                    assert!(d < 1e-12, "{} at ({i}, {j}): {d}", t.name());
                }
            }
        }
    }

    #[test]
    fn a_factor_that_does_not_divide_the_grid_is_refused() {
        let s = Structure::from_grains(6, 4, 2.0, vec![0; 24], vec![0.0]).unwrap();
        let e = s.coarsen(4).unwrap_err().to_string();
        assert!(e.contains("dividing nx = 6 and ny = 4"), "{e}");
        assert!(s.coarsen(0).is_err());
        let e = s.block_anisotropy(4).unwrap_err().to_string();
        assert!(e.contains("dividing nx = 6 and ny = 4"), "{e}");
    }
}

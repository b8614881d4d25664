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
        let (nx, ny) = (self.nx(), self.ny());
        if factor == 0 || nx % factor != 0 || ny % factor != 0 {
            return Err(invalid(
                "coarsening factor",
                format!("a whole number ≥ 1 dividing nx = {nx} and ny = {ny}"),
                factor,
            ));
        }
        let (cx, cy) = (nx / factor, ny / factor);
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
    fn a_factor_that_does_not_divide_the_grid_is_refused() {
        let s = Structure::from_grains(6, 4, 2.0, vec![0; 24], vec![0.0]).unwrap();
        let e = s.coarsen(4).unwrap_err().to_string();
        assert!(e.contains("dividing nx = 6 and ny = 4"), "{e}");
        assert!(s.coarsen(0).is_err());
    }
}

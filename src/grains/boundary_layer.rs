//! The cells of a grain-boundary layer of a given width: what a grain-boundary phase
//! (weaker exchange and anisotropy between grains, the standard model of sintered Nd-Fe-B)
//! occupies on the raster.

use super::Structure;
use super::error::{Result, invalid};

impl Structure {
    /// Cells whose centre lies within `width_nm`/2 of a grain boundary: the faces between
    /// neighbouring cells of different grains. A cell exactly `width_nm`/2 from the nearest
    /// face belongs to the layer only if its grain is the lower id of that face's two, so a
    /// width of k cells gives a layer k cells wide across a straight boundary (one cell at the
    /// paper's 2 nm for a 2 nm phase). The raster's edges are not boundaries. Row-major, like
    /// the cells.
    pub fn boundary_cells(&self, width_nm: f64) -> Result<Vec<bool>> {
        if !(width_nm > 0.0 && width_nm <= 1e6) {
            return Err(invalid(
                "boundary width (nm)",
                "a number in (0, 1e6]",
                width_nm,
            ));
        }
        let (nx, ny) = (self.nx() as isize, self.ny() as isize);
        let grain = self.grains();
        let g = |i: isize, j: isize| grain[(j * nx + i) as usize];
        // In cell widths.
        let half = 0.5 * width_nm / self.cell_nm();
        let reach = half.ceil() as isize + 1;
        let tie = 1e-9;
        let mut inside = vec![false; (nx * ny) as usize];
        for j in 0..ny {
            for i in 0..nx {
                let own = g(i, j);
                let (cx, cy) = (i as f64 + 0.5, j as f64 + 0.5);
                // Nearest face and whether the tie rule lets this cell in at that distance.
                let mut best = (f64::INFINITY, false);
                for j2 in (j - reach).max(0)..(j + reach + 1).min(ny) {
                    for i2 in (i - reach).max(0)..(i + reach + 1).min(nx) {
                        let a = g(i2, j2);
                        // The face to the right of (i2, j2), then the one above it.
                        for (di, dj) in [(1, 0), (0, 1)] {
                            if i2 + di >= nx || j2 + dj >= ny {
                                continue;
                            }
                            let b = g(i2 + di, j2 + dj);
                            if a == b {
                                continue;
                            }
                            // The face is the unit segment between the two cells.
                            let (fx, fy) = (
                                i2 as f64 + 0.5 + 0.5 * di as f64,
                                j2 as f64 + 0.5 + 0.5 * dj as f64,
                            );
                            let along = |d: f64| (d.abs() - 0.5).max(0.0);
                            let (dx, dy) = if di == 1 {
                                ((cx - fx).abs(), along(cy - fy))
                            } else {
                                (along(cx - fx), (cy - fy).abs())
                            };
                            let d = dx.hypot(dy);
                            let lower = own <= a.min(b);
                            if d < best.0 - tie {
                                best = (d, lower);
                            } else if d <= best.0 + tie {
                                best.1 |= lower;
                            }
                        }
                    }
                }
                let (d, lower) = best;
                inside[(j * nx + i) as usize] = d < half - tie || (d <= half + tie && lower);
            }
        }
        Ok(inside)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two grains side by side, split between columns 3 and 4 of an 8 × 2 raster of 2 nm
    /// cells: a layer of k cells' width is k columns, the odd one on grain 0's side.
    #[test]
    fn a_straight_boundary_gets_a_layer_of_its_width() {
        let grains: Vec<u32> = (0..16).map(|c| u32::from(c % 8 >= 4)).collect();
        let s = Structure::from_grains(8, 2, 2.0, grains, vec![0.0, 0.5]).unwrap();
        let columns = |w: f64| {
            let m = s.boundary_cells(w).unwrap();
            assert_eq!(m[..8], m[8..], "both rows alike");
            (0..8).filter(|&i| m[i]).collect::<Vec<_>>()
        };
        assert_eq!(
            columns(1.0),
            Vec::<usize>::new(),
            "thinner than a cell: no cells"
        );
        assert_eq!(columns(2.0), vec![3]);
        assert_eq!(columns(4.0), vec![3, 4]);
        assert_eq!(columns(6.0), vec![2, 3, 4]);
        assert_eq!(columns(8.0), vec![2, 3, 4, 5]);
        let one = Structure::from_grains(8, 2, 2.0, vec![0; 16], vec![0.0]).unwrap();
        assert!(
            one.boundary_cells(8.0).unwrap().iter().all(|b| !b),
            "no boundary"
        );
        assert!(s.boundary_cells(0.0).is_err());
        assert!(s.boundary_cells(f64::NAN).is_err());
    }
}

//! A grain structure: an nx × ny grid of square cells, each owned by one grain, each grain
//! carrying one easy-axis angle ψ (radians from +y towards +x, easy axis k = (sin ψ, cos ψ)).
//! Cell index c = j·nx + i, i along x, j along y (y up); cell centre ((i+½)·Δ, (j+½)·Δ).

use super::error::{Result, invalid};
use super::nearest::{self, Grid};

/// Most grains a structure may have (ids are u32; this bounds memory for hostile files).
pub const MAX_GRAINS: usize = 1 << 24;
/// Most cells a structure may have (about 16k × 16k).
pub const MAX_CELLS: usize = 1 << 28;

/// How a Voronoi structure was made: enough to rebuild it bit for bit
/// ([`Structure::regenerate`]), and, when `rng_seed` is set, to redraw it from
/// [`super::VoronoiOptions`] ([`Structure::options`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Generator {
    /// One seed point per grain (nm), in grain order.
    pub seeds_nm: Vec<[f64; 2]>,
    /// Distances are minimum-image on the torus Lx × Ly.
    pub periodic: bool,
    /// The θ the angles were drawn from; None when the angles were given.
    pub theta: Option<f64>,
    /// The rng seed the draws came from; None when seeds and angles were given.
    pub rng_seed: Option<u64>,
}

/// θ in degrees, as options take and printouts show it, from the radians a structure keeps;
/// rounded to 1e-9° so that `theta_deg: 30.0` reads back as 30, not 29.999999999999996.
pub fn degrees(radians: f64) -> f64 {
    (radians.to_degrees() * 1e9).round() / 1e9
}

#[derive(Clone, Debug, PartialEq)]
pub struct Structure {
    nx: usize,
    ny: usize,
    cell_nm: f64,
    grain: Vec<u32>,
    angle: Vec<f64>,
    owning: usize,
    generator: Option<Generator>,
}

pub(crate) fn check_grid(nx: usize, ny: usize, cell_nm: f64) -> Result<()> {
    if nx == 0 || ny == 0 || nx.checked_mul(ny).is_none_or(|n| n > MAX_CELLS) {
        return Err(invalid(
            "grid",
            format!("1 ≤ nx, ny and nx·ny ≤ {MAX_CELLS}"),
            format!("{nx} × {ny}"),
        ));
    }
    if !(1e-3..=1e6).contains(&cell_nm) {
        return Err(invalid(
            "cell size (nm)",
            "a number in [1e-3, 1e6]",
            cell_nm,
        ));
    }
    Ok(())
}

fn check_angles(angles: &[f64]) -> Result<()> {
    if angles.is_empty() || angles.len() > MAX_GRAINS {
        return Err(invalid(
            "number of grains",
            format!("1 … {MAX_GRAINS}"),
            angles.len(),
        ));
    }
    if let Some((g, a)) = angles.iter().enumerate().find(|(_, a)| !a.is_finite()) {
        return Err(invalid(
            format!("angle of grain {g}"),
            "a finite number (radians)",
            a,
        ));
    }
    Ok(())
}

impl Structure {
    /// Voronoi tessellation of explicit seeds (nm) with one angle per seed: each cell centre
    /// belongs to the nearest seed in double precision, the lowest index on exact ties.
    /// Periodic: minimum-image distances, seeds must lie in [0, L) on each axis.
    pub fn from_seeds(
        nx: usize,
        ny: usize,
        cell_nm: f64,
        seeds_nm: Vec<[f64; 2]>,
        angles: Vec<f64>,
        periodic: bool,
    ) -> Result<Structure> {
        Self::voronoi_raw(
            nx,
            ny,
            cell_nm,
            Generator {
                seeds_nm,
                periodic,
                theta: None,
                rng_seed: None,
            },
            angles,
        )
    }

    pub(crate) fn voronoi_raw(
        nx: usize,
        ny: usize,
        cell_nm: f64,
        generator: Generator,
        angles: Vec<f64>,
    ) -> Result<Structure> {
        check_grid(nx, ny, cell_nm)?;
        check_angles(&angles)?;
        let seeds = &generator.seeds_nm;
        if seeds.len() != angles.len() {
            return Err(invalid(
                "seeds",
                format!("one per angle ({})", angles.len()),
                seeds.len(),
            ));
        }
        let grid = Grid {
            nx,
            ny,
            cell_nm,
            periodic: generator.periodic,
        };
        let (lx, ly) = grid.size_nm();
        for (g, s) in seeds.iter().enumerate() {
            let inside =
                !generator.periodic || ((0.0..lx).contains(&s[0]) && (0.0..ly).contains(&s[1]));
            if !(s[0].is_finite() && s[1].is_finite() && inside) {
                let want = if generator.periodic {
                    format!("inside [0, {lx}) × [0, {ly}) nm (periodic)")
                } else {
                    "finite".into()
                };
                return Err(invalid(
                    format!("seed {g}"),
                    want,
                    format!("({}, {})", s[0], s[1]),
                ));
            }
        }
        let grain = nearest::assign(&grid, seeds)?;
        Ok(Self::assemble(
            nx,
            ny,
            cell_nm,
            grain,
            angles,
            Some(generator),
        ))
    }

    /// The structure of a checked grain raster and its angles.
    fn assemble(
        nx: usize,
        ny: usize,
        cell_nm: f64,
        grain: Vec<u32>,
        angle: Vec<f64>,
        generator: Option<Generator>,
    ) -> Structure {
        let owning = count_owning(&grain, angle.len());
        Structure {
            nx,
            ny,
            cell_nm,
            grain,
            angle,
            owning,
            generator,
        }
    }

    /// A structure from a grain-id raster (cell index c = j·nx + i) and per-grain angles,
    /// e.g. read from a file; it has no generator.
    pub fn from_grains(
        nx: usize,
        ny: usize,
        cell_nm: f64,
        grain: Vec<u32>,
        angles: Vec<f64>,
    ) -> Result<Structure> {
        check_grid(nx, ny, cell_nm)?;
        check_angles(&angles)?;
        if grain.len() != nx * ny {
            return Err(invalid(
                "grain raster",
                format!("{} cells ({nx} × {ny})", nx * ny),
                grain.len(),
            ));
        }
        if let Some((c, g)) = grain
            .iter()
            .enumerate()
            .find(|(_, g)| **g as usize >= angles.len())
        {
            return Err(invalid(
                format!("grain id of cell (i {}, j {})", c % nx, c / nx),
                format!("< {} (number of angles)", angles.len()),
                g,
            ));
        }
        Ok(Self::assemble(nx, ny, cell_nm, grain, angles, None))
    }

    /// The same grains with other easy axes, one angle per grain (radians). The magnet no
    /// longer follows the law it was drawn from, so it keeps no generator.
    pub fn with_grain_angles(&self, angles: Vec<f64>) -> Result<Structure> {
        if angles.len() != self.angle.len() {
            return Err(invalid(
                "number of angles",
                format!("one per grain ({})", self.angle.len()),
                angles.len(),
            ));
        }
        Self::from_grains(self.nx, self.ny, self.cell_nm, self.grain.clone(), angles)
    }

    /// A structure from one angle per cell: a grain is a 4-connected region of cells with the
    /// same angle (bit for bit, −0 counted as 0; the one definition of every loader without
    /// grain ids), numbered in order of first cell along c = j·nx + i.
    pub fn from_cell_angles(
        nx: usize,
        ny: usize,
        cell_nm: f64,
        cell_angles: &[f64],
    ) -> Result<Structure> {
        check_grid(nx, ny, cell_nm)?;
        if cell_angles.len() != nx * ny {
            return Err(invalid(
                "cell angles",
                format!("{} values ({nx} × {ny})", nx * ny),
                cell_angles.len(),
            ));
        }
        let key = |a: f64| if a == 0.0 { 0 } else { a.to_bits() };
        let keys: Vec<u64> = cell_angles.iter().map(|&a| key(a)).collect();
        super::raster::from_keys(nx, ny, cell_nm, &keys, |&k| f64::from_bits(k))
    }

    /// Rebuilds the structure from its generator (seeds, angles, periodic flag).
    /// None for imported structures.
    pub fn regenerate(&self) -> Option<Result<Structure>> {
        let g = self.generator.clone()?;
        Some(Self::voronoi_raw(
            self.nx,
            self.ny,
            self.cell_nm,
            g,
            self.angle.clone(),
        ))
    }

    /// The generator options that redraw this structure with [`super::voronoi`]: present
    /// when it was drawn from an rng seed (grains and θ filled in with the drawn values).
    pub fn options(&self) -> Option<super::VoronoiOptions> {
        let g = self.generator.as_ref()?;
        Some(super::VoronoiOptions {
            nx: self.nx,
            ny: self.ny,
            cell_nm: self.cell_nm,
            grains: Some(g.seeds_nm.len()),
            theta: Some(g.theta?),
            seed: g.rng_seed?,
            periodic: g.periodic,
            ..Default::default()
        })
    }

    pub fn nx(&self) -> usize {
        self.nx
    }
    pub fn ny(&self) -> usize {
        self.ny
    }
    pub fn cell_nm(&self) -> f64 {
        self.cell_nm
    }
    pub fn n_cells(&self) -> usize {
        self.nx * self.ny
    }
    /// Side lengths (Lx, Ly) in nm.
    pub fn size_nm(&self) -> (f64, f64) {
        (self.nx as f64 * self.cell_nm, self.ny as f64 * self.cell_nm)
    }
    /// Cell index of (i, j).
    pub fn index(&self, i: usize, j: usize) -> usize {
        j * self.nx + i
    }
    /// Grain id per cell, c = j·nx + i.
    pub fn grains(&self) -> &[u32] {
        &self.grain
    }
    /// Easy-axis angle per grain (radians).
    pub fn grain_angles(&self) -> &[f64] {
        &self.angle
    }
    /// Number of grains (seeds), owning cells or not.
    pub fn n_grains(&self) -> usize {
        self.angle.len()
    }
    /// Number of grains that own at least one cell.
    pub fn n_owning(&self) -> usize {
        self.owning
    }
    /// Easy-axis angle of cell c.
    pub fn cell_angle(&self, c: usize) -> f64 {
        self.angle[self.grain[c] as usize]
    }
    /// Easy-axis angle of cell (i, j).
    pub fn angle_at(&self, i: usize, j: usize) -> f64 {
        self.cell_angle(self.index(i, j))
    }
    /// Easy-axis angle per cell, c = j·nx + i.
    pub fn cell_angles(&self) -> Vec<f64> {
        self.grain.iter().map(|&g| self.angle[g as usize]).collect()
    }
    pub fn generator(&self) -> Option<&Generator> {
        self.generator.as_ref()
    }
    /// The micromagnetic problem of this raster under `settings` (with its grain-boundary
    /// phase, if any).
    pub fn problem(
        &self,
        settings: &crate::solver::SolverSettings,
    ) -> std::result::Result<crate::solver::Problem, crate::solver::SolverError> {
        self.problem_with(settings, None)
    }

    /// As [`Structure::problem`], with the grains' constants given per cell (`cells`, one
    /// per cell, in place of the settings' uniform material); the boundary phase, if any,
    /// overrides them in its layer.
    pub fn problem_with(
        &self,
        settings: &crate::solver::SolverSettings,
        cells: Option<Vec<crate::solver::Material>>,
    ) -> std::result::Result<crate::solver::Problem, crate::solver::SolverError> {
        let p = settings.problem(self.nx(), self.ny(), self.cell_nm(), &self.cell_angles())?;
        let mut cells = cells;
        if let Some(phase) = &settings.boundary {
            let layer = self.boundary_cells(phase.width_nm).map_err(|e| {
                crate::solver::SolverError::BadOption {
                    name: "boundary.width_nm",
                    value: format!("{} ({e})", phase.width_nm),
                    expected: "a width in (0, 1e6] nm",
                }
            })?;
            let mut v = cells.unwrap_or_else(|| vec![settings.material; layer.len()]);
            for (m, inside) in v.iter_mut().zip(layer) {
                if inside {
                    *m = phase.material;
                }
            }
            cells = Some(v);
        }
        match cells {
            Some(v) => p.with_cell_materials(v),
            None => Ok(p),
        }
    }
}

fn count_owning(grain: &[u32], ng: usize) -> usize {
    let mut seen = vec![false; ng];
    for &g in grain {
        seen[g as usize] = true;
    }
    seen.iter().filter(|s| **s).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grains_cell_angles_group_into_grains() {
        let s = Structure::from_cell_angles(3, 1, 2.0, &[0.0, -0.0, 0.5]).unwrap();
        assert_eq!(s.grains(), &[0, 0, 1]);
        assert_eq!((s.n_grains(), s.n_owning(), s.angle_at(2, 0)), (2, 2, 0.5));
        let e = Structure::from_grains(2, 1, 2.0, vec![0, 3], vec![0.1]).unwrap_err();
        assert!(e.to_string().contains("cell (i 1, j 0)"), "{e}");
        assert!(Structure::from_cell_angles(1, 1, 2.0, &[f64::NAN]).is_err());
        assert!(Structure::from_seeds(4, 4, 2.0, vec![[8.0, 1.0]], vec![0.0], true).is_err());
    }
}

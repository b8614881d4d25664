//! The paper's random Voronoi structures.
//!
//! Law (paper): ng uniform integer in [16, 256]; θ uniform in [−π, π]; seeds uniform in the
//! Lx × Ly rectangle; each grain's ψ uniform in [−|θ|, |θ|]. Each cell centre belongs to the
//! nearest seed (double precision, lowest index on exact ties; Euclidean, or minimum-image
//! when `periodic` — the paper's generator is not periodic).
//!
//! Order of draws from `Rng::new(seed)` (see `rng.rs` for the primitives), always the same
//! whatever the options, so fixing `grains` or `theta` changes nothing else in the stream's
//! use but the values they replace:
//! 1. ng₀ = 16 + below(241)                  (replaced by `grains` when given)
//! 2. θ₀ = −π + 2π·unit()                    (replaced by `theta` when given)
//! 3. for each grain g = 0 … ng−1: x = unit()·Lx, then y = unit()·Ly
//! 4. for each grain g = 0 … ng−1: ψ = θ·(2·unit() − 1)

use super::error::{Result, invalid};
use super::rng::Rng;
use super::structure::{Generator, MAX_GRAINS, Structure, check_grid};
use std::f64::consts::PI;

/// Smallest and largest grain count of the paper's law.
pub const PAPER_GRAINS: (usize, usize) = (16, 256);

#[derive(Clone, Debug, PartialEq)]
pub struct VoronoiOptions {
    pub nx: usize,
    pub ny: usize,
    pub cell_nm: f64,
    /// Number of seeds; None draws it uniformly from `grains_range`.
    pub grains: Option<usize>,
    /// Smallest and largest grain count drawn when `grains` is None: the paper's 16…256
    /// by default; [`VoronoiOptions::density_range`] scales it to another grid.
    pub grains_range: (usize, usize),
    /// Angle spread θ (radians); None draws it from the paper's law.
    pub theta: Option<f64>,
    pub seed: u64,
    pub periodic: bool,
}

impl Default for VoronoiOptions {
    /// The paper's setting: 160 × 160 cells of 2 nm, ng and θ drawn, not periodic.
    fn default() -> Self {
        VoronoiOptions {
            nx: 160,
            ny: 160,
            cell_nm: 2.0,
            grains: None,
            grains_range: PAPER_GRAINS,
            theta: None,
            seed: 0,
            periodic: false,
        }
    }
}

impl VoronoiOptions {
    /// n × n cells, everything else as [`Default`].
    pub fn square(n: usize) -> Self {
        VoronoiOptions {
            nx: n,
            ny: n,
            ..Default::default()
        }
    }

    /// The paper's grain-count range scaled by the magnet's area, so that grains keep the
    /// paper's sizes (mean diameter 20–80 nm on 160 × 160 cells of 2 nm): 64 × 64 cells of
    /// 2 nm give 3…41 grains.
    pub fn density_range(nx: usize, ny: usize, cell_nm: f64) -> (usize, usize) {
        let area = nx as f64 * ny as f64 * cell_nm * cell_nm / (320.0 * 320.0);
        let (lo, hi) = PAPER_GRAINS;
        let scale = |g: usize| ((g as f64 * area).round() as usize).clamp(1, MAX_GRAINS);
        (scale(lo), scale(hi).max(scale(lo)))
    }

    /// A grain-count range by name: "paper" (16…256) or "density" ([`Self::density_range`]).
    pub fn named_range(name: &str, nx: usize, ny: usize, cell_nm: f64) -> Option<(usize, usize)> {
        match name {
            "paper" => Some(PAPER_GRAINS),
            "density" => Some(Self::density_range(nx, ny, cell_nm)),
            _ => None,
        }
    }

    pub fn validate(&self) -> Result<()> {
        check_grid(self.nx, self.ny, self.cell_nm)?;
        let (lo, hi) = self.grains_range;
        if !(1 <= lo && lo <= hi && hi <= MAX_GRAINS) {
            return Err(invalid(
                "grains_range",
                format!("1 ≤ smallest ≤ largest ≤ {MAX_GRAINS}"),
                format!("[{lo}, {hi}]"),
            ));
        }
        if let Some(ng) = self.grains {
            if !(1..=MAX_GRAINS).contains(&ng) {
                return Err(invalid("grains", format!("1 … {MAX_GRAINS}"), ng));
            }
        }
        if let Some(t) = self.theta {
            // ±360° (with rounding slack for degrees converted to radians).
            if t.is_nan() || t.abs() > 2.0 * PI * (1.0 + 1e-12) {
                return Err(invalid(
                    "theta (radians)",
                    "a misorientation in [-2π, 2π] (±360°)",
                    t,
                ));
            }
        }
        Ok(())
    }
}

/// The random draws of one structure, before any cell is assigned.
#[derive(Clone, Debug, PartialEq)]
pub struct Draws {
    pub ng: usize,
    pub theta: f64,
    pub seeds_nm: Vec<[f64; 2]>,
    pub angles: Vec<f64>,
}

/// The draws `voronoi(options)` makes, in the documented order (cheap: no raster).
pub fn draw(options: &VoronoiOptions) -> Result<Draws> {
    options.validate()?;
    let mut rng = Rng::new(options.seed);
    let (lo, hi) = options.grains_range;
    let ng0 = lo + rng.below((hi - lo + 1) as u64) as usize;
    let theta0 = -PI + 2.0 * PI * rng.unit();
    let ng = options.grains.unwrap_or(ng0);
    let theta = options.theta.unwrap_or(theta0);
    let (lx, ly) = (
        options.nx as f64 * options.cell_nm,
        options.ny as f64 * options.cell_nm,
    );
    let seeds_nm = (0..ng)
        .map(|_| {
            let x = rng.unit() * lx;
            [x, rng.unit() * ly]
        })
        .collect();
    let angles = (0..ng).map(|_| theta * (2.0 * rng.unit() - 1.0)).collect();
    Ok(Draws {
        ng,
        theta,
        seeds_nm,
        angles,
    })
}

/// A random Voronoi structure; reproducible from `options` alone.
pub fn voronoi(options: &VoronoiOptions) -> Result<Structure> {
    let d = draw(options)?;
    let generator = Generator {
        seeds_nm: d.seeds_nm,
        periodic: options.periodic,
        theta: Some(d.theta),
        rng_seed: Some(options.seed),
    };
    Structure::voronoi_raw(options.nx, options.ny, options.cell_nm, generator, d.angles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grains_voronoi_is_reproducible_and_keeps_its_params() {
        let o = VoronoiOptions {
            nx: 50,
            ny: 30,
            seed: 99,
            ..Default::default()
        };
        let s = voronoi(&o).unwrap();
        assert_eq!(s, voronoi(&o).unwrap());
        let g = s.generator().unwrap();
        assert!((16..=256).contains(&g.seeds_nm.len()));
        assert!(s.n_owning() <= s.n_grains() && s.n_owning() >= 1);
        assert_eq!(s, s.regenerate().unwrap().unwrap());
        assert_eq!(s, voronoi(&s.options().unwrap()).unwrap());
        let theta = g.theta.unwrap();
        assert!(s.grain_angles().iter().all(|a| a.abs() <= theta.abs()));
    }

    #[test]
    fn grains_density_range_keeps_the_papers_grain_sizes() {
        assert_eq!(VoronoiOptions::density_range(160, 160, 2.0), PAPER_GRAINS);
        assert_eq!(VoronoiOptions::density_range(64, 64, 2.0), (3, 41));
        let o = VoronoiOptions {
            grains_range: (3, 41),
            seed: 4,
            ..VoronoiOptions::square(64)
        };
        for seed in 0..50 {
            let ng = draw(&VoronoiOptions { seed, ..o.clone() }).unwrap().ng;
            assert!((3..=41).contains(&ng));
        }
        let bad = VoronoiOptions {
            grains_range: (5, 4),
            ..o
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("grains_range")
        );
    }

    #[test]
    fn grains_fixing_grains_or_theta_keeps_the_rest_of_the_stream() {
        let free = draw(&VoronoiOptions {
            seed: 5,
            ..Default::default()
        })
        .unwrap();
        let fixed = draw(&VoronoiOptions {
            seed: 5,
            grains: Some(free.ng),
            theta: Some(free.theta),
            ..Default::default()
        });
        assert_eq!(free, fixed.unwrap());
    }

    #[test]
    fn grains_bad_options_are_refused() {
        for o in [
            VoronoiOptions {
                nx: 0,
                ..Default::default()
            },
            VoronoiOptions {
                cell_nm: -1.0,
                ..Default::default()
            },
            VoronoiOptions {
                grains: Some(0),
                ..Default::default()
            },
            VoronoiOptions {
                theta: Some(f64::NAN),
                ..Default::default()
            },
        ] {
            let e = voronoi(&o).unwrap_err().to_string();
            assert!(e.contains("expected"), "{e}");
        }
    }
}

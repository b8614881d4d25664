//! The FORC diagram on a regular grid of coercivity h_c and bias field h_u, as FORC software
//! draws and exports it, and the distributions read off it: the coercivity distribution
//! (ρ projected on h_c) and the profiles through the peak (docs/physics.md §3.9).

use super::Reversals;
use super::distribution::Window;
use ndarray::Array2;
use rayon::prelude::*;

/// Grid points at most: a 2 000 × 2 000 diagram.
const MAX_POINTS: usize = 4_000_000;

/// The grid: its spacing and its extent in h_c and h_u; `None` takes the curves' own (half
/// the smaller field spacing, and every point whose window lies inside the curves).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Grid {
    pub step: Option<f64>,
    pub h_c: Option<(f64, f64)>,
    pub h_u: Option<(f64, f64)>,
}

/// ρ's largest value on the grid and where it lies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Peak {
    pub h_c: f64,
    pub h_u: f64,
    pub rho: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Diagram {
    /// The grid's columns and rows, multiples of the step.
    pub h_c: Vec<f64>,
    pub h_u: Vec<f64>,
    /// ρ[i, j] at (h_u[i], h_c[j]); NaN where the smoothing window would leave the curves
    /// (outside the triangle the curves cover).
    pub rho: Array2<f64>,
    /// The coercivity distribution 2∫ρ dh_u of each column (ρ per unit h_c and h_u is 2ρ,
    /// the Jacobian of (h_r, h) → (h_c, h_u)), by the trapezoid rule over the column's
    /// defined points; NaN where a column has fewer than two. Its integral over h_c > 0 is
    /// the irreversibly switching moment from one saturation to the other, over 2.
    pub coercivity: Vec<f64>,
    pub peak: Peak,
    /// ρ through the peak: along h_c (its row) and along h_u (its column, the interaction
    /// field distribution).
    pub profile_h_c: Vec<f64>,
    pub profile_h_u: Vec<f64>,
}

impl Reversals {
    /// ρ on a regular (h_c, h_u) grid by the estimator of
    /// [`distribution`](Reversals::distribution), its window centred on each grid point
    /// wherever the curves' own points lie. On the solver's lattice, every other grid
    /// point of the default step is a lattice point, where both agree; the others lie
    /// halfway between four, and their windows hold (2·smoothing + 2)² points.
    pub fn diagram(&self, smoothing: usize, grid: &Grid) -> Result<Diagram, String> {
        let w = Window::new(self, smoothing)?;
        let (dr, dh) = w.steps;
        let step = grid.step.unwrap_or(0.5 * dr.min(dh));
        if !(step.is_finite() && step > 0.0) {
            return Err(format!("bad option step = {step}: expected a spacing > 0"));
        }
        // Where a window fits: from the lowest reversal field plus its half-width to the
        // highest field less its half-width, both on the diagonal h_c = 0.
        let s = smoothing as f64;
        let curves = self.curves();
        let lowest = curves[curves.len() - 1].h_r + s * dr;
        let highest = curves
            .iter()
            .filter_map(|c| c.h.last())
            .fold(f64::NEG_INFINITY, |a, &b| a.max(b))
            - s * dh;
        let h_c_range = grid
            .h_c
            .unwrap_or((0.0, ((highest - lowest) / 2.0).max(0.0)));
        let h_u_range = grid.h_u.unwrap_or((lowest, highest.max(lowest)));
        if h_c_range.0 < 0.0 {
            return Err(format!(
                "bad option h_c = [{}, {}]: h_c < 0 lies below h = h_r, where no curve is",
                h_c_range.0, h_c_range.1
            ));
        }
        let h_c = axis(h_c_range, step);
        let h_u = axis(h_u_range, step);
        if h_c.len().saturating_mul(h_u.len()) > MAX_POINTS {
            return Err(format!(
                "a grid of {} × {} points at step {step}: expected at most {MAX_POINTS} \
                 points; take a larger step or a smaller h_c or h_u range",
                h_c.len(),
                h_u.len()
            ));
        }
        let rows: Vec<Vec<f64>> = h_u
            .par_iter()
            .map(|&u| {
                let mut points = Vec::new();
                h_c.iter()
                    .map(|&c| {
                        let (x0, y0) = (u - c, u + c);
                        if !w.inside_reversals(x0) {
                            return f64::NAN;
                        }
                        let near = w.near(x0);
                        if !w.below_top(y0, w.top(&near)) {
                            return f64::NAN;
                        }
                        w.rho(x0, y0, &near, &mut points).unwrap_or(f64::NAN)
                    })
                    .collect()
            })
            .collect();
        let rho = Array2::from_shape_fn((h_u.len(), h_c.len()), |(i, j)| rows[i][j]);
        let Some(((i, j), &peak)) = rho
            .indexed_iter()
            .filter(|(_, v)| !v.is_nan())
            .max_by(|a, b| a.1.total_cmp(b.1))
        else {
            return Err(format!(
                "no point of the grid (h_c {} … {}, h_u {} … {}) has its smoothing window \
                 inside the curves, which allow h_u {} … {} on h_c = 0",
                h_c[0],
                h_c[h_c.len() - 1],
                h_u[0],
                h_u[h_u.len() - 1],
                lowest,
                highest
            ));
        };
        let coercivity = rho
            .columns()
            .into_iter()
            .map(|col| 2.0 * trapezoid(col.iter().copied(), step))
            .collect();
        Ok(Diagram {
            peak: Peak {
                h_c: h_c[j],
                h_u: h_u[i],
                rho: peak,
            },
            profile_h_c: rho.row(i).to_vec(),
            profile_h_u: rho.column(j).to_vec(),
            coercivity,
            rho,
            h_c,
            h_u,
        })
    }
}

/// The multiples of `step` from the last at or below `lo` to the first at or above `hi`
/// (a part in 1e9 of a step is rounding, not a further point).
fn axis((lo, hi): (f64, f64), step: f64) -> Vec<f64> {
    let first = (lo / step + 1e-9).floor() as i64;
    let last = (hi / step - 1e-9).ceil().max(first as f64) as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// ∫ by the trapezoid rule over the pairs of neighbouring values that are both defined;
/// NaN with fewer than two defined values.
fn trapezoid(values: impl Iterator<Item = f64>, step: f64) -> f64 {
    let v: Vec<f64> = values.collect();
    if v.iter().filter(|x| !x.is_nan()).count() < 2 {
        return f64::NAN;
    }
    v.windows(2)
        .filter(|p| !p[0].is_nan() && !p[1].is_nan())
        .map(|p| 0.5 * (p[0] + p[1]) * step)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::super::distribution::tests::{lattice, preisach};
    use super::*;

    #[test]
    fn on_lattice_points_the_grid_gives_the_distribution() {
        let cubic = |x: f64, y: f64| 0.3 + x - y + 2.0 * x * y + 1.5 * x * y * y + x.powi(3);
        let r = lattice(21, 0.1, 1.0, cubic);
        for s in 1..=3 {
            let d = r.distribution(s).unwrap();
            let g = r.diagram(s, &Grid::default()).unwrap();
            assert!(
                (g.h_c[1] - 0.05).abs() < 1e-12,
                "half a step: {:?}",
                &g.h_c[..2]
            );
            for k in 0..d.rho.len() {
                let i = g.h_u.iter().position(|&u| (u - d.h_u[k]).abs() < 1e-9);
                let j = g.h_c.iter().position(|&c| (c - d.h_c[k]).abs() < 1e-9);
                let (i, j) = (i.unwrap(), j.unwrap());
                assert!(
                    (g.rho[(i, j)] - d.rho[k]).abs() < 1e-9,
                    "s {s} at ({}, {}): {} against {}",
                    d.h_c[k],
                    d.h_u[k],
                    g.rho[(i, j)],
                    d.rho[k]
                );
            }
            // Every lattice point with a ρ is on the grid, and nothing outside them is.
            let defined = g.rho.iter().filter(|v| !v.is_nan()).count();
            assert!(defined >= d.rho.len(), "s {s}: {defined} < {}", d.rho.len());
        }
    }

    #[test]
    fn between_lattice_points_a_quadratic_surface_is_recovered() {
        let quadratic =
            |x: f64, y: f64| 0.1 + 0.2 * x - 0.3 * y + 0.7 * x * y - x * x + 0.4 * y * y;
        let r = lattice(25, 0.1, 1.2, quadratic);
        let g = r.diagram(2, &Grid::default()).unwrap();
        let mut checked = 0;
        for ((i, j), &v) in g.rho.indexed_iter() {
            // Clear of the diagonal, where the extension below h_r is not quadratic.
            if !v.is_nan() && g.h_c[j] > 0.26 {
                assert!(
                    (v + 0.35).abs() < 1e-9,
                    "at ({}, {}): {v}",
                    g.h_c[j],
                    g.h_u[i]
                );
                checked += 1;
            }
        }
        assert!(checked > 200, "{checked} points");
    }

    #[test]
    fn a_preisach_models_density_and_coercivity_distribution_are_recovered() {
        // ρ = f(h)·g(h_r) with f, g logistic about ±0.4 (width 0.06): in (h_c, h_u) the
        // coercivity distribution is 2∫f(h_u + h_c)·g(h_u − h_c) dh_u, its integral 1 (the
        // whole moment switches, 2 Ms, over 2).
        let (r, exact) = preisach(0.01, 0.0, 3);
        let g = r
            .diagram(
                2,
                &Grid {
                    step: Some(0.01),
                    ..Grid::default()
                },
            )
            .unwrap();
        let peak = 1.0 / (16.0 * 0.06 * 0.06);
        let mut worst: f64 = 0.0;
        for ((i, j), &v) in g.rho.indexed_iter() {
            if !v.is_nan() {
                let (c, u) = (g.h_c[j], g.h_u[i]);
                worst = worst.max((v - exact(u - c, u + c)).abs());
            }
        }
        assert!(
            worst < 0.03 * peak,
            "largest |Δρ| {worst} against the peak {peak}"
        );
        assert!(
            (g.peak.h_c - 0.4).abs() <= 0.01 && g.peak.h_u.abs() <= 0.01,
            "peak at ({}, {})",
            g.peak.h_c,
            g.peak.h_u
        );
        let du = 1e-4;
        let exact_p = |c: f64| -> f64 {
            (-8_000..8_000)
                .map(|k| 2.0 * exact(k as f64 * du - c, k as f64 * du + c) * du)
                .sum()
        };
        // At its peak, 2∫f0² = 1/(3w) for a logistic density f0 of width w.
        let p_peak = exact_p(0.4);
        assert!((p_peak - 1.0 / 0.18).abs() < 1e-3, "{p_peak}");
        let mut total = 0.0;
        for (j, &c) in g.h_c.iter().enumerate() {
            let got = g.coercivity[j];
            if (0.2..0.6).contains(&c) {
                let p = exact_p(c);
                assert!(
                    (got - p).abs() < 0.015 * p_peak,
                    "at h_c {c}: {got} against {p}"
                );
            }
            if !got.is_nan() && c > 0.05 {
                total += got * 0.01;
            }
        }
        assert!((total - 1.0).abs() < 0.01, "∫ coercivity dh_c = {total}");
        // The profile through the peak along h_u: the product of the two logistic tails.
        for (i, &u) in g.h_u.iter().enumerate() {
            let v = g.profile_h_u[i];
            if !v.is_nan() {
                let e = exact(u - g.peak.h_c, u + g.peak.h_c);
                assert!((v - e).abs() < 0.03 * peak, "at h_u {u}: {v} against {e}");
            }
        }
        assert_eq!(g.profile_h_c.len(), g.h_c.len());
    }

    #[test]
    fn grids_that_cannot_be_are_refused() {
        let r = lattice(11, 0.1, 1.0, |_, h| h);
        let bad = |grid: Grid| r.diagram(1, &grid).unwrap_err();
        let e = bad(Grid {
            step: Some(0.0),
            ..Grid::default()
        });
        assert!(e.contains("step = 0"), "{e}");
        let e = bad(Grid {
            h_c: Some((-0.1, 0.5)),
            ..Grid::default()
        });
        assert!(e.contains("below h = h_r"), "{e}");
        let e = bad(Grid {
            step: Some(1e-5),
            ..Grid::default()
        });
        assert!(e.contains("at most"), "{e}");
        let e = bad(Grid {
            h_u: Some((5.0, 6.0)),
            ..Grid::default()
        });
        assert!(e.contains("no point of the grid"), "{e}");
    }

    #[test]
    fn the_axis_holds_the_multiples_of_the_step_that_cover_the_range() {
        assert_eq!(axis((0.0, 0.3), 0.1).len(), 4);
        let a = axis((-0.25, 0.25), 0.1);
        assert!(
            (a[0] + 0.3).abs() < 1e-12 && (a[a.len() - 1] - 0.3).abs() < 1e-12,
            "{a:?}"
        );
        assert_eq!(axis((0.5, 0.5), 0.1).len(), 1);
        assert!(trapezoid([1.0, 1.0, f64::NAN, 3.0].into_iter(), 0.5) == 0.5);
        assert!(trapezoid([1.0, f64::NAN].into_iter(), 0.5).is_nan());
    }
}

//! `solver::forc`: a magnet's first-order reversal curves and their distribution
//! (docs/physics.md §3.9), in the `solver` namespace.

use super::grains::SharedStructure;
use super::opts::Opts;
use super::solver::SharedCurve;
use super::{RResult, error, error_in, fail};
use crate::array::NdArray;
use crate::plot::Plot;
use crate::solver::tensor::Backend;
use crate::solver::{CurveCache, Forc};
use rhai::plugin::*;
use rhai::{Array, Map};
use std::sync::Arc;

pub type SharedForc = Arc<Forc>;

/// A map of named 1-D arrays.
fn columns<const N: usize>(cols: [(&str, Vec<f64>); N]) -> Map {
    cols.into_iter()
        .map(|(name, v)| (name.into(), Dynamic::from(NdArray::from_vec(v))))
        .collect()
}

/// The option `smoothing` (default 2) of `func`, the only one it takes.
fn smoothing_option(func: &'static str, opts: Map) -> RResult<usize> {
    let mut o = Opts::new(func, opts);
    let smoothing = o.int("smoothing", 2, 1, 1000)? as usize;
    o.finish()?;
    Ok(smoothing)
}

#[export_module]
pub mod forc_module {
    use super::*;

    /// The first-order reversal curves of a structure with default settings: h = +1 → −1
    /// in steps of 0.05 HA, and back up to +1 from each of those fields.
    #[rhai_fn(name = "forc", return_raw)]
    pub fn forc_default(ctx: NativeCallContext, s: SharedStructure) -> RResult<SharedForc> {
        forc(ctx, s, Map::new())
    }

    /// First-order reversal curves: from m ∥ +y the field falls from `h_start` (default 1)
    /// to `h_end` (−1) in steps of `h_step` (0.05 HA; one reversal curve per step, so the
    /// cost grows as 1/h_step²), and from the state at each of those fields h_r it rises
    /// back to `h_start` on the same fields. The reversal curves run side by side on the
    /// cores. Other options as `solver::demag_curve` (tol, material, terms…; the plain
    /// solver only, no `snapshots`). Each finished curve is kept in the curve cache
    /// (`--cache`, `--no-cache`), so after an error or Ctrl-C the same call again computes
    /// only what is missing.
    ///
    /// ```rhai
    /// // One grain without demagnetisation: a Stoner–Wohlfarth particle.
    /// let s = grains::voronoi(#{ n: 4, grains: 1, theta_deg: 60.0, seed: 3 });
    /// let f = solver::forc(s, #{ h_step: 0.1, demag: false });
    /// assert(f.reversals.len() == f.h_r.len() && f.h_r.len() == 21, "one curve per field");
    /// // Reversed before its switching field, the particle retraces the descending branch.
    /// let back = f.reversals[5];
    /// assert(back.h[0] == f.h_r[5] && back.h[5] == 1.0, "from h_r = 0.5 up to h_start");
    /// assert_close(back.my[5], f.descending.my[0], 1e-4, "back at saturation");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn forc(ctx: NativeCallContext, s: SharedStructure, opts: Map) -> RResult<SharedForc> {
        let f = "solver::forc";
        crate::api::located(
            &ctx,
            (|| {
                let mut opts = opts;
                if opts.contains_key("snapshots") {
                    return fail(f, "option `snapshots` belongs to solver::demag_curve");
                }
                opts.entry("h_step".into()).or_insert(Dynamic::from(0.05));
                let setup = super::super::solver::setup(f, opts)?;
                if let Backend::Tensor(_) = setup.set.backend {
                    return fail(
                        f,
                        "reversal curves need the plain solver (backend: \"plain\"): the tensor \
                         backend starts every curve saturated",
                    );
                }
                let p = setup.problem(f, &s)?;
                let cache = crate::settings::curve_cache().map(CurveCache::at);
                let threads = crate::settings::threads();
                crate::solver::forc(&p, &setup.set.sweep, threads, cache.as_ref())
                    .map(Arc::new)
                    .map_err(|e| match (&e, &cache) {
                        (crate::solver::SolverError::Interrupted(_), Some(c)) => error(
                            f,
                            format!(
                                "{e}; the finished curves are kept in {}: the same call again \
                                 computes only the rest",
                                c.dir().display()
                            ),
                        ),
                        _ => error(f, e),
                    })
            })(),
        )
    }

    /// The reversal fields h_r (the descending branch's fields), one per reversal curve.
    #[rhai_fn(global, get = "h_r", pure)]
    pub fn forc_h_r(f: &mut SharedForc) -> NdArray {
        NdArray::from_vec(f.reversal_fields())
    }

    /// The descending branch (a Curve from h_start to h_end).
    #[rhai_fn(global, get = "descending", pure)]
    pub fn forc_descending(f: &mut SharedForc) -> SharedCurve {
        Arc::new(f.descending.clone())
    }

    /// The reversal curves, one Curve per reversal field, each rising from h_r to h_start.
    #[rhai_fn(global, get = "reversals", pure)]
    pub fn forc_reversals(f: &mut SharedForc) -> Array {
        f.reversals
            .iter()
            .map(|c| Dynamic::from(Arc::new(c.clone())))
            .collect()
    }

    /// Gradient evaluations of the whole set.
    #[rhai_fn(global, get = "evaluations", pure)]
    pub fn forc_evaluations(f: &mut SharedForc) -> i64 {
        f.evaluations() as i64
    }

    /// Field steps, over all curves, that hit the iteration cap.
    #[rhai_fn(global, get = "non_converged", pure)]
    pub fn forc_non_converged(f: &mut SharedForc) -> i64 {
        f.non_converged() as i64
    }

    /// Wall-clock seconds of the call that made the set (curves from the cache cost none).
    #[rhai_fn(global, get = "seconds", pure)]
    pub fn forc_seconds(f: &mut SharedForc) -> f64 {
        f.seconds
    }

    /// The FORC distribution with smoothing factor 2: see `distribution(#{ smoothing })`.
    #[rhai_fn(global, name = "distribution", return_raw, pure)]
    pub fn forc_distribution_default(f: &mut SharedForc) -> RResult<Map> {
        forc_distribution(f, Map::new())
    }

    /// The FORC distribution ρ = −½ ∂²M/∂h_r∂h (Ms/HA²) at every point (h_r, h ≥ h_r) of
    /// the fields' lattice whose smoothing window lies inside it: a map of 1-D arrays
    /// `h_r`, `h`, `h_c` = (h − h_r)/2, `h_u` = (h + h_r)/2 and `rho`. Each ρ is the mixed
    /// term of a quadratic surface fitted to M over (2·smoothing + 1)² lattice points
    /// (option `smoothing`, default 2; 1 = the central difference); below h_r a curve is
    /// extended by its first value, so reversible magnetisation shows on h = h_r.
    ///
    /// ```rhai
    /// let s = grains::voronoi(#{ n: 4, grains: 1, theta_deg: 60.0, seed: 3 });
    /// let f = solver::forc(s, #{ h_step: 0.1, demag: false });
    /// let d = f.distribution(#{ smoothing: 1 });
    /// // The particle's switching is one peak at h_u ≈ 0, h_c ≈ its switching field.
    /// let k = argmax(d.rho);
    /// assert(d.h_u[k].abs() <= 0.05 + 1e-9, "no interaction field in a single particle");
    /// let hc = solver::demag_curve(s, #{ h_step: 0.1, demag: false }).anchors().Hc;
    /// assert_close(d.h_c[k], hc, 0.1, "the switching field, within a step");
    /// ```
    #[rhai_fn(global, name = "distribution", return_raw, pure)]
    pub fn forc_distribution(f: &mut SharedForc, opts: Map) -> RResult<Map> {
        let name = "Forc.distribution";
        let smoothing = smoothing_option(name, opts)?;
        let d = f.distribution(smoothing).map_err(error_in(name))?;
        Ok(columns([
            ("h_r", d.h_r),
            ("h", d.h),
            ("h_c", d.h_c),
            ("h_u", d.h_u),
            ("rho", d.rho),
        ]))
    }

    /// Plots the reversal curves over the descending branch, M against h (PNG or SVG by
    /// extension); a notebook shows a Forc so.
    #[rhai_fn(global, name = "plot", return_raw, pure)]
    pub fn forc_plot_file(f: &mut SharedForc, path: &str) -> RResult<()> {
        crate::plot::forc_plot(f)
            .save(path)
            .map_err(error_in("Forc.plot"))
    }

    /// What exposure to each reversal field h_r < 0 leaves at h = 0, as a magnet in a
    /// motor meets it: a map of 1-D arrays `h_r`, `m_back` (M back at h = 0, Ms), `loss`
    /// (the irreversible loss Mr − m_back, Ms) and `mu_rec` (the relative recoil
    /// permeability of the chord from h_r to 0, 1 + ΔM/ΔH in SI). Needs h = 0 on the
    /// fields' lattice.
    ///
    /// ```rhai
    /// // At remanence a single particle turns reversibly with dm/dh = sin²ψ.
    /// let s = grains::voronoi(#{ n: 4, grains: 1, theta_deg: 60.0, seed: 3 });
    /// let f = solver::forc(s, #{ h_step: 0.01, h_end: -0.01, demag: false, tol: 1e-8 });
    /// let r = f.recoil();
    /// let sin2 = 1.0 - s.descriptors().cos2_mean;
    /// let ms_per_ha = 1.61 ** 2 / (4e-7 * PI()) / (2.0 * 4.2e6);
    /// assert_close(r.mu_rec[0], 1.0 + ms_per_ha * sin2, 0.003, "Nd2Fe14B: μ0Ms²/2K1 ≈ 0.25");
    /// assert(r.loss[0].abs() < 1e-6, "nothing switched");
    /// ```
    #[rhai_fn(global, name = "recoil", return_raw, pure)]
    pub fn forc_recoil(f: &mut SharedForc) -> RResult<Map> {
        let r = f.recoil().map_err(error_in("Forc.recoil"))?;
        Ok(columns([
            ("h_r", r.h_r),
            ("m_back", r.m_back),
            ("loss", r.loss),
            ("mu_rec", r.mu_rec),
        ]))
    }

    /// Draws the FORC diagram with smoothing factor 2: see `plot_distribution(path, opts)`.
    #[rhai_fn(global, name = "plot_distribution", return_raw, pure)]
    pub fn forc_plot_distribution_default(f: &mut SharedForc, path: &str) -> RResult<()> {
        forc_plot_distribution(f, path, Map::new())
    }

    /// Draws the FORC diagram (PNG or SVG by extension): `distribution(opts)`'s ρ over h_c
    /// (x) and h_u (y), each point the diamond between its neighbours, red below zero and
    /// blue above, with a colorbar. Options as `distribution`.
    ///
    /// ```rhai
    /// let s = grains::voronoi(#{ n: 8, grains: 2, theta_deg: 60.0, seed: 3 });
    /// let f = solver::forc(s, #{ h_step: 0.1, demag: false });
    /// f.plot_distribution("forc_diagram.png", #{ smoothing: 1 });
    /// assert(io::exists("forc_diagram.png"), "written");
    /// ```
    #[rhai_fn(global, name = "plot_distribution", return_raw, pure)]
    pub fn forc_plot_distribution(f: &mut SharedForc, path: &str, opts: Map) -> RResult<()> {
        let name = "Forc.plot_distribution";
        let smoothing = smoothing_option(name, opts)?;
        let d = f.distribution(smoothing).map_err(error_in(name))?;
        crate::plot::forc_diagram(&d, f.opts.h_step, smoothing)
            .save(path)
            .map_err(error_in(name))
    }

    /// Writes the reversal curves as one CSV table: k (the curve), h_r, h, my, mx,
    /// iterations, torque, converged.
    #[rhai_fn(global, name = "to_csv", return_raw, pure)]
    pub fn forc_to_csv(f: &mut SharedForc, path: &str) -> RResult<()> {
        f.write_csv(path).map_err(error_in("Forc.to_csv"))
    }

    /// One-line description.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn forc_to_string(f: &mut SharedForc) -> String {
        let h = f.reversal_fields();
        format!(
            "Forc({} reversal curves, h_r {} … {}, {} evaluations, {} not converged)",
            f.reversals.len(),
            crate::array::fmt_g(h.first().copied().unwrap_or(f64::NAN)),
            crate::array::fmt_g(h.last().copied().unwrap_or(f64::NAN)),
            f.evaluations(),
            f.non_converged()
        )
    }
}

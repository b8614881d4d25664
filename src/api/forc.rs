//! First-order reversal curves in scripts (docs/physics.md §3.9): `solver::forc` computes a
//! magnet's, `io::read_forc` reads a measured set; both give a `Forc`, whose distribution,
//! recoil and figures come from the same [`crate::forc`] code.

use super::array::columns;
use super::grains::SharedStructure;
use super::opts::Opts;
use super::solver::SharedCurve;
use super::{RResult, error_in, fail};
use crate::array::NdArray;
use crate::forc::{Format, Grid, ReadOptions, Reversals};
use crate::plot::Plot;
use crate::solver::forc::REJOIN_ANGLE;
use crate::solver::{CurveCache, Forc};
use rhai::plugin::*;
use rhai::{Array, Map};
use std::sync::Arc;

/// A FORC set as scripts hold it: its curves as data, and where they came from.
pub struct ForcSet {
    pub data: Reversals,
    pub source: Source,
}

pub enum Source {
    /// Computed here, with the solver's record of every step.
    Simulated(Forc),
    /// The mean of the sets of several magnets on one lattice of fields: a sample.
    Sample(Vec<Forc>),
    /// Read from a file.
    Measured { path: String, format: Format },
}

pub type SharedForc = Arc<ForcSet>;

impl ForcSet {
    /// A set the solver computed.
    pub fn from_solver(computed: Forc) -> Result<Self, String> {
        Ok(Self {
            data: computed.data()?,
            source: Source::Simulated(computed),
        })
    }

    /// The mean of computed sets: a sample's.
    pub fn sample(computed: Vec<Forc>) -> Result<Self, String> {
        let data = computed
            .iter()
            .map(Forc::data)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            data: Reversals::mean(&data.iter().collect::<Vec<_>>())?,
            source: Source::Sample(computed),
        })
    }

    /// The solver's records, one per magnet, or an error naming `func` for a measured set.
    fn simulated(&self, func: &str) -> RResult<&[Forc]> {
        match &self.source {
            Source::Simulated(f) => Ok(std::slice::from_ref(f)),
            Source::Sample(sets) => Ok(sets),
            Source::Measured { path, .. } => fail(
                func,
                format!(
                    "a FORC set read from {path} has no solver record (only solver::forc's have)"
                ),
            ),
        }
    }
}

/// A measured curve as a script reads it: `#{ h, my }`, as a Curve's `h` and `my`.
fn curve_map(h: Vec<f64>, m: Vec<f64>) -> Dynamic {
    Dynamic::from_map(columns([("h", h), ("my", m)]))
}

/// The option `rejoin` of `func`, if given: true (default; [`REJOIN_ANGLE`]), false, or an
/// angle.
fn rejoin_option(func: &'static str, value: Option<Dynamic>) -> RResult<Option<f64>> {
    let Some(v) = value else {
        return Ok(Some(REJOIN_ANGLE));
    };
    match (v.as_bool(), v.as_float()) {
        (Ok(b), _) => Ok(b.then_some(REJOIN_ANGLE)),
        (_, Ok(angle)) => Ok(Some(angle)),
        _ => fail(
            func,
            format!(
                "option `rejoin` must be true, false or an angle in rad, got {} ({v})",
                crate::docs::type_of(&v)
            ),
        ),
    }
}

/// The option `smoothing` (default 2) of `func`, the only one it takes.
fn smoothing_option(func: &'static str, opts: Map) -> RResult<usize> {
    let mut o = Opts::new(func, opts);
    let smoothing = smoothing(&mut o)?;
    o.finish()?;
    Ok(smoothing)
}

/// The smoothing factor of the FORC estimator: an integer ≥ 1, default 2.
fn smoothing(o: &mut Opts) -> RResult<usize> {
    Ok(o.int("smoothing", 2, 1, 1000)? as usize)
}

/// One magnet's FORC set by `func`'s options (`rejoin` and those of the sweep).
fn compute(func: &'static str, s: &SharedStructure, mut opts: Map) -> RResult<Forc> {
    opts.entry("h_step".into()).or_insert(Dynamic::from(0.05));
    let rejoin = rejoin_option(func, opts.remove("rejoin"))?;
    let setup = super::solver::protocol_setup(func, opts, "reversal curves")?;
    let p = setup.problem(func, s)?;
    let cache = crate::settings::curve_cache().map(CurveCache::at);
    let threads = crate::settings::threads();
    crate::solver::forc(&p, &setup.set.sweep, rejoin, threads, cache.as_ref())
        .map_err(|e| super::solver::protocol_error(func, e, cache.as_ref()))
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
    /// cores. A curve whose state comes back to the descending branch's at some field
    /// (every cell within 0.01 rad) continues as the curve reversed at that field, whose
    /// points it takes (with no iterations): 1.4–7 times fewer evaluations, the same
    /// curves to path noise; `rejoin: false` computes every curve to the end. Other
    /// options as `solver::demag_curve` (tol, material, terms…; the plain solver only, no
    /// `snapshots`). Each finished curve is kept in the curve cache (`--cache`,
    /// `--no-cache`), so after an error or Ctrl-C the same call again computes only what
    /// is missing.
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
            compute(f, &s, opts)
                .and_then(|c| ForcSet::from_solver(c).map(Arc::new).map_err(error_in(f))),
        )
    }

    /// A sample's first-order reversal curves with default settings: see
    /// `solver::forc(structures, opts)`.
    #[rhai_fn(name = "forc", return_raw)]
    pub fn forc_sample_default(ctx: NativeCallContext, structures: Array) -> RResult<SharedForc> {
        forc_sample(ctx, structures, Map::new())
    }

    /// A sample's first-order reversal curves: the mean of the sets of `structures` (an
    /// array of Structures, one after another, each as `solver::forc(s, opts)` with the
    /// same options), as a magnetometer measures the sum over its grains. ρ is linear in
    /// M, so the sample's distribution is the mean of the magnets'. `reversals` and
    /// `descending` are `#{ h, my }` maps of the mean; `evaluations`, `non_converged` and
    /// `seconds` add up the magnets'. Each magnet's finished curves are kept in the curve
    /// cache, so after Ctrl-C the same call again computes only what is missing.
    ///
    /// ```rhai
    /// // Two single grains switching at different fields: the sample's diagram has both.
    /// let o = #{ h_step: 0.05, demag: false };
    /// let a = grains::voronoi(#{ n: 4, grains: 1, theta_deg: 10.0, seed: 3 });
    /// let b = grains::voronoi(#{ n: 4, grains: 1, theta_deg: 40.0, seed: 3 });
    /// let both = solver::forc([a, b], o);
    /// let fa = solver::forc(a, o);
    /// let fb = solver::forc(b, o);
    /// assert(both.evaluations == fa.evaluations + fb.evaluations, "the magnets' work");
    /// // From h_r = −0.5, three steps up: the mean of the two magnets' M.
    /// let mean = (fa.reversals[30].my[3] + fb.reversals[30].my[3]) / 2.0;
    /// assert_close(both.reversals[30].my[3], mean, 1e-12, "the mean");
    /// let d = both.diagram(#{ smoothing: 1 });
    /// let ha = solver::demag_curve(a, o).anchors().Hc;
    /// let hb = solver::demag_curve(b, o).anchors().Hc;
    /// assert(d.coercivity[(ha / 0.025).round().to_int()] > 1.0, "a's switching");
    /// assert(d.coercivity[(hb / 0.025).round().to_int()] > 1.0, "b's switching");
    /// ```
    #[rhai_fn(name = "forc", return_raw)]
    pub fn forc_sample(
        ctx: NativeCallContext,
        structures: Array,
        opts: Map,
    ) -> RResult<SharedForc> {
        let f = "solver::forc";
        crate::api::located(
            &ctx,
            super::super::solver::per_magnet(f, &structures, |s| compute(f, s, opts.clone()))
                .and_then(|sets| ForcSet::sample(sets).map(Arc::new).map_err(error_in(f))),
        )
    }

    /// The reversal fields h_r, one per reversal curve, falling.
    #[rhai_fn(global, get = "h_r", pure)]
    pub fn forc_h_r(f: &mut SharedForc) -> NdArray {
        NdArray::from_vec(f.data.reversal_fields())
    }

    /// The descending branch: a Curve from h_start to h_end for a computed set; for a
    /// sample or a measured one `#{ h, my }`, the curves' first points.
    #[rhai_fn(global, get = "descending", pure)]
    pub fn forc_descending(f: &mut SharedForc) -> Dynamic {
        match &f.source {
            Source::Simulated(s) => Dynamic::from(Arc::new(s.descending.clone()) as SharedCurve),
            Source::Sample(_) | Source::Measured { .. } => {
                let (h, m) = f.data.descending();
                curve_map(h, m)
            }
        }
    }

    /// The reversal curves, one per reversal field, each rising from h_r: Curves for a
    /// computed set, `#{ h, my }` maps for a sample or a measured one.
    #[rhai_fn(global, get = "reversals", pure)]
    pub fn forc_reversals(f: &mut SharedForc) -> Array {
        match &f.source {
            Source::Simulated(s) => s
                .reversals
                .iter()
                .map(|c| Dynamic::from(Arc::new(c.clone()) as SharedCurve))
                .collect(),
            Source::Sample(_) | Source::Measured { .. } => f
                .data
                .curves()
                .iter()
                .map(|c| curve_map(c.h.clone(), c.m.clone()))
                .collect(),
        }
    }

    /// Gradient evaluations of the whole set (a computed set only).
    #[rhai_fn(global, get = "evaluations", pure, return_raw)]
    pub fn forc_evaluations(f: &mut SharedForc) -> RResult<i64> {
        let sets = f.simulated("Forc.evaluations")?;
        Ok(sets.iter().map(Forc::evaluations).sum::<usize>() as i64)
    }

    /// Field steps, over all curves, that hit the iteration cap (a computed set only).
    #[rhai_fn(global, get = "non_converged", pure, return_raw)]
    pub fn forc_non_converged(f: &mut SharedForc) -> RResult<i64> {
        let sets = f.simulated("Forc.non_converged")?;
        Ok(sets.iter().map(Forc::non_converged).sum::<usize>() as i64)
    }

    /// Wall-clock seconds of the call that made the set (curves from the cache cost none;
    /// a computed set only, a sample's magnets one after another).
    #[rhai_fn(global, get = "seconds", pure, return_raw)]
    pub fn forc_seconds(f: &mut SharedForc) -> RResult<f64> {
        Ok(f.simulated("Forc.seconds")?.iter().map(|s| s.seconds).sum())
    }

    /// The FORC distribution with smoothing factor 2: see `distribution(#{ smoothing })`.
    #[rhai_fn(global, name = "distribution", return_raw, pure)]
    pub fn forc_distribution_default(f: &mut SharedForc) -> RResult<Map> {
        forc_distribution(f, Map::new())
    }

    /// The FORC distribution ρ = −½ ∂²M/∂h_r∂h (Ms/HA², or the file's units) at every
    /// point (h_r, h ≥ h_r) of the curves whose smoothing window lies inside them: a map
    /// of 1-D arrays `h_r`, `h`, `h_c` = (h − h_r)/2, `h_u` = (h + h_r)/2 and `rho`. Each
    /// ρ is the mixed term of a quadratic surface fitted by least squares to M within
    /// smoothing + ½ field steps of the point (option `smoothing`, default 2): the
    /// (2·smoothing + 1)² lattice points of a computed set, where 1 is the central
    /// difference, and a measured set's points however its fields fell. Below h_r a curve
    /// is extended by its first value, so reversible magnetisation shows on h = h_r.
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
        let d = f.data.distribution(smoothing).map_err(error_in(name))?;
        Ok(columns([
            ("h_r", d.h_r),
            ("h", d.h),
            ("h_c", d.h_c),
            ("h_u", d.h_u),
            ("rho", d.rho),
        ]))
    }

    /// The FORC diagram with smoothing factor 2 on the default grid: see `diagram(opts)`.
    #[rhai_fn(global, name = "diagram", return_raw, pure)]
    pub fn forc_diagram_default(f: &mut SharedForc) -> RResult<Map> {
        forc_diagram(f, Map::new())
    }

    /// The FORC diagram on a regular grid of coercivity h_c and bias field h_u, as FORC
    /// software exports it, and what is read off it. ρ at each grid point comes from the
    /// estimator of `distribution` with its window centred there (option `smoothing`,
    /// default 2). The grid: `step` (default half the field step, so on the solver's
    /// lattice every other point is a lattice point), `h_c: [lo, hi]` (lo ≥ 0) and
    /// `h_u: [lo, hi]` (default: everywhere the curves allow a window), widened to
    /// multiples of the step. Returns a map:
    /// - `h_c`, `h_u`: the grid's columns and rows;
    /// - `rho`: a 2-D array, rho[i][j] at (h_u[i], h_c[j]); NaN where the window would
    ///   leave the curves (outside the triangle they cover; `nanmax` and numpy's `nan*`
    ///   skip it);
    /// - `coercivity`: the coercivity distribution 2∫ρ dh_u per column (ρ per unit h_c
    ///   and h_u is 2ρ), over the defined points; its integral over h_c > 0 is half the
    ///   moment that switches irreversibly between the saturations (1 for a fully
    ///   switching magnet in Ms), and the column h_c = 0 holds the reversible ridge;
    /// - `peak_h_c`, `peak_h_u`, `peak_rho`: ρ's largest value and where;
    /// - `profile_h_c`, `profile_h_u`: ρ through the peak along h_c and along h_u (the
    ///   interaction field distribution).
    ///
    /// `io::save_npz(path, d)` writes all of it for numpy.
    ///
    /// ```rhai
    /// // A Stoner–Wohlfarth particle switches at one field: one peak near h_u = 0, and
    /// // its coercivity distribution there.
    /// let s = grains::voronoi(#{ n: 4, grains: 1, theta_deg: 30.0, seed: 3 });
    /// let f = solver::forc(s, #{ h_step: 0.05, demag: false });
    /// let d = f.diagram(#{ smoothing: 1 });
    /// assert(d.rho.shape == [d.h_u.len(), d.h_c.len()], "rows h_u, columns h_c");
    /// let hc = solver::demag_curve(s, #{ h_step: 0.05, demag: false }).anchors().Hc;
    /// assert_close(d.peak_h_c, hc, 0.05, "the switching field, within a step");
    /// assert(d.peak_h_u.abs() <= 0.05, "no interaction field in a single particle");
    /// assert_close(d.h_c[d.coercivity.nanargmax()], hc, 0.05, "the distribution's mode");
    /// ```
    #[rhai_fn(global, name = "diagram", return_raw, pure)]
    pub fn forc_diagram(f: &mut SharedForc, opts: Map) -> RResult<Map> {
        let name = "Forc.diagram";
        let mut o = Opts::new(name, opts);
        let smoothing = smoothing(&mut o)?;
        let grid = Grid {
            step: o.float_opt("step", f64::MIN_POSITIVE, f64::MAX)?,
            h_c: o.range_opt("h_c")?,
            h_u: o.range_opt("h_u")?,
        };
        o.finish()?;
        let d = f.data.diagram(smoothing, &grid).map_err(error_in(name))?;
        let mut out = columns([
            ("h_c", d.h_c),
            ("h_u", d.h_u),
            ("coercivity", d.coercivity),
            ("profile_h_c", d.profile_h_c),
            ("profile_h_u", d.profile_h_u),
        ]);
        out.insert("rho".into(), Dynamic::from(NdArray::new(d.rho.into_dyn())));
        for (key, v) in [
            ("peak_h_c", d.peak.h_c),
            ("peak_h_u", d.peak.h_u),
            ("peak_rho", d.peak.rho),
        ] {
            out.insert(key.into(), Dynamic::from_float(v));
        }
        Ok(out)
    }

    /// Plots the reversal curves over the descending branch, M against h (PNG or SVG by
    /// extension); a notebook shows a Forc so.
    #[rhai_fn(global, name = "plot", return_raw, pure)]
    pub fn forc_plot_file(f: &mut SharedForc, path: &str) -> RResult<()> {
        crate::plot::forc_plot(&f.data)
            .save(path)
            .map_err(error_in("Forc.plot"))
    }

    /// What exposure to each reversal field h_r < 0 leaves at h = 0, as a magnet in a
    /// motor meets it: a map of 1-D arrays `h_r`, `m_back` (M back at h = 0), `loss` (the
    /// irreversible loss Mr − m_back, Mr the descending branch at h = 0) and `mu_rec` (the
    /// relative recoil permeability of the chord from h_r to 0, 1 + ΔM/ΔH in SI). A computed
    /// set needs h = 0 on its lattice; a measured one is read linearly between its fields,
    /// and has `mu_rec` only when `io::read_forc` was given `ms_per_ha`.
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
        let name = "Forc.recoil";
        let r = match &f.source {
            Source::Simulated(s) => s.recoil(),
            Source::Sample(sets) => sets[0].recoil().and_then(|_| f.data.recoil()),
            Source::Measured { .. } => f.data.recoil(),
        }
        .map_err(error_in(name))?;
        let mut out = columns([("h_r", r.h_r), ("m_back", r.m_back), ("loss", r.loss)]);
        if let Some(mu) = r.mu_rec {
            out.extend(columns([("mu_rec", mu)]));
        }
        Ok(out)
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
        let d = f.data.distribution(smoothing).map_err(error_in(name))?;
        crate::plot::forc_diagram(&d, smoothing, f.data.units())
            .save(path)
            .map_err(error_in(name))
    }

    /// Writes the reversal curves as one CSV table, which `io::read_forc` reads back: k (the
    /// curve), h_r, h, my, and for one computed magnet's set mx, iterations, torque,
    /// converged.
    #[rhai_fn(global, name = "to_csv", return_raw, pure)]
    pub fn forc_to_csv(f: &mut SharedForc, path: &str) -> RResult<()> {
        let name = "Forc.to_csv";
        match &f.source {
            Source::Simulated(s) => s.write_csv(path).map_err(error_in(name)),
            Source::Sample(_) | Source::Measured { .. } => {
                let (mut k, mut h_r, mut h, mut m) = (vec![], vec![], vec![], vec![]);
                for (i, c) in f.data.curves().iter().enumerate() {
                    k.extend(std::iter::repeat_n(i as f64, c.h.len()));
                    h_r.extend(std::iter::repeat_n(c.h_r, c.h.len()));
                    h.extend_from_slice(&c.h);
                    m.extend_from_slice(&c.m);
                }
                let table = columns([("k", k), ("h_r", h_r), ("h", h), ("my", m)]);
                let order = ["k", "h_r", "h", "my"].map(String::from);
                crate::api::io::write_columns(name, path, &table, &order)
            }
        }
    }

    /// One-line description.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn forc_to_string(f: &mut SharedForc) -> String {
        let h = f.data.reversal_fields();
        let (first, last) = (h[0], h[h.len() - 1]);
        let what = match &f.source {
            Source::Simulated(s) => format!(
                "{} evaluations, {} not converged",
                s.evaluations(),
                s.non_converged()
            ),
            Source::Sample(sets) => format!(
                "the mean of {} magnets, {} evaluations, {} not converged",
                sets.len(),
                sets.iter().map(Forc::evaluations).sum::<usize>(),
                sets.iter().map(Forc::non_converged).sum::<usize>()
            ),
            Source::Measured { path, format } => {
                let how = match format {
                    Format::Columns => "a table",
                    Format::Pmc {
                        calibration: false, ..
                    } => "PMC, no calibration points",
                    Format::Pmc {
                        corrected: true, ..
                    } => "PMC, corrected for drift",
                    Format::Pmc { .. } => "PMC, not corrected for drift",
                };
                let (field, _) = f.data.units();
                format!("read from {path}: {how}, h in {field}")
            }
        };
        format!(
            "Forc({} reversal curves, h_r {} … {}, {what})",
            h.len(),
            crate::array::fmt_g(first),
            crate::array::fmt_g(last),
        )
    }
}

#[export_module]
pub mod forc_io_module {
    use super::*;

    /// Reads measured first-order reversal curves with the file's units: see
    /// `io::read_forc(path, opts)`.
    #[rhai_fn(name = "read_forc", return_raw)]
    pub fn read_forc_default(ctx: NativeCallContext, path: &str) -> RResult<SharedForc> {
        read_forc(ctx, path, Map::new())
    }

    /// Reads first-order reversal curves from a file into a `Forc`, whose `distribution`,
    /// `plot_distribution` and `recoil` are then computed exactly as for `solver::forc`'s:
    /// a simulated and a measured diagram can be set side by side. Two forms, told apart
    /// by the first line:
    /// - a table whose header names the columns `h_r`, `h` and `m` (or `my`), one row per
    ///   point, a curve's rows together (what `Forc.to_csv` writes; cells comma, tab,
    ///   semicolon or space apart);
    /// - a Princeton Measurements (MicroMag) or Lake Shore FORC file: a header, then runs
    ///   of `H, M` lines apart by blank lines, each curve's first point at its reversal
    ///   field. Where each curve follows a one-line run (the moment measured at the
    ///   saturating field before it), those are calibration points, and each curve is
    ///   scaled so its calibration moment is the first one's (option `drift`, default
    ///   true: a drifting gain).
    ///
    /// Options: `ha` (the anisotropy field in the file's field unit) and `ms` (the
    /// saturation moment in its moment unit) turn the file into the units of
    /// `solver::forc`, h = H/ha and m = M/ms; without them the file's units are kept.
    /// `ms_per_ha` (Ms/HA in one unit, e.g. μ0Ms²/2K1 ≈ 0.246 for Nd2Fe14B) gives `recoil`
    /// its permeability.
    ///
    /// ```rhai
    /// // A PMC-style file: H in mT, M in mA·m²; one calibration point before each curve.
    /// fn survival(x) { 1.0 / (1.0 + x.exp()) }
    /// let lines = ["MicroMag 2900/3900 Data File", "Field (mT), Moment (mAm2)", ""];
    /// for r in 0..12 {
    ///     let h_r = 500.0 - 100.0 * r;
    ///     lines += ["+1.0E+03,+2.0E+00", ""];
    ///     for j in 0..=r {
    ///         let h = h_r + 100.0 * j;
    ///         // Switching fields spread by 40 mT about ±300 mT (a Preisach model): ρ
    ///         // peaks at h_c = 300 mT, h_u = 0.
    ///         let m = 2.0 - 4.0 * survival((h - 300.0) / 40.0) * survival((h_r + 300.0) / 40.0);
    ///         lines.push(`${h}, ${m}`);
    ///     }
    ///     lines.push("");
    /// }
    /// io::write_text("sample.frc", lines.reduce(|sum, l| sum + l + "\n", ""));
    /// let f = io::read_forc("sample.frc", #{ ha: 1000.0, ms: 2.0 });
    /// assert(f.h_r.len() == 12 && f.h_r[0] == 0.5, "h = H/ha");
    /// let d = f.distribution(#{ smoothing: 1 });
    /// let k = argmax(d.rho);
    /// assert_close(d.h_c[k], 0.3, 1e-9, "switching at 300 mT");
    /// assert_close(d.h_u[k], 0.0, 1e-9, "no bias");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn read_forc(ctx: NativeCallContext, path: &str, opts: Map) -> RResult<SharedForc> {
        let f = "io::read_forc";
        crate::api::located(
            &ctx,
            (|| {
                let mut o = Opts::new(f, opts);
                let read = ReadOptions {
                    ha: o.float_opt("ha", f64::MIN, f64::MAX)?,
                    ms: o.float_opt("ms", f64::MIN, f64::MAX)?,
                    drift: o.bool("drift", true)?,
                    ms_per_ha: o.float_opt("ms_per_ha", f64::MIN, f64::MAX)?,
                };
                o.finish()?;
                let (data, format) =
                    crate::forc::read(std::path::Path::new(path), &read).map_err(error_in(f))?;
                Ok(Arc::new(ForcSet {
                    data,
                    source: Source::Measured {
                        path: path.to_string(),
                        format,
                    },
                }))
            })(),
        )
    }
}

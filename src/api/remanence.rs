//! Remanence curves and the ΔM (Henkel) plot in scripts: `solver::remanence`
//! (docs/physics.md §3.10).

use super::array::columns;
use super::grains::SharedStructure;
use super::opts::Opts;
use super::{RResult, error};
use crate::solver::{CurveCache, Remanence};
use rhai::plugin::*;
use rhai::{Array, Map};

#[export_module]
pub mod remanence_module {
    use super::*;

    /// The remanence curves with default settings: see `solver::remanence(s, opts)`.
    #[rhai_fn(name = "remanence", return_raw)]
    pub fn remanence_default(ctx: NativeCallContext, s: SharedStructure) -> RResult<Map> {
        remanence(ctx, s, Map::new())
    }

    /// Remanence curves and Kelly's ΔM plot, how magnetometry tells whether a magnet's
    /// grains are exchange-coupled: on the fields h = 0, h_step, …, h_start (default 0.05
    /// up to 1; h_start a multiple of h_step), what is left at h = 0 after the field
    /// - fell from positive saturation to −h (DC demagnetisation, `dcd`; `dcd[0]` is Mr);
    /// - rose to h from the demagnetised state (`irm`): every grain along its easy axis,
    ///   its way drawn from option `seed` (default 0), the mean of that state and its
    ///   mirror image so that IRM(0) = 0.
    ///
    /// Every return to 0 is a sweep at h_step, side by side on the cores; other options as
    /// `solver::demag_curve` (tol, material, terms…; the plain solver only). Returns a map
    /// of 1-D arrays `h`, `irm`, `dcd`, `m_r` = irm/Mr, `m_d` = dcd/Mr and `delta_m` =
    /// m_d − (1 − 2·m_r), zero for non-interacting particles (Wohlfarth 1958), positive where
    /// exchange makes grains switch together, negative where their stray fields oppose;
    /// and `mr`, `evaluations`, `non_converged`, `seconds`. `io::save_npz` writes it all.
    /// Each sweep back is kept in the curve cache, so after Ctrl-C the same call computes
    /// only what is missing.
    ///
    /// ```rhai
    /// // Grains that do not interact (no exchange, no demag) obey Wohlfarth's relation.
    /// let s = grains::voronoi(#{ n: 8, grains: 4, seed: 2 });
    /// let r = solver::remanence(s, #{ h_step: 0.1, h_start: 1.5, exchange: false,
    ///                                 demag: false, tol: 1e-8 });
    /// assert(r.delta_m.abs().max() < 1e-5, "m_d = 1 − 2·m_r");
    /// assert(r.m_r[0].abs() < 1e-9 && r.m_d[0] == 1.0, "from demagnetised and saturated");
    /// assert_close(r.m_r[15], 1.0, 1e-5, "saturated at h_start");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn remanence(ctx: NativeCallContext, s: SharedStructure, opts: Map) -> RResult<Map> {
        let f = "solver::remanence";
        crate::api::located(&ctx, compute(f, &s, opts).map(to_map))
    }

    /// A sample's remanence curves with default settings: see
    /// `solver::remanence(structures, opts)`.
    #[rhai_fn(name = "remanence", return_raw)]
    pub fn remanence_sample_default(ctx: NativeCallContext, structures: Array) -> RResult<Map> {
        remanence_sample(ctx, structures, Map::new())
    }

    /// A sample's remanence curves: the mean of the magnets' in `structures` (an array of
    /// Structures, one after another, each as `solver::remanence(s, opts)` with the same
    /// options), as a magnetometer measures the sum of their moments (each magnet counts
    /// once, as magnets of one size do). `m_r`, `m_d` and `delta_m` divide by the sample's
    /// Mr, so magnets weigh by their moments; `mr` is the sample's; `evaluations`, `non_converged` and `seconds` add up the magnets'. Each
    /// magnet's sweeps are kept in the curve cache, so after Ctrl-C the same call again
    /// computes only what is missing.
    ///
    /// ```rhai
    /// // Two magnets of grains that do not interact: their sum obeys Wohlfarth too.
    /// let o = #{ h_step: 0.1, h_start: 1.5, exchange: false, demag: false, tol: 1e-8 };
    /// let a = grains::voronoi(#{ n: 8, grains: 4, seed: 2 });
    /// let b = grains::voronoi(#{ n: 8, grains: 4, seed: 5 });
    /// let both = solver::remanence([a, b], o);
    /// let ra = solver::remanence(a, o);
    /// let rb = solver::remanence(b, o);
    /// assert_close(both.mr, (ra.mr + rb.mr) / 2.0, 1e-12, "the mean remanence");
    /// assert_close(both.irm[5], (ra.irm[5] + rb.irm[5]) / 2.0, 1e-12, "the mean IRM");
    /// assert(both.evaluations == ra.evaluations + rb.evaluations, "the magnets' work");
    /// assert(both.delta_m.abs().max() < 1e-5, "m_d = 1 − 2·m_r");
    /// ```
    #[rhai_fn(name = "remanence", return_raw)]
    pub fn remanence_sample(ctx: NativeCallContext, structures: Array, opts: Map) -> RResult<Map> {
        let f = "solver::remanence";
        crate::api::located(
            &ctx,
            super::super::solver::per_magnet(f, &structures, |s| compute(f, s, opts.clone()))
                .and_then(|sets| Remanence::mean(sets).map(to_map).map_err(|e| error(f, e))),
        )
    }
}

/// One magnet's remanence curves as `solver::remanence` reads its options.
fn compute(f: &'static str, s: &SharedStructure, opts: Map) -> RResult<Remanence> {
    let mut opts = opts;
    if opts.contains_key("h_end") {
        return Err(error(
            f,
            "option `h_end` has no place here: the field runs from 0 or from saturation at \
             h_start to ±h and back to 0",
        ));
    }
    opts.entry("h_step".into()).or_insert(Dynamic::from(0.05));
    let mut own = Map::new();
    if let Some(v) = opts.remove("seed") {
        own.insert("seed".into(), v);
    }
    let mut o = Opts::new(f, own);
    let seed = o.seed("seed", 0)?;
    o.finish()?;
    let setup = super::solver::protocol_setup(f, opts, "remanence curves")?;
    let p = setup.problem(f, s)?;
    let start = crate::solver::demagnetised(p.psi(), s.grains(), seed).map_err(|e| error(f, e))?;
    let cache = crate::settings::curve_cache().map(CurveCache::at);
    let threads = crate::settings::threads();
    crate::solver::remanence(&p, &setup.set.sweep, &start, threads, cache.as_ref())
        .map_err(|e| super::solver::protocol_error(f, e, cache.as_ref()))
}

/// The curves as scripts get them: a map of 1-D arrays and the totals.
fn to_map(r: Remanence) -> Map {
    let mut out = columns([
        ("h", r.fields.clone()),
        ("irm", r.irm.clone()),
        ("dcd", r.dcd.clone()),
        ("m_r", r.m_r()),
        ("m_d", r.m_d()),
        ("delta_m", r.delta_m()),
    ]);
    out.insert("mr".into(), Dynamic::from_float(r.dcd[0]));
    out.insert(
        "evaluations".into(),
        Dynamic::from_int(r.evaluations() as i64),
    );
    out.insert(
        "non_converged".into(),
        Dynamic::from_int(r.non_converged() as i64),
    );
    out.insert("seconds".into(), Dynamic::from_float(r.seconds));
    out
}

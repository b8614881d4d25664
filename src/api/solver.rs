//! The `solver` module: demagnetisation curves, anchor points and relaxed states of grain
//! structures (docs/physics.md §3–4).

use super::grains::SharedStructure;
use super::opts::Opts;
use super::{RResult, error, error_in, fail};
use crate::array::NdArray;
use crate::plot::{FieldImage, Plot, Symbol, XyPlot};
use crate::solver::{
    Curve, Material, Method, OvfFormat, Precision, Problem, Relaxed, SweepOptions, Terms,
};
use rhai::plugin::*;
use rhai::{Array, Map};
use std::sync::Arc;

/// What a solver call needs besides the structure (shared with dataset labelling).
pub type Settings = crate::data::SolverSettings;

pub type SharedCurve = Arc<Curve>;
pub type SharedState = Arc<Relaxed>;

/// Options: tol, max_iter, tau_max, max_turn, h_start, h_end, h_step, method ("bb"|"lbfgs"),
/// precision ("f32"|"f64"), thickness_nm, material #{ A, Js | Ms, K1 }, and the term
/// switches exchange, anisotropy, demag, zeeman.
pub(crate) fn settings(func: &'static str, opts: Map) -> RResult<Settings> {
    let mut o = Opts::new(func, opts);
    let mut sweep = SweepOptions::default();
    // Types here; the limits are checked once, by `Settings::validate` (as for the CLI).
    sweep.min.tol = o.number("tol", sweep.min.tol)?;
    sweep.min.max_iter = o.int("max_iter", sweep.min.max_iter as i64, 0, i64::MAX)? as usize;
    sweep.min.tau_max = o.number("tau_max", sweep.min.tau_max)?;
    sweep.min.max_turn = o.number("max_turn", sweep.min.max_turn)?;
    sweep.h_start = o.number("h_start", sweep.h_start)?;
    sweep.h_end = o.number("h_end", sweep.h_end)?;
    sweep.h_step = o.number("h_step", sweep.h_step)?;
    sweep.min.method = match o.string_opt("method")?.as_deref() {
        None => sweep.min.method,
        Some("bb") => Method::BarzilaiBorwein,
        Some("lbfgs") => Method::Lbfgs,
        Some(other) => {
            return fail(
                func,
                format!(
                    "option `method` must be \"bb\" (Barzilai–Borwein, default) or \"lbfgs\", got \"{other}\""
                ),
            );
        }
    };
    sweep.min.precision = match o.choice("precision", &["f32", "f64"])? {
        "f64" => Precision::F64,
        _ => Precision::F32,
    };
    let thickness_nm = o.number("thickness_nm", 36_000.0)?;
    let defaults = Terms::default();
    let terms = Terms {
        exchange: o.bool("exchange", defaults.exchange)?,
        anisotropy: o.bool("anisotropy", defaults.anisotropy)?,
        zeeman: o.bool("zeeman", defaults.zeeman)?,
        demag: o.bool("demag", defaults.demag)?,
    };
    let material = match o.value("material") {
        None => Material::nd2fe14b(),
        Some(m) => {
            let m = m
                .read_lock::<Map>()
                .map(|m| m.clone())
                .ok_or_else(|| error(func, "material must be a map #{ A, Js, K1 }"))?;
            let d = Material::nd2fe14b();
            let mut mo = Opts::new(func, m);
            let a = mo.number("A", d.a)?;
            let k1 = mo.number("K1", d.k1)?;
            let js = mo.float_opt("Js", f64::MIN, f64::MAX)?;
            let ms = mo.float_opt("Ms", f64::MIN, f64::MAX)?;
            mo.finish()?;
            let ms = match (js, ms) {
                (Some(_), Some(_)) => {
                    return fail(func, "give the material's Js (T) or Ms (A/m), not both");
                }
                (Some(js), None) => js / (4e-7 * std::f64::consts::PI),
                (None, Some(ms)) => ms,
                (None, None) => d.ms,
            };
            Material { a, ms, k1 }
        }
    };
    o.finish()?;
    let set = Settings {
        sweep,
        material,
        terms,
        thickness_nm,
    };
    set.validate().map_err(error_in(func))?;
    Ok(set)
}

fn problem(func: &str, s: &SharedStructure, set: &Settings) -> RResult<Problem> {
    set.problem(s).map_err(error_in(func))
}

/// Anchors from a map like `curve.anchors()` (missing: `()` or absent).
pub fn anchors_from_map(func: &str, m: &Map) -> RResult<crate::solver::Anchors> {
    let get = |k: &str| -> RResult<Option<f64>> {
        match m.get(k).filter(|v| !v.is_unit()) {
            Some(v) => super::array::number(func, v).map(Some),
            None => Ok(None),
        }
    };
    Ok(crate::solver::Anchors {
        m1: get("M1")?,
        mr: get("Mr")?,
        hk90: get("Hk90")?,
        hk80: get("Hk80")?,
        hk70: get("Hk70")?,
        hc: get("Hc")?,
    })
}

/// The anchors map with `()` for a missing anchor and `unreliable`, the names of those
/// that depend on a non-converged step.
pub fn anchors_map(a: &crate::solver::Anchors, unreliable: [bool; 6]) -> Map {
    let mut m: Map = a
        .named()
        .iter()
        .map(|(k, v)| ((*k).into(), v.map_or(Dynamic::UNIT, Dynamic::from_float)))
        .collect();
    let flagged = a.named().into_iter().zip(unreliable).filter(|(_, u)| *u);
    let names = flagged.map(|((k, _), _)| Dynamic::from(k));
    m.insert("unreliable".into(), Dynamic::from_array(names.collect()));
    m
}

fn column<T>(c: &Curve, f: impl Fn(&crate::solver::CurvePoint) -> T) -> Vec<T> {
    c.points.iter().map(f).collect()
}

fn write_curve_csv(c: &Curve, path: &str) -> Result<(), String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| format!("{path}: {e}");
    w.write_record(["k", "h", "my", "mx", "iterations", "torque", "converged"])
        .map_err(io)?;
    for (k, p) in c.points.iter().enumerate() {
        w.write_record([
            k.to_string(),
            p.h.to_string(),
            p.my.to_string(),
            p.mx.to_string(),
            p.iterations.to_string(),
            p.torque.to_string(),
            (p.converged as u8).to_string(),
        ])
        .map_err(io)?;
    }
    let bytes = w.into_inner().map_err(|e| format!("{path}: {e}"))?;
    crate::fsio::write(path, bytes).map_err(|e| format!("{path}: {e}"))
}

/// The curve drawn over h (x axis from −1 to +1) with its anchors marked.
fn curve_plot(c: &Curve, title: &str) -> XyPlot {
    anchors_plot(title, Some(c), &c.anchors(), false)
}

/// A demagnetisation-curve panel: the computed curve (if any), anchors `a` marked and,
/// with `through`, a line drawn through them (predicted anchors, Figures 6–8).
pub fn anchors_plot(
    title: &str,
    c: Option<&Curve>,
    a: &crate::solver::Anchors,
    through: bool,
) -> XyPlot {
    let mut p = XyPlot::new()
        .title(title)
        .labels("h = H / HA", "M / Ms")
        .x_range(-1.0, 1.0)
        .y_range(-1.05, 1.05);
    if let Some(c) = c {
        p = p.line("computed", &c.fields(), &c.my());
    }
    let points = a.points();
    if through && points.len() > 1 {
        let (x, y): (Vec<f64>, Vec<f64>) = points.iter().map(|(_, x, y)| (*x, *y)).unzip();
        p = p.line("anchors", &x, &y);
    }
    for (label, x, y) in points {
        p = p.mark(label, x, y, Symbol::Diamond);
    }
    p
}

#[export_module]
pub mod solver_module {
    use super::*;

    /// The demagnetisation curve of a structure with default settings (Nd2Fe14B, 2 × 2 ×
    /// 36 000 nm³ cells, all four terms, h = +1 → −1 in steps of 0.01 HA, torque < 1e-4 HA).
    #[rhai_fn(name = "demag_curve", return_raw)]
    pub fn demag_curve_default(ctx: NativeCallContext, s: SharedStructure) -> RResult<SharedCurve> {
        demag_curve(ctx, s, Map::new())
    }

    /// The demagnetisation curve with options `#{ tol: 1e-4, max_iter, h_start: 1.0,
    /// h_end: -1.0, h_step: 0.01, method: "bb" | "lbfgs", tau_max: 100.0 (longest BB
    /// step, 1/HA), max_turn: 0.3 (largest turn of a cell per iteration, rad),
    /// precision: "f32" | "f64",
    /// thickness_nm: 36000.0, material: #{ A: 8e-12, Js: 1.61, K1: 4.2e6 }, exchange,
    /// anisotropy, demag, zeeman (true/false) }`. Fields in units of HA = 2K1/(μ0Ms).
    #[rhai_fn(name = "demag_curve", return_raw)]
    pub fn demag_curve(
        ctx: NativeCallContext,
        s: SharedStructure,
        opts: Map,
    ) -> RResult<SharedCurve> {
        let f = "solver::demag_curve";
        crate::api::located(
            &ctx,
            (|| {
                let set = settings(f, opts)?;
                let p = problem(f, &s, &set)?;
                crate::solver::sweep(&p, &set.sweep)
                    .map(Arc::new)
                    .map_err(error_in(f))
            })(),
        )
    }

    /// Curves of many structures on all cores (one per structure, in order), with a
    /// progress bar; options as `solver::demag_curve`.
    #[rhai_fn(return_raw)]
    pub fn demag_curves(ctx: NativeCallContext, structures: Array, opts: Map) -> RResult<Array> {
        let f = "solver::demag_curves";
        crate::api::located(
            &ctx,
            (|| {
                let set = settings(f, opts)?;
                let problems = structures
                    .iter()
                    .map(|v| {
                        let s = v
                            .read_lock::<SharedStructure>()
                            .map(|s| s.clone())
                            .ok_or_else(|| {
                                error(
                                    f,
                                    format!(
                                        "expected an array of Structures, found {}",
                                        crate::docs::script_types(v.type_name())
                                    ),
                                )
                            })?;
                        problem(f, &s, &set)
                    })
                    .collect::<RResult<Vec<_>>>()?;
                let curves =
                    crate::solver::sweep_many(&problems, &set.sweep, crate::settings::threads())
                        .map_err(error_in(f))?;
                curves
                    .into_iter()
                    .map(|c| c.map(|c| Dynamic::from(Arc::new(c))).map_err(error_in(f)))
                    .collect()
            })(),
        )
    }

    /// Relaxes a structure at field `h` (units of HA, along +y) from m ∥ +y; options as
    /// `solver::demag_curve` (tol, max_iter, material, terms…).
    #[rhai_fn(return_raw)]
    pub fn relax(
        ctx: NativeCallContext,
        s: SharedStructure,
        h: f64,
        opts: Map,
    ) -> RResult<SharedState> {
        let f = "solver::relax";
        crate::api::located(
            &ctx,
            (|| {
                let set = settings(f, opts)?;
                let p = problem(f, &s, &set)?;
                crate::solver::relax(&p, [0.0, h], None, &set.sweep.min)
                    .map(Arc::new)
                    .map_err(error_in(f))
            })(),
        )
    }

    /// Applied fields h (units of HA), in sweep order.
    #[rhai_fn(global, get = "h", pure)]
    pub fn curve_h(c: &mut SharedCurve) -> NdArray {
        NdArray::from_vec(c.fields())
    }

    /// Mean M/Ms along y at each field.
    #[rhai_fn(global, get = "m", pure)]
    pub fn curve_m(c: &mut SharedCurve) -> NdArray {
        NdArray::from_vec(c.my())
    }

    /// Mean M/Ms along x at each field.
    #[rhai_fn(global, get = "mx", pure)]
    pub fn curve_mx(c: &mut SharedCurve) -> NdArray {
        NdArray::from_vec(column(c, |p| p.mx))
    }

    /// Energy+gradient evaluations of each field step.
    #[rhai_fn(global, get = "iterations", pure)]
    pub fn curve_iterations(c: &mut SharedCurve) -> NdArray {
        NdArray::from_vec(column(c, |p| p.iterations as f64))
    }

    /// Final largest torque |m × h_eff| (units of HA) of each field step.
    #[rhai_fn(global, get = "torque", pure)]
    pub fn curve_torque(c: &mut SharedCurve) -> NdArray {
        NdArray::from_vec(column(c, |p| p.torque))
    }

    /// Whether each field step converged (array of booleans).
    #[rhai_fn(global, get = "converged", pure)]
    pub fn curve_converged(c: &mut SharedCurve) -> Array {
        column(c, |p| Dynamic::from_bool(p.converged))
    }

    /// Field steps that did not reach the torque tolerance.
    #[rhai_fn(global, get = "non_converged", pure)]
    pub fn curve_non_converged(c: &mut SharedCurve) -> i64 {
        c.non_converged() as i64
    }

    /// Total energy+gradient evaluations of the sweep.
    #[rhai_fn(global, get = "evaluations", pure)]
    pub fn curve_evaluations(c: &mut SharedCurve) -> i64 {
        c.evaluations() as i64
    }

    /// Wall-clock seconds of the sweep.
    #[rhai_fn(global, get = "seconds", pure)]
    pub fn curve_seconds(c: &mut SharedCurve) -> f64 {
        c.seconds
    }

    /// The six anchor points `#{ M1, Mr, Hk90, Hk80, Hk70, Hc, unreliable }` (docs/physics.md
    /// §4: M in Ms, fields as positive magnitudes in HA, linear interpolation; `()` when not
    /// reached or not crossed from above). `unreliable` names the anchors that depend on a
    /// field step that did not converge. Descending sweeps only.
    #[rhai_fn(global, pure, return_raw)]
    pub fn anchors(ctx: NativeCallContext, c: &mut SharedCurve) -> RResult<Map> {
        if !c.descending() {
            let h = c.fields();
            return crate::api::located(
                &ctx,
                fail(
                    "Curve.anchors",
                    format!(
                        "anchors are defined on descending sweeps (h_start > h_end); this curve \
                         runs from {} to {}",
                        h.first().copied().unwrap_or(f64::NAN),
                        h.last().copied().unwrap_or(f64::NAN)
                    ),
                ),
            );
        }
        Ok(anchors_map(&c.anchors(), c.unreliable_anchors()))
    }

    /// Writes CSV columns k, h, my, mx, iterations, torque, converged.
    #[rhai_fn(global, name = "to_csv", return_raw, pure)]
    pub fn curve_to_csv(c: &mut SharedCurve, path: &str) -> RResult<()> {
        write_curve_csv(c, path).map_err(error_in("Curve.to_csv"))
    }

    /// Plots M(h) with the anchor points marked (PNG or SVG by extension).
    #[rhai_fn(global, name = "plot", return_raw, pure)]
    pub fn curve_plot_file(c: &mut SharedCurve, path: &str) -> RResult<()> {
        curve_plot(c, "Demagnetisation curve")
            .save(path)
            .map_err(error_in("Curve.plot"))
    }

    /// One-line description.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn curve_to_string(c: &mut SharedCurve) -> String {
        format!(
            "Curve({} fields, {} evaluations, {} not converged)",
            c.points.len(),
            c.evaluations(),
            c.non_converged()
        )
    }

    /// The relaxed magnetisation as an array [3, ny, nx] of (m_x, m_y, m_z).
    #[rhai_fn(global, get = "m", pure)]
    pub fn state_m(st: &mut SharedState) -> NdArray {
        let (nx, ny) = (st.mesh.nx, st.mesh.ny);
        let m = st.m();
        let a = ndarray::Array3::from_shape_fn((3, ny, nx), |(k, j, i)| m[j * nx + i][k]);
        NdArray::new(a.into_dyn())
    }

    /// Mean M/Ms along y.
    #[rhai_fn(global, get = "my", pure)]
    pub fn state_my(st: &mut SharedState) -> f64 {
        st.mean_m()[1]
    }

    /// Energy densities per term and total in J/m³: `#{ exchange, anisotropy, zeeman,
    /// demag, total }`.
    #[rhai_fn(global, get = "energy", pure)]
    pub fn state_energy(st: &mut SharedState) -> Map {
        let e = &st.energies;
        [
            ("exchange", e.exchange),
            ("anisotropy", e.anisotropy),
            ("zeeman", e.zeeman),
            ("demag", e.demag),
            ("total", e.total),
        ]
        .into_iter()
        .map(|(k, v)| (k.into(), Dynamic::from_float(v)))
        .collect()
    }

    /// Whether the relaxation reached the torque tolerance.
    #[rhai_fn(global, get = "converged", pure)]
    pub fn state_converged(st: &mut SharedState) -> bool {
        st.stats.converged
    }

    /// Writes OVF 2.0 (binary 4), readable by mumax3, OOMMF and Ubermag tools.
    #[rhai_fn(global, name = "to_ovf", return_raw, pure)]
    pub fn state_to_ovf(st: &mut SharedState, path: &str) -> RResult<()> {
        st.write_ovf(path, OvfFormat::Binary4)
            .map_err(error_in("State.to_ovf"))
    }

    /// Writes a PNG of m_y (red −1 … blue +1) with a colorbar.
    #[rhai_fn(global, name = "to_png", return_raw, pure)]
    pub fn state_to_png(st: &mut SharedState, path: &str) -> RResult<()> {
        let (nx, ny) = (st.mesh.nx, st.mesh.ny);
        let my = ndarray::Array2::from_shape_fn((ny, nx), |(j, i)| st.phi[j * nx + i].cos());
        FieldImage::new(my.view())
            .title(format!("m_y at h = {}", crate::array::fmt_g(st.h[1])))
            .colorbar_label("m_y")
            .save_sized(path, (640, 560))
            .map_err(error_in("State.to_png"))
    }

    /// One-line description.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn state_to_string(st: &mut SharedState) -> String {
        format!(
            "State(h = {}, <m_y> = {}, converged: {})",
            crate::array::fmt_g(st.h[1]),
            crate::array::fmt_g(st.mean_m()[1]),
            st.stats.converged
        )
    }
}

pub fn module() -> Module {
    let mut m = exported_module!(solver_module);
    m.set_custom_type::<SharedCurve>("Curve");
    m.set_custom_type::<SharedState>("State");
    m
}

//! The `solver` module: demagnetisation curves, anchor points and relaxed states of grain
//! structures (docs/physics.md §3–4).

use super::grains::SharedStructure;
use super::opts::Opts;
use super::{RResult, error, error_in, fail};
use crate::array::NdArray;
use crate::plot::{FieldImage, Plot};
use crate::settings::Device;
use crate::solver::tensor::{Backend, TensorOptions};
use crate::solver::{
    Curve, CurveCache, Method, OvfFormat, Precision, Problem, Relaxed, Snapshots, SolverSettings,
    SweepOptions, Terms,
};
use rhai::plugin::*;
use rhai::{Array, Map};
use std::sync::Arc;

pub type SharedCurve = Arc<Curve>;
pub type SharedState = Arc<Relaxed>;

/// Options: tol, max_iter, tau_max, max_turn, memory, keep_memory (L-BFGS), predict_max,
/// carry_step, h_start, h_end, h_step, method ("bb"|"lbfgs"),
/// precision ("f32"|"f64"), thickness_nm, material #{ A, Js | Ms, K1 } (each a number, one
/// per grain, or an NdArray [ny, nx]: `api::materials`), boundary #{ width_nm, A, Js | Ms,
/// K1 } (a grain-boundary phase), the term switches exchange, anisotropy, demag, zeeman, and
/// the backend: backend ("plain"|"tensor"), device ("cpu"|"cuda"), batch.
pub(crate) fn setup(func: &'static str, opts: Map) -> RResult<Setup> {
    let mut o = Opts::new(func, opts);
    let mut sweep = SweepOptions::default();
    // Types here; the limits are checked once, by `SolverSettings::validate` (as for the CLI).
    sweep.min.tol = o.number("tol", sweep.min.tol)?;
    sweep.min.max_iter = o.int("max_iter", sweep.min.max_iter as i64, 0, i64::MAX)? as usize;
    sweep.min.tau_max = o.number("tau_max", sweep.min.tau_max)?;
    sweep.min.max_turn = o.number("max_turn", sweep.min.max_turn)?;
    sweep.min.memory = o.int("memory", sweep.min.memory as i64, 1, 64)? as usize;
    sweep.min.keep_memory = o.bool("keep_memory", sweep.min.keep_memory)?;
    sweep.predict_max = o.number("predict_max", sweep.predict_max)?;
    sweep.carry_step = o.bool("carry_step", sweep.carry_step)?;
    sweep.h_start = o.number("h_start", sweep.h_start)?;
    sweep.h_end = o.number("h_end", sweep.h_end)?;
    sweep.h_step = o.number("h_step", sweep.h_step)?;
    if let Some(name) = o.choice_opt("method", &Method::NAMES)? {
        sweep.min.method = Method::from_name(name).expect("one of its names");
    }
    sweep.min.precision = match o.choice("precision", &["f32", "f64"])? {
        "f64" => Precision::F64,
        _ => Precision::F32,
    };
    let thickness_nm = o.number("thickness_nm", SolverSettings::default().thickness_nm)?;
    let defaults = Terms::default();
    let terms = Terms {
        exchange: o.bool("exchange", defaults.exchange)?,
        anisotropy: o.bool("anisotropy", defaults.anisotropy)?,
        zeeman: o.bool("zeeman", defaults.zeeman)?,
        demag: o.bool("demag", defaults.demag)?,
    };
    let grains = super::materials::grains(func, o.value("material"))?;
    let boundary = super::materials::boundary(func, o.value("boundary"))?;
    let backend = backend(func, &mut o)?;
    o.finish()?;
    let set = SolverSettings {
        sweep,
        material: grains.reference,
        terms,
        thickness_nm,
        boundary,
        backend,
    };
    set.validate().map_err(error_in(func))?;
    Ok(Setup { set, grains })
}

/// The options `backend` ("plain" | "tensor"), `device` ("cpu" | "cuda": tensors there)
/// and `batch` (structures in flight on tensors); without them, `--device` decides
/// (cuda: tensors on the GPU, cpu: the plain solver).
fn backend(func: &'static str, o: &mut Opts) -> RResult<Backend> {
    let name = o.string_opt("backend")?;
    let device = o.string_opt("device")?;
    let batch = o.int_opt("batch", 1, 1 << 16)?;
    let device = device
        .map(|d| Device::parse(&d).map_err(|e| error(func, format!("option `device`: {e}"))))
        .transpose()?;
    let tensor = |device: Option<Device>| {
        let mut t = TensorOptions::on(device.unwrap_or_else(crate::settings::device));
        if let Some(b) = batch {
            t.batch = b as usize;
        }
        Backend::Tensor(t)
    };
    match name.as_deref() {
        None if device.is_none() && batch.is_none() => {
            Ok(Backend::for_device(crate::settings::device()))
        }
        None | Some("tensor") => Ok(tensor(device)),
        Some("plain") if device.is_none() && batch.is_none() => Ok(Backend::Plain),
        Some("plain") => fail(
            func,
            "options `device` and `batch` belong to backend \"tensor\" (the plain solver runs on the CPU cores)",
        ),
        Some(other) => fail(
            func,
            format!(
                "option `backend` must be one of {:?}, got \"{other}\"",
                Backend::NAMES
            ),
        ),
    }
}

/// Settings that apply to any structure (a dataset's): per-grain or per-cell constants are
/// refused.
pub(crate) fn settings(func: &'static str, opts: Map) -> RResult<SolverSettings> {
    let s = setup(func, opts)?;
    if !s.grains.is_uniform() {
        return fail(
            func,
            "material constants per grain or per cell belong to one structure: give them to \
             solver::demag_curve or solver::relax (a dataset takes numbers and `boundary`)",
        );
    }
    Ok(s.set)
}

/// The settings of a protocol of many sweeps, each from a state another one reached
/// (reversal curves, remanence curves): `func`'s options as `demag_curve`'s, without
/// snapshots, on the plain solver.
pub(crate) fn protocol_setup(func: &'static str, opts: Map, what: &str) -> RResult<Setup> {
    if opts.contains_key("snapshots") {
        return fail(func, "option `snapshots` belongs to solver::demag_curve");
    }
    let setup = setup(func, opts)?;
    if let crate::solver::tensor::Backend::Tensor(_) = setup.set.backend {
        return fail(
            func,
            format!(
                "{what} need the plain solver (backend: \"plain\"): the tensor backend starts \
                 every curve saturated"
            ),
        );
    }
    Ok(setup)
}

/// `func`'s error for a protocol that stopped: after an interrupt, where the finished
/// sweeps are kept for the same call to take up.
pub(crate) fn protocol_error(
    func: &str,
    e: crate::solver::SolverError,
    cache: Option<&crate::solver::CurveCache>,
) -> Box<rhai::EvalAltResult> {
    match (&e, cache) {
        (crate::solver::SolverError::Interrupted(_), Some(c)) => error(
            func,
            format!(
                "{e}; the finished curves are kept in {}: the same call again computes only \
                 the rest",
                c.dir().display()
            ),
        ),
        _ => error(func, e),
    }
}

/// A sample's protocol: `each` on every magnet of `structures` in turn, after checking that
/// the array is not empty and that every element is a Structure (before any is computed).
pub(crate) fn per_magnet<T>(
    func: &str,
    structures: &Array,
    each: impl Fn(&SharedStructure) -> RResult<T>,
) -> RResult<Vec<T>> {
    if structures.is_empty() {
        return fail(
            func,
            "expected a Structure or a non-empty array of Structures",
        );
    }
    let magnets: Vec<SharedStructure> =
        super::convert::items(func, "structures", "a Structure", structures)?;
    magnets.iter().map(each).collect()
}

/// The solver settings and the grains' material as a script gave them.
pub(crate) struct Setup {
    pub set: SolverSettings,
    pub grains: super::materials::Grains,
}

impl Setup {
    /// The problem of structure `s`: its cells' materials, then the boundary phase.
    pub(crate) fn problem(&self, func: &str, s: &SharedStructure) -> RResult<Problem> {
        let cells = self.grains.cells(func, s)?;
        s.problem_with(&self.set, cells).map_err(error_in(func))
    }
}

/// The `snapshots` option: an array of fields or "anchors".
fn snapshots(func: &str, v: Option<Dynamic>) -> RResult<Snapshots> {
    let Some(v) = v else {
        return Ok(Snapshots::None);
    };
    if v.clone().into_string().is_ok_and(|s| s == "anchors") {
        return Ok(Snapshots::Anchors);
    }
    let expected = "option `snapshots` must be \"anchors\" or an array of fields (units of HA)";
    let list = v.try_cast::<Array>().ok_or_else(|| error(func, expected))?;
    list.iter()
        .map(|x| crate::api::array::number(func, x).map_err(|_| error(func, expected)))
        .collect::<RResult<Vec<f64>>>()
        .map(Snapshots::Fields)
}

/// Anchors from a map like `curve.anchors()` (missing: `()` or absent).
pub fn anchors_from_map(func: &str, m: &Map) -> RResult<crate::solver::Anchors> {
    let get = |k: &str| -> RResult<Option<f64>> {
        match m.get(k).filter(|v| !v.is_unit()) {
            Some(v) => super::array::number(func, v).map(Some),
            None => Ok(None),
        }
    };
    let mut values = [None; 6];
    for (v, name) in values.iter_mut().zip(crate::solver::ANCHOR_NAMES) {
        *v = get(name)?;
    }
    Ok(crate::solver::Anchors::from_values(values))
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

/// The anchor columns of a table with one row per curve or record (`ds.anchors_table()`,
/// `solver::anchors_table(curves)`): `M1` … `Hc`, NaN where missing, and `M1_unreliable` …
/// `Hc_unreliable`, 1 where the anchor depends on a non-converged step. `rows` holds each
/// row's anchors and unreliable flags.
pub fn insert_anchor_columns(m: &mut Map, rows: &[([Option<f64>; 6], [bool; 6])]) {
    let column = |f: &dyn Fn(&([Option<f64>; 6], [bool; 6])) -> f64| {
        Dynamic::from(NdArray::from_vec(rows.iter().map(f).collect()))
    };
    for (k, name) in crate::solver::ANCHOR_NAMES.iter().enumerate() {
        m.insert((*name).into(), column(&|r| r.0[k].unwrap_or(f64::NAN)));
        m.insert(
            format!("{name}_unreliable").into(),
            column(&|r| f64::from(u8::from(r.1[k]))),
        );
    }
}

/// The figure of a curve (`c.plot(path)`, and a Curve shown in a notebook): M(h) with the
/// anchors marked.
pub fn curve_figure(c: &Curve) -> crate::plot::XyPlot {
    crate::plot::anchors_plot("Demagnetisation curve", Some(c), &c.anchors(), false)
}

/// Pixel size of [`state_figure`].
pub const STATE_FIGURE_SIZE: (u32, u32) = (640, 560);

/// The figure of a relaxed state (`st.to_png(path)`, and a State shown in a notebook): m_y
/// (red −1 … blue +1) with a colorbar.
pub fn state_figure(st: &Relaxed) -> FieldImage {
    let (nx, ny) = (st.mesh().nx, st.mesh().ny);
    let my = ndarray::Array2::from_shape_fn((ny, nx), |(j, i)| st.phi[j * nx + i].cos());
    FieldImage::new(my.view())
        .title(format!("m_y at h = {}", crate::array::fmt_g(st.h[1])))
        .colorbar_label("m_y")
}

/// A vector per cell of `st`'s grid (`v(c)`, c = j·nx + i) as an array [3, ny, nx].
fn vector_cells(st: &Relaxed, v: impl Fn(usize) -> [f64; 3]) -> NdArray {
    let (nx, ny) = (st.mesh().nx, st.mesh().ny);
    let a = ndarray::Array3::from_shape_fn((3, ny, nx), |(k, j, i)| v(j * nx + i)[k]);
    NdArray::new(a.into_dyn())
}

/// The local fields of `st`, for `f`.
fn local(st: &Relaxed, f: &str) -> RResult<crate::solver::LocalFields> {
    st.local_fields().map_err(error_in(f))
}

/// One value per cell of `st`'s grid as an array [ny, nx].
fn scalar_cells(st: &Relaxed, v: &[f64]) -> NdArray {
    let (nx, ny) = (st.mesh().nx, st.mesh().ny);
    NdArray::new(ndarray::Array2::from_shape_fn((ny, nx), |(j, i)| v[j * nx + i]).into_dyn())
}

fn column<T>(c: &Curve, f: impl Fn(&crate::solver::CurvePoint) -> T) -> Vec<T> {
    c.points.iter().map(f).collect()
}

/// The kept states of `c`, refused when it kept none.
fn kept_states<'c>(f: &str, c: &'c Curve) -> RResult<&'c [crate::solver::Snapshot]> {
    if c.snapshots.is_empty() {
        return fail(
            f,
            "this curve kept no states (give solver::demag_curve the `snapshots` option)",
        );
    }
    Ok(&c.snapshots)
}

/// Makes `dir` for the kept states' files (once everything else is checked).
fn snapshots_dir(f: &str, dir: &str) -> RResult<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| error(f, format!("cannot create the directory {dir}: {e}")))
}

/// The file in `dir` of kept state `k` labelled `label`, with extension `ext`
/// (`m003_Hk80.ovf`; other characters of a label become `_`).
fn snapshot_path(dir: &str, k: usize, label: &str, ext: &str) -> std::path::PathBuf {
    let name: String = label
        .chars()
        .map(|ch| {
            if ch.is_ascii_alphanumeric() || ch == '.' || ch == '-' {
                ch
            } else {
                '_'
            }
        })
        .collect();
    std::path::Path::new(dir).join(format!("m{k:03}_{name}.{ext}"))
}

/// The cell arrays of the `structure` option (its grains and easy axes) for a VTK file of
/// a state on `mesh`; none without it. Refuses another option and a structure of another
/// grid.
fn vtk_structure(
    f: &'static str,
    mesh: &crate::solver::Mesh,
    opts: Map,
) -> RResult<Vec<crate::fsio::vtk::CellArray<'static>>> {
    let mut o = Opts::new(f, opts);
    let v = o.value("structure");
    o.finish()?;
    let Some(v) = v else {
        return Ok(vec![]);
    };
    let ty = crate::docs::type_of(&v);
    let Some(s) = v.try_cast::<SharedStructure>() else {
        return fail(
            f,
            format!("option `structure` must be a Structure, got {ty}"),
        );
    };
    let (dx, dy) = (mesh.dx * 1e9, mesh.dy * 1e9);
    let same_cell = |d: f64| (d - s.cell_nm()).abs() <= 1e-9 * s.cell_nm();
    if (s.nx(), s.ny()) != (mesh.nx, mesh.ny) || !same_cell(dx) || !same_cell(dy) {
        return fail(
            f,
            format!(
                "the structure is {} × {} cells of {} nm, the state {} × {} of {} × {} nm: \
                 give the structure the state was computed on",
                s.nx(),
                s.ny(),
                s.cell_nm(),
                mesh.nx,
                mesh.ny,
                crate::array::fmt_g(dx),
                crate::array::fmt_g(dy)
            ),
        );
    }
    Ok(s.vtk_cells())
}

#[export_module]
pub mod solver_module {
    use super::*;

    /// The anchors' names in the order of tables, files and network outputs:
    /// `["M1", "Mr", "Hk90", "Hk80", "Hk70", "Hc"]`.
    ///
    /// A missing anchor (one the curve never reached) is `()` in maps (`curve.anchors()`,
    /// a record's `anchors`, predictions, option maps) and NaN in arrays and tables
    /// (`ds.anchors_table()`, `solver::anchors_table(curves)`, `anchors.npy`, regressor
    /// targets as arrays): the `nan*`
    /// reductions skip it and `isnan` finds it. Plots (`plot::lines`, `plot::parity`)
    /// leave a gap at NaN, as matplotlib does, and refuse `()` naming the series and index.
    ///
    /// ```rhai
    /// assert(solver::anchor_names() == ["M1", "Mr", "Hk90", "Hk80", "Hk70", "Hc"], "order");
    /// ```
    pub fn anchor_names() -> rhai::Array {
        crate::solver::ANCHOR_NAMES
            .iter()
            .map(|n| Dynamic::from(n.to_string()))
            .collect()
    }

    /// The largest |Δ| per anchor that a faster descent may leave against the slow,
    /// short-step path (Ms for M1 and Mr, HA for the fields), as `coercive bench solver
    /// --reference` judges it.
    ///
    /// ```rhai
    /// let l = solver::path_limits();
    /// assert(l.Mr == 1e-3 && l.Hk90 == 2e-3 && l.Hc == 0.01, "limits");
    /// ```
    pub fn path_limits() -> Map {
        crate::solver::Anchor::ALL
            .into_iter()
            .map(|a| (a.name().into(), Dynamic::from_float(a.path_limits().0)))
            .collect()
    }

    /// Where finished curves are kept (`--cache DIR`, $COERCIVE_CACHE, else the user's cache
    /// folder), or `()` with `--no-cache`. A script that times the solver, or checks that
    /// it repeats itself, must see every curve computed: it asks this first.
    ///
    /// ```rhai
    /// let dir = solver::curve_cache();
    /// assert(dir == () || type_of(dir) == "string", "a folder, or none");
    /// ```
    pub fn curve_cache() -> Dynamic {
        crate::settings::curve_cache().map_or(Dynamic::UNIT, |d| d.display().to_string().into())
    }

    /// The options of the slow, safe short-step descent every faster one is judged against
    /// (`SweepOptions::short_step`: steps ≤ 1/HA, no turn cap, no secant start or carried
    /// step), to merge into a curve's options.
    ///
    /// ```rhai
    /// let o = solver::short_step();
    /// assert(o.tau_max == 1.0 && o.predict_max == 0.0 && !o.carry_step, "short steps");
    /// ```
    pub fn short_step() -> Map {
        let s = SweepOptions::default().short_step();
        let mut m = Map::new();
        m.insert("method".into(), s.min.method.name().into());
        m.insert("tau_max".into(), Dynamic::from_float(s.min.tau_max));
        m.insert("max_turn".into(), Dynamic::from_float(s.min.max_turn));
        m.insert("predict_max".into(), Dynamic::from_float(s.predict_max));
        m.insert("carry_step".into(), s.carry_step.into());
        m
    }

    /// The solver settings that options `opts` give a dataset's curves (`#{}`: the
    /// defaults), in the form a labelled dataset's manifest records them
    /// (`ds.manifest().solver`): a script compares the two before it computes curves that
    /// must match the dataset's labels.
    ///
    /// ```rhai
    /// let d = solver::settings(#{});
    /// assert(d.sweep.h_step == 0.01 && d.material.A == 8e-12, `${d}`);
    /// let s = solver::settings(#{ max_turn: 0.3, carry_step: false });
    /// assert(s.sweep.min.max_turn == 0.3 && !s.sweep.carry_step, `${s}`);
    /// assert(`${s}` != `${d}`, "other settings compare unequal");
    /// ```
    #[rhai_fn(name = "settings", return_raw)]
    pub fn settings_of(ctx: NativeCallContext, opts: Map) -> RResult<Dynamic> {
        let set = super::settings("solver::settings", opts);
        crate::api::located(&ctx, set.and_then(rhai::serde::to_dynamic))
    }

    /// The anchors of curves as a table, one row per curve, in the form of
    /// `ds.anchors_table()`: `M1` … `Hc` (NaN where missing), `M1_unreliable` …
    /// `Hc_unreliable` and `non_converged`.
    ///
    /// ```rhai
    /// let sample = grains::sample(2, #{ n: 4, grains: 1, seed: 1 });
    /// let curves = solver::demag_curves(sample, #{ h_step: 0.5, h_end: 0.0, demag: false });
    /// let t = solver::anchors_table(curves);
    /// assert(t.M1.len() == 2 && all(isnan(t.Hc)), "Hc is missing: the sweep stops at 0");
    /// assert(curves[0].anchors().Hc == (), "and () in the curve's map");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn anchors_table(ctx: NativeCallContext, curves: Array) -> RResult<Map> {
        let f = "solver::anchors_table";
        crate::api::located(
            &ctx,
            (|| {
                let curves =
                    crate::api::convert::items::<SharedCurve>(f, "curves", "a Curve", &curves)?;
                let mut rows = Vec::with_capacity(curves.len());
                let mut non_converged = Vec::with_capacity(curves.len());
                for (k, c) in curves.iter().enumerate() {
                    if !c.descending() {
                        return fail(
                            f,
                            format!(
                                "curves[{k}] is not a descending sweep: anchors are defined \
                                 only on those"
                            ),
                        );
                    }
                    rows.push((c.anchors().values(), c.unreliable_anchors()));
                    non_converged.push(c.non_converged() as f64);
                }
                let mut m = Map::new();
                insert_anchor_columns(&mut m, &rows);
                m.insert(
                    "non_converged".into(),
                    Dynamic::from(NdArray::from_vec(non_converged)),
                );
                Ok(m)
            })(),
        )
    }

    /// The unit of an anchor: `"Ms"` for M1 and Mr, `"HA"` for the fields; `()` for a name
    /// that is not an anchor.
    ///
    /// ```rhai
    /// assert(solver::anchor_unit("Hc") == "HA" && solver::anchor_unit("Mr") == "Ms", "units");
    /// assert(type_of(solver::anchor_unit("cos2_mean")) == "()", "not an anchor");
    /// ```
    pub fn anchor_unit(name: &str) -> Dynamic {
        crate::solver::Anchor::from_name(name).map_or(Dynamic::UNIT, |a| a.unit().into())
    }

    /// The demagnetisation curve of a structure with default settings (Nd2Fe14B, 2 × 2 ×
    /// 36 000 nm³ cells, all four terms, h = +1 → −1 in steps of 0.01 HA, torque < 1e-4 HA).
    #[rhai_fn(name = "demag_curve", return_raw)]
    pub fn demag_curve_default(ctx: NativeCallContext, s: SharedStructure) -> RResult<SharedCurve> {
        demag_curve(ctx, s, Map::new())
    }

    /// The demagnetisation curve with options `#{ tol: 1e-4, max_iter, h_start: 1.0,
    /// h_end: -1.0, h_step: 0.01, method: "bb" | "lbfgs", tau_max: 100.0 (longest BB
    /// step, 1/HA), max_turn: 0.5 (largest turn of a cell per iteration, rad), memory: 5
    /// and keep_memory: false (L-BFGS pairs, and whether they carry to the next field),
    /// predict_max: 0.05 (secant predictor where the last step turned no cell more than
    /// this, rad; 0 = off), carry_step: true (start each field with the last BB step),
    /// precision: "f32" | "f64",
    /// thickness_nm: 36000.0, material: #{ A: 8e-12, Js: 1.61, K1: 4.2e6 }, exchange,
    /// anisotropy, demag, zeeman (true/false), snapshots: [h, …] | "anchors", backend:
    /// "plain" | "tensor", device: "cpu" | "cuda", batch: 64 }`. The tensor backend (the
    /// default with `--device cuda`; `device` or `backend: "tensor"` choose it) runs the
    /// same descent batched on libtorch tensors, `batch` structures at once, in f32 (or f64
    /// with `precision: "f64"`); it keeps no snapshots and knows only `method: "bb"`. Fields in
    /// units of HA = 2K1/(μ0Ms). `snapshots` keeps the states at the steps nearest the given
    /// fields, or at M1, Mr and the first steps past Hk90, Hk80, Hk70 and Hc
    /// (`c.snapshot("Hc")`, `c.snapshots`, `c.snapshots_to_ovf(dir)`); a progress line shows
    /// the field, M and the evaluations on a terminal.
    ///
    /// ```rhai
    /// // One grain without demagnetisation is a Stoner–Wohlfarth particle.
    /// let s = grains::voronoi(#{ n: 8, grains: 1, theta_deg: 30.0, seed: 1 });
    /// let c2 = s.descriptors().cos2_mean;
    /// let c = c2.sqrt();
    /// let t = (1.0 - c2).sqrt();
    /// let h_sw = 1.0 / (c ** (2.0 / 3.0) + t ** (2.0 / 3.0)) ** 1.5;
    /// // A tight tolerance: torque < 1e-4 HA (the default) leaves a cell up to ~1e-4 rad off.
    /// let a = solver::demag_curve(s, #{ demag: false, tol: 1e-7 }).anchors();
    /// assert_close(a.Mr, c, 1e-6, "remanence: the axis's projection on the field");
    /// assert_close(a.Hc, h_sw, 0.01, "the Stoner–Wohlfarth switching field");
    /// ```
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
                let mut opts = opts;
                let keep = snapshots(f, opts.remove("snapshots"))?;
                let setup = setup(f, opts)?;
                let set = &setup.set;
                let p = setup.problem(f, &s)?;
                // States are not cached: a curve that keeps some is always computed.
                let cache = crate::settings::curve_cache()
                    .filter(|_| keep == Snapshots::None)
                    .map(CurveCache::at);
                if let Backend::Tensor(_) = set.backend {
                    if keep != Snapshots::None {
                        return fail(
                            f,
                            "option `snapshots` needs the plain solver (backend: \"plain\"); the tensor backend keeps no states",
                        );
                    }
                    let mut curves = crate::solver::batch::sweep_many_on(
                        std::slice::from_ref(&p),
                        &set.sweep,
                        &set.backend,
                        crate::settings::threads(),
                        cache.as_ref(),
                    )
                    .map_err(error_in(f))?;
                    return curves.remove(0).map(Arc::new).map_err(error_in(f));
                }
                let key = CurveCache::key(&p, &set.sweep);
                if let Some(c) = cache.as_ref().and_then(|c| c.get(&key)) {
                    return Ok(Arc::new(c));
                }
                let c = crate::solver::sweep_keeping(&p, &set.sweep, &keep).map_err(error_in(f))?;
                if let Some(cache) = &cache {
                    crate::solver::cache::keep(cache, &key, &c);
                }
                Ok(Arc::new(c))
            })(),
        )
    }

    /// Curves of many structures on all cores (one per structure, in order), with a
    /// progress bar; `structures` is an array of Structures, a Sample or a Dataset; options
    /// as `solver::demag_curve` (without `snapshots`). Each finished curve is kept in the
    /// curve cache (`--cache`, `--no-cache`) as it finishes, so after an error or Ctrl-C the
    /// same call again computes only what is missing.
    ///
    /// ```rhai
    /// let sample = grains::sample(2, #{ n: 4, grains: 1, seed: 1 });
    /// let curves = solver::demag_curves(sample, #{ h_step: 0.5, demag: false });
    /// assert(curves.len() == 2 && curves[1].h.len() == 5, "one curve per structure");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn demag_curves(ctx: NativeCallContext, structures: Dynamic, opts: Map) -> RResult<Array> {
        let f = "solver::demag_curves";
        crate::api::located(
            &ctx,
            (|| {
                let setup = setup(f, opts)?;
                let set = &setup.set;
                let list = crate::api::structures::Structures::from_value(f, &structures)?;
                let problems = (0..list.len())
                    .map(|k| {
                        super::super::check_interrupt(f)?;
                        setup.problem(f, &list.get(k).map_err(error_in(f))?)
                    })
                    .collect::<RResult<Vec<_>>>()?;
                let cache = crate::settings::curve_cache().map(CurveCache::at);
                let curves = crate::solver::batch::sweep_many_on(
                    &problems,
                    &set.sweep,
                    &set.backend,
                    crate::settings::threads(),
                    cache.as_ref(),
                )
                .map_err(error_in(f))?;
                let finished = curves.iter().filter(|c| c.is_ok()).count();
                if let Some((k, Err(e))) = curves.iter().enumerate().find(|(_, c)| c.is_err()) {
                    let kept = match &cache {
                        Some(c) => format!(
                            "the {finished} finished are kept in {}: the same call again takes them from there",
                            c.dir().display()
                        ),
                        None => format!("the {finished} finished are lost (--no-cache)"),
                    };
                    return fail(
                        f,
                        format!(
                            "{} of {} curves did not finish (the first, structure {k}: {e}); {kept}",
                            curves.len() - finished,
                            curves.len()
                        ),
                    );
                }
                Ok(curves
                    .into_iter()
                    .flatten()
                    .map(|c| Dynamic::from(Arc::new(c)))
                    .collect())
            })(),
        )
    }

    /// Relaxes a structure at field `h` (units of HA, along +y) from m ∥ +y, or from the
    /// State given as `from` (of the same grid); other options as `solver::demag_curve`
    /// (tol, max_iter, material, terms…).
    ///
    /// ```rhai
    /// let s = grains::voronoi(#{ n: 16, grains: 3, seed: 4 });
    /// let c = solver::demag_curve(s, #{ snapshots: "anchors", h_step: 0.05 });
    /// // Back from the state at Hc to zero field: not the remanent state of the sweep.
    /// let back = solver::relax(s, 0.0, #{ from: c.snapshot("Hc") });
    /// assert(back.my < c.snapshot("Mr").my, "the reversed grains stay reversed");
    /// ```
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
                let mut opts = opts;
                let from = opts
                    .remove("from")
                    .map(|v| {
                        v.try_cast::<SharedState>()
                            .ok_or_else(|| error(f, "option `from` must be a State (e.g. from solver::relax or c.snapshot(\"Mr\"))"))
                    })
                    .transpose()?;
                let setup = setup(f, opts)?;
                let set = &setup.set;
                let p = setup.problem(f, &s)?;
                if let Some(st) = &from
                    && st.mesh() != p.mesh()
                {
                    return fail(
                        f,
                        format!(
                            "the `from` State is of a {}×{} grid, the structure {}×{}",
                            st.mesh().nx,
                            st.mesh().ny,
                            p.mesh().nx,
                            p.mesh().ny
                        ),
                    );
                }
                let init = from.as_ref().map(|st| st.phi.as_slice());
                crate::solver::relax(&p, [0.0, h], init, &set.sweep.min)
                    .map(Arc::new)
                    .map_err(error_in(f))
            })(),
        )
    }

    /// The states the sweep kept (`snapshots` option of `solver::demag_curve`), in sweep
    /// order; empty without the option.
    #[rhai_fn(global, get = "snapshots", pure)]
    pub fn curve_snapshots(c: &mut SharedCurve) -> Array {
        c.snapshots
            .iter()
            .map(|s| Dynamic::from(Arc::new(s.state.clone())))
            .collect()
    }

    /// Labels of the kept states, in sweep order: anchor names ("Mr", "Hc", …) or fields.
    #[rhai_fn(global, get = "snapshot_labels", pure)]
    pub fn curve_snapshot_labels(c: &mut SharedCurve) -> Array {
        c.snapshots.iter().map(|s| s.label.clone().into()).collect()
    }

    /// The kept state labelled `label` (an anchor name, or a field as in `snapshot_labels`).
    #[rhai_fn(global, name = "snapshot", return_raw, pure)]
    pub fn curve_snapshot(c: &mut SharedCurve, label: &str) -> RResult<SharedState> {
        c.snapshots
            .iter()
            .find(|s| s.label == label)
            .map(|s| Arc::new(s.state.clone()))
            .ok_or_else(|| {
                let have: Vec<&str> = c.snapshots.iter().map(|s| s.label.as_str()).collect();
                error(
                    "Curve.snapshot",
                    format!(
                        "no state labelled \"{label}\"; this curve kept {have:?} (the `snapshots` option of solver::demag_curve)"
                    ),
                )
            })
    }

    /// Writes every kept state as OVF 2.0 into `dir` (`m000_Mr.ovf`, … in sweep order, a
    /// series for mumax3 tools or Ubermag) and returns the paths.
    #[rhai_fn(global, name = "snapshots_to_ovf", return_raw, pure)]
    pub fn curve_snapshots_to_ovf(c: &mut SharedCurve, dir: &str) -> RResult<Array> {
        let f = "Curve.snapshots_to_ovf";
        let states = kept_states(f, c)?;
        snapshots_dir(f, dir)?;
        states
            .iter()
            .enumerate()
            .map(|(k, s)| {
                let path = snapshot_path(dir, k, &s.label, "ovf");
                s.state
                    .write_ovf(&path, OvfFormat::Binary4)
                    .map_err(error_in(f))?;
                Ok(path.display().to_string().into())
            })
            .collect()
    }

    /// Writes every kept state as VTK image data into `dir` (`m000_Mr.vti`, … in sweep
    /// order, each with the cell arrays of `State.to_vtk`) and the series `snapshots.pvd`,
    /// which ParaView opens as one data set stepping through the states (time = position in
    /// the sweep); returns the paths, the series last.
    ///
    /// ```rhai
    /// let s = grains::voronoi(#{ n: 16, grains: 3, seed: 2 });
    /// let c = solver::demag_curve(s, #{ snapshots: "anchors", demag: false });
    /// let paths = c.snapshots_to_vtk("states");
    /// assert(paths.len() == c.snapshots.len() + 1, "a file per state and the series");
    /// assert(paths[-1].ends_with("snapshots.pvd"), "the series last");
    /// ```
    #[rhai_fn(global, name = "snapshots_to_vtk", return_raw, pure)]
    pub fn curve_snapshots_to_vtk(c: &mut SharedCurve, dir: &str) -> RResult<Array> {
        curve_snapshots_to_vtk_with(c, dir, Map::new())
    }

    /// [`snapshots_to_vtk`] with `#{ structure: s }`: each file also holds the grains of
    /// `s`, the structure the curve was computed on (cell arrays `grain`, `easy_axis`,
    /// `psi`), to colour by grain and glyph m in one view.
    #[rhai_fn(global, name = "snapshots_to_vtk", return_raw, pure)]
    pub fn curve_snapshots_to_vtk_with(
        c: &mut SharedCurve,
        dir: &str,
        opts: Map,
    ) -> RResult<Array> {
        let f = "Curve.snapshots_to_vtk";
        let states = kept_states(f, c)?;
        let with = vtk_structure(f, states[0].state.mesh(), opts)?;
        snapshots_dir(f, dir)?;
        let mut paths = Array::new();
        let mut series = Vec::new();
        for (k, s) in states.iter().enumerate() {
            let path = snapshot_path(dir, k, &s.label, "vti");
            s.state
                .write_vtk(&path, with.clone())
                .map_err(error_in(f))?;
            let name = path.file_name().expect("a file name").to_string_lossy();
            series.push((k as f64, name.into_owned()));
            paths.push(path.display().to_string().into());
        }
        let pvd = std::path::Path::new(dir).join("snapshots.pvd");
        crate::fsio::vtk::write_collection(&pvd, &series)
            .map_err(|e| error(f, format!("cannot write {}: {e}", pvd.display())))?;
        paths.push(pvd.display().to_string().into());
        Ok(paths)
    }

    /// Applied fields h (units of HA), in sweep order.
    #[rhai_fn(global, get = "h", pure)]
    pub fn curve_h(c: &mut SharedCurve) -> NdArray {
        NdArray::from_vec(c.fields())
    }

    /// Mean M/Ms along y (the field axis) at each field; `m` of a relaxed state is the
    /// whole field.
    #[rhai_fn(global, get = "my", pure)]
    pub fn curve_my(c: &mut SharedCurve) -> NdArray {
        NdArray::from_vec(c.my())
    }

    /// Mean M/Ms along x at each field.
    #[rhai_fn(global, get = "mx", pure)]
    pub fn curve_mx(c: &mut SharedCurve) -> NdArray {
        NdArray::from_vec(column(c, |p| p.mx))
    }

    /// Gradient evaluations of each field step (the default descent needs no energies;
    /// L-BFGS evaluates energy and gradient together).
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
    pub fn anchors(c: &mut SharedCurve) -> RResult<Map> {
        if !c.descending() {
            let h = c.fields();
            return fail(
                "Curve.anchors",
                format!(
                    "anchors are defined on descending sweeps (h_start > h_end); this curve \
                         runs from {} to {}",
                    h.first().copied().unwrap_or(f64::NAN),
                    h.last().copied().unwrap_or(f64::NAN)
                ),
            );
        }
        Ok(anchors_map(&c.anchors(), c.unreliable_anchors()))
    }

    /// Writes CSV columns k, h, my, mx, iterations, torque, converged.
    #[rhai_fn(global, name = "to_csv", return_raw, pure)]
    pub fn curve_to_csv(c: &mut SharedCurve, path: &str) -> RResult<()> {
        c.write_csv(path).map_err(error_in("Curve.to_csv"))
    }

    /// Plots M(h) with the anchor points marked (PNG or SVG by extension).
    #[rhai_fn(global, name = "plot", return_raw, pure)]
    pub fn curve_plot_file(c: &mut SharedCurve, path: &str) -> RResult<()> {
        super::curve_figure(c)
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
        let m = st.m();
        vector_cells(st, |c| m[c])
    }

    /// The effective field of every cell, all terms, as an array [3, ny, nx] (units of HA;
    /// the z part is 0 in this in-plane model).
    ///
    /// ```rhai
    /// // Aligned grains, saturated along +y, no demag: only anisotropy and field act.
    /// let s = grains::voronoi(#{ n: 8, grains: 3, theta_deg: 0.0, seed: 1 });
    /// let st = solver::relax(s, 0.25, #{ demag: false });
    /// assert_close(st.h_eff[1].mean(), 1.25, 1e-9, "h_K + h along y");
    /// assert(st.torque.abs().max() < 1e-9, "no torque on m ∥ h_eff");
    /// ```
    #[rhai_fn(global, get = "h_eff", return_raw, pure)]
    pub fn state_h_eff(st: &mut SharedState) -> RResult<NdArray> {
        let f = local(st, "State.h_eff")?.h_eff;
        Ok(vector_cells(st, |c| [f[c][0], f[c][1], 0.0]))
    }

    /// The demagnetising field of every cell as an array [3, ny, nx] (units of HA; zero
    /// with `demag: false`).
    #[rhai_fn(global, get = "h_demag", return_raw, pure)]
    pub fn state_h_demag(st: &mut SharedState) -> RResult<NdArray> {
        let f = local(st, "State.h_demag")?.h_demag;
        Ok(vector_cells(st, |c| [f[c][0], f[c][1], 0.0]))
    }

    /// The torque (m × h_eff)_z of every cell as an array [ny, nx] (units of HA): what the
    /// descent drives below `tol`; its largest values mark where the state is still moving.
    #[rhai_fn(global, get = "torque", return_raw, pure)]
    pub fn state_torque(st: &mut SharedState) -> RResult<NdArray> {
        Ok(scalar_cells(st, &local(st, "State.torque")?.torque))
    }

    /// Each term's energy density per cell (J/m³) as a map of arrays [ny, nx]: `exchange`,
    /// `anisotropy`, `zeeman`, `demag`; their means are the state's `energy`. The
    /// exchange density marks the domain walls.
    ///
    /// ```rhai
    /// let s = grains::voronoi(#{ n: 16, grains: 4, theta_deg: 60.0, seed: 3 });
    /// let st = solver::relax(s, -0.2, #{});
    /// let d = st.energy_density;
    /// assert_close(d.exchange.mean(), st.energy.exchange, 1e-9, "mean of the map");
    /// assert_close(d.demag.mean(), st.energy.demag, 1e-9, "mean of the map");
    /// ```
    #[rhai_fn(global, get = "energy_density", return_raw, pure)]
    pub fn state_energy_density(st: &mut SharedState) -> RResult<Map> {
        let d = &local(st, "State.energy_density")?.energy_density;
        let mut m = Map::new();
        for (name, v) in [
            ("exchange", &d.exchange),
            ("anisotropy", &d.anisotropy),
            ("zeeman", &d.zeeman),
            ("demag", &d.demag),
        ] {
            m.insert(name.into(), Dynamic::from(scalar_cells(st, v)));
        }
        Ok(m)
    }

    /// Mean M/Ms along y.
    #[rhai_fn(global, get = "my", pure)]
    pub fn state_my(st: &mut SharedState) -> f64 {
        st.mean_m()[1]
    }

    /// The applied field along +y (units of HA).
    #[rhai_fn(global, get = "h", pure)]
    pub fn state_h(st: &mut SharedState) -> f64 {
        st.h[1]
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

    /// Writes VTK XML image data (`.vti`, for ParaView or VisIt), coordinates in nm: the
    /// cell vectors `m`, `h_eff` and `h_demag`, the scalar `torque` (fields in HA) and the
    /// energy densities `e_exchange`, `e_anisotropy`, `e_zeeman`, `e_demag` (J/m³).
    #[rhai_fn(global, name = "to_vtk", return_raw, pure)]
    pub fn state_to_vtk(st: &mut SharedState, path: &str) -> RResult<()> {
        state_to_vtk_with(st, path, Map::new())
    }

    /// [`to_vtk`] with `#{ structure: s }`: the file also holds the grains of `s`, the
    /// structure the state was computed on (cell arrays `grain`, `easy_axis`, `psi`).
    ///
    /// ```rhai
    /// let s = grains::voronoi(#{ n: 16, grains: 3, seed: 2 });
    /// let st = solver::relax(s, -0.3, #{ demag: false });
    /// st.to_vtk("state.vti", #{ structure: s });
    /// let text = io::read_text("state.vti");
    /// assert(text.contains("Name=\"m\"") && text.contains("Name=\"grain\""), "m and the grains");
    /// ```
    #[rhai_fn(global, name = "to_vtk", return_raw, pure)]
    pub fn state_to_vtk_with(st: &mut SharedState, path: &str, opts: Map) -> RResult<()> {
        let f = "State.to_vtk";
        let with = vtk_structure(f, st.mesh(), opts)?;
        st.write_vtk(path, with).map_err(error_in(f))
    }

    /// Writes a PNG of m_y (red −1 … blue +1) with a colorbar.
    #[rhai_fn(global, name = "to_png", return_raw, pure)]
    pub fn state_to_png(st: &mut SharedState, path: &str) -> RResult<()> {
        super::state_figure(st)
            .save_sized(path, super::STATE_FIGURE_SIZE)
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
    m.combine_flatten(exported_module!(super::forc::forc_module));
    m.combine_flatten(exported_module!(super::remanence::remanence_module));
    m.set_custom_type::<SharedCurve>("Curve");
    m.set_custom_type::<super::forc::SharedForc>("Forc");
    m.set_custom_type::<SharedState>("State");
    m
}

#[cfg(test)]
mod tests {
    fn engine() -> rhai::Engine {
        crate::progress::set_quiet(true);
        crate::engine::new_engine(None).unwrap()
    }

    #[test]
    fn anchors_table_holds_nan_where_the_maps_hold_unit() {
        // Per curve and anchor: the table's value equals the map's, or is NaN where it is ().
        let agree: bool = engine()
            .eval(
                "let sample = grains::sample(3, #{ n: 8, grains: 3, seed: 4 });
                 let curves = solver::demag_curves(sample, #{ h_step: 0.1, h_end: -0.3, demag: false });
                 let t = solver::anchors_table(curves);
                 let ok = t.non_converged.len() == 3;
                 let missing = 0;
                 for name in solver::anchor_names() {
                     for k in 0..3 {
                         let v = curves[k].anchors()[name];
                         if v == () { missing += 1; ok = ok && isnan(t[name])[k] == 1.0; }
                         else { ok = ok && t[name][k] == v; }
                         ok = ok && t[`${name}_unreliable`][k] == 0.0;
                     }
                 }
                 ok && missing > 0 && missing < 18",
            )
            .unwrap();
        assert!(agree);
    }

    #[test]
    fn anchors_table_and_demag_curves_name_a_wrong_element() {
        let engine = engine();
        for (script, msg) in [
            (
                "solver::anchors_table([1])",
                "solver::anchors_table: curves[0] must be a Curve, got int",
            ),
            (
                "let s = grains::voronoi(#{ n: 4, grains: 1, seed: 1 });
                 solver::anchors_table([solver::demag_curve(s, #{ h_start: -0.5, h_end: 0.5, h_step: 0.5, demag: false })])",
                "solver::anchors_table: curves[0] is not a descending sweep",
            ),
            (
                "let s = grains::voronoi(#{ n: 4, grains: 1, seed: 1 }); solver::demag_curves([s, \"s\"], #{})",
                "solver::demag_curves: structures[1] must be a Structure, got string",
            ),
        ] {
            let e = engine.run(script).unwrap_err().to_string();
            assert!(e.contains(msg), "{script}: {e}");
        }
    }
}

//! The `data` module: datasets of structures, curves and anchors on disk — generated
//! (sharded, resumable), merged, opened, filtered, split and streamed as network input.

use super::grains::{SharedStructure, encoding, read_voronoi_options};
use super::opts::Opts;
use super::solver::{SharedCurve, anchors_map};
use super::{RResult, error, error_in, fail};
use crate::array::NdArray;
use crate::data::{Dataset, DatasetView, GeneratorSpec, Shard, Spec};
use rhai::plugin::*;
use rhai::{Array, FnPtr, Map};
use std::path::PathBuf;
use std::sync::Arc;

/// A dataset (or a subset of one) as scripts hold it.
pub type SharedDataset = DatasetView;

/// Directory names given as one string or an array of strings (option or argument `what`).
fn directories(func: &str, what: &str, v: Dynamic) -> RResult<Vec<PathBuf>> {
    let bad = |t: &str| error(func, format!("{what} must be directory names, got {t}"));
    if v.is_string() {
        return Ok(vec![PathBuf::from(v.into_string().map_err(|t| bad(t))?)]);
    }
    let items = v.into_array().map_err(|t| bad(t))?;
    items
        .into_iter()
        .map(|p| p.into_string().map(PathBuf::from).map_err(|t| bad(t)))
        .collect()
}

/// The output directory and spec of `data::generate`'s options, and the finished datasets
/// its records may be taken from (`from`).
fn generate_spec(func: &'static str, map: Map) -> RResult<(PathBuf, Spec, Vec<PathBuf>)> {
    let mut o = Opts::new(func, map);
    let options = read_voronoi_options(func, &mut o)?;
    let out = o
        .string_opt("out")?
        .ok_or_else(|| error(func, "option `out` (the dataset directory) is required"))?;
    let count = o
        .int_opt("count", 1, 1 << 40)?
        .ok_or_else(|| error(func, "option `count` (number of records) is required"))?;
    let solver_map = o.value("solver");
    // Labelling costs a curve per record: it is asked for, never implied by `solver`.
    let label = o.bool("label", false)?;
    let shard = match o.string_opt("shard")? {
        Some(s) => Shard::parse(&s).map_err(error_in(func))?,
        None => Shard::WHOLE,
    };
    let from = match o.value("from") {
        Some(v) => directories(func, "from", v)?,
        None => Vec::new(),
    };
    o.finish()?;
    let solver = match (label, solver_map) {
        (false, None) => None,
        (false, Some(_)) => {
            return fail(
                func,
                "`solver` options need `label: true` (records are labelled only when asked)",
            );
        }
        (true, m) => {
            let m = match m {
                None => Map::new(),
                Some(m) => m.try_cast::<Map>().ok_or_else(|| {
                    error(func, "option `solver` must be a map of solver options")
                })?,
            };
            Some(super::solver::settings(func, m)?)
        }
    };
    let seed = options.seed;
    let spec = Spec::new(
        GeneratorSpec::new(&options, seed),
        count as u64,
        solver,
        shard,
    )
    .map_err(error_in(func))?;
    Ok((PathBuf::from(out), spec, from))
}

fn position(func: &str, d: &SharedDataset, i: i64) -> RResult<usize> {
    let n = d.len();
    crate::api::convert::from_end(i, n)
        .ok_or_else(|| error(func, format!("index {i} out of range for {n} records")))
}

/// The record at view position `k` as a script map.
fn record_map(func: &str, d: &SharedDataset, k: usize) -> RResult<Map> {
    let data = d.dataset();
    let pos = d.rows()[k];
    let r = data.record(pos);
    let s = data.structure(pos).map_err(error_in(func))?;
    let mut m = Map::new();
    m.insert("id".into(), Dynamic::from_int(r.id as i64));
    m.insert("seed".into(), Dynamic::from_int(r.seed as i64));
    m.insert("ng".into(), Dynamic::from_int(r.ng as i64));
    m.insert("theta".into(), Dynamic::from_float(r.theta));
    m.insert(
        "structure".into(),
        Dynamic::from(Arc::new(s) as SharedStructure),
    );
    let (curve, anchors) = match &r.label {
        Some(l) => (
            Dynamic::from(Arc::new(l.curve(data.fields())) as SharedCurve),
            Dynamic::from_map(anchors_map(&l.anchors(), l.unreliable(data.fields()))),
        ),
        None => (Dynamic::UNIT, Dynamic::UNIT),
    };
    m.insert("curve".into(), curve);
    m.insert("anchors".into(), anchors);
    Ok(m)
}

/// `for r in dataset { … }`: records in id order, as `get` returns them.
pub struct Records {
    view: SharedDataset,
    next: usize,
}

impl Iterator for Records {
    type Item = RResult<Map>;
    fn next(&mut self) -> Option<Self::Item> {
        (self.next < self.view.len()).then(|| {
            self.next += 1;
            record_map("Dataset iteration", &self.view, self.next - 1)
        })
    }
}

impl IntoIterator for DatasetView {
    type Item = RResult<Map>;
    type IntoIter = Records;
    fn into_iter(self) -> Records {
        Records {
            view: self,
            next: 0,
        }
    }
}

fn opened(func: &str, dir: &std::path::Path) -> RResult<SharedDataset> {
    Dataset::open(dir).map(|d| d.view()).map_err(error_in(func))
}

#[export_module]
pub mod data_module {
    use super::*;

    /// Generates a dataset directory (or resumes one, or opens it when finished):
    /// `data::generate(#{ out: "d", count: 1000, n: 160, label: false, seed: 0,
    /// shard: "0/4", grains: 64, theta_deg: 45.0, solver: #{ tol: 1e-4 } })`. Record i
    /// is `grains::sample(count, opts)[i]`; `label: true` adds its demagnetisation curve
    /// and anchors (`solver` options as `solver::demag_curve`). Rerunning after a crash or
    /// Ctrl-C continues where it stopped; the finished files do not depend on it.
    /// `from: "d500"` (or an array) takes the records that finished datasets of the same
    /// settings but another count or shard hold, instead of making them again:
    /// ```rhai
    /// let law = #{ n: 8, grains: 2, label: true, seed: 5, solver: #{ h_step: 0.25 } };
    /// let few = data::generate(law + #{ out: "few", count: 3 });
    /// let more = data::generate(law + #{ out: "more", count: 5, from: "few" });
    /// assert(more.len == 5, "three records taken, two made");
    /// assert(more[2].anchors.Hc == few[2].anchors.Hc, "record 2 is the one already made");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn generate(ctx: NativeCallContext, opts: Map) -> RResult<SharedDataset> {
        let f = "data::generate";
        crate::api::located(
            &ctx,
            (|| {
                let (dir, spec, from) = generate_spec(f, opts)?;
                let (_, summary) =
                    crate::data::generate_from(&dir, &spec, &from).map_err(error_in(f))?;
                if !crate::progress::is_quiet() {
                    crate::display::note(&summary.to_string());
                }
                opened(f, &dir)
            })(),
        )
    }

    /// Opens a finished dataset, checking every file and record:
    /// `let ds = data::open("out/d"); print(ds.len);`
    #[rhai_fn(return_raw)]
    pub fn open(ctx: NativeCallContext, dir: &str) -> RResult<SharedDataset> {
        crate::api::located(&ctx, opened("data::open", std::path::Path::new(dir)))
    }

    /// Merges finished shards into one dataset in `out`, refusing parts of other datasets
    /// and duplicate records: `data::merge("d", ["d0", "d1"])`.
    #[rhai_fn(return_raw)]
    pub fn merge(ctx: NativeCallContext, out: &str, parts: Array) -> RResult<SharedDataset> {
        let f = "data::merge";
        crate::api::located(
            &ctx,
            (|| {
                let parts = directories(f, "parts", Dynamic::from_array(parts))?;
                crate::data::merge(std::path::Path::new(out), &parts).map_err(error_in(f))?;
                opened(f, std::path::Path::new(out))
            })(),
        )
    }

    /// Rewrites a finished dataset of an older format as the current one, every file and
    /// record checked first and kept (anchors re-derived from the stored curves by today's
    /// rules); a current dataset is left as is. Returns what changed: `#{ from, to, records,
    /// changed, largest_change, became_missing, became_present, unreliable, rewritten }`:
    /// `let u = data::upgrade("old_dataset"); let ds = data::open("old_dataset");`
    #[rhai_fn(return_raw)]
    pub fn upgrade(ctx: NativeCallContext, dir: &str) -> RResult<Map> {
        let u = crate::data::upgrade(std::path::Path::new(dir)).map_err(error_in("data::upgrade"));
        let u = crate::api::located(&ctx, u)?;
        let int = |v: u64| Dynamic::from_int(v as i64);
        let mut m = Map::new();
        m.insert("from".into(), int(u.from as u64));
        m.insert("to".into(), int(crate::data::spec::FORMAT_VERSION as u64));
        m.insert("records".into(), int(u.records));
        m.insert("changed".into(), int(u.changed));
        m.insert(
            "largest_change".into(),
            Dynamic::from_float(u.largest_change),
        );
        m.insert("became_missing".into(), int(u.became_missing));
        m.insert("became_present".into(), int(u.became_present));
        m.insert("unreliable".into(), int(u.unreliable));
        let files = u.rewritten.into_iter().map(Dynamic::from).collect();
        m.insert("rewritten".into(), Dynamic::from_array(files));
        Ok(m)
    }

    /// Number of records: `ds.len` or `ds.len()`.
    #[rhai_fn(global, name = "len", get = "len", pure)]
    pub fn len(d: &mut SharedDataset) -> i64 {
        d.len() as i64
    }

    /// Whether records carry curves and anchors.
    #[rhai_fn(global, get = "labelled", pure)]
    pub fn labelled(d: &mut SharedDataset) -> bool {
        d.dataset().labelled()
    }

    /// Record `i` (negative counts from the end) as `#{ id, seed, ng, theta, structure,
    /// curve, anchors }` (`theta` in radians); `curve` and `anchors` are `()` when
    /// unlabelled. The structure is
    /// regenerated from its parameters: `let r = ds[0]; print(r.structure);`
    #[rhai_fn(global, index_get, name = "get", return_raw, pure)]
    pub fn get(d: &mut SharedDataset, i: i64) -> RResult<Map> {
        let f = "Dataset.get";
        position(f, d, i).and_then(|k| record_map(f, d, k))
    }

    /// Record ids in order: `ds.ids()` → `[0, 1, …]`.
    #[rhai_fn(global, pure)]
    pub fn ids(d: &mut SharedDataset) -> Array {
        d.ids()
            .into_iter()
            .map(|i| Dynamic::from_int(i as i64))
            .collect()
    }

    /// The records meeting a named condition: `"converged"` (every field step reached the
    /// tolerance) or `"complete"` (all six anchors present): `ds.filter("converged")`.
    #[rhai_fn(global, name = "filter", return_raw, pure)]
    pub fn filter_named(d: &mut SharedDataset, what: &str) -> RResult<SharedDataset> {
        match what {
            "converged" => Ok(d.converged()),
            "complete" => Ok(d.complete()),
            other => fail(
                "Dataset.filter",
                format!(
                    "condition must be \"converged\" or \"complete\" (or a function), got \"{other}\""
                ),
            ),
        }
    }

    /// The records for which a function of the record map is true:
    /// `ds.filter(|r| r.ng < 50)`.
    #[rhai_fn(global, name = "filter", return_raw, pure)]
    pub fn filter_fn(
        ctx: NativeCallContext,
        d: &mut SharedDataset,
        keep: FnPtr,
    ) -> RResult<SharedDataset> {
        let f = "Dataset.filter";
        let mut flags = Vec::with_capacity(d.len());
        for k in 0..d.len() {
            super::super::check_interrupt(f)?;
            let r = record_map(f, d, k)?;
            let v: Dynamic = keep.call_within_context(&ctx, (r,))?;
            flags.push(v.as_bool().map_err(|t| {
                error(
                    f,
                    format!("the function must return true or false, got {t}"),
                )
            })?);
        }
        let mut it = flags.into_iter();
        Ok(d.filter_rows(|_| it.next().unwrap_or(false)))
    }

    /// `[train, test]`: each record goes to train with probability `frac`, decided by a
    /// hash of (id, seed) — stable when records are added: `let parts = ds.split(0.9, 1);`
    #[rhai_fn(global, return_raw, pure)]
    pub fn split(d: &mut SharedDataset, frac: f64, seed: i64) -> RResult<Array> {
        if !(0.0..=1.0).contains(&frac) {
            return fail(
                "Dataset.split",
                format!("frac must be in [0, 1], got {frac}"),
            );
        }
        let seed = crate::api::convert::seed("Dataset.split", "seed", seed)?;
        let (a, b) = d.split(frac, seed);
        Ok(vec![Dynamic::from(a), Dynamic::from(b)])
    }

    /// Columns as arrays: `id`, `ng`, `theta` (radians) and, when labelled, `non_converged`,
    /// `M1`, `Mr`, `Hk90`, `Hk80`, `Hk70`, `Hc` (NaN where missing, see
    /// `solver::anchor_names`) and per anchor
    /// `M1_unreliable` … `Hc_unreliable` (1 where it depends on a non-converged step):
    /// `let t = ds.anchors_table(); print(t.Hc.mean());`
    #[rhai_fn(global, pure)]
    pub fn anchors_table(d: &mut SharedDataset) -> Map {
        let recs: Vec<_> = (0..d.len()).map(|k| d.record(k)).collect();
        let col = |f: &dyn Fn(&crate::data::Record) -> f64| {
            Dynamic::from(NdArray::from_vec(recs.iter().map(|r| f(r)).collect()))
        };
        let mut m = Map::new();
        m.insert("id".into(), col(&|r| r.id as f64));
        m.insert("ng".into(), col(&|r| r.ng as f64));
        m.insert("theta".into(), col(&|r| r.theta));
        if d.dataset().labelled() {
            let label = |r: &crate::data::Record| r.label.clone().expect("labelled");
            m.insert(
                "non_converged".into(),
                col(&|r| label(r).non_converged() as f64),
            );
            let fields = d.dataset().fields();
            let rows: Vec<_> = recs
                .iter()
                .map(|r| (label(r).anchors, label(r).unreliable(fields)))
                .collect();
            crate::api::solver::insert_anchor_columns(&mut m, &rows);
        }
        m
    }

    /// Encoded rasters of the records at `indices` (positions), `"kx"` or `"axis"`, as
    /// one array [batch, channels, ny, nx]: `ds.encode([0, 1], "kx")`.
    #[rhai_fn(global, return_raw, pure)]
    pub fn encode(d: &mut SharedDataset, indices: Array, name: &str) -> RResult<NdArray> {
        let f = "Dataset.encode";
        let enc = encoding(f, name)?;
        let idx = crate::api::convert::positions(f, "indices", &indices.into(), d.len())?;
        let a = crate::grains::RasterSource::encode_many(d, &idx, enc).map_err(error_in(f))?;
        Ok(NdArray::new(a.mapv(f64::from).into_dyn()))
    }

    /// The shuffled mini-batches of one epoch as arrays of positions, drawn from
    /// (seed, epoch) alone (the order `grains::Batches` streams for training):
    /// `for b in ds.batches(64, 1, 0) { let x = ds.encode(b, "kx"); }`
    #[rhai_fn(global, return_raw, pure)]
    pub fn batches(d: &mut SharedDataset, size: i64, seed: i64, epoch: i64) -> RResult<Array> {
        let f = "Dataset.batches";
        let size = super::super::to_usize(f, "batch size", size, 1, 1 << 30)?;
        let all: Vec<usize> = (0..d.len()).collect();
        let seed = crate::api::convert::seed(f, "seed", seed)?;
        let epoch = super::super::to_usize(f, "epoch", epoch, 0, i64::MAX as usize)?;
        let order = crate::grains::epoch_order(&all, seed, epoch as u64);
        Ok(order
            .chunks(size)
            .map(|c| Dynamic::from_array(c.iter().map(|&k| Dynamic::from_int(k as i64)).collect()))
            .collect())
    }

    /// The manifest as a map (generator options, solver settings, shard, files…).
    #[rhai_fn(global, return_raw, pure)]
    pub fn manifest(d: &mut SharedDataset) -> RResult<Dynamic> {
        rhai::serde::to_dynamic(d.dataset().manifest())
    }

    /// One-line description.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn to_string(d: &mut SharedDataset) -> String {
        let spec = d.dataset().spec();
        format!(
            "Dataset({} of {} records, {}×{} cells, {}, seed {})",
            d.len(),
            d.dataset().len(),
            spec.generator.nx,
            spec.generator.ny,
            if spec.labelled() {
                format!("labelled, {} field steps", spec.steps)
            } else {
                "unlabelled".into()
            },
            spec.generator.base_seed
        )
    }
}

pub fn module() -> Module {
    let mut m = exported_module!(data_module);
    m.set_custom_type::<SharedDataset>("Dataset");
    m
}

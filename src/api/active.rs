//! The `active` module: the active-learning loop that chooses which structures to simulate,
//! and the learning curves that compare its acquisition rules. (Not `learn::…`: that name
//! is the stdlib's `import "learn"`, which would hide a native module of the same name.)

use super::data::SharedDataset;
use super::ensemble::ensemble_options;
use super::opts::Opts;
use super::{RResult, error, error_in, fail};
use crate::learn::acquisition::Acquisition;
use crate::learn::active::{self, ActiveConfig, ActiveState};
use crate::learn::learning_curve;
use rhai::plugin::*;
use rhai::{Array, Map};
use std::path::{Path, PathBuf};

/// A required dataset option.
fn dataset(f: &str, o: &mut Opts, key: &'static str) -> RResult<SharedDataset> {
    let v = o
        .value(key)
        .ok_or_else(|| error(f, format!("option `{key}` (a Dataset) is required")))?;
    let ty = crate::docs::type_of(&v);
    v.try_cast::<SharedDataset>()
        .ok_or_else(|| error(f, format!("option `{key}` must be a Dataset, got {ty}")))
}

/// A loop's figures as a script map.
fn state_map(dir: &Path, s: &ActiveState) -> Map {
    let (labels, mae) = s.curve();
    let mut m = Map::new();
    m.insert("acquisition".into(), s.acquisition.clone().into());
    m.insert("seed".into(), Dynamic::from_int(s.seed as i64));
    m.insert("labelled".into(), dir.display().to_string().into());
    m.insert(
        "labels".into(),
        Dynamic::from_array(
            labels
                .iter()
                .map(|&l| Dynamic::from_int(l as i64))
                .collect(),
        ),
    );
    let per_anchor: Map = s
        .anchors
        .iter()
        .enumerate()
        .map(|(a, name)| {
            let col: Array = mae
                .iter()
                .map(|r| r[a].map_or(Dynamic::UNIT, Dynamic::from_float))
                .collect();
            (name.as_str().into(), Dynamic::from_array(col))
        })
        .collect();
    m.insert("mae".into(), per_anchor.into());
    let batches: Array = s
        .rounds
        .iter()
        .map(|r| {
            Dynamic::from_array(
                r.batch
                    .iter()
                    .map(|&id| Dynamic::from_int(id as i64))
                    .collect(),
            )
        })
        .collect();
    m.insert("batches".into(), batches.into());
    m
}

#[export_module]
pub mod active_module {
    use super::*;

    /// The active-learning loop: `active::run(#{ pool, test, labelled, acquisition:
    /// "random", rounds: 11, per_round: 50, initial: 50, seed: 0, model: #{ members: 4,
    /// epochs: 60, trees: 100 }, solver: #{ … }, reveal: true, out: "run.json", device:
    /// "cpu" })`. Round 0 labels `initial` structures of the Dataset `pool` drawn at
    /// random; then every round trains an ensemble (`model`: the options of
    /// `ensemble::train`, on the records' descriptors, priors the Stoner–Wohlfarth columns;
    /// `coarse: f` (with `coarse_exchange`, `coarse_anisotropy`) adds its coarse-mesh anchors, see
    /// `s.descriptors(#{ coarse })`; `images: true` averages its test predictions and σ
    /// over each structure's four symmetric images, as `e.predict_images`) on all labels
    /// so far, records its MAE per anchor on
    /// the labelled Dataset `test`, and — for `rounds` rounds — picks `per_round` more
    /// structures of the pool by `acquisition`: "random" (the baseline), "uncertainty"
    /// (largest ensemble σ, each anchor's σ over its median) or "diverse" (greedy farthest
    /// points in standardised descriptor space, weighted by that σ score) and labels them
    /// with the solver on all cores (`solver`: options as `solver::demag_curve`, for an
    /// unlabelled pool). A labelled pool's stored labels are revealed instead of simulated
    /// again (`reveal: false` simulates them).
    /// `labelled` is the directory of the labelled records (crash-safe: rerunning the
    /// same call after a crash or Ctrl-C resumes at the round and record where it
    /// stopped; `rounds` may grow on a rerun). Returns `#{ acquisition, seed, labelled,
    /// labels: [...], mae: #{ M1: [...], … }, batches: [[ids], …] }`; `out` also writes
    /// the loop's state there.
    ///
    /// ```rhai
    /// let all = data::generate(#{ out: "ac", n: 16, grains: 4, count: 30, label: true, seed: 1 });
    /// let opts = #{ pool: all.filter(|r| r.id % 5 != 0), test: all.filter(|r| r.id % 5 == 0),
    ///     labelled: "ac_loop", initial: 6, rounds: 1, per_round: 4,
    ///     model: #{ members: 2, epochs: 5, trees: 10 } };
    /// let r = active::run(opts + #{ coarse: 2 });
    /// assert(r.labels == [6, 10], "two rounds on the descriptors with coarse-mesh anchors");
    /// let refused = "";
    /// try { active::run(opts); } catch (e) { refused = `${e}`; }
    /// assert(refused.contains("coarse"), "the loop's directory keeps its inputs: " + refused);
    /// let sym = active::run(opts + #{ coarse: 2, images: true, labelled: "ac_images",
    ///                                 acquisition: "uncertainty" });
    /// assert(sym.batches[0] == r.batches[0], "round 0: the same random draw");
    /// assert(sym.mae.Hc[0] != r.mae.Hc[0], "its test error from the images' mean");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn run(ctx: NativeCallContext, opts: Map) -> RResult<Map> {
        let f = "active::run";
        crate::api::located(
            &ctx,
            (|| {
                let mut o = Opts::new(f, opts);
                let pool = dataset(f, &mut o, "pool")?;
                let test = dataset(f, &mut o, "test")?;
                let dir = PathBuf::from(o.string_opt("labelled")?.ok_or_else(|| {
                    error(
                        f,
                        "option `labelled` (the directory of the labelled records) is required",
                    )
                })?);
                let acquisition =
                    Acquisition::from_name(o.choice("acquisition", &Acquisition::NAMES)?)
                        .expect("a listed name");
                let rounds = o.int("rounds", 11, 0, 100_000)? as usize;
                let per_round = o.int("per_round", 50, 1, 1 << 30)? as usize;
                let initial = o.int("initial", per_round as i64, 1, 1 << 30)? as usize;
                let seed = o.seed("seed", crate::settings::seed())?;
                let reveal = o.bool("reveal", true)?;
                let out = o.string_opt("out")?;
                let model = match o.value("model") {
                    None => Map::new(),
                    Some(m) => m.try_cast::<Map>().ok_or_else(|| {
                        error(f, "option `model` must be a map of ensemble::train options")
                    })?,
                };
                let solver = match o.value("solver") {
                    None => None,
                    Some(m) => Some(super::super::solver::settings(
                        f,
                        m.try_cast::<Map>().ok_or_else(|| {
                            error(f, "option `solver` must be a map of solver options")
                        })?,
                    )?),
                };
                let descriptors = o.descriptor_set()?;
                let images = o.bool("images", false)?;
                let device = super::super::convert::device_option(f, &mut o)?;
                o.finish()?;
                let mut mo = Opts::new(f, model);
                let (config, train) = ensemble_options(f, &mut mo, descriptors.len())?;
                mo.finish()?;
                if config.targets != crate::learn::regressor::anchor_names() {
                    return fail(
                        f,
                        "the model's targets must be the six anchors (leave `targets` out)",
                    );
                }
                let solver = match (solver, pool.dataset().labelled() && reveal) {
                    (s, true) => s,
                    (Some(s), false) => Some(s),
                    (None, false) => Some(super::super::solver::settings(f, Map::new())?),
                };
                let cfg = ActiveConfig {
                    acquisition,
                    rounds,
                    per_round,
                    initial,
                    seed,
                    model: config,
                    train,
                    descriptors,
                    images,
                    solver,
                    reveal,
                };
                let state = active::run(&pool, &test, &dir, &cfg, device).map_err(error_in(f))?;
                if let Some(out) = out {
                    let mut json = serde_json::to_vec_pretty(&state).map_err(error_in(f))?;
                    json.push(b'\n');
                    crate::fsio::write(&out, json).map_err(|e| error(f, format!("{out}: {e}")))?;
                }
                Ok(state_map(&dir, &state))
            })(),
        )
    }

    /// Learning curves of finished loops: `active::learning_curves(runs, #{ json: "lc.json",
    /// plot: "lc.png", reference: "random", tolerance: 0.0 })`, `runs` an array of what
    /// `active::run` returned (or of their `labelled` directories). Per acquisition (over
    /// its seeds): the mean, least and largest test MAE per anchor at each label count, and
    /// the labels each seed (and the mean curve) needs to reach the MAE that `reference`
    /// reaches, on average, with its most labels (× 1 + `tolerance`). `json` writes these
    /// figures, `plot` draws them (one panel per anchor, one line per acquisition). Returns
    /// the figures as a map.
    ///
    /// ```rhai
    /// let all = data::generate(#{ out: "al", n: 16, grains: 4, count: 30, label: true, seed: 1 });
    /// let runs = [];
    /// for acq in ["random", "diverse"] {
    ///     runs.push(active::run(#{ pool: all.filter(|r| r.id % 5 != 0),
    ///         test: all.filter(|r| r.id % 5 == 0), labelled: `al_${acq}`, acquisition: acq,
    ///         initial: 6, rounds: 2, per_round: 4, model: #{ members: 2, epochs: 5, trees: 10 } }));
    /// }
    /// assert(runs[1].labels == [6, 10, 14] && runs[1].mae.Hc.len() == 3, "three rounds");
    /// assert(runs[0].batches[0] == runs[1].batches[0], "the same random start");
    /// let lc = active::learning_curves(runs, #{ json: "lc.json" });
    /// assert(lc.acquisitions[0].reach_mean[5] <= 14, "random reaches its own final mean MAE");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn learning_curves(ctx: NativeCallContext, runs: Array, opts: Map) -> RResult<Dynamic> {
        let f = "active::learning_curves";
        crate::api::located(
            &ctx,
            (|| {
                let mut o = Opts::new(f, opts);
                let json = o.string_opt("json")?;
                let plot = o.string_opt("plot")?;
                let reference = o
                    .string_opt("reference")?
                    .unwrap_or_else(|| "random".into());
                let tolerance = o.float("tolerance", 0.0, 0.0, 10.0)?;
                o.finish()?;
                let states = runs
                    .iter()
                    .enumerate()
                    .map(|(k, r)| {
                        let dir = match r.read_lock::<Map>() {
                            Some(m) => m.get("labelled").map(|d| d.to_string()),
                            None => r.is_string().then(|| r.to_string()),
                        };
                        let dir = dir.ok_or_else(|| {
                            error(
                                f,
                                format!(
                                    "runs[{k}] must be what active::run returned or its labelled directory, got {}",
                                    crate::docs::type_of(r)
                                ),
                            )
                        })?;
                        ActiveState::read(Path::new(&dir)).map_err(error_in(f))
                    })
                    .collect::<RResult<Vec<_>>>()?;
                let lc = learning_curve::summarise(&states, &reference, tolerance)
                    .map_err(error_in(f))?;
                if let Some(p) = json {
                    lc.write_json(Path::new(&p)).map_err(error_in(f))?;
                }
                if let Some(p) = plot {
                    lc.plot(Path::new(&p)).map_err(error_in(f))?;
                }
                rhai::serde::to_dynamic(&lc).map_err(error_in(f))
            })(),
        )
    }
}

pub fn module() -> Module {
    exported_module!(active_module)
}

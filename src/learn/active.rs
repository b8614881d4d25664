//! The active-learning loop: choose which structures of a pool to simulate. Round 0 labels
//! `initial` structures drawn at random; every round then trains an ensemble on the
//! descriptors of everything labelled so far, records its test MAE per anchor, scores the
//! still unlabelled pool with it, picks a batch by an [`Acquisition`] rule and labels it —
//! with the solver on all cores (through the curve cache of `--cache`, so loops of other
//! acquisitions or seeds on one pool compute a shared structure's curve once, round 0
//! being the same draw for all acquisitions of a seed), or, for a pool that is a labelled
//! dataset, by revealing the
//! stored label (pool-based benchmarking: the same loop with the labels hidden until
//! chosen, so acquisitions can be compared without simulating every curve again).
//!
//! Crash-safe and resumable, in the directory `dir` of the labelled set:
//!
//! * `records.log` — the labelled records, appended as each curve finishes: the generation
//!   log of `data::log` (checksummed, a torn tail cut on resume), behind the fingerprint of
//!   the labelled spec;
//! * `active.json` — the settings and every round: its batch (chosen before any of it is
//!   labelled) and, once trained, its labels and test MAE. It is replaced atomically after
//!   each round with the next round's batch in the same write, so a killed loop resumes at
//!   the round and record where it stopped: the batch is read back, the records already in
//!   the log are kept, the rest labelled, the model retrained;
//! * `labelled.csv` — id, round and anchors of every labelled record (rewritten each round).
//!
//! Training, scoring and picking depend only on the labelled set, the settings and the seed
//! (members train with one libtorch thread each), so a resumed loop ends with the same
//! files as one never interrupted. The pool's and the test set's descriptors are computed
//! once per run (they do not change between rounds).

use super::acquisition::{self, Acquisition};
use super::ensemble::{Ensemble, EnsembleTrain};
use super::images::IMAGES;
use super::{LearnError, RegressorConfig, Result, metrics};
use crate::data::log::{Lock, Log, fingerprint};
use crate::data::{DatasetView, Record, Spec};
use crate::grains::DescriptorSet;
use crate::progress::Progress;
use crate::solver::SolverSettings;
use crate::solver::demag::DemagKernel;
use ndarray::{Array2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

pub const STATE: &str = "active.json";
pub const LOG: &str = "records.log";
pub const TABLE: &str = "labelled.csv";
const FORMAT: &str = "coercive-active";

/// Settings of one loop.
#[derive(Clone, Debug)]
pub struct ActiveConfig {
    pub acquisition: Acquisition,
    /// Acquisition rounds after round 0 (a rerun with more extends a finished loop).
    pub rounds: usize,
    pub per_round: usize,
    /// Random labels of round 0.
    pub initial: usize,
    /// Seeds the random draws and every model.
    pub seed: u64,
    /// The ensemble: its members' networks and its training (round r trains from a seed
    /// drawn from its `seed`, the loop's `seed` and r; no `priors`: the descriptors'
    /// Stoner–Wohlfarth columns).
    pub model: RegressorConfig,
    pub train: EnsembleTrain,
    /// The model's inputs.
    pub descriptors: DescriptorSet,
    /// Test predictions and the acquisition's σ averaged over each structure's four
    /// symmetric images ([`super::images`]); the model trains on the records' own rows.
    pub images: bool,
    /// Solver settings for labelling an unlabelled pool (a labelled pool's own are used).
    pub solver: Option<SolverSettings>,
    /// Reveal a labelled pool's stored labels instead of simulating them again.
    pub reveal: bool,
}

/// One round of the loop as `active.json` keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoundState {
    pub round: usize,
    /// Record ids chosen this round, in the order picked.
    pub batch: Vec<u64>,
    /// Labels after this round.
    pub labels: usize,
    /// Test MAE per anchor of the model trained after this round (`None` until trained;
    /// inner `None`: no test row has the anchor).
    pub mae: Option<Vec<Option<f64>>>,
}

/// `active.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActiveState {
    pub format: String,
    /// What makes the loop (the round count aside): a rerun with other settings is refused.
    pub settings: serde_json::Value,
    pub acquisition: String,
    pub seed: u64,
    pub anchors: Vec<String>,
    pub rounds: Vec<RoundState>,
}

impl ActiveState {
    /// Labels and MAE per anchor of the finished rounds.
    pub fn curve(&self) -> (Vec<usize>, Vec<Vec<Option<f64>>>) {
        self.rounds
            .iter()
            .filter_map(|r| r.mae.clone().map(|m| (r.labels, m)))
            .unzip()
    }

    /// Reads `dir/active.json`.
    pub fn read(dir: &Path) -> Result<ActiveState> {
        let path = dir.join(STATE);
        let bytes = std::fs::read(&path)
            .map_err(|e| LearnError::msg(format!("{}: {e}", path.display())))?;
        let s: ActiveState = serde_json::from_slice(&bytes).map_err(|e| {
            LearnError::msg(format!(
                "{}: not an active-learning state: {e}",
                path.display()
            ))
        })?;
        if s.format != FORMAT {
            return Err(LearnError::msg(format!(
                "{}: format {:?} is not {FORMAT}",
                path.display(),
                s.format
            )));
        }
        Ok(s)
    }
}

fn data_err(e: impl std::fmt::Display) -> LearnError {
    LearnError::msg(e.to_string())
}

/// Descriptors of `set` [n, set.len()] of the records of `view`, computed on all cores.
pub fn descriptors(view: &DatasetView, set: &DescriptorSet) -> Result<Array2<f64>> {
    crate::grains::descriptor_rows(set, view.len(), structure_of(view)).map_err(LearnError::msg)
}

/// Structure k of `view`, built from its record.
fn structure_of(
    view: &DatasetView,
) -> impl Fn(usize) -> std::result::Result<crate::grains::Structure, String> + Sync + '_ {
    move |k| {
        view.dataset()
            .structure(view.rows()[k])
            .map_err(|e| e.to_string())
    }
}

/// The rows of a model's inputs for records `0..n`: their own descriptors, and with
/// `images` those of all their images.
struct Inputs {
    own: Array2<f64>,
    images: Option<Array2<f32>>,
}

impl Inputs {
    fn of(view: &DatasetView, set: &DescriptorSet, images: bool) -> Result<Inputs> {
        if !images {
            return Ok(Inputs {
                own: descriptors(view, set)?,
                images: None,
            });
        }
        let all = super::images::image_rows(set, view.len(), structure_of(view))
            .map_err(LearnError::msg)?;
        let own = all.select(
            Axis(0),
            &(0..view.len()).map(|k| k * IMAGES).collect::<Vec<_>>(),
        );
        Ok(Inputs {
            own,
            images: Some(all.mapv(|v| v as f32)),
        })
    }

    /// (mean, σ) of `model` on records `ks`: on their own rows, or averaged over their
    /// images.
    fn predict(&self, model: &Ensemble, ks: &[usize]) -> Result<(Array2<f64>, Array2<f64>)> {
        match &self.images {
            None => model.predict(self.own.select(Axis(0), ks).mapv(|v| v as f32).view()),
            Some(all) => {
                let rows: Vec<usize> = ks
                    .iter()
                    .flat_map(|&k| (0..IMAGES).map(move |i| k * IMAGES + i))
                    .collect();
                let (m, s, _) =
                    super::images::predict_images(model, all.select(Axis(0), &rows).view())?;
                Ok((m, s))
            }
        }
    }
}

/// Anchors [n, 6] of labelled records, NaN where missing.
fn anchors_of<'a>(records: impl Iterator<Item = &'a Record>) -> Result<Array2<f64>> {
    let rows = records
        .map(|r| {
            let l = r
                .label
                .as_ref()
                .ok_or_else(|| LearnError::msg(format!("record {} has no label", r.id)))?;
            Ok(l.anchors.map(|a| a.unwrap_or(f64::NAN)).to_vec())
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Array2::from_shape_vec((rows.len(), 6), rows.concat()).expect("six anchors per row"))
}

/// The spec of the labelled records: the pool's own when it is labelled (and revealed),
/// else the pool's generator with `solver`.
fn labelled_spec(pool: &DatasetView, cfg: &ActiveConfig) -> Result<Spec> {
    let spec = pool.dataset().spec();
    if spec.labelled() && cfg.reveal {
        return Ok(spec.clone());
    }
    let solver = cfg
        .solver
        .clone()
        .or_else(|| spec.solver.clone())
        .ok_or_else(|| LearnError::msg("an unlabelled pool needs solver settings"))?;
    Spec::new(spec.generator.clone(), spec.count, Some(solver), spec.shard).map_err(data_err)
}

fn settings_of(
    pool: &DatasetView,
    test: &DatasetView,
    spec: &Spec,
    cfg: &ActiveConfig,
) -> serde_json::Value {
    let hex = |b: &[u8]| b.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let ids = |v: &DatasetView| {
        use sha2::Digest;
        let bytes: Vec<u8> = v.ids().iter().flat_map(|i| i.to_le_bytes()).collect();
        hex(&sha2::Sha256::digest(bytes))
    };
    let mut settings = serde_json::json!({
        "acquisition": cfg.acquisition.name(),
        "per_round": cfg.per_round,
        "initial": cfg.initial,
        "seed": cfg.seed,
        "model": format!("{:?}", cfg.model),
        "train": format!("{:?}", cfg.train),
        "reveal": cfg.reveal && pool.dataset().labelled(),
        "labelled_spec": hex(&fingerprint(spec)),
        "pool": { "records": pool.len(), "ids_sha256": ids(pool) },
        "test": { "records": test.len(), "ids_sha256": ids(test),
                  "base_seed": test.dataset().spec().generator.base_seed },
    });
    // Only when set, so that loops from before coarse descriptors resume.
    if let Some(c) = cfg.descriptors.coarse {
        settings["coarse"] = c.factor.into();
        if c.exchange != crate::grains::CoarseExchange::Kept {
            settings["coarse_exchange"] = c.exchange.name().into();
        }
        if c.anisotropy != crate::grains::CoarseAnisotropy::Majority {
            settings["coarse_anisotropy"] = c.anisotropy.name().into();
        }
    }
    if cfg.images {
        settings["images"] = true.into();
    }
    settings
}

/// Refuses a rerun in `dir` with other settings, naming the keys that differ.
fn check_settings(dir: &Path, old: &serde_json::Value, new: &serde_json::Value) -> Result<()> {
    if old == new {
        return Ok(());
    }
    let differ = crate::data::generate::differing_keys(old, new);
    Err(LearnError::msg(format!(
        "{} holds an active-learning loop with other settings ({}); use another directory",
        dir.display(),
        differ
    )))
}

fn write_state(dir: &Path, state: &ActiveState, labelled: &BTreeMap<u64, Record>) -> Result<()> {
    let mut json = serde_json::to_vec_pretty(state)?;
    json.push(b'\n');
    let mut csv = String::from("id,round");
    for a in &state.anchors {
        csv.push(',');
        csv.push_str(a);
    }
    csv.push('\n');
    for r in &state.rounds {
        for id in &r.batch {
            let Some(rec) = labelled.get(id) else {
                continue;
            };
            csv.push_str(&format!("{id},{}", r.round));
            for a in rec.label.as_ref().map(|l| l.anchors).unwrap_or([None; 6]) {
                csv.push(',');
                if let Some(a) = a {
                    csv.push_str(&a.to_string());
                }
            }
            csv.push('\n');
        }
    }
    crate::fsio::write(dir.join(TABLE), csv)?;
    crate::fsio::write(dir.join(STATE), json)?;
    Ok(())
}

/// Labels the records of `ids` not yet in `labelled` (pool positions by id in `pos_of`),
/// appending each to the log as it finishes.
fn label(
    pool: &DatasetView,
    spec: &Spec,
    reveal: bool,
    ids: &[u64],
    pos_of: &BTreeMap<u64, usize>,
    log: &mut Log,
    labelled: &mut BTreeMap<u64, Record>,
) -> Result<()> {
    let pending: Vec<u64> = ids
        .iter()
        .copied()
        .filter(|id| !labelled.contains_key(id))
        .collect();
    if pending.is_empty() {
        return Ok(());
    }
    let data = pool.dataset();
    if reveal {
        let records: Vec<Record> = pending
            .iter()
            .map(|id| data.record(pos_of[id]).clone())
            .collect();
        log.append(&records).map_err(data_err)?;
        log.sync().map_err(data_err)?;
        labelled.extend(records.into_iter().map(|r| (r.id, r)));
        return Ok(());
    }
    let solver = spec.solver.as_ref().expect("a labelled spec");
    let first = data.structure(pos_of[&pending[0]]).map_err(data_err)?;
    let problem = first.problem(solver).map_err(data_err)?;
    let kernel =
        DemagKernel::cached(problem.mesh(), solver.sweep.min.precision).map_err(data_err)?;
    // Loops of other acquisitions or seeds on the same pool share their curves through it.
    let cache = crate::settings::curve_cache().map(crate::solver::cache::CurveCache::at);
    let progress = Progress::new(pending.len() as u64, "curves");
    let state = Mutex::new((log, Vec::new()));
    let result = pending.par_iter().try_for_each(|&id| -> Result<()> {
        crate::interrupt::check().map_err(data_err)?;
        let r = crate::data::generate::make_record_cached(
            data.sample(),
            id,
            Some((spec, &kernel)),
            cache.as_ref(),
        )
        .map_err(data_err)?;
        let mut g = state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        g.0.append(std::slice::from_ref(&r)).map_err(data_err)?;
        g.1.push(r);
        progress.inc(1);
        Ok(())
    });
    let (log, made) = state
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // What finished reaches the disk whatever happened.
    log.sync().map_err(data_err)?;
    progress.finish();
    labelled.extend(made.into_iter().map(|r| (r.id, r)));
    result
}

/// Runs (or resumes, or finds finished) the loop in `dir` on the records of `pool`, judged
/// on the labelled records of `test`. Returns the state, as written to `dir/active.json`.
pub fn run(
    pool: &DatasetView,
    test: &DatasetView,
    dir: &Path,
    cfg: &ActiveConfig,
    device: tch::Device,
) -> Result<ActiveState> {
    let bad = |m: String| Err(LearnError::msg(m));
    if cfg.per_round == 0 || cfg.initial == 0 {
        return bad("per_round and initial must be at least 1".into());
    }
    if cfg.initial < 2 * cfg.train.members {
        return bad(format!(
            "{} members need at least {} initial labels, got {}",
            cfg.train.members,
            2 * cfg.train.members,
            cfg.initial
        ));
    }
    let wanted = cfg.initial + cfg.rounds * cfg.per_round;
    if wanted > pool.len() {
        return bad(format!(
            "{} labels asked ({} + {} rounds × {}) but the pool holds {} records",
            wanted,
            cfg.initial,
            cfg.rounds,
            cfg.per_round,
            pool.len()
        ));
    }
    if !test.dataset().labelled() || test.is_empty() {
        return bad("the test set must be labelled records".into());
    }
    // A structure in both pool and test would leak its label into the score.
    let test_seeds: std::collections::HashSet<u64> =
        (0..test.len()).map(|k| test.record(k).seed).collect();
    if let Some(k) = (0..pool.len()).find(|&k| test_seeds.contains(&pool.record(k).seed)) {
        return bad(format!(
            "pool record {} is also in the test set (same structure seed): use disjoint sets",
            pool.record(k).id
        ));
    }
    let spec = labelled_spec(pool, cfg)?;
    let reveal = cfg.reveal && pool.dataset().labelled();
    let settings = settings_of(pool, test, &spec, cfg);
    std::fs::create_dir_all(dir)?;
    let _lock = Lock::take(&dir.join("lock")).map_err(data_err)?;
    let mut state = if dir.join(STATE).exists() {
        let s = ActiveState::read(dir)?;
        check_settings(dir, &s.settings, &settings)?;
        s
    } else {
        ActiveState {
            format: FORMAT.into(),
            settings,
            acquisition: cfg.acquisition.name().into(),
            seed: cfg.seed,
            anchors: super::regressor::anchor_names(),
            rounds: vec![],
        }
    };
    let fp = fingerprint(&spec);
    crate::data::log::check_fingerprint(&dir.join(LOG), &fp).map_err(data_err)?;
    let rec = Log::recover(&dir.join(LOG), spec.steps, spec.ids[0]..spec.ids[1], &fp)
        .map_err(data_err)?;
    let mut log = rec.log;
    let mut labelled: BTreeMap<u64, Record> = rec.records.into_iter().map(|r| (r.id, r)).collect();
    let chosen: std::collections::HashSet<u64> = state
        .rounds
        .iter()
        .flat_map(|r| r.batch.iter().copied())
        .collect();
    if let Some(id) = labelled.keys().find(|id| !chosen.contains(id)) {
        return bad(format!(
            "{}: record {id} is in the log but in no round of {STATE}: not a crash's leftover",
            dir.display()
        ));
    }

    let ids = pool.ids();
    let pos_of: BTreeMap<u64, usize> = ids
        .iter()
        .enumerate()
        .map(|(k, &id)| (id, pool.rows()[k]))
        .collect();
    let pool_in = Inputs::of(pool, &cfg.descriptors, cfg.images)?;
    let test_in = Inputs::of(test, &cfg.descriptors, cfg.images)?;
    let x_pool = &pool_in.own;
    let all_test: Vec<usize> = (0..test.len()).collect();
    let y_test = anchors_of((0..test.len()).map(|k| test.record(k)))?;
    let z_pool = acquisition::standardise(x_pool.view(), x_pool.view());
    let row_of: BTreeMap<u64, usize> = ids.iter().enumerate().map(|(k, &id)| (id, k)).collect();
    let priors = if cfg.train.priors.is_empty() {
        let mut p = vec![None; cfg.model.targets.len()];
        for (a, col) in crate::grains::anchor_priors() {
            if let Some(t) = cfg.model.targets.iter().position(|t| t == a) {
                p[t] = Some(col);
            }
        }
        p
    } else {
        cfg.train.priors.clone()
    };

    if state.rounds.is_empty() {
        let batch = acquisition::random(
            ids.len(),
            cfg.initial,
            crate::grains::rng::splitmix64(cfg.seed, 0),
        )
        .into_iter()
        .map(|k| ids[k])
        .collect();
        state.rounds.push(RoundState {
            round: 0,
            batch,
            labels: cfg.initial,
            mae: None,
        });
        write_state(dir, &state, &labelled)?;
    }
    let progress = Progress::new(cfg.rounds as u64 + 1, "rounds");
    progress.inc(state.rounds.iter().filter(|r| r.mae.is_some()).count() as u64);
    loop {
        let r = state.rounds.len() - 1;
        let done = state.rounds[r].mae.is_some();
        if done && r >= cfg.rounds {
            break;
        }
        let batch = state.rounds[r].batch.clone();
        progress.set_message(format!("round {r}: labelling {}", batch.len()));
        label(
            pool,
            &spec,
            reveal,
            &batch,
            &pos_of,
            &mut log,
            &mut labelled,
        )?;
        // Training rows in the order chosen.
        let order: Vec<u64> = state
            .rounds
            .iter()
            .flat_map(|r| r.batch.iter().copied())
            .collect();
        let x: Array2<f32> = x_pool
            .select(
                Axis(0),
                &order.iter().map(|id| row_of[id]).collect::<Vec<_>>(),
            )
            .mapv(|v| v as f32);
        let y = anchors_of(order.iter().map(|id| &labelled[id]))?;
        progress.set_message(format!("round {r}: training on {} labels", order.len()));
        let train = EnsembleTrain {
            seed: crate::grains::rng::splitmix64(
                cfg.train.seed,
                crate::grains::rng::splitmix64(cfg.seed, 0x7a1 + r as u64),
            ),
            priors: priors.clone(),
            ..cfg.train.clone()
        };
        let model = Ensemble::train(cfg.model.clone(), x.view(), y.view(), &train, device)?;
        if !done {
            let (pred, _) = test_in.predict(&model, &all_test)?;
            state.rounds[r].mae = Some(metrics::mae(pred.view(), y_test.view()));
            progress.inc(1);
        }
        if r < cfg.rounds {
            let taken: std::collections::HashSet<u64> = order.iter().copied().collect();
            let cand: Vec<usize> = (0..ids.len())
                .filter(|&k| !taken.contains(&ids[k]))
                .collect();
            let k = cfg.per_round;
            let picks = match cfg.acquisition {
                Acquisition::Random => acquisition::random(
                    cand.len(),
                    k,
                    crate::grains::rng::splitmix64(cfg.seed, 1 + r as u64),
                ),
                Acquisition::Uncertainty | Acquisition::Diverse => {
                    let (_, sigma) = pool_in.predict(&model, &cand)?;
                    let s = acquisition::scores(sigma.view());
                    if cfg.acquisition == Acquisition::Uncertainty {
                        acquisition::top(&s, k)
                    } else {
                        let zl = z_pool.select(
                            Axis(0),
                            &order.iter().map(|id| row_of[id]).collect::<Vec<_>>(),
                        );
                        acquisition::diverse(z_pool.select(Axis(0), &cand).view(), zl.view(), &s, k)
                    }
                }
            };
            let batch: Vec<u64> = picks.into_iter().map(|p| ids[cand[p]]).collect();
            let labels = order.len() + batch.len();
            state.rounds.push(RoundState {
                round: r + 1,
                batch,
                labels,
                mae: None,
            });
        }
        write_state(dir, &state, &labelled)?;
    }
    progress.finish();
    Ok(state)
}

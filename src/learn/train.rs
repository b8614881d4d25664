//! What the networks share in training: the per-epoch history, progress, Ctrl-C
//! with a roll-back to the last finished epoch, and seeding.

use super::nadam::{Moments, NAdam, NAdamScalars};
use super::{LearnError, Result};
use serde::{Deserialize, Serialize};
use tch::{Tensor, nn::VarStore};

/// One finished epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch number over the model's whole life (resumed runs continue counting).
    pub epoch: usize,
    /// Mean training loss over the epoch's batches.
    pub loss: f64,
    /// Further named losses (VAE: reconstruction, kl; regressor: validation).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub parts: std::collections::BTreeMap<String, f64>,
    pub seconds: f64,
    pub samples: usize,
}

/// How a network is fitted, for every model that trains on rows with k-fold CV for the
/// epoch count (the regressor, the graph network, ensemble members).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fit {
    /// Epochs of the final fit without CV; the most epochs tried per fold with CV.
    pub epochs: usize,
    /// Folds of the cross-validation (0 or 1: no CV, train `epochs` epochs).
    pub folds: usize,
    /// Rows (or graphs) per batch.
    pub batch: usize,
    pub lr: f64,
    pub seed: u64,
}

/// Seeds libtorch's generator from (seed, epoch), so that a resumed run draws what an
/// uninterrupted one would.
pub fn seed_torch(seed: u64, epoch: u64) {
    tch::manual_seed(crate::grains::rng::splitmix64(seed, epoch) as i64 & i64::MAX);
}

/// Copies of the weights and optimiser state at the start of an epoch.
pub struct Snapshot {
    weights: Vec<(Tensor, Tensor)>,
    optim: (NAdamScalars, Moments),
}

impl Snapshot {
    pub fn take(vs: &VarStore, opt: &NAdam) -> Snapshot {
        let weights = vs
            .trainable_variables()
            .into_iter()
            .map(|t| {
                let c = t.detach().copy();
                (t, c)
            })
            .collect();
        Snapshot {
            weights,
            optim: opt.snapshot(),
        }
    }

    pub fn restore(self, opt: &mut NAdam) {
        tch::no_grad(|| {
            for (mut t, c) in self.weights {
                t.copy_(&c);
            }
        });
        opt.restore(self.optim);
    }
}

/// What a stop in epoch `e` keeps: the weights of epoch e − 1.
fn kept(e: usize) -> String {
    if e > 1 {
        format!("epoch {}", e - 1)
    } else {
        "its state before training".into()
    }
}

/// Ctrl-C in epoch `e`.
fn interrupted(e: usize) -> LearnError {
    LearnError::Interrupted {
        epoch: e,
        kept: kept(e),
    }
}

/// `fit.epochs` mini-batch epochs of `fit.batch` rows over `train_ids` (shuffled per epoch
/// from `fit.seed`; `fit.lr` is the optimiser's, `fit.folds` is not read): `step(opt, ids)`
/// trains one batch and returns its mean loss; `validate()`, when given, scores the
/// epoch's weights on held-out rows (recorded as `validation`). With `keep_best` the
/// weights of the least validation loss are restored at the end and their epoch returned;
/// otherwise the last epoch. The loop both networks' training shares.
#[allow(clippy::too_many_arguments)]
pub fn fit_batches(
    vs: &VarStore,
    opt: &mut NAdam,
    label: &str,
    fit: &Fit,
    train_ids: &[usize],
    history: &mut Vec<EpochRecord>,
    mut step: impl FnMut(&mut NAdam, &[usize]) -> f64,
    mut validate: Option<&mut dyn FnMut() -> f64>,
    keep_best: bool,
) -> Result<usize> {
    let (batch, seed) = (fit.batch.max(1), fit.seed);
    let mut best: Option<(usize, f64, Snapshot)> = None;
    run_epochs(
        vs,
        opt,
        label,
        fit.epochs,
        train_ids.len().div_ceil(batch),
        history,
        |e, opt, tick| {
            let start = std::time::Instant::now();
            let order = crate::grains::epoch_order(train_ids, seed, e as u64);
            let mut sum = 0.0;
            for ids in order.chunks(batch) {
                let loss = step(opt, ids);
                sum += loss * ids.len() as f64;
                tick(loss)?;
            }
            let mut parts = std::collections::BTreeMap::new();
            if let Some(v) = validate.as_mut() {
                let l = v();
                parts.insert("validation".to_string(), l);
                if keep_best && l.is_finite() && best.as_ref().is_none_or(|b| l < b.1) {
                    best = Some((e, l, Snapshot::take(vs, opt)));
                }
            }
            Ok(EpochRecord {
                epoch: e,
                loss: sum / train_ids.len() as f64,
                parts,
                seconds: start.elapsed().as_secs_f64(),
                samples: train_ids.len(),
            })
        },
    )?;
    let last = history.last().map_or(0, |r| r.epoch);
    Ok(match best {
        Some((e, _, snapshot)) => {
            snapshot.restore(opt);
            e
        }
        None => last,
    })
}

/// How many times its first value (or 1, for a loss that began below 1) a loss may rise to
/// before the run counts as diverged. Learning-rate noise moves a loss by a few times; a run
/// at 10⁶ has weights that no longer mean anything.
const BLOW_UP: f64 = 1e6;

/// Why `loss` counts as diverged from a run that began at `first`, if it does.
fn blown_up(first: f64, loss: f64) -> Option<String> {
    let limit = BLOW_UP * first.abs().max(1.0);
    (loss.abs() > limit).then(|| format!(" (over {BLOW_UP:e} times its first value {first:.4})"))
}

/// Runs `epochs` epochs numbered from `history.len() + 1`: `epoch(e, opt, tick)` trains one
/// epoch, calling `tick(loss)` after every batch with that batch's loss (progress, Ctrl-C
/// and a non-finite or blown-up loss as errors), and returns its record, which is appended to
/// `history`. On Ctrl-C or any error inside an epoch the weights and optimiser state roll
/// back to the end of the last finished epoch.
pub fn run_epochs<F>(
    vs: &VarStore,
    opt: &mut NAdam,
    label: &str,
    epochs: usize,
    batches_per_epoch: usize,
    history: &mut Vec<EpochRecord>,
    mut epoch: F,
) -> Result<()>
where
    F: FnMut(usize, &mut NAdam, &mut dyn FnMut(f64) -> Result<()>) -> Result<EpochRecord>,
{
    let progress = crate::progress::Progress::new((epochs * batches_per_epoch) as u64, label);
    let lr = opt.config.lr;
    // The first batch's loss of this run: a loss far above it is a run that has left its
    // basin for good, even while it stays finite.
    let mut first: Option<f64> = None;
    for _ in 0..epochs {
        let e = history.len() + 1;
        let snapshot = Snapshot::take(vs, opt);
        let mut step = 0;
        let diverged = |step: usize, loss: f64, why: String| LearnError::Diverged {
            epoch: e,
            step,
            loss,
            why,
            lr,
            kept: kept(e),
        };
        let mut tick = |loss: f64| {
            step += 1;
            progress.inc(1);
            crate::interrupt::check().map_err(|_| interrupted(e))?;
            // NaN weights would otherwise train on silently and predict nothing but NaN.
            if !loss.is_finite() {
                return Err(diverged(step, loss, String::new()));
            }
            let start = *first.get_or_insert(loss);
            match blown_up(start, loss) {
                Some(why) => Err(diverged(step, loss, why)),
                None => Ok(()),
            }
        };
        let result = epoch(e, opt, &mut tick).and_then(|r| {
            let bad = r.parts.values().find(|v| !v.is_finite());
            match bad.or((!r.loss.is_finite()).then_some(&r.loss)) {
                Some(&v) => Err(diverged(batches_per_epoch, v, String::new())),
                None => Ok(r),
            }
        });
        match result {
            Ok(record) => {
                progress.set_message(format!("epoch {e} loss {:.4e}", record.loss));
                history.push(record);
            }
            Err(err) => {
                snapshot.restore(opt);
                crate::memory::release();
                // A source that stopped on Ctrl-C reports it as its own error.
                let interrupt = crate::interrupt::requested();
                return Err(if interrupt { interrupted(e) } else { err });
            }
        }
    }
    progress.finish();
    crate::memory::release();
    Ok(())
}

/// Runs `f` with libtorch's intra-op pool at `n` threads, then restores the pool's size.
pub fn with_torch_threads<R>(n: i32, f: impl FnOnce() -> R) -> R {
    let before = tch::get_num_threads();
    tch::set_num_threads(n);
    let r = f();
    tch::set_num_threads(before);
    r
}

/// Mean of a scalar loss tensor as f64.
pub fn scalar(t: &Tensor) -> f64 {
    t.double_value(&[])
}

#[cfg(test)]
mod tests {
    use super::blown_up;

    #[test]
    fn a_loss_counts_as_blown_up_only_far_above_where_it_began() {
        // A run that began at 0.5 is judged against 1 (the floor): 1e6 is the limit.
        assert!(blown_up(0.5, 9e5).is_none());
        assert!(blown_up(0.5, 2e6).is_some());
        // One that began high is judged against its own start.
        assert!(blown_up(40.0, 3e7).is_none());
        assert!(blown_up(40.0, 5e7).is_some());
        // Falling, or noise of a few times, is never divergence.
        assert!(blown_up(1.0, 1e-3).is_none());
        assert!(blown_up(1.0, 5.0).is_none());
        let why = blown_up(0.9606, 6.1e26).unwrap();
        assert!(why.contains("times its first value 0.9606"), "{why}");
    }
}

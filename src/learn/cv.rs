//! k-fold cross-validation for the epoch count (paper §3.2): folds stable by seed, one
//! validation-loss history per fold, and the epoch of least mean validation loss.

use super::error::ensure;
use super::train::Fit;
use super::{LearnError, Result};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// The cross-validation behind the epoch count.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CvReport {
    pub folds: usize,
    /// Validation loss (standardised units) per fold and epoch.
    pub validation: Vec<Vec<f64>>,
    pub mean: Vec<f64>,
    pub best_epochs: usize,
}

/// A model chosen by [`cross_validate`]: fitted on all rows, with its CV report and (when
/// asked for) the fold models, each at its least validation loss.
pub struct CvFit<M> {
    pub model: M,
    pub report: CvReport,
    pub folds: Vec<M>,
}

/// k-fold CV over `n` rows for the epoch count, then a fresh model fitted on all rows for
/// that count (paper §3.2). `new(seed)` builds an untrained model; `fit(model, train_ids,
/// val_ids, fit, label)` trains it for `fit.epochs` epochs and returns the validation loss
/// per epoch (empty without `val_ids`). Fold f's model is seeded from (seed, f), the final
/// one from the seed itself. Needs `fit.folds ≥ 2`.
pub fn cross_validate<M>(
    n: usize,
    fit: &Fit,
    keep_folds: bool,
    label: &str,
    new: impl Fn(u64) -> Result<M>,
    mut train: impl FnMut(&mut M, &[usize], Option<&[usize]>, &Fit, &str) -> Result<Vec<f64>>,
) -> Result<CvFit<M>> {
    ensure(n >= fit.folds, || {
        format!(
            "{} folds need at least {} rows, got {n}",
            fit.folds, fit.folds
        )
    })?;
    let folds = folds(n, fit.folds, fit.seed);
    let (mut validation, mut kept) = (vec![], vec![]);
    for f in 0..folds.len() {
        let mut m = new(crate::grains::rng::splitmix64(fit.seed, f as u64))?;
        let fold_label = format!("cv fold {}/{}", f + 1, folds.len());
        validation.push(train(
            &mut m,
            &complement(&folds, f),
            Some(&folds[f]),
            fit,
            &fold_label,
        )?);
        if keep_folds {
            kept.push(m);
        }
    }
    let best = best_epoch(&validation)
        .ok_or_else(|| LearnError::msg("cross-validation produced no finite validation loss"))?;
    let mut model = new(fit.seed)?;
    let all: Vec<usize> = (0..n).collect();
    train(
        &mut model,
        &all,
        None,
        &Fit {
            epochs: best,
            ..*fit
        },
        label,
    )?;
    Ok(CvFit {
        model,
        report: CvReport {
            folds: folds.len(),
            mean: mean_curve(&validation),
            validation,
            best_epochs: best,
        },
        folds: kept,
    })
}

/// `k` disjoint folds covering `0..n` (sizes differ by at most one), from a seeded shuffle.
pub fn folds(n: usize, k: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(
        crate::grains::rng::splitmix64(seed, 0xf01d),
    ));
    let k = k.clamp(1, n.max(1));
    (0..k)
        .map(|f| order.iter().skip(f).step_by(k).copied().collect())
        .collect()
}

/// The records outside fold `f`.
pub fn complement(folds: &[Vec<usize>], f: usize) -> Vec<usize> {
    let mut ids: Vec<usize> = folds
        .iter()
        .enumerate()
        .filter(|(g, _)| *g != f)
        .flat_map(|(_, v)| v.iter().copied())
        .collect();
    ids.sort_unstable();
    ids
}

/// Mean over folds of the validation loss per epoch (histories may differ in length when a
/// fold was cut short: the mean runs over the common length).
pub fn mean_curve(histories: &[Vec<f64>]) -> Vec<f64> {
    let len = histories.iter().map(Vec::len).min().unwrap_or(0);
    (0..len)
        .map(|e| histories.iter().map(|h| h[e]).sum::<f64>() / histories.len() as f64)
        .collect()
}

/// The epoch count (1-based) with the least mean validation loss; the earliest on ties,
/// NaN losses never chosen. `None` when there is no epoch.
pub fn best_epoch(histories: &[Vec<f64>]) -> Option<usize> {
    mean_curve(histories)
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_finite())
        .min_by(|a, b| a.1.total_cmp(b.1))
        .map(|(e, _)| e + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_partition_and_are_stable_by_seed() {
        let f = folds(10, 4, 3);
        assert_eq!(f.iter().map(Vec::len).collect::<Vec<_>>(), vec![3, 3, 2, 2]);
        let mut all: Vec<usize> = f.iter().flatten().copied().collect();
        all.sort();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        assert_eq!(folds(10, 4, 3), f);
        assert_ne!(folds(10, 4, 4), f);
        assert_eq!(complement(&f, 0).len(), 7);
    }

    #[test]
    fn cv_picks_the_epoch_of_least_mean_validation_loss() {
        // Fold minima at epochs 2, 4 and 5; the mean is least at epoch 4.
        let h = vec![
            vec![5.0, 1.0, 2.0, 2.5, 3.0, 4.0],
            vec![5.0, 4.0, 3.0, 1.0, 2.0, 3.0],
            vec![5.0, 4.0, 3.0, 2.0, 1.0, 3.0],
        ];
        let mean = mean_curve(&h);
        assert_eq!(mean[3], 5.5 / 3.0);
        assert_eq!(best_epoch(&h), Some(4));
        let argmin = mean
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.partial_cmp(b.1).unwrap())
            .unwrap()
            .0;
        assert_eq!(best_epoch(&h), Some(argmin + 1));
        assert_eq!(best_epoch(&[vec![f64::NAN, 2.0]]), Some(2));
        assert_eq!(best_epoch(&[]), None);
    }
}

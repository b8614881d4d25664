//! Ensembles of regressors with an uncertainty. Member f of k is trained on every training
//! row outside fold f, from its own seed, and keeps the weights of its least loss on fold f
//! (k-fold bagging with early stopping: no row is held back from the ensemble as a whole).
//! Beside its network each member holds boosted trees per target fitted on the same rows
//! and stopped early on the same fold, and a Gaussian process per target on the same rows;
//! the member predicts a blend of the three with weights per target chosen on the
//! out-of-fold predictions (trees win where thresholds matter, the GP and the network
//! where the response is smooth). The prediction is the members' mean — ordered like the anchors, since each
//! member's is and the ordered set is convex. The uncertainty is the size of a member's
//! error expected at the input, learnt by small trees from the out-of-fold residuals, times
//! a factor per target calibrated on those residuals.
//!
//! Why not the members' spread: on a training row all members but one have seen the label,
//! so the spread there mostly measures the one honest member's own error and the residuals
//! standardised by it are bounded (|r|/spread ≲ k/√(k−1)). A factor fitted on them to both
//! levels covered 90.5 % at ±2σ on an inner validation split, one fitted to the 2σ level
//! alone 79 %; the error model gives 95–96 % there (3 seeds). It is cross-fitted with the
//! same folds, so every residual is standardised by a scale that never saw it.

use super::boosting::{BoostConfig, Boosted};
use super::cv;
use super::error::ensure;
use super::gp::{Gp, GpConfig};
use super::regressor::{Regressor, RegressorConfig};
use super::scaler::Scaler;
use super::train::Fit;
use super::{LearnError, Result};
use ndarray::{Array2, ArrayView1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tch::Device;

/// Options of [`Ensemble::train`].
#[derive(Clone, Debug, PartialEq)]
pub struct EnsembleTrain {
    /// Members, = folds (≥ 2).
    pub members: usize,
    /// Most epochs per member (each keeps its best epoch on its held-out fold).
    pub epochs: usize,
    pub batch: usize,
    pub lr: f64,
    pub seed: u64,
    /// Boosted trees beside each member's network (`None`: none).
    pub trees: Option<BoostConfig>,
    /// A Gaussian process per target beside each member's network (`None`: none).
    pub gp: Option<GpConfig>,
    /// Per target, an input column holding a prior estimate of it (trees may learn the
    /// correction to it instead of the target; out-of-fold error decides). Empty: none.
    pub priors: Vec<Option<usize>>,
}

impl Default for EnsembleTrain {
    fn default() -> Self {
        EnsembleTrain {
            members: 8,
            epochs: 150,
            batch: 32,
            lr: 2e-3,
            seed: 0,
            trees: Some(BoostConfig::default()),
            gp: Some(GpConfig::default()),
            priors: vec![],
        }
    }
}

/// Blend weights tried per target, in steps of 1/BLEND_STEPS: trees and GP each from 0 to
/// 1, the network taking the rest.
const BLEND_STEPS: usize = 20;

/// What training learnt about the ensemble besides its weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnsembleReport {
    /// Epoch each member kept.
    pub best_epochs: Vec<usize>,
    /// Per target: σ = factor × the error scale (the member spread for checkpoints made
    /// before error models, or for a target without enough labels for one).
    pub calibration: Vec<f64>,
    /// Per target: mean absolute out-of-fold error of single members (units of the target).
    pub oof_mae: Vec<f64>,
    /// Per target: the trees' weight in each member's prediction (0 = network only).
    #[serde(default)]
    pub blend: Vec<f64>,
    /// Per target: the GP's weight in each member's prediction (empty: no GPs, as in
    /// checkpoints made before them).
    #[serde(default)]
    pub gp_blend: Vec<f64>,
}

/// The members' Gaussian processes and the inputs they were fitted on (kept once for all).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GpPart {
    /// Of the training inputs: the GPs see standardised inputs.
    pub scaler: Scaler,
    /// The standardised training inputs, row-major [rows, inputs].
    pub x: Vec<f64>,
    pub rows: usize,
    /// Per member, per target.
    pub models: Vec<Vec<Gp>>,
}

impl GpPart {
    fn standardise(&self, x: ArrayView2<f32>) -> Array2<f64> {
        self.scaler.transform(x.mapv(f64::from).view())
    }

    fn train_x(&self) -> ArrayView2<'_, f64> {
        ArrayView2::from_shape((self.rows, self.scaler.mean.len()), &self.x).expect("checked shape")
    }

    /// Member `f`'s GP predictions at standardised `q`, [m, targets].
    fn predict(&self, f: usize, q: ArrayView2<f64>) -> Array2<f64> {
        let models = &self.models[f];
        let mut p = Array2::zeros((q.nrows(), models.len()));
        for (t, gp) in models.iter().enumerate() {
            p.column_mut(t)
                .assign(&ndarray::Array1::from(gp.predict(self.train_x(), q)));
        }
        p
    }

    /// Fits member f's GPs on the rows outside fold f, every member and target at once.
    fn fit(
        x: ArrayView2<f32>,
        y: ArrayView2<f64>,
        folds: &[Vec<usize>],
        cfg: &GpConfig,
    ) -> Result<GpPart> {
        use rayon::prelude::*;
        let mut part = GpPart {
            scaler: Scaler::fit(x.mapv(f64::from).view()),
            x: vec![],
            rows: x.nrows(),
            models: vec![],
        };
        let xs = part.standardise(x);
        let jobs: Vec<(usize, usize)> = (0..folds.len())
            .flat_map(|f| (0..y.ncols()).map(move |t| (f, t)))
            .collect();
        let side_by_side = rayon::current_num_threads().min(jobs.len()) as u128;
        crate::memory::check(
            &format!("GPs on {} rows", x.nrows()),
            side_by_side * Gp::memory(x.nrows(), cfg),
        )
        .map_err(super::LearnError::Msg)?;
        let progress = crate::progress::Progress::new(jobs.len() as u64, "GPs");
        let fitted = jobs
            .par_iter()
            .map(|&(f, t)| {
                let col = y.column(t).to_vec();
                let gp = Gp::fit(xs.view(), &col, &cv::complement(folds, f), cfg);
                progress.inc(1);
                gp
            })
            .collect::<Result<Vec<_>>>()?;
        progress.finish();
        let mut fitted = fitted.into_iter();
        part.models = (0..folds.len())
            .map(|_| {
                (0..y.ncols())
                    .map(|_| fitted.next().expect("one per job"))
                    .collect()
            })
            .collect();
        part.x = xs.into_raw_vec_and_offset().0;
        Ok(part)
    }

    /// Whether it fits an ensemble of `members` members, `targets` targets and `inputs`
    /// inputs.
    fn fits(&self, members: usize, targets: usize, inputs: usize) -> bool {
        self.scaler.fits(inputs)
            && self.scaler.std.iter().all(|s| s.is_finite() && *s > 0.0)
            && self.x.len() == self.rows * inputs
            && self.models.len() == members
            && self
                .models
                .iter()
                .all(|m| m.len() == targets && m.iter().all(|g| g.fits(self.rows, inputs)))
    }
}

pub struct Ensemble {
    pub config: RegressorConfig,
    pub members: Vec<Regressor>,
    /// Per member, per target (empty without trees).
    pub trees: Vec<Vec<Boosted>>,
    /// The members' Gaussian processes (`None` without).
    pub gp: Option<GpPart>,
    /// Per target: the expected |error| of a member (`None`: too few labels, or a
    /// checkpoint from before error models; σ then follows the member spread).
    pub error_models: Vec<Option<ErrorModel>>,
    pub report: EnsembleReport,
    /// What each input column is (e.g. the descriptor names), when the trainer said so: a
    /// checkpoint then keeps what its inputs must be.
    pub columns: Option<Vec<String>>,
}

/// The size of a member's error as a function of the inputs, for one target: boosted trees
/// on the out-of-fold |residual|, one per fold, fitted without that fold's rows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorModel {
    pub folds: Vec<Boosted>,
    /// Smallest scale returned (a tenth of the mean |residual|), so that no input is
    /// claimed certain.
    pub floor: f64,
}

/// Small and heavily shrunk: |residual| is a noisy target.
fn error_model_config() -> BoostConfig {
    BoostConfig {
        trees: 100,
        depth: 2,
        learning_rate: 0.05,
        subsample: 0.8,
        min_leaf: 8,
    }
}

impl ErrorModel {
    /// Fitted on residuals `r` (non-finite: missing); `None` when a fold lacks residuals
    /// outside it to fit on.
    fn fit(
        x: ArrayView2<f32>,
        r: &[f64],
        folds: &[Vec<usize>],
        seed: u64,
    ) -> Result<Option<ErrorModel>> {
        let size: Vec<f64> = r.iter().map(|v| v.abs()).collect();
        let finite = size.iter().filter(|v| v.is_finite()).count();
        if finite < 4 * folds.len() {
            return Ok(None);
        }
        let floor = 0.1 * mean_abs(r);
        let cfg = error_model_config();
        let fitted = folds
            .iter()
            .enumerate()
            .map(|(f, rows)| {
                let mut col = size.clone();
                for &i in rows {
                    col[i] = f64::NAN;
                }
                if col.iter().all(|v| !v.is_finite()) {
                    return Ok(None);
                }
                let seed = crate::grains::rng::splitmix64(seed, 0xe770 + f as u64);
                Boosted::fit(x, &col, None, &cfg, seed).map(Some)
            })
            .collect::<Result<Option<Vec<_>>>>()?;
        Ok(fitted.map(|folds| ErrorModel { folds, floor }))
    }

    /// Each fold's model on its own rows: a scale for every row that never saw its residual.
    fn out_of_fold(&self, x: ArrayView2<f32>, folds: &[Vec<usize>]) -> Vec<f64> {
        let mut s = vec![f64::NAN; x.nrows()];
        for (m, rows) in self.folds.iter().zip(folds) {
            let p = m.predict(x.select(Axis(0), rows).view());
            for (&i, v) in rows.iter().zip(p) {
                s[i] = v.max(self.floor);
            }
        }
        s
    }

    /// The folds' mean at each row of `x`.
    fn scale(&self, x: ArrayView2<f32>) -> Vec<f64> {
        let k = self.folds.len() as f64;
        let mut s = vec![0.0; x.nrows()];
        for m in &self.folds {
            for (a, v) in s.iter_mut().zip(m.predict(x)) {
                *a += v / k;
            }
        }
        s.into_iter().map(|v| v.max(self.floor)).collect()
    }
}

/// Mean of the finite values' magnitudes (0 when none).
fn mean_abs(r: &[f64]) -> f64 {
    let fin: Vec<f64> = r.iter().copied().filter(|v| v.is_finite()).collect();
    fin.iter().map(|v| v.abs()).sum::<f64>() / fin.len().max(1) as f64
}

/// A member's prediction of one target from its network's, trees' and GP's, with weights
/// `w_tree` and `w_gp` (an absent part has weight 0 and any value).
fn blend(net: f64, tree: f64, gp: f64, w_tree: f64, w_gp: f64) -> f64 {
    (1.0 - w_tree - w_gp) * net + w_tree * tree + w_gp * gp
}

/// The weights (trees, GP) of least mean |error| for one target, the network taking the
/// rest, on the grid of BLEND_STEPS (rows without a label are skipped); with that error.
fn blend_weights(
    y: ArrayView1<f64>,
    net: ArrayView1<f64>,
    tree: Option<ArrayView1<f64>>,
    gp: Option<ArrayView1<f64>>,
) -> (f64, f64, f64) {
    let steps = |on: bool, room: usize| if on { room } else { 0 };
    let mut best = (0.0, 0.0, f64::INFINITY);
    for a in 0..=steps(tree.is_some(), BLEND_STEPS) {
        for b in 0..=steps(gp.is_some(), BLEND_STEPS - a) {
            let (wt, wg) = (a as f64 / BLEND_STEPS as f64, b as f64 / BLEND_STEPS as f64);
            let r: Vec<f64> = (0..y.len())
                .map(|i| {
                    let (t, g) = (tree.map_or(0.0, |v| v[i]), gp.map_or(0.0, |v| v[i]));
                    y[i] - blend(net[i], t, g, wt, wg)
                })
                .collect();
            let mae = mean_abs(&r);
            if mae < best.2 {
                best = (wt, wg, mae);
            }
        }
    }
    best
}

/// Rows of each fold predicted by that fold's model, assembled into [n, targets].
fn out_of_fold(
    folds: &[Vec<usize>],
    dim: ndarray::Ix2,
    predict: impl Fn(usize, &[usize]) -> Result<Array2<f64>>,
) -> Result<Array2<f64>> {
    let mut oof = Array2::from_elem(dim, f64::NAN);
    for (f, rows) in folds.iter().enumerate() {
        let p = predict(f, rows)?;
        for (r, &i) in rows.iter().enumerate() {
            oof.row_mut(i).assign(&p.row(r));
        }
    }
    Ok(oof)
}

/// Mean and (population) standard deviation over members, [n, targets] each.
fn moments(preds: &[Array2<f64>]) -> (Array2<f64>, Array2<f64>) {
    let k = preds.len() as f64;
    let mean = preds
        .iter()
        .fold(Array2::zeros(preds[0].raw_dim()), |a, p| a + p)
        / k;
    let var = preds
        .iter()
        .fold(Array2::zeros(preds[0].raw_dim()), |a, p| {
            a + (p - &mean).mapv(|d| d * d)
        })
        / k;
    (mean, var.mapv(f64::sqrt))
}

/// The factor c for which ±c·spread and ±2c·spread cover the residuals as a normal law's
/// ±1σ and ±2σ do (68.27 % and 95.45 %), by least squares over both, each miss weighted by
/// the inverse binomial variance of its coverage p(1 − p) — errors have heavier tails than
/// a normal law, so matching one level alone misses the other, and a point of 2σ coverage
/// is rarer than one of 1σ. 1 when no finite pair exists.
pub fn calibrate(residual: &[f64], spread: &[f64]) -> f64 {
    let mut z: Vec<f64> = residual
        .iter()
        .zip(spread)
        .filter(|(r, s)| r.is_finite() && s.is_finite() && **s > 0.0)
        .map(|(r, s)| r.abs() / s)
        .collect();
    if z.is_empty() {
        return 1.0;
    }
    z.sort_by(f64::total_cmp);
    let n = z.len() as f64;
    let covered = |c: f64| z.partition_point(|&v| v <= c) as f64 / n;
    let level = |cov: f64, p: f64| (cov - p).powi(2) / (p * (1.0 - p));
    let miss = |c: f64| level(covered(c), 0.6827) + level(covered(2.0 * c), 0.9545);
    // The optimum sits where one of the two coverages steps: at some z or z/2.
    z.iter()
        .flat_map(|&v| [v, 0.5 * v])
        .min_by(|a, b| miss(*a).total_cmp(&miss(*b)).then(a.total_cmp(b)))
        .unwrap_or(1.0)
}

impl Ensemble {
    /// Trains `opts.members` members on inputs `x` [n, inputs] and targets `y` [n, targets]
    /// (NaN = missing).
    pub fn train(
        config: RegressorConfig,
        x: ArrayView2<f32>,
        y: ArrayView2<f64>,
        opts: &EnsembleTrain,
        device: Device,
    ) -> Result<Ensemble> {
        config.validate()?;
        ensure(opts.members >= 2, || {
            format!("an ensemble needs at least 2 members, got {}", opts.members)
        })?;
        ensure(x.nrows() >= 2 * opts.members, || {
            format!(
                "{} members need at least {} rows, got {}",
                opts.members,
                2 * opts.members,
                x.nrows()
            )
        })?;
        ensure(
            y.nrows() == x.nrows() && y.ncols() == config.targets.len(),
            || {
                format!(
                    "targets must be [{}, {}], got {:?}",
                    x.nrows(),
                    config.targets.len(),
                    y.shape()
                )
            },
        )?;
        super::regressor::check_labels(y, &config.targets)?;
        let folds = cv::folds(x.nrows(), opts.members, opts.seed);
        // Weights are drawn from libtorch's global generator: build members one by one.
        let mut members = folds
            .iter()
            .enumerate()
            .map(|(f, _)| {
                let seed = crate::grains::rng::splitmix64(opts.seed, 0xe5 + f as u64);
                Ok((Regressor::new(config.clone(), device, seed)?, seed))
            })
            .collect::<Result<Vec<_>>>()?;
        // Small networks gain nothing from intra-op threads (they lose badly when the cores
        // are shared), so members train side by side with one libtorch thread each.
        let fitted: Vec<Result<usize>> = super::train::with_torch_threads(1, || {
            use rayon::prelude::*;
            members
                .par_iter_mut()
                .enumerate()
                .map(|(f, (m, seed))| {
                    let train = Fit {
                        epochs: opts.epochs,
                        folds: 0,
                        batch: opts.batch,
                        lr: opts.lr,
                        seed: *seed,
                    };
                    let label = format!("member {}/{}", f + 1, folds.len());
                    m.fit_early_stopped(x, y, &cv::complement(&folds, f), &folds[f], &train, &label)
                })
                .collect()
        });
        let best_epochs = fitted.into_iter().collect::<Result<Vec<_>>>()?;
        let members: Vec<Regressor> = members.into_iter().map(|(m, _)| m).collect();
        let net_oof = out_of_fold(&folds, y.raw_dim(), |f, rows| {
            members[f].predict(x.select(Axis(0), rows).view())
        })?;
        let mut ens = Ensemble {
            config,
            members,
            trees: vec![],
            gp: None,
            error_models: vec![],
            columns: None,
            report: EnsembleReport {
                best_epochs,
                calibration: vec![],
                oof_mae: vec![],
                blend: vec![0.0; y.ncols()],
                gp_blend: vec![],
            },
        };
        let gp_oof = match &opts.gp {
            Some(cfg) => {
                let part = GpPart::fit(x, y, &folds, cfg)?;
                let xs = part.standardise(x);
                let oof = out_of_fold(&folds, y.raw_dim(), |f, rows| {
                    Ok(part.predict(f, xs.select(Axis(0), rows).view()))
                })?;
                ens.gp = Some(part);
                ens.report.gp_blend = vec![0.0; y.ncols()];
                Some(oof)
            }
            None => None,
        };
        match &opts.trees {
            Some(cfg) => ens.fit_trees(x, y, &folds, &net_oof, gp_oof.as_ref(), cfg, opts)?,
            None => {
                if let Some(g) = &gp_oof {
                    for t in 0..y.ncols() {
                        let (_, w_gp, _) =
                            blend_weights(y.column(t), net_oof.column(t), None, Some(g.column(t)));
                        ens.report.gp_blend[t] = w_gp;
                    }
                }
            }
        }
        let oof = out_of_fold(&folds, y.raw_dim(), |f, rows| {
            Ok(ens.member_predict(f, x.select(Axis(0), rows).view())?)
        })?;
        // σ is calibrated on a member's out-of-fold residuals: the honest error on rows it
        // never saw (in-sample residuals cannot serve: trees fit their training rows almost
        // exactly), standardised by a scale that never saw them either.
        let residuals: Vec<Vec<f64>> = (0..y.ncols())
            .map(|t| (0..y.nrows()).map(|i| y[[i, t]] - oof[[i, t]]).collect())
            .collect();
        ens.error_models = residuals
            .iter()
            .enumerate()
            .map(|(t, r)| {
                let seed = crate::grains::rng::splitmix64(opts.seed, 0xca1 + t as u64);
                ErrorModel::fit(x, r, &folds, seed)
            })
            .collect::<Result<_>>()?;
        // The spread serves only targets without an error model: computed once, if at all.
        let mut spread: Option<Array2<f64>> = None;
        for (t, r) in residuals.iter().enumerate() {
            let s = match &ens.error_models[t] {
                Some(m) => m.out_of_fold(x, &folds),
                None => {
                    let sp = match spread.take() {
                        Some(sp) => sp,
                        None => ens.member_moments(x)?.1,
                    };
                    let column = sp.column(t).to_vec();
                    spread = Some(sp);
                    column
                }
            };
            ens.report.calibration.push(calibrate(r, &s));
            ens.report.oof_mae.push(mean_abs(r));
        }
        Ok(ens)
    }

    /// Boosted trees per member and target on the member's rows, with and without the
    /// target's prior column; per target the variant and blend weights (with the GP's
    /// out-of-fold predictions `gp_oof`, if any) of least out-of-fold MAE are kept.
    #[allow(clippy::too_many_arguments)]
    fn fit_trees(
        &mut self,
        x: ArrayView2<f32>,
        y: ArrayView2<f64>,
        folds: &[Vec<usize>],
        net_oof: &Array2<f64>,
        gp_oof: Option<&Array2<f64>>,
        cfg: &BoostConfig,
        opts: &EnsembleTrain,
    ) -> Result<()> {
        use rayon::prelude::*;
        let targets = y.ncols();
        ensure(
            opts.priors.is_empty() || opts.priors.len() == targets,
            || format!("{} priors for {targets} targets", opts.priors.len()),
        )?;
        let prior = |t: usize| opts.priors.get(t).copied().flatten();
        // One job per member, target and variant: without the prior, and with it if any.
        let variants = |t: usize| [None].into_iter().chain(prior(t).map(Some));
        let jobs: Vec<(usize, usize, Option<usize>)> = (0..folds.len())
            .flat_map(|f| (0..targets).flat_map(move |t| variants(t).map(move |p| (f, t, p))))
            .collect();
        let mut fitted = jobs
            .par_iter()
            .map(|&(f, t, p)| {
                let mut col: Vec<f64> = y.column(t).to_vec();
                for &i in &folds[f] {
                    col[i] = f64::NAN;
                }
                let seed = crate::grains::rng::splitmix64(opts.seed, 0x7ee5 + (f * 64 + t) as u64);
                let mut b = Boosted::fit(x, &col, p, cfg, seed)?;
                // Stopped early on the member's held-out fold, as its network is (on an
                // inner split: Hk70 and Hc 2–4 % lower for 3 seeds, about half the trees).
                let held: Vec<f64> = folds[f].iter().map(|&i| y[[i, t]]).collect();
                b.keep_best_prefix(x.select(Axis(0), &folds[f]).view(), &held);
                Ok(b)
            })
            .collect::<Result<Vec<_>>>()?
            .into_iter();
        // fitted_at[f][t][v]: v = 0 without the prior, 1 with it.
        let fitted_at: Vec<Vec<Vec<Boosted>>> = (0..folds.len())
            .map(|_| {
                (0..targets)
                    .map(|t| {
                        variants(t)
                            .map(|_| fitted.next().expect("one model per job"))
                            .collect()
                    })
                    .collect()
            })
            .collect();
        // Per target, the variant and weights of least out-of-fold MAE.
        let mut kept = vec![0; targets];
        for t in 0..targets {
            let mut best = (f64::INFINITY, 0, 0.0, 0.0);
            for v in 0..variants(t).count() {
                let tree_oof = out_of_fold(folds, ndarray::Ix2(y.nrows(), 1), |f, rows| {
                    let p = fitted_at[f][t][v].predict(x.select(Axis(0), rows).view());
                    Ok(Array2::from_shape_vec((rows.len(), 1), p).expect("one value per row"))
                })?;
                let gp = gp_oof.map(|g| g.column(t));
                let (w_tree, w_gp, mae) =
                    blend_weights(y.column(t), net_oof.column(t), Some(tree_oof.column(0)), gp);
                if mae < best.0 {
                    best = (mae, v, w_tree, w_gp);
                }
            }
            self.report.blend[t] = best.2;
            if gp_oof.is_some() {
                self.report.gp_blend[t] = best.3;
            }
            kept[t] = best.1;
        }
        self.trees = fitted_at
            .into_iter()
            .map(|per_target| {
                per_target
                    .into_iter()
                    .zip(&kept)
                    .map(|(mut variants, &v)| variants.swap_remove(v))
                    .collect()
            })
            .collect();
        Ok(())
    }

    /// Member `f`'s prediction: its network blended with its trees and GPs, ordered.
    fn member_predict(&self, f: usize, x: ArrayView2<f32>) -> Result<Array2<f64>> {
        let mut p = self.members[f].predict(x)?;
        let trees = self.trees.get(f);
        let gp = self
            .gp
            .as_ref()
            .map(|g| g.predict(f, g.standardise(x).view()));
        if trees.is_none() && gp.is_none() {
            return Ok(p);
        }
        for (t, mut col) in p.axis_iter_mut(Axis(1)).enumerate() {
            let w_tree = if trees.is_some() {
                self.report.blend[t]
            } else {
                0.0
            };
            let w_gp = if gp.is_some() {
                self.report.gp_blend[t]
            } else {
                0.0
            };
            let tree = trees.filter(|_| w_tree > 0.0).map(|tr| tr[t].predict(x));
            for (i, v) in col.iter_mut().enumerate() {
                let q = tree.as_ref().map_or(0.0, |q| q[i]);
                let g = gp.as_ref().map_or(0.0, |g| g[[i, t]]);
                *v = blend(*v, q, g, w_tree, w_gp);
            }
        }
        super::ordering::order_anchors(&self.config.targets, &mut p);
        Ok(p)
    }

    fn member_moments(&self, x: ArrayView2<f32>) -> Result<(Array2<f64>, Array2<f64>)> {
        let preds = (0..self.members.len())
            .map(|f| self.member_predict(f, x))
            .collect::<Result<Vec<_>>>()?;
        Ok(moments(&preds))
    }

    /// Predictions and their calibrated standard deviations, [n, targets] each.
    pub fn predict(&self, x: ArrayView2<f32>) -> Result<(Array2<f64>, Array2<f64>)> {
        let (mean, sigma, _) = self.predict_spread(x)?;
        Ok((mean, sigma))
    }

    /// [`Ensemble::predict`] and the members' spread (their standard deviation, the
    /// ensemble's disagreement before any error model or calibration), [n, targets] each.
    pub fn predict_spread(
        &self,
        x: ArrayView2<f32>,
    ) -> Result<(Array2<f64>, Array2<f64>, Array2<f64>)> {
        let (mean, spread) = self.member_moments(x)?;
        let mut sigma = spread.clone();
        for (t, mut col) in sigma.axis_iter_mut(Axis(1)).enumerate() {
            if let Some(Some(m)) = self.error_models.get(t) {
                col.assign(&ndarray::Array1::from(m.scale(x)));
            }
            let c = self.report.calibration[t];
            col.mapv_inplace(|s| s * c);
        }
        Ok((mean, sigma, spread))
    }

    pub fn parameter_count(&self) -> usize {
        self.members.iter().map(Regressor::parameter_count).sum()
    }

    fn member_path(path: &Path, k: usize) -> PathBuf {
        let stem = super::checkpoint::paths(path).config.with_extension("");
        PathBuf::from(format!("{}.member{k}", stem.display()))
    }

    /// `STEM.json` (config, report) and one regressor checkpoint `STEM.member{k}.*` per member.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        super::checkpoint::check_stem(path)?;
        for (k, m) in self.members.iter().enumerate() {
            m.save(Self::member_path(path, k))?;
        }
        let meta = EnsembleMeta {
            kind: "ensemble".into(),
            config: self.config.clone(),
            members: self.members.len(),
            report: self.report.clone(),
            trees: self.trees.clone(),
            gp: self.gp.clone(),
            error_models: self.error_models.clone(),
            columns: self.columns.clone(),
        };
        // Compact: trees, GPs and error models are numbers nobody reads by eye, and pretty
        // printing made the file 2.7× larger (8 members at 560 rows: 23 MB against 8.7 MB).
        let text = serde_json::to_string(&meta)
            .map_err(|e| LearnError::msg(format!("ensemble metadata: {e}")))?;
        let json = super::checkpoint::paths(path).config;
        crate::fsio::write(&json, text)
            .map_err(|e| LearnError::msg(format!("{}: {e}", json.display())))
    }

    pub fn load(path: impl AsRef<Path>, device: Device) -> Result<Ensemble> {
        let path = path.as_ref();
        let json = super::checkpoint::paths(path).config;
        let text = std::fs::read_to_string(&json)
            .map_err(|e| LearnError::msg(format!("{}: {e}", json.display())))?;
        let meta: EnsembleMeta = serde_json::from_str(&text)
            .map_err(|e| LearnError::msg(format!("{}: {e}", json.display())))?;
        ensure(meta.kind == "ensemble", || {
            format!(
                "{} is a `{}` checkpoint, not an ensemble",
                json.display(),
                meta.kind
            )
        })?;
        let targets = meta.config.targets.len();
        let trees_fit = meta.trees.is_empty()
            || (meta.trees.len() == meta.members
                && meta.report.blend.len() == targets
                && meta.trees.iter().all(|t| {
                    t.len() == targets
                        && t.iter()
                            .all(|b| b.max_feature().is_none_or(|c| c < meta.config.inputs))
                }));
        let errors_fit = meta.error_models.is_empty()
            || (meta.error_models.len() == targets
                && meta.error_models.iter().flatten().all(|m| {
                    m.folds.len() == meta.members
                        && m.floor.is_finite()
                        && m.folds
                            .iter()
                            .all(|b| b.max_feature().is_none_or(|c| c < meta.config.inputs))
                }));
        let gp_fit = match &meta.gp {
            None => meta.report.gp_blend.is_empty(),
            Some(g) => {
                g.fits(meta.members, targets, meta.config.inputs)
                    && meta.report.gp_blend.len() == targets
            }
        };
        let columns_fit = meta
            .columns
            .as_ref()
            .is_none_or(|c| c.len() == meta.config.inputs);
        ensure(
            meta.report.calibration.len() == targets
                && meta.members >= 1
                && trees_fit
                && gp_fit
                && errors_fit
                && columns_fit,
            || {
                format!(
                    "{}: calibration, member count, trees, GPs, error models or column names do not fit",
                    json.display()
                )
            },
        )?;
        let members = (0..meta.members)
            .map(|k| {
                let m = Regressor::load(Self::member_path(path, k), device)?;
                ensure(m.config == meta.config, || {
                    format!("member {k} does not match the ensemble's config")
                })?;
                Ok(m)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Ensemble {
            config: meta.config,
            members,
            trees: meta.trees,
            gp: meta.gp,
            error_models: meta.error_models,
            report: meta.report,
            columns: meta.columns,
        })
    }
}

#[derive(Serialize, Deserialize)]
struct EnsembleMeta {
    kind: String,
    config: RegressorConfig,
    members: usize,
    report: EnsembleReport,
    #[serde(default)]
    trees: Vec<Vec<Boosted>>,
    #[serde(default)]
    gp: Option<GpPart>,
    #[serde(default)]
    error_models: Vec<Option<ErrorModel>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    columns: Option<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibration_matches_both_coverage_levels() {
        // Standardised residuals |r|/s uniform on (0, 1.5]: for c ≥ 0.75 all lie within
        // 2c, so the miss is (c/1.5 − 0.6827)²/w₁ + (1 − 0.9545)²/w₂, least at c = 1.024;
        // below 0.75 the best (c = 0.72) misses 1σ by 20 points, which costs more.
        let r: Vec<f64> = (1..=300).map(|k| k as f64 / 100.0).collect();
        let s = vec![2.0; 300];
        let c = calibrate(&r, &s);
        assert!((c - 2.048 / 2.0).abs() < 0.01, "{c}");
        // Normal residuals: c close to 1.
        let normal: Vec<f64> = (1..2000)
            .map(|k| {
                let p = k as f64 / 2000.0;
                // Inverse of |N(0,1)|'s CDF by bisection on erf.
                let (mut lo, mut hi) = (0.0f64, 6.0f64);
                for _ in 0..60 {
                    let mid = 0.5 * (lo + hi);
                    if libm_erf(mid / 2f64.sqrt()) < p {
                        lo = mid
                    } else {
                        hi = mid
                    }
                }
                lo
            })
            .collect();
        let c = calibrate(&normal, &vec![1.0; normal.len()]);
        assert!((c - 1.0).abs() < 0.02, "{c}");
        assert_eq!(calibrate(&[f64::NAN], &[1.0]), 1.0);
    }

    /// erf by its series (|x| ≤ 6 is enough here).
    fn libm_erf(x: f64) -> f64 {
        let mut sum = 0.0;
        let mut term = x;
        for n in 0..200 {
            sum += term / (2 * n + 1) as f64;
            term *= -x * x / (n + 1) as f64;
        }
        2.0 / std::f64::consts::PI.sqrt() * sum
    }

    #[test]
    fn ensemble_trains_predicts_with_spread_and_round_trips() {
        tch::set_num_threads(1);
        let n = 48;
        let x = Array2::from_shape_fn((n, 3), |(i, j)| ((i * 5 + j * 7) % 13) as f32 / 13.0);
        let y = Array2::from_shape_fn((n, 2), |(i, j)| {
            let v = x[[i, 0]] as f64 + 0.5 * x[[i, 1]] as f64;
            if j == 0 { v } else { v + 0.3 }
        });
        let cfg = RegressorConfig {
            inputs: 3,
            targets: vec!["Hk70".into(), "Hc".into()],
            trunk: vec![16, 16],
            head: vec![8],
            scale_inputs: true,
            linear_skip: false,
        };
        let opts = EnsembleTrain {
            members: 3,
            epochs: 40,
            batch: 8,
            lr: 3e-3,
            seed: 5,
            trees: Some(BoostConfig {
                trees: 50,
                ..Default::default()
            }),
            gp: Some(GpConfig::default()),
            priors: vec![None, Some(2)],
        };
        let mut e = Ensemble::train(cfg, x.view(), y.view(), &opts, Device::Cpu).unwrap();
        e.columns = Some(vec!["a".into(), "b".into(), "c".into()]);
        assert_eq!(e.members.len(), 3);
        assert!(e.report.best_epochs.iter().all(|&b| (1..=40).contains(&b)));
        let (p, s) = e.predict(x.view()).unwrap();
        assert_eq!(p.shape(), &[n, 2]);
        assert!(s.iter().all(|v| v.is_finite() && *v >= 0.0) && s.sum() > 0.0);
        // Ordered like the anchors: Hk70 ≤ Hc.
        assert!(p.rows().into_iter().all(|r| r[0] <= r[1]));
        let mae = (&p - &y).mapv(f64::abs).mean().unwrap();
        assert!(mae < 0.1, "ensemble fits the toy target: MAE {mae}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ens");
        e.save(&path).unwrap();
        let back = Ensemble::load(&path, Device::Cpu).unwrap();
        let (p2, s2) = back.predict(x.view()).unwrap();
        assert_eq!((p2, s2), (p, s));
        assert_eq!(back.report, e.report);
        assert_eq!(back.columns, e.columns, "column names kept");
        // A checkpoint whose names do not fit its inputs is refused.
        let json = super::super::checkpoint::paths(&path).config;
        let text = std::fs::read_to_string(&json).unwrap();
        std::fs::write(
            &json,
            text.replace(r#""columns":["a","b","c"]"#, r#""columns":["a"]"#),
        )
        .unwrap();
        let Err(err) = Ensemble::load(&path, Device::Cpu) else {
            panic!("a checkpoint with 1 name for 3 inputs loaded");
        };
        let err = err.to_string();
        assert!(err.contains("column names do not fit"), "{err}");
    }

    /// A small member network predicting Hc from `inputs` columns.
    fn small_hc_regressor(inputs: usize) -> RegressorConfig {
        RegressorConfig {
            inputs,
            targets: vec!["Hc".into()],
            trunk: vec![16],
            head: vec![8],
            scale_inputs: true,
            linear_skip: false,
        }
    }

    #[test]
    fn a_smooth_target_is_left_to_the_gp_and_old_checkpoints_load_without_one() {
        // y = sin(3 x0) + x1²: smooth, which a few epochs of a small network underfit and
        // trees approximate in steps; the out-of-fold blend should lean on the GP.
        tch::set_num_threads(1);
        let n = 160;
        let x = Array2::from_shape_fn((n, 3), |(i, j)| {
            ((i * 37 + j * 101 + i * j * 7) % 97) as f32 / 97.0
        });
        let y = Array2::from_shape_fn((n, 1), |(i, _)| {
            (3.0 * x[[i, 0]] as f64).sin() + (x[[i, 1]] as f64).powi(2)
        });
        let cfg = small_hc_regressor(3);
        let opts = EnsembleTrain {
            members: 3,
            epochs: 10,
            seed: 4,
            trees: Some(BoostConfig {
                trees: 60,
                ..Default::default()
            }),
            ..Default::default()
        };
        let e = Ensemble::train(cfg.clone(), x.view(), y.view(), &opts, Device::Cpu).unwrap();
        assert!(e.report.gp_blend[0] >= 0.5, "{:?}", e.report);
        let without = EnsembleTrain { gp: None, ..opts };
        let plain = Ensemble::train(cfg, x.view(), y.view(), &without, Device::Cpu).unwrap();
        assert!(plain.gp.is_none() && plain.report.gp_blend.is_empty());
        assert!(
            e.report.oof_mae[0] < 0.2 * plain.report.oof_mae[0],
            "with the GP {} against without {}",
            e.report.oof_mae[0],
            plain.report.oof_mae[0]
        );
        // A checkpoint from before GPs (no `gp`, no `gp_blend`) loads and predicts as saved.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old");
        plain.save(&path).unwrap();
        let json = super::super::checkpoint::paths(&path).config;
        let mut meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        meta.as_object_mut().unwrap().remove("gp");
        meta["report"].as_object_mut().unwrap().remove("gp_blend");
        std::fs::write(&json, meta.to_string()).unwrap();
        let back = Ensemble::load(&path, Device::Cpu).unwrap();
        assert_eq!(
            back.predict(x.view()).unwrap(),
            plain.predict(x.view()).unwrap()
        );
        // GPs that do not fit the ensemble are refused.
        let path = dir.path().join("bad");
        e.save(&path).unwrap();
        let json = super::super::checkpoint::paths(&path).config;
        let mut meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        meta["gp"]["models"].as_array_mut().unwrap().pop();
        std::fs::write(&json, meta.to_string()).unwrap();
        let err = Ensemble::load(&path, Device::Cpu).err().unwrap();
        assert!(err.to_string().contains("GPs"), "{err}");
    }

    #[test]
    fn sigma_follows_the_noise_and_covers_fresh_rows() {
        // Noise whose size grows tenfold with x0: σ must grow with it, and ±1σ, ±2σ must
        // cover fresh rows about as a normal law does.
        use rand::{Rng, SeedableRng};
        use rand_distr::{Distribution, StandardNormal};
        tch::set_num_threads(1);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(21);
        let mut draw = |n: usize| {
            let x = Array2::from_shape_fn((n, 2), |_| rng.random::<f32>());
            let y = Array2::from_shape_fn((n, 1), |(i, _)| {
                let e: f64 = StandardNormal.sample(&mut rng);
                x[[i, 1]] as f64 + (0.01 + 0.1 * x[[i, 0]] as f64) * e
            });
            (x, y)
        };
        let (x, y) = draw(480);
        let (xt, yt) = draw(2000);
        let cfg = small_hc_regressor(2);
        let opts = EnsembleTrain {
            members: 4,
            epochs: 30,
            seed: 2,
            trees: Some(BoostConfig {
                trees: 100,
                ..Default::default()
            }),
            ..Default::default()
        };
        let e = Ensemble::train(cfg, x.view(), y.view(), &opts, Device::Cpu).unwrap();
        assert_eq!(e.error_models[0].as_ref().map(|m| m.folds.len()), Some(4));
        let (p, s) = e.predict(xt.view()).unwrap();
        let cover = |k: f64| {
            (0..yt.nrows())
                .filter(|&i| (yt[[i, 0]] - p[[i, 0]]).abs() <= k * s[[i, 0]])
                .count() as f64
                / yt.nrows() as f64
        };
        let (c1, c2) = (cover(1.0), cover(2.0));
        assert!(
            (0.58..=0.80).contains(&c1) && (0.88..=0.99).contains(&c2),
            "{c1} {c2}"
        );
        let mean_sigma = |hi: bool| {
            let v: Vec<f64> = (0..xt.nrows())
                .filter(|&i| (xt[[i, 0]] > 0.8) == hi && (xt[[i, 0]] < 0.2 || hi))
                .map(|i| s[[i, 0]])
                .collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        assert!(
            mean_sigma(true) > 2.5 * mean_sigma(false),
            "σ where the noise is large {} against small {}",
            mean_sigma(true),
            mean_sigma(false)
        );
    }
}

//! The multi-head regressor of the paper's Table 2: a shared dense trunk
//! (512-1024-512-256-128-64, elu) and one head per target (32-16-8-4-2, elu, then a linear
//! output). Targets are standardised by a [`Scaler`] stored with the model; missing targets
//! (NaN) are masked out of the loss. [`Regressor::train`] chooses the epoch count by k-fold
//! cross-validation (the least mean validation loss) and then fits all the training data.

use super::checkpoint;
use super::cv::{self, CvReport};
use super::error::ensure;
use super::nadam::{NAdam, NAdamConfig};
use super::scaler::Scaler;
use super::tensor::{to_array, to_tensor};
use super::train::{EpochRecord, Fit, fit_batches, scalar, with_torch_threads};
use super::weights::Weights;
use super::{LearnError, Result};
use ndarray::{Array2, ArrayView2, Axis, Ix2};
use serde::{Deserialize, Serialize};
use tch::nn::{self, Module, VarStore};
use tch::{Device, Kind, Tensor};

pub const TRUNK: [i64; 6] = [512, 1024, 512, 256, 128, 64];
pub const HEAD: [i64; 5] = [32, 16, 8, 4, 2];
pub const MAX_INPUTS: usize = 1 << 16;
pub const MAX_TARGETS: usize = 64;
/// Networks with fewer weights train on one libtorch thread.
const SMALL_NET: usize = 1 << 20;

/// The anchor names in the order of `Curve.anchors()`: the default targets.
pub fn anchor_names() -> Vec<String> {
    crate::solver::ANCHOR_NAMES.map(String::from).to_vec()
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegressorConfig {
    pub inputs: usize,
    pub targets: Vec<String>,
    pub trunk: Vec<i64>,
    pub head: Vec<i64>,
    /// Standardise each input column (fitted on the training rows) — for descriptors of
    /// mixed units; the paper feeds latent codes as they are.
    #[serde(default)]
    pub scale_inputs: bool,
    /// Add a linear map of the inputs to every output ("wide and deep"): the network then
    /// learns only what a linear model of the inputs misses — descriptors such as the
    /// Stoner–Wohlfarth anchors are already close to linear in the targets.
    #[serde(default)]
    pub linear_skip: bool,
}

impl RegressorConfig {
    /// Table 2's layout for `inputs` features and the given targets.
    pub fn new(inputs: usize, targets: Vec<String>) -> RegressorConfig {
        RegressorConfig {
            inputs,
            targets,
            trunk: TRUNK.to_vec(),
            head: HEAD.to_vec(),
            scale_inputs: false,
            linear_skip: false,
        }
    }

    /// The paper's regressor: 512 inputs, the six anchors.
    pub fn paper() -> RegressorConfig {
        RegressorConfig::new(512, anchor_names())
    }

    pub fn validate(&self) -> Result<()> {
        ensure((1..=MAX_INPUTS).contains(&self.inputs), || {
            format!("inputs must be in 1..={MAX_INPUTS}, got {}", self.inputs)
        })?;
        check_targets(&self.targets)?;
        ensure(
            self.trunk
                .iter()
                .chain(&self.head)
                .all(|&w| (1..=1 << 16).contains(&w))
                && !self.trunk.is_empty(),
            || {
                format!(
                    "layer widths must be in 1..=65536, got {:?} / {:?}",
                    self.trunk, self.head
                )
            },
        )
    }
}

/// 1 to [`MAX_TARGETS`] distinct target names of letters, digits and `_`.
pub fn check_targets(targets: &[String]) -> Result<()> {
    ensure((1..=MAX_TARGETS).contains(&targets.len()), || {
        format!("between 1 and {MAX_TARGETS} targets, got {}", targets.len())
    })?;
    let mut names = targets.to_vec();
    names.sort();
    names.dedup();
    ensure(
        names.len() == targets.len()
            && targets
                .iter()
                .all(|t| !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')),
        || format!("targets must be distinct names of letters, digits and _, got {targets:?}"),
    )
}

/// Refuses targets `y` [n, targets] (NaN = missing) with a column that has no value at
/// all: the network would learn nothing for it and still predict a number.
pub fn check_labels(y: ArrayView2<f64>, targets: &[String]) -> Result<()> {
    let empty: Vec<&str> = targets
        .iter()
        .zip(y.axis_iter(Axis(1)))
        .filter(|(_, col)| !col.iter().any(|v| v.is_finite()))
        .map(|(name, _)| name.as_str())
        .collect();
    ensure(empty.is_empty(), || {
        format!(
            "no labels for target(s) {empty:?}: every value is missing; drop them from \
             `targets` or train on records where they were computed"
        )
    })
}

/// Predictions `y` unless some are not finite: a model never passes off NaN (diverged
/// weights, extreme inputs) as a missing anchor.
pub(crate) fn finite_predictions(y: Array2<f64>) -> Result<Array2<f64>> {
    match y.indexed_iter().find(|(_, v)| !v.is_finite()) {
        None => Ok(y),
        Some(((row, col), v)) => Err(LearnError::msg(format!(
            "the model predicts {v} for row {row}, output {col}: its weights diverged or the \
             input is extreme; retrain with a smaller lr"
        ))),
    }
}

pub struct Net {
    trunk: Vec<nn::Linear>,
    heads: Vec<Vec<nn::Linear>>,
    skip: Option<nn::Linear>,
}

impl Net {
    fn new(vs: &VarStore, c: &RegressorConfig) -> Net {
        let root = vs.root();
        let mut width = c.inputs as i64;
        let trunk = c
            .trunk
            .iter()
            .enumerate()
            .map(|(k, &w)| {
                let l = nn::linear(
                    &root / "trunk" / format!("dense{}", k + 1),
                    width,
                    w,
                    Default::default(),
                );
                width = w;
                l
            })
            .collect();
        let shared = width;
        let heads = c
            .targets
            .iter()
            .map(|t| {
                let p = &root / "heads" / t.as_str();
                let mut w_in = shared;
                let mut layers: Vec<nn::Linear> = c
                    .head
                    .iter()
                    .enumerate()
                    .map(|(k, &w)| {
                        let l =
                            nn::linear(&p / format!("dense{}", k + 1), w_in, w, Default::default());
                        w_in = w;
                        l
                    })
                    .collect();
                layers.push(nn::linear(&p / "target", w_in, 1, Default::default()));
                layers
            })
            .collect();
        let skip = c.linear_skip.then(|| {
            nn::linear(
                &root / "skip",
                c.inputs as i64,
                c.targets.len() as i64,
                Default::default(),
            )
        });
        Net { trunk, heads, skip }
    }

    /// One NAdam step on a batch: the masked loss before the update.
    pub fn step(&self, opt: &mut NAdam, x: &Tensor, y: &Tensor, mask: &Tensor) -> f64 {
        let loss = masked_mse(&self.forward(x), y, mask);
        opt.step(&loss);
        scalar(&loss)
    }

    /// Standardised predictions [n, targets].
    pub fn forward(&self, x: &Tensor) -> Tensor {
        let mut h = x.shallow_clone();
        for l in &self.trunk {
            h = l.forward(&h).elu();
        }
        let outs: Vec<Tensor> = self
            .heads
            .iter()
            .map(|head| {
                let mut g = h.shallow_clone();
                let last = head.len() - 1;
                for (k, l) in head.iter().enumerate() {
                    g = l.forward(&g);
                    if k < last {
                        g = g.elu();
                    }
                }
                g
            })
            .collect();
        let deep = Tensor::cat(&outs, 1);
        match &self.skip {
            Some(l) => deep + l.forward(x),
            None => deep,
        }
    }
}

/// Mean squared error over the entries where `mask` is 1 (missing targets have mask 0 and
/// contribute neither loss nor gradient).
pub fn masked_mse(pred: &Tensor, target: &Tensor, mask: &Tensor) -> Tensor {
    let d = (pred - target) * mask;
    d.square().sum(Kind::Float) / mask.sum(Kind::Float).clamp_min(1.0)
}

/// Standardised targets with missing entries set to 0, and the mask (1 = present).
pub fn targets_and_mask(z: &Array2<f64>) -> (Array2<f32>, Array2<f32>) {
    (
        z.mapv(|v| if v.is_finite() { v as f32 } else { 0.0 }),
        z.mapv(|v| if v.is_finite() { 1.0 } else { 0.0 }),
    )
}

pub struct Regressor {
    pub config: RegressorConfig,
    net: Net,
    pub scaler: Option<Scaler>,
    /// Input standardisation when `config.scale_inputs`.
    pub input_scaler: Option<Scaler>,
    weights: Weights,
    pub cv: Option<CvReport>,
}

/// Data of one fit: inputs, standardised targets with missing = 0, and the mask.
struct FitData {
    x: Tensor,
    y: Tensor,
    mask: Tensor,
}

impl FitData {
    fn rows(&self, ids: &[usize]) -> (Tensor, Tensor, Tensor) {
        let idx = Tensor::from_slice(&ids.iter().map(|&i| i as i64).collect::<Vec<_>>())
            .to_device(self.x.device());
        (
            self.x.index_select(0, &idx),
            self.y.index_select(0, &idx),
            self.mask.index_select(0, &idx),
        )
    }
}

impl Regressor {
    /// Training defaults of `r.train` (the paper's lr).
    pub const FIT: Fit = Fit {
        epochs: 100,
        folds: 4,
        batch: 16,
        lr: 1e-4,
        seed: 0,
    };

    pub fn new(config: RegressorConfig, device: Device, seed: u64) -> Result<Regressor> {
        config.validate()?;
        let weights = Weights::new(device, seed);
        let net = Net::new(&weights.vs, &config);
        Ok(Regressor {
            config,
            net,
            scaler: None,
            input_scaler: None,
            weights,
            cv: None,
        })
    }

    pub fn parameter_count(&self) -> usize {
        self.weights.parameter_count()
    }

    pub fn device(&self) -> Device {
        self.weights.device()
    }

    pub fn to_device(&mut self, device: Device) {
        self.weights.to_device(device)
    }

    /// Every finished epoch of the (final) fit.
    pub fn history(&self) -> &[EpochRecord] {
        &self.weights.history
    }

    /// The network and its optimiser (created on first use), for custom loops and benches.
    pub fn net_and_optimizer(&mut self) -> (&Net, &mut NAdam) {
        let (_, opt, _) = self.weights.parts(NAdamConfig::default().lr);
        (&self.net, opt)
    }

    fn check_inputs(&self, x: ArrayView2<f32>) -> Result<()> {
        ensure(x.ncols() == self.config.inputs, || {
            format!(
                "inputs must have {} columns (the regressor's inputs), got {}",
                self.config.inputs,
                x.ncols()
            )
        })
    }

    /// Predictions in the targets' units, [n, targets].
    pub fn predict(&self, x: ArrayView2<f32>) -> Result<Array2<f64>> {
        self.check_inputs(x)?;
        let scaler = self.scaler.as_ref().ok_or_else(|| {
            LearnError::msg("the regressor is not trained yet (no target scaler)")
        })?;
        let t = to_tensor(&self.scaled_inputs(x), self.device());
        let z = tch::no_grad(|| self.net.forward(&t));
        let z = to_array(&z)
            .into_dimensionality::<Ix2>()
            .expect("2-d")
            .mapv(f64::from);
        let mut y = scaler.inverse(z.view());
        super::ordering::order_anchors(&self.config.targets, &mut y);
        finite_predictions(y)
    }

    /// Inputs as the network sees them: standardised when the config says so.
    fn scaled_inputs(&self, x: ArrayView2<f32>) -> Array2<f32> {
        match &self.input_scaler {
            Some(s) => s.transform(x.mapv(f64::from).view()).mapv(|v| v as f32),
            None => x.to_owned(),
        }
    }

    /// Trains on inputs `x` [n, inputs] and targets `y` [n, targets] (NaN = missing). With
    /// `folds ≥ 2`: k-fold CV over at most `epochs` epochs picks the epoch count, then the
    /// model is re-initialised from `seed` and fitted on all rows for that many epochs.
    /// Without: `epochs` more epochs, continuing a loaded checkpoint's training.
    pub fn train(&mut self, x: ArrayView2<f32>, y: ArrayView2<f64>, opts: &Fit) -> Result<()> {
        self.check_inputs(x)?;
        ensure(
            y.ncols() == self.config.targets.len() && y.nrows() == x.nrows(),
            || {
                format!(
                    "targets must be [{}, {}] for {} input rows, got {:?}",
                    x.nrows(),
                    self.config.targets.len(),
                    x.nrows(),
                    y.shape()
                )
            },
        )?;
        ensure(x.nrows() > 0, || "no rows to train on".into())?;
        ensure(x.iter().all(|v| v.is_finite()), || {
            "inputs must be finite".into()
        })?;
        check_labels(y, &self.config.targets)?;
        let all: Vec<usize> = (0..x.nrows()).collect();
        if opts.folds < 2 {
            return self
                .fit(x, y, &all, None, opts, "regressor", false)
                .map(|_| ());
        }
        let (config, device) = (self.config.clone(), self.device());
        let chosen = cv::cross_validate(
            x.nrows(),
            opts,
            false,
            "regressor",
            |seed| Regressor::new(config.clone(), device, seed),
            |m, train_ids, val_ids, fit, label| {
                m.fit(x, y, train_ids, val_ids, fit, label, false)?;
                Ok(m.validation_curve())
            },
        )?;
        *self = chosen.model;
        self.cv = Some(chosen.report);
        Ok(())
    }

    /// The validation loss per epoch of the training history (empty without validation).
    fn validation_curve(&self) -> Vec<f64> {
        self.history()
            .iter()
            .filter_map(|r| r.parts.get("validation").copied())
            .collect()
    }

    /// Trains `opts.epochs` epochs on `train_ids` and keeps the weights of the epoch of least
    /// loss on `val_ids` (early stopping); returns that epoch. For ensemble members.
    pub fn fit_early_stopped(
        &mut self,
        x: ArrayView2<f32>,
        y: ArrayView2<f64>,
        train_ids: &[usize],
        val_ids: &[usize],
        opts: &Fit,
        label: &str,
    ) -> Result<usize> {
        self.check_inputs(x)?;
        self.fit(x, y, train_ids, Some(val_ids), opts, label, true)
    }

    /// `opts.epochs` epochs on rows `train_ids`, recording the loss on `val_ids` if given;
    /// with `keep_best`, ends with the weights of the least validation loss and returns
    /// that epoch (else the last).
    #[allow(clippy::too_many_arguments)]
    fn fit(
        &mut self,
        x: ArrayView2<f32>,
        y: ArrayView2<f64>,
        train_ids: &[usize],
        val_ids: Option<&[usize]>,
        opts: &Fit,
        label: &str,
        keep_best: bool,
    ) -> Result<usize> {
        // Below ~1M weights libtorch's intra-op threads cost more than they give (and
        // collapse when the cores are shared): such nets train on one thread.
        let threads = if self.parameter_count() < SMALL_NET {
            1
        } else {
            tch::get_num_threads()
        };
        with_torch_threads(threads, || {
            if self.scaler.is_none() {
                let rows = y.select(Axis(0), train_ids);
                self.scaler = Some(Scaler::fit(rows.view()));
            }
            if self.config.scale_inputs && self.input_scaler.is_none() {
                let rows = x.select(Axis(0), train_ids).mapv(f64::from);
                self.input_scaler = Some(Scaler::fit(rows.view()));
            }
            let z = self.scaler.as_ref().expect("set").transform(y);
            let (yz, mask) = targets_and_mask(&z);
            let device = self.device();
            let data = FitData {
                x: to_tensor(&self.scaled_inputs(x), device),
                y: to_tensor(&yz, device),
                mask: to_tensor(&mask, device),
            };
            let net = &self.net;
            let (vs, opt, history) = self.weights.parts(opts.lr);
            let mut validate = val_ids.map(|v| {
                let (xv, yv, mv) = data.rows(v);
                move || scalar(&tch::no_grad(|| masked_mse(&net.forward(&xv), &yv, &mv)))
            });
            fit_batches(
                vs,
                &mut *opt,
                label,
                opts,
                train_ids,
                history,
                |opt, ids| {
                    let (xb, yb, mb) = data.rows(ids);
                    net.step(opt, &xb, &yb, &mb)
                },
                validate.as_mut().map(|f| f as &mut dyn FnMut() -> f64),
                keep_best,
            )
        })
    }
}

#[derive(Serialize, Deserialize)]
struct RegressorMeta {
    config: RegressorConfig,
    scaler: Option<Scaler>,
    #[serde(default)]
    input_scaler: Option<Scaler>,
    cv: Option<CvReport>,
}

impl Regressor {
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        let meta = RegressorMeta {
            config: self.config.clone(),
            scaler: self.scaler.clone(),
            input_scaler: self.input_scaler.clone(),
            cv: self.cv.clone(),
        };
        self.weights.save(path, "regressor", &meta)
    }

    pub fn load(path: impl AsRef<std::path::Path>, device: Device) -> Result<Regressor> {
        let meta: checkpoint::Meta<RegressorMeta> = checkpoint::read_meta(&path, "regressor")?;
        let mut r = Regressor::new(meta.model.config.clone(), Device::Cpu, 0)?;
        if let Some(s) = &meta.model.scaler {
            ensure(s.fits(r.config.targets.len()), || {
                "the scaler does not have one entry per target".into()
            })?;
        }
        r.weights.restore(&path, &meta, device)?;
        if let Some(s) = &meta.model.input_scaler {
            ensure(s.fits(r.config.inputs), || {
                "the input scaler does not have one entry per input".into()
            })?;
        }
        r.scaler = meta.model.scaler;
        r.input_scaler = meta.model.input_scaler;
        r.cv = meta.model.cv;
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn non_finite_predictions_are_errors_not_missing_anchors() {
        let e = finite_predictions(ndarray::array![[0.5, 1.0], [f64::NAN, 0.2]]).unwrap_err();
        assert!(
            e.to_string().contains("predicts NaN for row 1, output 0"),
            "{e}"
        );
        assert!(finite_predictions(ndarray::array![[0.5]]).is_ok());
    }

    #[test]
    fn regressor_parameter_count_equals_table_2() {
        let r = Regressor::new(RegressorConfig::paper(), Device::Cpu, 0).unwrap();
        assert_eq!(r.parameter_count(), 1_502_006);
        let x = Tensor::zeros([3, 512], (Kind::Float, Device::Cpu));
        assert_eq!(tch::no_grad(|| r.net.forward(&x)).size(), vec![3, 6]);
    }

    #[test]
    fn missing_targets_are_masked_out_of_loss_and_gradient() {
        let pred = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0])
            .view([2, 2])
            .set_requires_grad(true);
        let y = Array2::from_shape_vec((2, 2), vec![0.0, f64::NAN, 1.0, 6.0]).unwrap();
        let (yz, mask) = targets_and_mask(&y);
        let (yt, mt) = (to_tensor(&yz, Device::Cpu), to_tensor(&mask, Device::Cpu));
        let loss = masked_mse(&pred, &yt, &mt);
        // (1−0)² + (3−1)² + (4−6)² over three present entries.
        assert!((scalar(&loss) - 9.0 / 3.0).abs() < 1e-6);
        loss.backward();
        let g = Vec::<f32>::try_from(&pred.grad().view([-1])).unwrap();
        assert_eq!(g[1], 0.0, "no gradient through a missing target");
        assert!(g[0] != 0.0);
    }

    fn toy(n: usize) -> (Array2<f32>, Array2<f64>) {
        let x = Array2::from_shape_fn((n, 4), |(i, j)| ((i * 7 + j * 3) % 11) as f32 / 11.0 - 0.5);
        let y = Array2::from_shape_fn((n, 2), |(i, j)| {
            if j == 1 && i % 3 == 0 {
                f64::NAN
            } else {
                x[[i, 0]] as f64 * (j + 1) as f64 + 0.2
            }
        });
        (x, y)
    }

    #[test]
    fn linear_skip_adds_a_trained_linear_map_of_the_inputs() {
        tch::set_num_threads(1);
        let (x, y) = toy(24);
        let cfg = |linear_skip| RegressorConfig {
            inputs: 4,
            targets: vec!["a".into(), "b".into()],
            trunk: vec![8],
            head: vec![],
            scale_inputs: false,
            linear_skip,
        };
        let plain = Regressor::new(cfg(false), Device::Cpu, 1).unwrap();
        let mut skip = Regressor::new(cfg(true), Device::Cpu, 1).unwrap();
        // inputs × targets weights and one bias per target
        assert_eq!(skip.parameter_count(), plain.parameter_count() + 4 * 2 + 2);
        let fit = Fit {
            epochs: 60,
            folds: 0,
            batch: 8,
            lr: 1e-2,
            seed: 3,
        };
        skip.train(x.view(), y.view(), &fit).unwrap();
        // The targets are linear in the inputs: the skip path fits them closely.
        let p = skip.predict(x.view()).unwrap();
        let worst = (0..24)
            .filter(|i| i % 3 != 0)
            .map(|i| (p[[i, 1]] - y[[i, 1]]).abs())
            .fold(0.0, f64::max);
        assert!(worst < 0.05, "largest error {worst}");
    }

    #[test]
    fn cv_then_final_fit_and_checkpoint_round_trip() {
        tch::set_num_threads(1);
        let (x, y) = toy(24);
        let cfg = RegressorConfig {
            inputs: 4,
            targets: vec!["a".into(), "b".into()],
            trunk: vec![8, 8],
            head: vec![4],
            scale_inputs: true,
            linear_skip: false,
        };
        let mut r = Regressor::new(cfg, Device::Cpu, 1).unwrap();
        let opts = Fit {
            epochs: 5,
            folds: 3,
            batch: 4,
            lr: 1e-2,
            seed: 2,
        };
        r.train(x.view(), y.view(), &opts).unwrap();
        let cv = r.cv.clone().unwrap();
        assert_eq!(cv.validation.len(), 3);
        assert_eq!(cv.validation[0].len(), 5);
        assert_eq!(Some(cv.best_epochs), cv::best_epoch(&cv.validation));
        assert_eq!(r.history().len(), cv.best_epochs);
        let p = r.predict(x.view()).unwrap();
        assert_eq!(p.shape(), &[24, 2]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("reg.json");
        r.save(&path).unwrap();
        let back = Regressor::load(&path, Device::Cpu).unwrap();
        assert_eq!(back.predict(x.view()).unwrap(), p);
        assert_eq!(back.cv, r.cv);
        assert!(Vae_is_not(&path));
    }

    #[allow(non_snake_case)]
    fn Vae_is_not(path: &std::path::Path) -> bool {
        let e = crate::learn::Vae::load(path, Device::Cpu)
            .err()
            .unwrap()
            .to_string();
        e.contains("not a `vae` one")
    }
}

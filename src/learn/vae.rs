//! The variational autoencoder of the paper's Table 1, sized from the grid and the encoding.
//!
//! Encoder: five stride-2 convolutions with 16, 32, 64, 128, 256 filters (the first 4×4 with
//! padding 1, the others 2×2), elu; flatten; dense 2048 (elu); dense mean and log-variance
//! of size `latent`. Decoder: dense 2048 and dense to the bottleneck (elu), reshape to
//! 256 × ny/32 × nx/32, four 2×2 stride-2 transposed convolutions (elu) and a last 4×4 one
//! (padding 1) with tanh. At 160² with one channel the bottleneck is 5×5×256 and the
//! encoder and decoder have 15 382 256 and 14 338 801 parameters, as in the paper.
//!
//! Loss per batch = MSE(reconstruction, input) (mean over cells and channels) plus
//! `kl_weight` · KL, KL = mean over the batch of −½ Σ_latent (1 + log σ² − μ² − σ²).
//! The paper does not state its KL weight; the default 1e-4 keeps the KL term at the scale
//! of the per-cell reconstruction error for a 512-dim latent space. An optional label head
//! (not in the paper) adds `weight` · MSE of the anchors it reads from μ on a labelled
//! batch ([`Vae::train_supervised`]).

use super::checkpoint;
use super::error::ensure;
use super::nadam::{NAdam, NAdamConfig};
use super::regressor::{masked_mse, targets_and_mask};
use super::scaler::Scaler;
use super::tensor::{to_array, to_tensor};
use super::train::{EpochRecord, run_epochs, seed_torch};
use super::weights::Weights;
use super::{LearnError, Result};
use crate::grains::{Batches, Encoding, RasterSource, Symmetry};
use ndarray::{Array2, Array4, Ix2, Ix4};
use serde::{Deserialize, Serialize};
use std::time::Instant;
use tch::nn::{self, Module, VarStore};
use tch::{Device, Kind, Tensor};

/// Filters of the five convolutions (Table 1).
pub const FILTERS: [i64; 5] = [16, 32, 64, 128, 256];
/// Width of the dense layers next to the latent code (Table 1).
pub const DENSE: i64 = 2048;
/// The grid must be divisible by 2⁵.
pub const STRIDE_TOTAL: usize = 32;
/// Largest grid side accepted (a 512² VAE has ~0.14 G parameters).
pub const MAX_SIDE: usize = 512;
pub const MAX_LATENT: usize = 8192;
/// Most outputs of the label head.
pub const MAX_LABELS: usize = 64;

/// The architecture (stored in checkpoints).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VaeConfig {
    pub nx: usize,
    pub ny: usize,
    /// "kx" (one channel) or "axis" (two).
    pub encoding: Encoding,
    pub channels: usize,
    pub latent: usize,
    pub kl_weight: f64,
    pub filters: Vec<i64>,
    pub dense: i64,
    /// Outputs of the label head (0: none), a linear map from μ to standardised labels:
    /// trained with a [`Supervision`], it makes the codes carry the labels.
    #[serde(default)]
    pub labels: usize,
}

impl VaeConfig {
    pub fn new(nx: usize, ny: usize, encoding: Encoding, latent: usize) -> VaeConfig {
        VaeConfig {
            nx,
            ny,
            encoding,
            channels: encoding.channels(),
            latent,
            kl_weight: 1e-4,
            filters: FILTERS.to_vec(),
            dense: DENSE,
            labels: 0,
        }
    }

    /// The paper's network: 160², k_x, latent 512.
    pub fn paper() -> VaeConfig {
        VaeConfig::new(160, 160, Encoding::Kx, 512)
    }

    /// Refuses grids that the stride-2 stack cannot halve five times, and odd settings.
    pub fn validate(&self) -> Result<()> {
        let e = self.encoding;
        ensure(self.channels == e.channels(), || {
            format!(
                "encoding \"{}\" has {} channel(s), the config says {}",
                self.encoding,
                e.channels(),
                self.channels
            )
        })?;
        for (what, side) in [("nx", self.nx), ("ny", self.ny)] {
            ensure(
                (STRIDE_TOTAL..=MAX_SIDE).contains(&side) && side % STRIDE_TOTAL == 0,
                || {
                    format!(
                        "grid {what} = {side}: the five stride-2 layers need a multiple of \
                         {STRIDE_TOTAL} in {STRIDE_TOTAL}..={MAX_SIDE} (e.g. 64, 128, 160)"
                    )
                },
            )?;
        }
        ensure((1..=MAX_LATENT).contains(&self.latent), || {
            format!(
                "latent size must be in 1..={MAX_LATENT}, got {}",
                self.latent
            )
        })?;
        ensure(self.kl_weight.is_finite() && self.kl_weight >= 0.0, || {
            format!(
                "kl_weight must be a finite number ≥ 0, got {}",
                self.kl_weight
            )
        })?;
        ensure(self.labels <= MAX_LABELS, || {
            format!("labels must be in 0..={MAX_LABELS}, got {}", self.labels)
        })?;
        ensure(self.filters == FILTERS && self.dense == DENSE, || {
            format!(
                "filters/dense must be Table 1's {FILTERS:?}/{DENSE}, got {:?}/{}",
                self.filters, self.dense
            )
        })
    }

    /// (ny, nx) of the bottleneck.
    pub fn bottleneck(&self) -> (i64, i64) {
        (
            (self.ny / STRIDE_TOTAL) as i64,
            (self.nx / STRIDE_TOTAL) as i64,
        )
    }
}

/// Options of [`Vae::train`].
#[derive(Clone, Debug, PartialEq)]
pub struct VaeTrain {
    pub epochs: usize,
    pub batch: usize,
    pub lr: f64,
    pub seed: u64,
    /// Replace each raster by its image under one of the four curve-preserving symmetries
    /// ([`Symmetry`]), drawn per (seed, epoch, record). Off by default: the paper trains on
    /// the rasters as drawn.
    pub augment: bool,
}

impl Default for VaeTrain {
    fn default() -> Self {
        VaeTrain {
            epochs: 10,
            batch: 64,
            lr: 1e-4,
            seed: 0,
            augment: false,
        }
    }
}

/// Transforms batch `x` [n, channels, ny, nx] of records `ids` in place, each by the
/// symmetry drawn for (seed, epoch, record id): independent of batch order and batch size.
pub fn augment_batch(
    x: &mut Array4<f32>,
    ids: &[usize],
    encoding: Encoding,
    seed: u64,
    epoch: u64,
) -> Result<()> {
    ensure(x.shape()[0] == ids.len(), || {
        format!(
            "augment_batch: {} rasters for {} record ids",
            x.shape()[0],
            ids.len()
        )
    })?;
    for (raster, &id) in x.outer_iter_mut().zip(ids) {
        Symmetry::draw(seed, epoch, id as u64)
            .apply_encoded(raster, encoding)
            .map_err(|e| LearnError::msg(e.to_string()))?;
    }
    Ok(())
}

struct Layers {
    convs: Vec<nn::Conv2D>,
    dense1: nn::Linear,
    mean: nn::Linear,
    logvar: nn::Linear,
    dense2: nn::Linear,
    dense3: nn::Linear,
    convtr: Vec<nn::ConvTranspose2D>,
    head: Option<nn::Linear>,
}

/// Kernel and padding of conv layer `k` of 5 (the outer layers are 4×4 with padding 1).
fn kernel(k: usize) -> (i64, i64) {
    if k == 0 { (4, 1) } else { (2, 0) }
}

impl Layers {
    fn new(vs: &VarStore, c: &VaeConfig) -> Layers {
        let enc = vs.root() / "encoder";
        let dec = vs.root() / "decoder";
        let ch = c.channels as i64;
        let (h5, w5) = c.bottleneck();
        let flat = FILTERS[4] * h5 * w5;
        let ins: Vec<i64> = std::iter::once(ch)
            .chain(FILTERS[..4].iter().copied())
            .collect();
        let convs = (0..5)
            .map(|k| {
                let (ks, pad) = kernel(k);
                let cfg = nn::ConvConfig {
                    stride: 2,
                    padding: pad,
                    ..Default::default()
                };
                nn::conv2d(&enc / format!("conv{}", k + 1), ins[k], FILTERS[k], ks, cfg)
            })
            .collect();
        // Mirror: 256 → 128 → 64 → 32 → 16 → channels, the last one 4×4.
        let outs = [FILTERS[3], FILTERS[2], FILTERS[1], FILTERS[0], ch];
        let convtr = (0..5)
            .map(|k| {
                let (ks, pad) = kernel(if k == 4 { 0 } else { 1 });
                let cfg = nn::ConvTransposeConfig {
                    stride: 2,
                    padding: pad,
                    ..Default::default()
                };
                let input = FILTERS[4 - k];
                nn::conv_transpose2d(&dec / format!("convtr{}", k + 1), input, outs[k], ks, cfg)
            })
            .collect();
        let l = c.latent as i64;
        Layers {
            convs,
            dense1: nn::linear(&enc / "dense1", flat, DENSE, Default::default()),
            mean: nn::linear(&enc / "mean", DENSE, l, Default::default()),
            logvar: nn::linear(&enc / "logvar", DENSE, l, Default::default()),
            dense2: nn::linear(&dec / "dense2", l, DENSE, Default::default()),
            dense3: nn::linear(&dec / "dense3", DENSE, flat, Default::default()),
            convtr,
            head: (c.labels > 0)
                .then(|| nn::linear(vs.root() / "head", l, c.labels as i64, Default::default())),
        }
    }
}

/// The architecture and its layers: the forward passes.
pub struct Net {
    pub config: VaeConfig,
    layers: Layers,
}

/// A VAE: its var store (weights), network, optimiser (after training) and history.
pub struct Vae {
    pub net: Net,
    weights: Weights,
}

impl Net {
    fn check_input(&self, x: &Tensor) -> Result<()> {
        let c = &self.config;
        let want = [c.channels as i64, c.ny as i64, c.nx as i64];
        let s = x.size();
        ensure(s.len() == 4 && s[1..] == want, || {
            format!(
                "rasters must have shape [n, {}, {}, {}] (encoding \"{}\"), got {s:?}",
                want[0], want[1], want[2], c.encoding
            )
        })
    }

    /// (μ, log σ²) of a batch [n, channels, ny, nx].
    pub fn encode_tensor(&self, x: &Tensor) -> (Tensor, Tensor) {
        let mut h = x.shallow_clone();
        for conv in &self.layers.convs {
            h = h.apply(conv).elu();
        }
        let h = h.flatten(1, -1).apply(&self.layers.dense1).elu();
        (h.apply(&self.layers.mean), h.apply(&self.layers.logvar))
    }

    /// Reconstructions [n, channels, ny, nx] in [−1, 1] of codes [n, latent].
    pub fn decode_tensor(&self, z: &Tensor) -> Tensor {
        let (h5, w5) = self.config.bottleneck();
        let mut h = z
            .apply(&self.layers.dense2)
            .elu()
            .apply(&self.layers.dense3)
            .elu()
            .view([-1, FILTERS[4], h5, w5]);
        let last = self.layers.convtr.len() - 1;
        for (k, ct) in self.layers.convtr.iter().enumerate() {
            h = ct.forward(&h);
            h = if k == last { h.tanh() } else { h.elu() };
        }
        h
    }

    /// One NAdam step on batch `x`: (loss, reconstruction MSE, KL) before the update.
    pub fn step(&self, opt: &mut NAdam, x: &Tensor) -> (f64, f64, f64) {
        let [loss, recon, kl, _] = self.step_labelled(opt, x, None);
        (loss, recon, kl)
    }

    /// One NAdam step on batch `x` and, when given, a labelled batch: [loss, reconstruction
    /// MSE, KL, label MSE] before the update.
    pub fn step_labelled(
        &self,
        opt: &mut NAdam,
        x: &Tensor,
        labelled: Option<&LabelBatch>,
    ) -> [f64; 4] {
        let parts = self.losses(x, labelled);
        opt.step(&parts[0]);
        // One device-to-host copy for the four numbers.
        let parts = Tensor::stack(&parts.each_ref().map(|t| t.detach()), 0)
            .to_kind(Kind::Double)
            .to_device(Device::Cpu);
        let v = Vec::<f64>::try_from(&parts).expect("four f64 values");
        [v[0], v[1], v[2], v[3]]
    }

    /// (loss, reconstruction MSE, KL) of a batch, with a reparameterised sample.
    pub fn loss(&self, x: &Tensor) -> (Tensor, Tensor, Tensor) {
        let [loss, recon, kl, _] = self.losses(x, None);
        (loss, recon, kl)
    }

    /// [loss, reconstruction MSE, KL, label MSE] of a batch with a reparameterised sample.
    /// A labelled batch joins the reconstruction and the KL, and the label head reads its
    /// anchors from μ (the code the regressors see); without one the label MSE is 0.
    pub fn losses(&self, x: &Tensor, labelled: Option<&LabelBatch>) -> [Tensor; 4] {
        let all = match labelled {
            Some(l) => Tensor::cat(&[x, &l.x], 0),
            None => x.shallow_clone(),
        };
        let (mu, logvar) = self.encode_tensor(&all);
        // One runaway log-variance would make exp() infinite and end the run; e^±20 is far
        // outside any posterior a trained encoder gives.
        let logvar = logvar.clamp(-20.0, 20.0);
        let eps = mu.randn_like();
        let z = &mu + (&logvar * 0.5).exp() * eps;
        let recon = self.decode_tensor(&z).mse_loss(&all, tch::Reduction::Mean);
        let kl =
            ((&logvar + 1.0 - mu.square() - logvar.exp()).sum_dim_intlist(1, false, Kind::Float)
                * -0.5)
                .mean(Kind::Float);
        let mut loss = &recon + &kl * self.config.kl_weight;
        let label = match (labelled, &self.layers.head) {
            (Some(l), Some(head)) => {
                let n = x.size()[0];
                let pred = mu.narrow(0, n, l.x.size()[0]).apply(head);
                masked_mse(&pred, &l.y, &l.mask)
            }
            _ => Tensor::zeros([], (Kind::Float, mu.device())),
        };
        if let Some(l) = labelled {
            loss = loss + &label * l.weight;
        }
        [loss, recon, kl, label]
    }
}

/// A labelled mini-batch on the device: rasters, standardised targets (missing = 0), their
/// mask (1 = present) and the weight of the label MSE in the loss.
pub struct LabelBatch {
    pub x: Tensor,
    pub y: Tensor,
    pub mask: Tensor,
    pub weight: f64,
}

/// Labelled structures that steer the codes during [`Vae::train_supervised`]: each step
/// adds `batch` of them to the unlabelled batch, and the label head must read their
/// targets (standardised per column over these records) from μ.
pub struct Supervision<'a> {
    pub source: &'a dyn RasterSource,
    /// Records of `source`, each once.
    pub ids: Vec<usize>,
    /// Targets [ids.len(), labels] in `ids` order; NaN where missing.
    pub targets: Array2<f64>,
    /// Weight of the label MSE against the per-cell reconstruction MSE.
    pub weight: f64,
    pub batch: usize,
}

/// The labelled batches of a run, cycled: pass k over the labelled records is shuffled by
/// (seed, k), and epoch e starts at pass e·2¹⁶, so an epoch's draws do not depend on
/// where training resumed.
struct LabelStream<'a> {
    sup: &'a Supervision<'a>,
    encoding: Encoding,
    seed: u64,
    augment: bool,
    row: std::collections::HashMap<usize, usize>,
    y: Array2<f32>,
    mask: Array2<f32>,
    pass: u64,
    batches: Batches<'a>,
}

impl<'a> LabelStream<'a> {
    fn new(
        sup: &'a Supervision<'a>,
        encoding: Encoding,
        seed: u64,
        augment: bool,
    ) -> LabelStream<'a> {
        let scaler = Scaler::fit(sup.targets.view());
        let (y, mask) = targets_and_mask(&scaler.transform(sup.targets.view()));
        let row = sup.ids.iter().enumerate().map(|(k, &id)| (id, k)).collect();
        let seed = crate::grains::rng::splitmix64(seed, LABEL_STREAM);
        let batches = Batches::new(sup.source, &sup.ids, encoding, sup.batch, seed, 0);
        LabelStream {
            sup,
            encoding,
            seed,
            augment,
            row,
            y,
            mask,
            pass: 0,
            batches,
        }
    }

    fn start_epoch(&mut self, epoch: u64) {
        self.restart(epoch << 16);
    }

    fn restart(&mut self, pass: u64) {
        self.pass = pass;
        let s = self.sup;
        self.batches = Batches::new(s.source, &s.ids, self.encoding, s.batch, self.seed, pass);
    }

    fn next(&mut self, device: Device) -> Result<LabelBatch> {
        let (ids, mut x) = match self.batches.next() {
            Some(b) => b.map_err(LearnError::Source)?,
            None => {
                self.restart(self.pass + 1);
                let b = self.batches.next().expect("a labelled set is never empty");
                b.map_err(LearnError::Source)?
            }
        };
        if self.augment {
            augment_batch(&mut x, &ids, self.encoding, self.seed, self.pass)?;
        }
        let rows: Vec<usize> = ids.iter().map(|id| self.row[id]).collect();
        Ok(LabelBatch {
            x: to_tensor(&x, device),
            y: to_tensor(&self.y.select(ndarray::Axis(0), &rows), device),
            mask: to_tensor(&self.mask.select(ndarray::Axis(0), &rows), device),
            weight: self.sup.weight,
        })
    }
}

/// Stream key of the labelled batches' shuffles and symmetries (apart from the unlabelled).
const LABEL_STREAM: u64 = 0x4c41_4245_4c53;

impl Vae {
    /// A freshly initialised VAE on `device` (weights drawn from `seed`).
    pub fn new(config: VaeConfig, device: Device, seed: u64) -> Result<Vae> {
        config.validate()?;
        let weights = Weights::new(device, seed);
        let layers = Layers::new(&weights.vs, &config);
        Ok(Vae {
            net: Net { config, layers },
            weights,
        })
    }

    pub fn config(&self) -> &VaeConfig {
        &self.net.config
    }

    pub fn device(&self) -> Device {
        self.weights.device()
    }

    pub fn to_device(&mut self, device: Device) {
        self.weights.to_device(device)
    }

    pub fn var_store(&self) -> &VarStore {
        &self.weights.vs
    }

    /// Every finished epoch.
    pub fn history(&self) -> &[EpochRecord] {
        &self.weights.history
    }

    /// The network and its optimiser (created on first use), for custom loops and benches.
    pub fn net_and_optimizer(&mut self) -> (&Net, &mut NAdam) {
        let (_, opt, _) = self.weights.parts(NAdamConfig::default().lr);
        (&self.net, opt)
    }

    /// Trainable parameters of (encoder, decoder).
    pub fn parameter_counts(&self) -> (usize, usize) {
        let vars = self.weights.vs.variables();
        let sum = |prefix: &str| {
            vars.iter()
                .filter(|(n, _)| n.starts_with(prefix))
                .map(|(_, t)| t.numel())
                .sum()
        };
        (sum("encoder."), sum("decoder."))
    }

    pub fn parameter_count(&self) -> usize {
        self.weights.parameter_count()
    }

    /// Latent means of rasters [n, channels, ny, nx].
    pub fn encode(&self, x: &Array4<f32>) -> Result<Array2<f32>> {
        let t = to_tensor(x, self.device());
        self.net.check_input(&t)?;
        if x.shape()[0] == 0 {
            return Ok(Array2::zeros((0, self.net.config.latent)));
        }
        let mu = tch::no_grad(|| self.net.encode_tensor(&t).0);
        Ok(to_array(&mu).into_dimensionality::<Ix2>().expect("2-d"))
    }

    /// Latent means of the records `ids` of a source, `batch` at a time.
    pub fn encode_source(
        &self,
        source: &dyn RasterSource,
        ids: &[usize],
        batch: usize,
    ) -> Result<Array2<f32>> {
        self.check_grid(source)?;
        let mut out = Array2::zeros((ids.len(), self.net.config.latent));
        for (k, chunk) in ids.chunks(batch.max(1)).enumerate() {
            crate::interrupt::check().map_err(|_| LearnError::msg("interrupted"))?;
            let x = source
                .encode_many(chunk, self.net.config.encoding)
                .map_err(LearnError::Source)?;
            let z = self.encode(&x)?;
            let start = k * batch.max(1);
            out.slice_mut(ndarray::s![start..start + chunk.len(), ..])
                .assign(&z);
        }
        Ok(out)
    }

    /// Decoded rasters [n, channels, ny, nx] of codes [n, latent].
    pub fn decode(&self, z: &Array2<f32>) -> Result<Array4<f32>> {
        ensure(z.ncols() == self.net.config.latent, || {
            format!(
                "codes must have {} entries (the latent size), got {}",
                self.net.config.latent,
                z.ncols()
            )
        })?;
        if z.nrows() == 0 {
            let c = &self.net.config;
            return Ok(Array4::zeros((0, c.channels, c.ny, c.nx)));
        }
        let t = to_tensor(z, self.device());
        let x = tch::no_grad(|| self.net.decode_tensor(&t));
        Ok(to_array(&x).into_dimensionality::<Ix4>().expect("4-d"))
    }

    fn check_grid(&self, source: &dyn RasterSource) -> Result<()> {
        let (nx, ny) = source.grid();
        ensure((nx, ny) == (self.net.config.nx, self.net.config.ny), || {
            format!(
                "the data are {nx}×{ny} rasters, the VAE was built for {}×{}",
                self.net.config.nx, self.net.config.ny
            )
        })
    }

    /// Trains on the records `ids` of `source` (streamed batch by batch) for
    /// `opts.epochs` more epochs; resumes the optimiser state of a loaded checkpoint. On
    /// Ctrl-C the weights of the last finished epoch are kept and
    /// [`LearnError::Interrupted`] is returned.
    pub fn train(
        &mut self,
        source: &dyn RasterSource,
        ids: &[usize],
        opts: &VaeTrain,
    ) -> Result<()> {
        self.train_supervised(source, ids, opts, None)
    }

    /// [`Vae::train`], with labelled structures steering the codes when `labelled` is
    /// given (the VAE needs a label head of as many outputs as the targets have columns).
    pub fn train_supervised(
        &mut self,
        source: &dyn RasterSource,
        ids: &[usize],
        opts: &VaeTrain,
        labelled: Option<&Supervision>,
    ) -> Result<()> {
        self.check_grid(source)?;
        ensure(!ids.is_empty(), || "no records to train on".into())?;
        check_ids(source, ids)?;
        if let Some(sup) = labelled {
            self.check_supervision(sup)?;
        }
        let encoding = self.net.config.encoding;
        let batches = ids.len().div_ceil(opts.batch.max(1));
        let net = &self.net;
        let (vs, opt, history) = self.weights.parts(opts.lr);
        let device = vs.device();
        let mut stream = labelled.map(|s| LabelStream::new(s, encoding, opts.seed, opts.augment));
        run_epochs(
            vs,
            opt,
            "vae",
            opts.epochs,
            batches,
            history,
            |e, opt, tick| {
                let start = Instant::now();
                seed_torch(opts.seed, e as u64);
                if let Some(s) = stream.as_mut() {
                    s.start_epoch(e as u64);
                }
                let (mut sum, mut rsum, mut ksum, mut lsum, mut n) = (0.0, 0.0, 0.0, 0.0, 0usize);
                for b in Batches::new(source, ids, encoding, opts.batch, opts.seed, e as u64) {
                    let (bid, mut x) = b.map_err(LearnError::Source)?;
                    if opts.augment {
                        augment_batch(&mut x, &bid, encoding, opts.seed, e as u64)?;
                    }
                    let x = to_tensor(&x, device);
                    let lb = stream.as_mut().map(|s| s.next(device)).transpose()?;
                    let [loss, recon, kl, label] = net.step_labelled(opt, &x, lb.as_ref());
                    let w = bid.len() as f64;
                    sum += loss * w;
                    rsum += recon * w;
                    ksum += kl * w;
                    lsum += label * w;
                    n += bid.len();
                    tick(loss)?;
                }
                let n_f = n.max(1) as f64;
                let mut parts: std::collections::BTreeMap<String, f64> = [
                    ("reconstruction".to_string(), rsum / n_f),
                    ("kl".to_string(), ksum / n_f),
                ]
                .into_iter()
                .collect();
                if stream.is_some() {
                    parts.insert("labels".to_string(), lsum / n_f);
                }
                Ok(EpochRecord {
                    epoch: e,
                    loss: sum / n_f,
                    parts,
                    seconds: start.elapsed().as_secs_f64(),
                    samples: n,
                })
            },
        )
    }

    fn check_supervision(&self, sup: &Supervision) -> Result<()> {
        let heads = self.net.config.labels;
        ensure(heads > 0, || {
            "labelled structures need a VAE with a label head (`vae::create(#{ label_head: true })`)".into()
        })?;
        self.check_grid(sup.source)?;
        ensure(!sup.ids.is_empty(), || "no labelled records".into())?;
        check_ids(sup.source, &sup.ids)?;
        let mut seen = std::collections::HashSet::new();
        if let Some(&twice) = sup.ids.iter().find(|&&i| !seen.insert(i)) {
            return Err(LearnError::msg(format!(
                "labelled record {twice} is given twice"
            )));
        }
        ensure(sup.targets.dim() == (sup.ids.len(), heads), || {
            format!(
                "labelled targets must have shape [{}, {heads}] (records, label head), got {:?}",
                sup.ids.len(),
                sup.targets.shape()
            )
        })?;
        ensure(sup.targets.iter().any(|v| v.is_finite()), || {
            "the labelled targets are all missing".into()
        })?;
        ensure(sup.weight.is_finite() && sup.weight >= 0.0, || {
            format!(
                "label weight must be a finite number ≥ 0, got {}",
                sup.weight
            )
        })?;
        ensure(sup.batch >= 1, || "labelled batch must be ≥ 1".into())
    }
}

/// Refuses record indices beyond the end of `source`.
pub(super) fn check_ids(source: &dyn RasterSource, ids: &[usize]) -> Result<()> {
    match ids.iter().find(|&&i| i >= source.len()) {
        Some(&bad) => Err(LearnError::msg(format!(
            "record {bad} is out of range (the data have {})",
            source.len()
        ))),
        None => Ok(()),
    }
}

/// What a VAE checkpoint's JSON holds besides the common fields.
#[derive(Serialize, Deserialize)]
struct VaeMeta {
    config: VaeConfig,
}

impl Vae {
    /// Writes `path.safetensors`, `path.json` and (after training) `path.optim.safetensors`.
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        let meta = VaeMeta {
            config: self.net.config.clone(),
        };
        self.weights.save(path, "vae", &meta)
    }

    /// Loads a checkpoint onto `device`; weights that do not fit the config are refused.
    /// Training continues from the saved optimiser state when there is one.
    pub fn load(path: impl AsRef<std::path::Path>, device: Device) -> Result<Vae> {
        let meta: checkpoint::Meta<VaeMeta> = checkpoint::read_meta(&path, "vae")?;
        let mut vae = Vae::new(meta.model.config.clone(), Device::Cpu, 0)?;
        vae.weights.restore(&path, &meta, device)?;
        Ok(vae)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grains::{Sample, VoronoiOptions};

    #[test]
    fn vae_parameter_counts_equal_table_1_at_160() {
        let vae = Vae::new(VaeConfig::paper(), Device::Cpu, 0).unwrap();
        assert_eq!(vae.parameter_counts(), (15_382_256, 14_338_801));
        // Shapes through the network at a batch of 2.
        let x = Tensor::zeros([2, 1, 160, 160], (Kind::Float, Device::Cpu));
        let (mu, lv) = tch::no_grad(|| vae.net.encode_tensor(&x));
        assert_eq!((mu.size(), lv.size()), (vec![2, 512], vec![2, 512]));
        let y = tch::no_grad(|| vae.net.decode_tensor(&mu));
        assert_eq!(y.size(), vec![2, 1, 160, 160]);
    }

    #[test]
    fn runaway_log_variance_keeps_the_loss_finite() {
        let vae = Vae::new(VaeConfig::new(32, 32, Encoding::Axis, 4), Device::Cpu, 0).unwrap();
        // A log-variance of 200 overflows exp() in f32; the loss must stay finite.
        tch::no_grad(|| {
            let b = vae.net.layers.logvar.bs.as_ref().unwrap();
            let _ = b.shallow_clone().fill_(200.0);
        });
        let x = Tensor::zeros([2, 2, 32, 32], (Kind::Float, Device::Cpu));
        let (loss, _, kl) = tch::no_grad(|| vae.net.loss(&x));
        assert!(loss.double_value(&[]).is_finite() && kl.double_value(&[]).is_finite());
    }

    #[test]
    fn vae_sizes_follow_grid_and_encoding() {
        let vae = Vae::new(VaeConfig::new(64, 96, Encoding::Axis, 16), Device::Cpu, 0).unwrap();
        let x = ndarray::Array4::<f32>::zeros((3, 2, 96, 64));
        let z = vae.encode(&x).unwrap();
        assert_eq!(z.shape(), &[3, 16]);
        assert_eq!(vae.decode(&z).unwrap().shape(), &[3, 2, 96, 64]);
        // Wrong channel count or grid: a clear error, not a libtorch panic.
        assert_eq!(
            vae.decode(&Array2::zeros((0, 16))).unwrap().shape(),
            &[0, 2, 96, 64]
        );
        let bad = vae.encode(&ndarray::Array4::<f32>::zeros((1, 1, 96, 64)));
        assert!(bad.unwrap_err().to_string().contains("[n, 2, 96, 64]"));
        let e = Vae::new(VaeConfig::new(100, 100, Encoding::Kx, 8), Device::Cpu, 0);
        assert!(e.err().unwrap().to_string().contains("multiple of 32"));
    }

    #[test]
    fn vae_trains_from_a_sample_and_round_trips_a_checkpoint() {
        tch::set_num_threads(1);
        let sample = Sample::new(VoronoiOptions::square(32), 3, 16).unwrap();
        let ids: Vec<usize> = (0..16).collect();
        let mut vae = Vae::new(VaeConfig::new(32, 32, Encoding::Kx, 8), Device::Cpu, 1).unwrap();
        let train = VaeTrain {
            epochs: 2,
            batch: 8,
            lr: 1e-3,
            seed: 5,
            augment: false,
        };
        vae.train(&sample, &ids, &train).unwrap();
        assert_eq!(vae.history().len(), 2);
        assert_eq!(vae.history()[1].epoch, 2);
        assert_eq!(vae.history()[1].samples, 16);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v");
        vae.save(&path).unwrap();
        let back = Vae::load(&path, Device::Cpu).unwrap();
        let z = vae.encode_source(&sample, &ids, 5).unwrap();
        assert_eq!(back.encode_source(&sample, &ids, 5).unwrap(), z);
        assert_eq!(back.decode(&z).unwrap(), vae.decode(&z).unwrap());
        assert_eq!(back.history(), vae.history());
        // Resumed training continues the epoch count from the saved optimiser state.
        let mut resumed = back;
        let once = VaeTrain { epochs: 1, ..train };
        resumed.train(&sample, &ids, &once).unwrap();
        assert_eq!(resumed.history().last().unwrap().epoch, 3);
        // A config that does not match the weights is refused.
        let cfg = checkpoint::paths(&path).config;
        let text = std::fs::read_to_string(&cfg)
            .unwrap()
            .replace("\"latent\": 8", "\"latent\": 9");
        std::fs::write(&cfg, text).unwrap();
        let err = Vae::load(&path, Device::Cpu).err().unwrap().to_string();
        assert!(err.contains("does not match its config"), "{err}");
        assert!(err.contains("shape"), "{err}");
    }

    #[test]
    fn labelled_training_refuses_what_it_cannot_use() {
        let sample = Sample::new(VoronoiOptions::square(32), 3, 4).unwrap();
        let ids: Vec<usize> = (0..4).collect();
        let opts = VaeTrain {
            epochs: 1,
            batch: 2,
            ..VaeTrain::default()
        };
        let sup = |ids: Vec<usize>, targets: Array2<f64>, weight: f64| Supervision {
            source: &sample,
            ids,
            targets,
            weight,
            batch: 2,
        };
        let err = |v: &mut Vae, s: &Supervision| {
            v.train_supervised(&sample, &ids, &opts, Some(s))
                .unwrap_err()
                .to_string()
        };
        let y = Array2::from_elem((4, 6), 0.5);
        let mut plain = Vae::new(VaeConfig::new(32, 32, Encoding::Kx, 4), Device::Cpu, 0).unwrap();
        assert!(err(&mut plain, &sup(ids.clone(), y.clone(), 1.0)).contains("label head"));
        let mut cfg = VaeConfig::new(32, 32, Encoding::Kx, 4);
        cfg.labels = 6;
        let mut v = Vae::new(cfg, Device::Cpu, 0).unwrap();
        let e = err(&mut v, &sup(vec![0, 1, 1, 2], y.clone(), 1.0));
        assert!(e.contains("record 1 is given twice"), "{e}");
        let e = err(&mut v, &sup(ids.clone(), Array2::zeros((4, 5)), 1.0));
        assert!(e.contains("[4, 6]"), "{e}");
        let e = err(
            &mut v,
            &sup(ids.clone(), Array2::from_elem((4, 6), f64::NAN), 1.0),
        );
        assert!(e.contains("all missing"), "{e}");
        let e = err(&mut v, &sup(ids.clone(), y.clone(), f64::NAN));
        assert!(e.contains("label weight"), "{e}");
        let e = err(&mut v, &sup(vec![0, 9], Array2::zeros((2, 6)), 1.0));
        assert!(e.contains("record 9 is out of range"), "{e}");
        assert!(v.history().is_empty(), "nothing was trained");
    }

    /// The draws of augmentation (training with them is checked for reproducibility in
    /// tests/learn_augment.rs: libtorch's generator is process-wide, so in its own process).
    #[test]
    fn vae_augment_draws_are_per_record_and_per_epoch() {
        let sample = Sample::new(VoronoiOptions::square(32), 3, 12).unwrap();
        let ids: Vec<usize> = (0..12).collect();
        // Per record, not per position in the batch; new ones each epoch.
        let e = Encoding::Kx;
        let drawn = |ids: &[usize], epoch: u64| {
            let mut x = sample.encode_many(ids, e).unwrap();
            augment_batch(&mut x, ids, e, 5, epoch).unwrap();
            x
        };
        let first = drawn(&ids, 1);
        assert_ne!(
            first,
            sample.encode_many(&ids, e).unwrap(),
            "not all Identity"
        );
        let rev: Vec<usize> = ids.iter().rev().copied().collect();
        assert_eq!(drawn(&rev, 1).slice(ndarray::s![..;-1, .., .., ..]), first);
        assert_ne!(drawn(&ids, 2), first);
        for (k, &id) in ids.iter().enumerate() {
            let t = Symmetry::draw(5, 1, id as u64);
            let want = e.encode(&sample.get(id).unwrap().transformed(t));
            assert_eq!(first.index_axis(ndarray::Axis(0), k), want, "record {id}");
        }
        let mut x = sample.encode_many(&ids[..2], e).unwrap();
        assert!(augment_batch(&mut x, &ids, e, 5, 1).is_err());
    }
}

//! `coercive bench vae` / `coercive bench regressor`: training samples per second of the
//! paper's networks on the CPU (or `--device`), at their paper batch sizes.
//!
//! VAE: Table 1 at 160² (k_x, latent 512), batches of 64 paper-law structures encoded on
//! the fly outside the timed region; regressor: Table 2 (512 → six anchors), batches of
//! 16 random codes. One warm-up step, then `steps` timed NAdam steps (forward, backward,
//! update).

use crate::grains::{Encoding, RasterSource, Sample, VoronoiOptions};
use crate::learn::tensor::to_tensor;
use crate::learn::{Regressor, RegressorConfig, Result, Vae, VaeConfig};
use std::fmt;
use std::time::Instant;
use tch::{Kind, Tensor};

#[derive(Clone, Debug)]
pub struct Report {
    pub what: String,
    pub parameters: usize,
    pub batch: usize,
    pub steps: usize,
    pub seconds: f64,
    pub threads: usize,
    pub device: String,
}

impl Report {
    pub fn samples_per_second(&self) -> f64 {
        (self.steps * self.batch) as f64 / self.seconds
    }
}

/// A sentence, then one `bench-summary key=value …` line for scripts; the PyTorch
/// reference (scripts/bench/pytorch_reference.py) prints the same two lines.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rate = self.samples_per_second();
        writeln!(
            f,
            "{}: {} parameters, {} steps of batch {} in {:.2} s on {} with {} thread{}: {:.1} samples/s ({:.3} s/step)",
            self.what,
            self.parameters,
            self.steps,
            self.batch,
            self.seconds,
            self.device,
            self.threads,
            if self.threads == 1 { "" } else { "s" },
            rate,
            self.seconds / self.steps.max(1) as f64,
        )?;
        write!(
            f,
            "bench-summary impl=coercive net={} device={} threads={} batch={} steps={} parameters={} samples_per_s={rate:.2}",
            self.what.split_whitespace().next().unwrap_or(""),
            self.device,
            self.threads,
            self.batch,
            self.steps,
            self.parameters,
        )
    }
}

/// Refuses empty runs, which would report 0 or NaN samples/s.
fn check_sizes(batch: usize, steps: usize) -> Result<()> {
    if batch == 0 || steps == 0 {
        return Err(crate::learn::LearnError::msg(format!(
            "--batch and --steps must be at least 1, got {batch} and {steps}"
        )));
    }
    Ok(())
}

/// One warm-up call of `step`, then `steps` timed ones, reported with the session's
/// device and libtorch's thread count. Every step reads its loss on the host, so on CUDA
/// the clock stops only after the device has finished.
fn timed(
    what: String,
    parameters: usize,
    batch: usize,
    steps: usize,
    mut step: impl FnMut(),
) -> Report {
    step();
    let start = Instant::now();
    for _ in 0..steps {
        step();
    }
    Report {
        what,
        parameters,
        batch,
        steps,
        seconds: start.elapsed().as_secs_f64(),
        threads: tch::get_num_threads() as usize,
        device: crate::settings::device().name().into(),
    }
}

/// Table-1 VAE at n² (160 in the paper), batch `batch`, `steps` timed steps.
pub fn vae(n: usize, batch: usize, steps: usize) -> Result<Report> {
    check_sizes(batch, steps)?;
    let device = crate::settings::device().to_tch();
    // The rasters and the convolutions' activations (tens of channels per cell), f32.
    crate::memory::check(
        &format!("--batch {batch}"),
        (batch * n * n) as u128 * 64 * 4,
    )
    .map_err(crate::learn::LearnError::Msg)?;
    let mut vae = Vae::new(VaeConfig::new(n, n, Encoding::Kx, 512), device, 0)?;
    let sample = Sample::new(VoronoiOptions::square(n), 2024, batch)
        .map_err(|e| crate::learn::LearnError::msg(e.to_string()))?;
    let ids: Vec<usize> = (0..batch).collect();
    let x = RasterSource::encode_many(&sample, &ids, Encoding::Kx)
        .map_err(crate::learn::LearnError::Source)?;
    let x = to_tensor(&x, device);
    let parameters = vae.parameter_count();
    let (net, opt) = vae.net_and_optimizer();
    Ok(timed(
        format!("vae {n}²"),
        parameters,
        batch,
        steps,
        || {
            net.step(opt, &x);
        },
    ))
}

/// Table-2 regressor, batch `batch`, `steps` timed steps.
pub fn regressor(batch: usize, steps: usize) -> Result<Report> {
    check_sizes(batch, steps)?;
    let device = crate::settings::device().to_tch();
    // x, y, mask and the activations of the 512-wide layers, f32.
    crate::memory::check(&format!("--batch {batch}"), batch as u128 * 6 * 512 * 4)
        .map_err(crate::learn::LearnError::Msg)?;
    let mut r = Regressor::new(RegressorConfig::paper(), device, 0)?;
    tch::manual_seed(1);
    let x = Tensor::randn([batch as i64, 512], (Kind::Float, device));
    let y = Tensor::randn([batch as i64, 6], (Kind::Float, device));
    let mask = Tensor::ones([batch as i64, 6], (Kind::Float, device));
    let parameters = r.parameter_count();
    let (net, opt) = r.net_and_optimizer();
    Ok(timed("regressor".into(), parameters, batch, steps, || {
        net.step(opt, &x, &y, &mask);
    }))
}

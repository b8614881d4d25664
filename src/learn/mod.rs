//! The networks of the paper's second half (docs/physics.md §5–6): the variational
//! autoencoder of Table 1, the multi-head regressor of Table 2, their optimiser (NAdam),
//! checkpoints, cross-validation, baselines and the Table-3 error measures.
//!
//! ```no_run
//! use coercive::grains::{Encoding, Sample, VoronoiOptions};
//! use coercive::learn::{Vae, VaeConfig, VaeTrain};
//! # fn main() -> coercive::learn::Result<()> {
//! let sample = Sample::new(VoronoiOptions { nx: 64, ny: 64, ..Default::default() }, 1, 256)
//!     .map_err(|e| coercive::learn::LearnError::msg(e.to_string()))?;
//! let mut vae = Vae::new(VaeConfig::new(64, 64, Encoding::Kx, 32), tch::Device::Cpu, 7)?;
//! let ids: Vec<usize> = (0..256).collect();
//! vae.train(&sample, &ids, &VaeTrain { epochs: 2, ..VaeTrain::default() })?;
//! vae.save("out/vae")?; // out/vae.safetensors + out/vae.json
//! # Ok(()) }
//! ```

pub mod acquisition;
pub mod active;
pub mod baselines;
pub mod boosting;
pub mod checkpoint;
pub mod cv;
pub mod ensemble;
mod error;
pub mod gp;
pub mod graphnet;
pub mod images;
pub mod learning_curve;
pub mod metrics;
pub mod nadam;
pub mod ordering;
pub mod quality;
pub mod regressor;
pub mod scaler;
pub mod tensor;
pub mod train;
pub mod vae;
pub mod weights;

pub use error::{LearnError, Result};
pub use graphnet::{GraphNet, GraphNetConfig, GraphNetTrain};
pub use nadam::NAdam;
pub use quality::{Reconstruction, probe_r2};
pub use regressor::{Regressor, RegressorConfig};
pub use scaler::Scaler;
pub use train::{EpochRecord, Fit};
pub use vae::{Supervision, Vae, VaeConfig, VaeTrain};

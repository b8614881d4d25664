//! The solver on tch tensors: many structures' curves at once, [B, ny, nx] per field, on
//! the CPU or a CUDA device. The same physics (`terms.rs`), the same descent and stopping
//! rule (`descent.rs`) and the same per-step records and anchors as the plain solver;
//! `batch.rs` runs the structures with continuous batching.
//!
//! Floats: `Precision::F32` runs every tensor in f32 (the GPU's type), `F64` in f64. The
//! demag kernel spectra are built once on the CPU in f64 by `demag.rs` and uploaded.

pub mod batch;
mod descent;
pub mod terms;

pub(crate) use batch::TorchThreads;
pub use batch::{sweep_batched, sweep_stream};

use super::SolverError;
use super::demag::Precision;
use crate::settings::Device;
use serde::{Deserialize, Serialize};

/// Where the tensor backend runs and how many structures it holds at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TensorOptions {
    #[serde(with = "device_name")]
    pub device: Device,
    /// Structures in flight (slots); the tensors' leading size.
    pub batch: usize,
}

impl TensorOptions {
    /// Batch of the tensor backend when none is given.
    pub const DEFAULT_BATCH: usize = 64;

    pub fn on(device: Device) -> Self {
        TensorOptions {
            device,
            batch: Self::DEFAULT_BATCH,
        }
    }

    pub fn validated(self) -> Result<Self, SolverError> {
        if !(1..=1 << 16).contains(&self.batch) {
            return Err(SolverError::BadOption {
                name: "batch",
                value: self.batch.to_string(),
                expected: "structures in flight in 1..=65536",
            });
        }
        self.device
            .check_available()
            .map_err(|why| SolverError::BadOption {
                name: "device",
                value: format!("{} ({why})", self.device.name()),
                expected: "a device this build and machine can use",
            })?;
        Ok(self)
    }
}

/// Which solver computes the curves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// The plain-Rust solver, one curve per core (the default on the CPU).
    #[default]
    Plain,
    /// The batched solver on tensors.
    Tensor(TensorOptions),
}

impl Backend {
    /// Script and command-line names.
    pub const NAMES: [&'static str; 2] = ["plain", "tensor"];

    /// The backend a session's `--device` implies: tensors on CUDA, the plain solver on CPU.
    pub fn for_device(device: Device) -> Backend {
        match device {
            Device::Cpu => Backend::Plain,
            Device::Cuda => Backend::Tensor(TensorOptions::on(Device::Cuda)),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Plain => "plain",
            Backend::Tensor(_) => "tensor",
        }
    }

    pub fn validated(self) -> Result<Self, SolverError> {
        match self {
            Backend::Plain => Ok(self),
            Backend::Tensor(t) => Ok(Backend::Tensor(t.validated()?)),
        }
    }
}

mod device_name {
    use crate::settings::Device;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Device, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(d.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Device, D::Error> {
        Device::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// torch.where: `yes` where `cond` holds, else `no` (tch's `where_self` takes the
/// condition second).
pub(crate) fn pick(cond: &tch::Tensor, yes: &tch::Tensor, no: &tch::Tensor) -> tch::Tensor {
    yes.where_self(cond, no)
}

/// The tensor float type of a precision.
pub(crate) fn kind(precision: Precision) -> tch::Kind {
    match precision {
        Precision::F32 => tch::Kind::Float,
        Precision::F64 => tch::Kind::Double,
    }
}

#[cfg(test)]
mod tests;

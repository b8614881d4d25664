//! Micromagnetic solver: energy terms, demag, minimiser, sweeps and anchor points.
//!
//! One layer of nx × ny cells with in-plane magnetisation m = (sin φ, cos φ, 0) and easy
//! axes k = (sin ψ, cos ψ, 0) (angles from +y towards +x), Brown's energy per
//! docs/physics.md §3: exchange, uniaxial anisotropy, Zeeman (field along +y) and demag
//! (Newell tensor, zero-padded FFT, open boundaries). Fields are in units of the anisotropy field HA of the
//! reference material, energies in units of 2K1V per cell (reported in J/m³).
//!
//! Files follow mumax3's engine/: one physics idea each.

pub mod anchors;
pub mod anisotropy;
pub mod batch;
pub mod cache;
mod curve_csv;
pub mod demag;
pub mod energy;
pub mod exchange;
pub mod forc;
pub mod fork;
pub mod lbfgs;
pub mod material;
pub mod mesh;
pub mod minimizer;
pub mod newell;
pub mod problem;
pub mod relax;
pub mod remanence;
pub mod response;
pub mod settings;
pub mod snapshots;
pub mod sweep;
pub mod tensor;
mod trig;
pub mod zeeman;

pub use anchors::{ANCHOR_NAMES, Anchor, Anchors, anchors};
pub use batch::sweep_many;
pub use cache::CurveCache;
pub use demag::Precision;
pub use energy::{Energies, Energy, LocalFields, Terms};
pub use forc::{Forc, forc};
pub use material::Material;
pub use mesh::Mesh;
pub use minimizer::{Method, MinimizeOptions, StepStats, minimize};
pub use problem::Problem;
pub use relax::{OvfFormat, Relaxed, relax};
pub use remanence::{Remanence, demagnetised, remanence};
pub use settings::{BoundaryPhase, SolverSettings};
pub use snapshots::{Snapshot, Snapshots};
pub use sweep::{Curve, CurvePoint, SweepOptions, sweep, sweep_keeping};

use crate::interrupt::Interrupted;

/// What the solver reports when it cannot run: each message names what was expected.
#[derive(Debug, thiserror::Error)]
pub enum SolverError {
    #[error("empty grid {nx}×{ny}: expected at least one cell along x and y")]
    EmptyGrid { nx: usize, ny: usize },
    #[error("bad cell size {name} = {value}: expected a finite length > 0 in metres")]
    BadCellSize { name: &'static str, value: f64 },
    #[error("{what}: expected {expected} values (one per cell, c = j*nx + i), got {got}")]
    LengthMismatch {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("{what} holds {value} at index {index}: expected finite numbers")]
    NonFinite {
        what: &'static str,
        index: usize,
        value: f64,
    },
    #[error("bad material constant {what}, got {value}")]
    BadMaterial { what: &'static str, value: f64 },
    #[error("bad tolerance {0}: expected a torque in [1e-12, 10] in units of HA (e.g. 1e-4)")]
    BadTolerance(f64),
    #[error("bad option {name} = {value}: expected {expected}")]
    BadOption {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("all energy terms are switched off: expected at least one")]
    NoTerms,
    #[error("interrupted")]
    Interrupted(#[from] Interrupted),
    #[error("FFT failed: {0}")]
    Fft(String),
    #[error("cannot write {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// Checks that `values` has one finite entry per cell.
pub(crate) fn check_cells(
    what: &'static str,
    values: &[f64],
    cells: usize,
) -> Result<(), SolverError> {
    if values.len() != cells {
        return Err(SolverError::LengthMismatch {
            what,
            expected: cells,
            got: values.len(),
        });
    }
    if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(SolverError::NonFinite { what, index, value });
    }
    Ok(())
}

#[cfg(test)]
mod validation;

//! What the data module reports. Every message about a file names the file, and every
//! message about a record names its position in that file and, where it can be read, its id.

use crate::grains::GrainsError;
use crate::interrupt::Interrupted;
use crate::solver::SolverError;

pub type Result<T> = std::result::Result<T, DataError>;

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    /// A file that cannot be parsed (bad JSON, bad .npy header, wrong shape or dtype).
    #[error("{path}: {msg}")]
    Format { path: String, msg: String },
    /// A record whose bytes fail their checksum or hold impossible values.
    #[error("{path}: record {position}{} is corrupted: {what}", id_note(*.id))]
    CorruptRecord {
        path: String,
        position: usize,
        id: Option<u64>,
        what: String,
    },
    /// A whole-file checksum that does not match the manifest.
    #[error("{path}: checksum mismatch: {what}")]
    Checksum { path: String, what: String },
    #[error("{path}: duplicate record id {id} ({what})")]
    Duplicate { path: String, id: u64, what: String },
    #[error("{0}")]
    Incompatible(String),
    #[error("bad option {name} = {got}: expected {expected}")]
    BadOption {
        name: &'static str,
        got: String,
        expected: String,
    },
    #[error("{path} is being written by another coercive process (its lock is held)")]
    Locked { path: String },
    #[error(transparent)]
    Grains(#[from] GrainsError),
    #[error(transparent)]
    Solver(SolverError),
    #[error("interrupted: finished records are kept; run the same command again to resume")]
    Interrupted,
}

fn id_note(id: Option<u64>) -> String {
    id.map_or(String::new(), |id| format!(" (id {id})"))
}

impl From<Interrupted> for DataError {
    fn from(_: Interrupted) -> Self {
        DataError::Interrupted
    }
}

impl From<SolverError> for DataError {
    fn from(e: SolverError) -> Self {
        match e {
            SolverError::Interrupted(_) => DataError::Interrupted,
            e => DataError::Solver(e),
        }
    }
}

/// `map_err` adapter for I/O on `path`.
pub fn io_at(path: &std::path::Path) -> impl Fn(std::io::Error) -> DataError + '_ {
    move |source| DataError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// A format error on `path`.
pub fn format_at(path: &std::path::Path, msg: impl std::fmt::Display) -> DataError {
    DataError::Format {
        path: path.display().to_string(),
        msg: msg.to_string(),
    }
}

//! What can go wrong building, reading or writing a grain structure. Every message says
//! what was expected and what was found, and where (file, row, pixel) when there is a file.

use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum GrainsError {
    /// A parameter outside its domain.
    #[error("{what}: expected {expected}, got {got}")]
    Invalid {
        what: String,
        expected: String,
        got: String,
    },
    /// The file system refused (open, create, read, write).
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A file that does not hold what its format promises; `at` locates the fault.
    #[error("{path}: {at}: expected {expected}, got {got}")]
    Format {
        path: String,
        at: String,
        expected: String,
        got: String,
    },
    /// Ctrl-C during long work.
    #[error(transparent)]
    Interrupted(#[from] crate::interrupt::Interrupted),
}

pub type Result<T> = std::result::Result<T, GrainsError>;

pub(crate) fn invalid(
    what: impl Into<String>,
    expected: impl Into<String>,
    got: impl ToString,
) -> GrainsError {
    GrainsError::Invalid {
        what: what.into(),
        expected: expected.into(),
        got: got.to_string(),
    }
}

pub(crate) fn format_err(
    path: &Path,
    at: impl Into<String>,
    expected: impl Into<String>,
    got: impl ToString,
) -> GrainsError {
    GrainsError::Format {
        path: path.display().to_string(),
        at: at.into(),
        expected: expected.into(),
        got: got.to_string(),
    }
}

pub(crate) fn io_err(path: &Path, source: std::io::Error) -> GrainsError {
    GrainsError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Names the file in a validation error about its content.
pub(crate) fn in_file(path: &Path, e: GrainsError) -> GrainsError {
    match e {
        GrainsError::Invalid {
            what,
            expected,
            got,
        } => format_err(path, what, expected, got),
        e => e,
    }
}

//! What can go wrong when plotting: every message names what was expected, so a script
//! author can fix the call without reading this code.

use std::path::PathBuf;

use plotters::drawing::DrawingAreaErrorKind;

#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("{what}: x and y differ in length: {x} vs {y}")]
    LengthMismatch { what: String, x: usize, y: usize },
    #[error("{0} is empty: nothing to plot")]
    Empty(String),
    #[error("{0} has no finite values (all NaN or infinite)")]
    NoFinite(String),
    #[error("{axis} range must be finite with min < max: got {lo} .. {hi}")]
    BadRange { axis: String, lo: f64, hi: f64 },
    #[error("{what}: shape {got:?} differs from the field's {expected:?} ([ny, nx])")]
    ShapeMismatch {
        what: String,
        expected: [usize; 2],
        got: [usize; 2],
    },
    #[error("{what} size {w}×{h} is out of range: each edge must be {min} to {max} pixels")]
    Size {
        what: &'static str,
        w: u32,
        h: u32,
        min: u32,
        max: u32,
    },
    #[error("figure has {panels} panels but only {rows}×{cols} = {cells} cells")]
    TooManyPanels {
        panels: usize,
        rows: usize,
        cols: usize,
        cells: usize,
    },
    #[error("figure grid needs at least one row and one column: got {rows}×{cols}")]
    EmptyGrid { rows: usize, cols: usize },
    #[error("{0}")]
    BadOption(String),
    #[error("unknown extension {0}: use .png or .svg")]
    Extension(String),
    #[error("directory `{}` does not exist", .0.display())]
    NoDirectory(PathBuf),
    #[error("cannot write `{}`: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot encode `{}` as PNG: {source}", path.display())]
    Png {
        path: PathBuf,
        source: png::EncodingError,
    },
    #[error("drawing failed: {0}")]
    Draw(String),
}

// Lets `?` carry plotters' backend errors (generic over the backend) as text.
impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for PlotError {
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        PlotError::Draw(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, PlotError>;

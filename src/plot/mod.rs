//! Plots (plotters, bundled font): line plots, parity scatter, scalar-field images.

mod clip;
mod error;
mod field;
mod figure;
mod font;
mod output;
mod range;
mod style;
mod xy;

pub use error::{PlotError, Result};
pub use figure::{Figure, Panel};
pub use field::{FieldImage, FieldLayout, PixelRect, MISSING};
pub use output::{Format, Plot, DEFAULT_SIZE};
pub use xy::{Legend, Mark, Series, Symbol, XyPlot};

#[cfg(test)]
mod tests;

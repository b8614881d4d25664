
mod clip;
mod error;
mod font;
mod output;
mod range;
mod style;
mod xy;

pub use error::{PlotError, Result};
pub use output::{Format, Plot, DEFAULT_SIZE};
pub use xy::{Legend, Mark, Series, Symbol, XyPlot};

#[cfg(test)]
mod tests;

//! Plots (plotters, bundled font): line plots, parity scatter, scalar-field images, tiles
//! under axes (FORC diagrams), and figures of several panels. Everything draws through
//! [`Plot`]: `save(path)` picks PNG or SVG by the extension, `save_sized` sets the pixel
//! size, `render_rgb` returns pixels.
//!
//! ```no_run
//! use coercive::plot::{Figure, FieldImage, Plot, Symbol, XyPlot};
//! # fn main() -> coercive::plot::Result<()> {
//! # let (h, m) = (vec![1.0, 0.0, -1.0], vec![1.0, 0.9, -1.0]);
//! # let kx = ndarray::Array2::<f64>::zeros((64, 64));
//! let curve = XyPlot::new()
//!     .title("Demagnetisation curve")
//!     .labels("h", "M / Ms")
//!     .line("simulated", &h, &m)
//!     .mark("Mr", 0.0, 0.9, Symbol::Square);
//! curve.save("out/demag.svg")?;
//! let image = FieldImage::new(kx.view()).title("structure 1").colorbar_label("k_x");
//! Figure::new(2, 1).panel(image).panel(curve).save("out/panels.png")?;
//! # Ok(()) }
//! ```

mod clip;
mod colorbar;
mod curve;
mod error;
mod field;
mod figure;
mod font;
mod output;
mod range;
mod style;
mod tiles;
mod xy;

pub use curve::{anchors_plot, forc_diagram, forc_plot};
pub use error::{PlotError, Result};
pub use field::{FieldImage, FieldLayout, MISSING, PixelRect};
pub use figure::{Figure, Panel};
pub use output::{DEFAULT_SIZE, Format, Plot, encode_png};
pub use style::palette;
pub use tiles::Tiles;
pub use xy::{Legend, Mark, Series, Symbol, XyPlot};

#[cfg(test)]
mod tests;

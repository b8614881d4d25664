//! 2-D Voronoi grain structures with per-grain easy axes: generation, statistics, network
//! encodings, file formats and lazily drawn samples.

mod encode;
mod error;
mod nearest;
mod regions;
pub mod rng;
mod sample;
mod structure;
mod voronoi;

pub use error::{GrainsError, Result};
pub use structure::{Generator, MAX_CELLS, MAX_GRAINS, Structure};
pub use voronoi::{Draws, PAPER_GRAINS, VoronoiOptions, draw, voronoi};
pub use encode::Encoding;
pub use sample::Sample;

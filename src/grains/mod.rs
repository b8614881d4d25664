//! 2-D Voronoi grain structures with per-grain easy axes: generation, statistics, network
//! encodings, the symmetries that keep the demagnetisation curve, file formats and lazily
//! drawn samples.

mod boundary_layer;
mod cleanup;
mod coarsen;
mod descriptor_set;
mod descriptors;
mod encode;
mod error;
mod graph;
mod io_csv;
mod io_native;
mod io_npy;
mod io_png;
mod io_vtk;
mod nearest;
mod raster;
mod regions;
pub mod rng;
mod sample;
mod source;
mod stats;
mod structure;
mod symmetry;
mod voronoi;

pub use cleanup::{CleanOptions, clean};
pub use descriptor_set::{
    Coarse, CoarseAnisotropy, CoarseExchange, DescriptorSet, MAX_COARSE, coarse_anchors,
    coarse_curve, coarse_curves, descriptor_rows,
};
pub use descriptors::{
    DESCRIPTORS, Descriptor, anchor_priors, descriptor_index, fold_axis, stoner_wohlfarth,
    switching_field,
};
pub use encode::Encoding;
pub use error::{GrainsError, Result};
pub use graph::{EDGE_FEATURES, GrainEdge, GrainGraph, GrainNode, NODE_FEATURES};
pub use io_csv::DEFAULT_CELL_NM;
pub use io_png::{PngOptions, PngReadOptions};
pub use sample::Sample;
pub use source::{Batches, RasterSource, SourceError, epoch_order};
pub use stats::GrainStats;
pub use structure::{Generator, MAX_CELLS, MAX_GRAINS, Structure, degrees};
pub use symmetry::Symmetry;
pub use voronoi::{Draws, PAPER_GRAINS, VoronoiOptions, draw, voronoi};

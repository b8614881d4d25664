//! 2-D Voronoi grain structures with per-grain easy axes.

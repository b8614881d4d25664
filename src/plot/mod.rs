//! Plots (plotters, bundled font): line plots, parity scatter, scalar-field images.

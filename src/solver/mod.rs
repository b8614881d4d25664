//! Micromagnetic solver: energy terms, demag, minimiser, sweeps and anchor points.

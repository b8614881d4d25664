//! coercive: grain structures, micromagnetic demagnetisation curves and the networks that
//! learn them, exposed to Rhai scripts.

pub mod bench;
pub mod colormap;
pub mod grains;
pub mod interrupt;
pub mod plot;
pub mod progress;
pub mod solver;

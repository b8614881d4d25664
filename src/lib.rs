//! coercive: grain structures, micromagnetic demagnetisation curves and the networks that
//! learn them, exposed to Rhai scripts.

pub mod api;
pub mod array;
pub mod bench;
pub mod cli;
pub mod colormap;
pub mod data;
pub mod docs;
pub mod engine;
pub mod fsio;
pub mod grains;
pub mod guard;
pub mod interrupt;
pub mod learn;
pub mod memory;
pub mod plot;
pub mod progress;
pub mod repl;
pub mod runner;
pub mod settings;
pub mod solver;
pub mod stdlib;

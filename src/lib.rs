//! coercive: grain structures, micromagnetic demagnetisation curves and the networks that
//! learn them, exposed to Rhai scripts.
//!
//! Three layers; a module may use its own layer and those below it, never one above
//! (`tests/layers.rs` checks the `crate::` paths):
//!
//! - **app** — what a user starts: [`cli`] (the `coercive` command), [`repl`], [`kernel`]
//!   (Jupyter), [`runner`] (scripts), [`bench`] (the figures behind `coercive bench`).
//! - **scripting** — the Rhai face: [`api`] (one native module per domain), [`engine`]
//!   (assembles them), [`stdlib`] (the library written in Rhai), [`docs`] (`help()`,
//!   `coercive doc`).
//! - **domain** — the physics and the learning, no Rhai: [`grains`] (structures),
//!   [`solver`] (one file per energy term, the minimiser, sweeps, anchors), [`forc`]
//!   (reversal curves as data, simulated or measured: their distribution and recoil), [`data`]
//!   (datasets), [`learn`] (networks, trees, ensembles), [`design`] (optimisers for
//!   inverse design), [`plot`]; and the services they share: [`array`], [`fsio`] (atomic
//!   writes, checked readers), [`memory`], [`named`], [`progress`], [`interrupt`], [`guard`],
//!   [`settings`], [`colormap`], [`display`] (figures and progress for an attached front
//!   end).

// Domain.
pub mod data;
pub mod design;
pub mod forc;
pub mod grains;
pub mod learn;
pub mod plot;
pub mod solver;

// Services the domain shares.
pub mod array;
pub mod colormap;
pub mod cpu;
pub mod display;
pub mod fsio;
pub mod guard;
pub mod interrupt;
pub mod memory;
pub mod named;
pub mod progress;
pub mod settings;

// Scripting.
pub mod api;
pub mod docs;
pub mod engine;
pub mod stdlib;

// App.
pub mod bench;
pub mod cli;
pub mod kernel;
pub mod repl;
pub mod runner;

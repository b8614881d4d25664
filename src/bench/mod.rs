//! Benchmarks behind `coercive bench`: each prints the figures an issue asks for.
pub mod data;
pub mod gp;
pub mod grains;
pub mod learn;
pub mod solver;
pub mod solver_tensor;

//! `coercive bench gp`: the time of one Gaussian-process fit of the default ensemble at a
//! given label count, the part of training that grows as the cube of the labels.
//!
//! The inputs are uniform in [−1.5, 1.5]^d and the target a smooth function of the first
//! three plus 1 % noise: the cost of a fit does not depend on the data (a fixed number of
//! search steps on at most `fit_rows` rows, then one factorisation over all rows).

use crate::grains::rng::Rng;
use crate::learn::Result;
use crate::learn::gp::{Gp, GpConfig};
use ndarray::Array2;
use std::time::Instant;

/// Times one fit on `rows` rows of `inputs` columns, the search seeing `fit_rows`.
pub fn run(rows: usize, inputs: usize, fit_rows: usize) -> Result<String> {
    if rows == 0 || inputs == 0 || fit_rows == 0 {
        return Err(crate::learn::LearnError::msg(format!(
            "--rows, --inputs and --fit-rows must be at least 1, got {rows}, {inputs} and \
             {fit_rows}"
        )));
    }
    let cfg = GpConfig {
        fit_rows,
        ..GpConfig::default()
    };
    crate::memory::check(&format!("--rows {rows}"), Gp::memory(rows, &cfg))
        .map_err(crate::learn::LearnError::Msg)?;
    let mut rng = Rng::new(0x6e);
    let x = Array2::from_shape_simple_fn((rows, inputs), || 3.0 * rng.unit() - 1.5);
    let y: Vec<f64> = x
        .rows()
        .into_iter()
        .map(|r| {
            let (a, b, c) = (r[0], r[1.min(inputs - 1)], r[2.min(inputs - 1)]);
            a.sin() + 0.5 * b * b - 0.3 * a * c + 0.01 * (2.0 * rng.unit() - 1.0)
        })
        .collect();
    let all: Vec<usize> = (0..rows).collect();
    let start = Instant::now();
    let gp = Gp::fit(x.view(), &y, &all, &cfg)?;
    let seconds = start.elapsed().as_secs_f64();
    let (steps, seen, weighted) = (cfg.iterations, fit_rows.min(rows), gp.alpha.len());
    Ok(format!(
        "gp: one fit on {rows} rows of {inputs} inputs ({steps} search steps on {seen} rows, \
         weights on {weighted}) in {seconds:.2} s on one thread; evidence {:.3} per row\n\
         bench-summary gp rows={rows} inputs={inputs} fit_rows={seen} seconds={seconds:.3}",
        gp.evidence,
    ))
}

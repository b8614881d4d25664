//! `coercive bench grains`: structures generated per second.
//!
//! Draws `count` structures of the paper's law (160 × 160 cells of 2 nm, ng and θ random,
//! not periodic) from a fixed base seed on a pool of `threads` workers (rayon over
//! structures) and reports the rate. Rasters are built and dropped, as a training loop
//! that encodes on the fly would.

use crate::grains::{GrainsError, Sample, VoronoiOptions};
use rayon::prelude::*;
use std::fmt;
use std::time::Instant;

#[derive(Clone, Debug)]
pub struct Report {
    pub count: usize,
    pub threads: usize,
    pub n: usize,
    pub seconds: f64,
    /// Mean number of grains owning cells (a check that real work was done).
    pub mean_grains: f64,
}

impl Report {
    pub fn per_second(&self) -> f64 {
        self.count as f64 / self.seconds
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "grains: {} structures of {n}×{n} cells in {:.3} s on {} thread{}: {:.0} structures/s \
             (mean {:.1} grains)",
            self.count,
            self.seconds,
            self.threads,
            if self.threads == 1 { "" } else { "s" },
            self.per_second(),
            self.mean_grains,
            n = self.n,
        )
    }
}

/// Times `count` structures at 160² on `threads` workers (None: all cores).
pub fn run(count: usize, threads: Option<usize>) -> Result<Report, GrainsError> {
    let n = 160;
    let threads =
        threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |t| t.get()));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| GrainsError::Invalid {
            what: "bench threads".into(),
            expected: "a thread pool".into(),
            got: e.to_string(),
        })?;
    let sample = Sample::new(VoronoiOptions::square(n), 2024, count)?;
    let start = Instant::now();
    let owning = pool.install(|| {
        (0..count)
            .into_par_iter()
            .map(|i| {
                crate::interrupt::check()?;
                Ok::<_, GrainsError>(sample.get(i)?.n_owning())
            })
            .try_reduce(|| 0, |a, b| Ok(a + b))
    })?;
    let seconds = start.elapsed().as_secs_f64();
    Ok(Report {
        count,
        threads,
        n,
        seconds,
        mean_grains: owning as f64 / count.max(1) as f64,
    })
}

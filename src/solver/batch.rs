//! Many structures on all cores: one curve per structure, each rayon task with its own
//! evaluator and buffers (or, with fewer curves than threads, each curve's evaluations
//! spread over the pool); demag kernels are built once per mesh and shared.

use super::SolverError;
use super::cache::{CurveCache, keep};
use super::demag::DemagKernel;
use super::problem::Problem;
use super::sweep::{Curve, SweepOptions, sweep_with_kernel};
use crate::progress::Progress;
use rayon::prelude::*;

/// Sweeps every problem (in parallel on `threads` threads; 0 = all cores). One result per
/// problem, in order; an interrupt stops the remaining ones with `Interrupted`.
pub fn sweep_many(
    problems: &[Problem],
    opts: &SweepOptions,
    threads: usize,
) -> Result<Vec<Result<Curve, SolverError>>, SolverError> {
    sweep_many_cached(problems, opts, threads, None)
}

/// [`sweep_many`] taking finished curves from `cache` and keeping each new one there as
/// soon as it finishes, so that what finished survives an error or interrupt.
pub fn sweep_many_cached(
    problems: &[Problem],
    opts: &SweepOptions,
    threads: usize,
    cache: Option<&CurveCache>,
) -> Result<Vec<Result<Curve, SolverError>>, SolverError> {
    opts.fields()?;
    opts.min.validated()?;
    // One kernel per distinct mesh, before the parallel part.
    let mut kernels: Vec<DemagKernel> = Vec::new();
    for p in problems {
        if !kernels.iter().any(|k| k.mesh() == p.mesh()) {
            kernels.push(DemagKernel::cached(p.mesh(), opts.min.precision)?);
        }
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| SolverError::BadOption {
            name: "threads",
            value: format!("{threads} ({e})"),
            expected: "a thread count the system can start",
        })?;
    // Fewer curves than threads: each curve spreads its evaluations over the pool.
    let split = problems.len() < pool.current_num_threads();
    let progress = Progress::new(problems.len() as u64, "solver");
    let out = pool.install(|| {
        problems
            .par_iter()
            .map(|p| {
                let key = cache.map(|_| CurveCache::key(p, opts));
                if let Some(c) = cache.zip(key.as_deref()).and_then(|(c, k)| c.get(k)) {
                    progress.inc(1);
                    return Ok(c);
                }
                crate::interrupt::check()?;
                let kernel = kernels
                    .iter()
                    .find(|k| k.mesh() == p.mesh())
                    .ok_or(SolverError::Fft("missing kernel".into()))?;
                let curve = sweep_with_kernel(p, kernel, opts, split);
                if let (Ok(c), Some(cache), Some(k)) = (&curve, cache, &key) {
                    keep(cache, k, c);
                }
                progress.inc(1);
                curve
            })
            .collect()
    });
    progress.finish();
    Ok(out)
}

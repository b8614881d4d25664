//! Many structures on all cores: one curve per structure, each rayon task with its own
//! evaluator and buffers (or, with fewer curves than threads, each curve's evaluations
//! spread over the pool); demag kernels are built once per mesh and shared.

use super::SolverError;
use super::cache::{CurveCache, keep};
use super::demag::DemagKernel;
use super::problem::Problem;
use super::sweep::{Curve, SweepOptions, sweep_with_kernel};
use super::tensor::Backend;
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

/// [`sweep_many_cached`] on `backend`: the one place that chooses between the plain solver
/// (one curve per core) and the batched tensor solver.
pub fn sweep_many_on(
    problems: &[Problem],
    opts: &SweepOptions,
    backend: &Backend,
    threads: usize,
    cache: Option<&CurveCache>,
) -> Result<Vec<Result<Curve, SolverError>>, SolverError> {
    let tensor = match backend {
        Backend::Plain => return sweep_many_cached(problems, opts, threads, cache),
        Backend::Tensor(t) => t,
    };
    let keys: Vec<Option<String>> = problems
        .iter()
        .map(|p| cache.map(|_| CurveCache::key_on(p, opts, backend)))
        .collect();
    let mut out: Vec<Option<Result<Curve, SolverError>>> = keys
        .iter()
        .map(|k| cache.zip(k.as_deref()).and_then(|(c, k)| c.get(k)).map(Ok))
        .collect();
    let todo: Vec<usize> = (0..problems.len()).filter(|&k| out[k].is_none()).collect();
    let progress = Progress::new(problems.len() as u64, "solver");
    progress.inc((problems.len() - todo.len()) as u64);
    let batch: Vec<Problem> = todo.iter().map(|&k| problems[k].clone()).collect();
    let curves = super::tensor::sweep_batched(&batch, opts, tensor, |j, curve| {
        if let (Ok(c), Some(cache), Some(k)) = (curve, cache, &keys[todo[j]]) {
            keep(cache, k, c);
        }
        progress.inc(1);
    });
    progress.finish();
    for (j, c) in curves?.into_iter().enumerate() {
        out[todo[j]] = Some(c);
    }
    Ok(out
        .into_iter()
        .map(|c| c.unwrap_or(Err(SolverError::Fft("curve missing".into()))))
        .collect())
}

/// A pool of `threads` threads (0 = all cores) for the solver's parallel work.
pub(crate) fn pool(threads: usize) -> Result<rayon::ThreadPool, SolverError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| SolverError::BadOption {
            name: "threads",
            value: format!("{threads} ({e})"),
            expected: "a thread count the system can start",
        })
}

/// [`sweep_many`] taking finished curves from `cache` and keeping each new one there as
/// soon as it finishes, so that what finished survives an error or interrupt.
pub fn sweep_many_cached(
    problems: &[Problem],
    opts: &SweepOptions,
    threads: usize,
    cache: Option<&CurveCache>,
) -> Result<Vec<Result<Curve, SolverError>>, SolverError> {
    opts.validated()?;
    // One kernel per distinct mesh, before the parallel part.
    let mut kernels: Vec<DemagKernel> = Vec::new();
    for p in problems {
        if !kernels.iter().any(|k| k.mesh() == p.mesh()) {
            kernels.push(DemagKernel::cached(p.mesh(), opts.min.precision)?);
        }
    }
    let pool = pool(threads)?;
    // Each curve splits its evaluations with a partner thread of its own (the pool's
    // worker runs one half) when there are threads for both.
    let split = crate::solver::fork::fits(problems.len(), pool.current_num_threads());
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

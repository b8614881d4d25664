//! `coercive bench solver`: seconds per demagnetisation curve.
//!
//! Solves `structures` paper-law structures (ng uniform in [16, 256], θ uniform in [−π, π],
//! per-grain ψ uniform in [−θ, θ], Voronoi by nearest seed, fixed seeds) with the full
//! default sweep (h = 1 … −1 in steps of 0.01), one curve per structure on all cores, and
//! reports seconds per curve, throughput and evaluations.

use crate::solver::demag::DemagKernel;
use crate::solver::{Energy, Mesh, Problem, SolverError, SweepOptions, sweep_many};
use std::fmt;
use std::time::Instant;

/// What to run.
#[derive(Debug, Clone)]
pub struct SolverBenchOptions {
    /// Grid size n (n × n cells of 2 × 2 × 36 000 nm³).
    pub n: usize,
    /// Number of structures (curves).
    pub structures: usize,
    /// Seed of the first structure; structure k uses seed + k.
    pub seed: u64,
    /// Threads (0 = all cores).
    pub threads: usize,
    pub sweep: SweepOptions,
}

impl Default for SolverBenchOptions {
    fn default() -> Self {
        SolverBenchOptions {
            n: 160,
            structures: 8,
            seed: 1,
            threads: 0,
            sweep: SweepOptions::default(),
        }
    }
}

/// One curve's figures.
#[derive(Debug, Clone)]
pub struct CurveFigures {
    pub seed: u64,
    pub grains: usize,
    pub theta: f64,
    pub seconds: f64,
    pub evaluations: usize,
    pub non_converged: usize,
    pub anchors: crate::solver::Anchors,
}

/// The benchmark's result; `Display` prints the figures issue 4 asks for.
#[derive(Debug, Clone)]
pub struct SolverBenchReport {
    pub n: usize,
    pub threads: usize,
    pub tol: f64,
    pub curves: Vec<CurveFigures>,
    /// Wall-clock seconds for all curves together.
    pub wall_seconds: f64,
    /// µs per energy+gradient evaluation on one thread, measured alone.
    pub eval_us_alone: f64,
}

impl SolverBenchReport {
    fn median(mut v: Vec<f64>) -> f64 {
        v.sort_by(|a, b| a.total_cmp(b));
        match v.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => v[n / 2],
            n => 0.5 * (v[n / 2 - 1] + v[n / 2]),
        }
    }
    /// Median seconds per curve (each curve on one thread).
    pub fn median_seconds(&self) -> f64 {
        Self::median(self.curves.iter().map(|c| c.seconds).collect())
    }
    /// Curves per minute on all threads together.
    pub fn curves_per_minute(&self) -> f64 {
        60.0 * self.curves.len() as f64 / self.wall_seconds
    }
    /// Median evaluations per curve.
    pub fn median_evaluations(&self) -> f64 {
        Self::median(self.curves.iter().map(|c| c.evaluations as f64).collect())
    }
    /// µs per evaluation inside the sweeps (all threads busy).
    pub fn eval_us_in_sweeps(&self) -> f64 {
        let s: f64 = self.curves.iter().map(|c| c.seconds).sum();
        let e: usize = self.curves.iter().map(|c| c.evaluations).sum();
        1e6 * s / e.max(1) as f64
    }
    pub fn non_converged(&self) -> usize {
        self.curves.iter().map(|c| c.non_converged).sum()
    }
}

impl fmt::Display for SolverBenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "solver bench: {} curves of {}×{} cells, tol {:e} HA, {} threads",
            self.curves.len(),
            self.n,
            self.n,
            self.tol,
            self.threads
        )?;
        writeln!(
            f,
            "  {:>6} {:>6} {:>7} {:>8} {:>8} {:>5}  anchors M1 Mr Hk90 Hk80 Hk70 Hc",
            "seed", "ng", "θ°", "s", "evals", "nconv"
        )?;
        for c in &self.curves {
            let a: Vec<String> = c
                .anchors
                .named()
                .iter()
                .map(|(_, v)| v.map_or("—".to_string(), |v| format!("{v:.4}")))
                .collect();
            writeln!(
                f,
                "  {:>6} {:>6} {:>7.1} {:>8.2} {:>8} {:>5}  {}",
                c.seed,
                c.grains,
                c.theta.to_degrees(),
                c.seconds,
                c.evaluations,
                c.non_converged,
                a.join(" ")
            )?;
        }
        writeln!(
            f,
            "  median seconds per curve:        {:.2} s",
            self.median_seconds()
        )?;
        writeln!(
            f,
            "  curves per minute (all threads): {:.2}",
            self.curves_per_minute()
        )?;
        writeln!(
            f,
            "  wall seconds per curve (throughput): {:.2} s",
            self.wall_seconds / self.curves.len().max(1) as f64
        )?;
        writeln!(
            f,
            "  evaluations per curve (median):  {:.0}",
            self.median_evaluations()
        )?;
        writeln!(
            f,
            "  µs per energy+gradient evaluation: {:.0} alone, {:.0} in the sweeps",
            self.eval_us_alone,
            self.eval_us_in_sweeps()
        )?;
        write!(
            f,
            "  non-converged steps:             {}",
            self.non_converged()
        )
    }
}

/// A paper-law structure from the grains generator: per-cell ψ, grains owning cells, θ.
pub fn paper_structure(n: usize, seed: u64) -> Result<(Vec<f64>, usize, f64), SolverError> {
    let options = crate::grains::VoronoiOptions {
        nx: n,
        ny: n,
        seed,
        ..Default::default()
    };
    let s = crate::grains::voronoi(&options).map_err(|e| SolverError::BadOption {
        name: "structure",
        value: e.to_string(),
        expected: "a paper-law structure",
    })?;
    let theta = s.generator().and_then(|g| g.theta).unwrap_or(0.0);
    Ok((s.cell_angles(), s.n_owning(), theta))
}

/// µs per energy+gradient evaluation of `problem` on this thread (median of 5 batches).
pub fn eval_microseconds(problem: &Problem, opts: &SweepOptions) -> Result<f64, SolverError> {
    let kernel = DemagKernel::cached(problem.mesh(), opts.min.precision)?;
    let mut energy = Energy::with_kernel(problem, &kernel)?;
    let n = problem.mesh().cells();
    let phi: Vec<f64> = (0..n).map(|c| 0.1 * (c as f64).sin()).collect();
    let mut g = vec![0.0; n];
    let reps = (2_000_000 / n.max(1)).clamp(5, 200);
    let mut times = Vec::new();
    for _ in 0..5 {
        let t0 = Instant::now();
        for _ in 0..reps {
            energy.gradient(&phi, [0.0, 0.5], &mut g)?;
        }
        times.push(1e6 * t0.elapsed().as_secs_f64() / reps as f64);
    }
    Ok(SolverBenchReport::median(times))
}

/// Runs the benchmark.
pub fn run(opts: &SolverBenchOptions) -> Result<SolverBenchReport, SolverError> {
    let mesh = Mesh::paper(opts.n, opts.n)?;
    let mut problems = Vec::with_capacity(opts.structures);
    let mut meta = Vec::with_capacity(opts.structures);
    for k in 0..opts.structures as u64 {
        let (psi, ng, theta) = paper_structure(opts.n, opts.seed + k)?;
        problems.push(Problem::new(mesh, &psi)?);
        meta.push((opts.seed + k, ng, theta));
    }
    let eval_us_alone = match problems.first() {
        Some(p) => eval_microseconds(p, &opts.sweep)?,
        None => f64::NAN,
    };
    let threads = if opts.threads == 0 {
        rayon::current_num_threads()
    } else {
        opts.threads
    };
    let t0 = Instant::now();
    let results = sweep_many(&problems, &opts.sweep, threads)?;
    let wall_seconds = t0.elapsed().as_secs_f64();
    let mut curves = Vec::with_capacity(results.len());
    for (r, (seed, grains, theta)) in results.into_iter().zip(meta) {
        let c = r?;
        curves.push(CurveFigures {
            seed,
            grains,
            theta,
            seconds: c.seconds,
            evaluations: c.evaluations(),
            non_converged: c.non_converged(),
            anchors: c.anchors(),
        });
    }
    Ok(SolverBenchReport {
        n: opts.n,
        threads,
        tol: opts.sweep.min.tol,
        curves,
        wall_seconds,
        eval_us_alone,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_bench_runs_and_prints() {
        let opts = SolverBenchOptions {
            n: 16,
            structures: 2,
            threads: 2,
            sweep: SweepOptions {
                h_step: 0.1,
                ..Default::default()
            },
            ..Default::default()
        };
        let r = run(&opts).unwrap();
        assert_eq!(r.curves.len(), 2);
        let text = r.to_string();
        assert!(
            text.contains("median seconds per curve") && text.contains("µs per energy+gradient")
        );
        let (psi, ng, theta) = paper_structure(16, 3).unwrap();
        assert!((16..=256).contains(&ng) && theta.abs() <= std::f64::consts::PI);
        assert!(psi.iter().all(|a| a.abs() <= theta.abs()));
    }

    /// The issue-4 figures: `cargo test --release --lib bench::solver -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn paper_bench() {
        // Knobs for experiments: BENCH_N, BENCH_COUNT, BENCH_TOL, BENCH_PREDICT, BENCH_CARRY,
        // BENCH_F64, BENCH_BB, BENCH_THREADS.
        let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<f64>().ok());
        let mut o = SolverBenchOptions::default();
        o.n = env("BENCH_N").map_or(o.n, |v| v as usize);
        o.structures = env("BENCH_COUNT").map_or(o.structures, |v| v as usize);
        o.threads = env("BENCH_THREADS").map_or(o.threads, |v| v as usize);
        o.sweep.min.tol = env("BENCH_TOL").unwrap_or(o.sweep.min.tol);
        o.seed = env("BENCH_SEED").map_or(o.seed, |v| v as u64);
        o.sweep.min.tau_max = env("BENCH_TAU_MAX").unwrap_or(o.sweep.min.tau_max);
        o.sweep.min.max_turn = env("BENCH_TURN").unwrap_or(o.sweep.min.max_turn);
        o.sweep.predict_max = env("BENCH_PREDICT").unwrap_or(o.sweep.predict_max);
        o.sweep.carry_step = env("BENCH_CARRY").map_or(o.sweep.carry_step, |v| v != 0.0);
        if env("BENCH_BB").is_some_and(|v| v != 0.0) {
            o.sweep.min.method = crate::solver::Method::BarzilaiBorwein;
        }
        if env("BENCH_F64").is_some_and(|v| v != 0.0) {
            o.sweep.min.precision = crate::solver::Precision::F64;
        }
        let r = run(&o).unwrap();
        println!("{r}");
    }
}

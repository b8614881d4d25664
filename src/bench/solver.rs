//! `coercive bench solver`: seconds and evaluations per demagnetisation curve, and how far
//! the curves' anchors lie from the slow, safe short-step descent.
//!
//! Solves `structures` paper-law structures (ng uniform in [16, 256], θ uniform in [−π, π],
//! per-grain ψ uniform in [−θ, θ], Voronoi by nearest seed; structure k has seed
//! `seed + k`, so the default set is seeds 1 … 32) with the full default sweep (h = 1 … −1
//! in steps of 0.01), one curve per structure on all cores, and reports seconds per curve,
//! throughput, evaluations (by class of θ) and µs per evaluation. With a reference file it
//! compares every anchor with the short-step path ([`SweepOptions::short_step`]); the
//! file keeps the reference anchors, so they are computed once (and only for the seeds it
//! lacks). With `single_curve` it also times the first structure's curve alone on one
//! thread and split over two.

use crate::solver::demag::DemagKernel;
use crate::solver::fork::LANES;
use crate::solver::{
    ANCHOR_NAMES, Anchor, Anchors, Energy, Mesh, Problem, SolverError, SweepOptions, sweep_many,
};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;
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
    /// JSON file of the short-step reference anchors: read, completed and written back.
    pub reference: Option<PathBuf>,
    /// Also time one curve alone on one thread and split over two.
    pub single_curve: bool,
}

impl Default for SolverBenchOptions {
    fn default() -> Self {
        SolverBenchOptions {
            n: 160,
            structures: 32,
            seed: 1,
            threads: 0,
            sweep: SweepOptions::default(),
            reference: None,
            single_curve: false,
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
    pub anchors: Anchors,
    /// Anchors of the short-step reference path, when compared.
    pub reference: Option<Anchors>,
}

/// Classes of misalignment |θ|, where the evaluations go: < 45°, 45–100°, > 100°.
pub const CLASSES: [&str; 3] = ["θ < 45°", "45° ≤ θ ≤ 100°", "θ > 100°"];

fn class_of(theta: f64) -> usize {
    match theta.to_degrees().abs() {
        t if t < 45.0 => 0,
        t if t <= 100.0 => 1,
        _ => 2,
    }
}

/// Whether an anchor's largest and mean |Δ| are within [`Anchor::path_limits`].
fn within_limit(a: Anchor, worst: f64, mean: f64) -> bool {
    let (lim, mean_lim) = a.path_limits();
    worst <= lim && mean_lim.is_none_or(|m| mean <= m)
}

/// Timing of one curve alone.
#[derive(Debug, Clone, Copy)]
pub struct SingleCurve {
    pub seed: u64,
    pub one_thread: f64,
    pub split: f64,
    pub threads: usize,
}

/// The benchmark's result; `Display` prints the figures issue 11 asks for.
#[derive(Debug, Clone)]
pub struct SolverBenchReport {
    pub n: usize,
    pub threads: usize,
    pub sweep: SweepOptions,
    pub curves: Vec<CurveFigures>,
    /// Wall-clock seconds for all curves together.
    pub wall_seconds: f64,
    /// µs per energy+gradient evaluation on one thread, measured alone.
    pub eval_us_alone: f64,
    /// µs per evaluation of one curve split over two threads.
    pub eval_us_split: f64,
    pub single: Option<SingleCurve>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// Per anchor: (largest |Δ|, its seed, mean |Δ|, curves compared).
pub type AnchorFidelity = (f64, u64, f64, usize);

impl SolverBenchReport {
    /// Median seconds per curve (each curve on one thread).
    pub fn median_seconds(&self) -> f64 {
        median(self.curves.iter().map(|c| c.seconds).collect())
    }
    /// Wall seconds per curve with all threads busy (throughput).
    pub fn throughput_seconds(&self) -> f64 {
        self.wall_seconds / self.curves.len().max(1) as f64
    }
    fn evaluations(&self) -> Vec<f64> {
        self.curves.iter().map(|c| c.evaluations as f64).collect()
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
    /// |Δ| of every anchor against the reference path, where both have it.
    pub fn fidelity(&self) -> Option<[AnchorFidelity; 6]> {
        if self.curves.iter().any(|c| c.reference.is_none()) || self.curves.is_empty() {
            return None;
        }
        Some(Anchor::ALL.map(|a| {
            let mut worst = (0.0, 0u64);
            let mut d = Vec::new();
            for c in &self.curves {
                let r = c.reference.as_ref().and_then(|r| r.get(a));
                if let (Some(x), Some(y)) = (c.anchors.get(a), r) {
                    let v = (x - y).abs();
                    if v > worst.0 {
                        worst = (v, c.seed);
                    }
                    d.push(v);
                }
            }
            (worst.0, worst.1, mean(&d), d.len())
        }))
    }
    /// Whether every anchor is within the limits of the reference path (and
    /// present exactly where the reference has it).
    pub fn within_limits(&self) -> Option<bool> {
        let f = self.fidelity()?;
        let same_presence = self.curves.iter().all(|c| {
            let r = c.reference.as_ref();
            Anchor::ALL
                .iter()
                .all(|&a| c.anchors.get(a).is_some() == r.and_then(|r| r.get(a)).is_some())
        });
        Some(
            same_presence
                && Anchor::ALL
                    .iter()
                    .zip(f)
                    .all(|(&a, (worst, _, mean, _))| within_limit(a, worst, mean)),
        )
    }
}

impl fmt::Display for SolverBenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "solver bench: {} curves of {}×{} cells, descent {}, {} threads",
            self.curves.len(),
            self.n,
            self.n,
            self.sweep.descent(),
            self.threads
        )?;
        let compared = self.fidelity().is_some();
        write!(
            f,
            "  {:>5} {:>4} {:>7} {:>7} {:>7} {:>5}  anchors {}",
            "seed",
            "ng",
            "θ°",
            "s",
            "evals",
            "nconv",
            ANCHOR_NAMES.join(" ")
        )?;
        if compared {
            write!(f, "   |Δ| against the short-step path")?;
        }
        writeln!(f)?;
        let show = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:.4}"));
        for c in &self.curves {
            let a: Vec<String> = Anchor::ALL
                .iter()
                .map(|&x| show(c.anchors.get(x)))
                .collect();
            write!(
                f,
                "  {:>5} {:>4} {:>7.1} {:>7.2} {:>7} {:>5}  {}",
                c.seed,
                c.grains,
                c.theta.to_degrees(),
                c.seconds,
                c.evaluations,
                c.non_converged,
                a.join(" ")
            )?;
            if let Some(r) = &c.reference {
                let d: Vec<String> = Anchor::ALL
                    .iter()
                    .map(|&x| match (c.anchors.get(x), r.get(x)) {
                        (Some(p), Some(q)) => format!("{:.1e}", (p - q).abs()),
                        (None, None) => "—".into(),
                        _ => "MISSING".into(),
                    })
                    .collect();
                write!(f, "   {}", d.join(" "))?;
            }
            writeln!(f)?;
        }
        let ev = self.evaluations();
        writeln!(
            f,
            "  median seconds per curve:            {:.2} s",
            self.median_seconds()
        )?;
        writeln!(
            f,
            "  throughput seconds per curve:        {:.2} s ({} threads, {:.1} s wall)",
            self.throughput_seconds(),
            self.threads,
            self.wall_seconds
        )?;
        writeln!(
            f,
            "  evaluations per curve:               mean {:.0}, median {:.0}, max {:.0}",
            mean(&ev),
            median(ev.clone()),
            ev.iter().fold(0.0f64, |a, &b| a.max(b))
        )?;
        for (k, name) in CLASSES.iter().enumerate() {
            let e: Vec<f64> = self
                .curves
                .iter()
                .filter(|c| class_of(c.theta) == k)
                .map(|c| c.evaluations as f64)
                .collect();
            if !e.is_empty() {
                writeln!(
                    f,
                    "    {name:<16} {:>3} curves, mean {:.0}, median {:.0} evaluations",
                    e.len(),
                    mean(&e),
                    median(e.clone())
                )?;
            }
        }
        writeln!(
            f,
            "  µs per energy+gradient evaluation:   {:.0} alone on one thread, {:.0} split over {} threads, {:.0} in the sweeps",
            self.eval_us_alone,
            self.eval_us_split,
            self.threads.min(LANES),
            self.eval_us_in_sweeps()
        )?;
        writeln!(
            f,
            "  non-converged steps:                 {}",
            self.non_converged()
        )?;
        if let Some(s) = self.single {
            writeln!(
                f,
                "  one curve alone (seed {}):           {:.2} s on 1 thread, {:.2} s split over {} threads: {:.2}× faster",
                s.seed,
                s.one_thread,
                s.split,
                s.threads.min(LANES),
                s.one_thread / s.split
            )?;
        }
        if let Some(fid) = self.fidelity() {
            writeln!(
                f,
                "  against the short-step path:   largest |Δ| (seed)   mean |Δ|   limit"
            )?;
            for (&a, (worst, seed, mean, count)) in Anchor::ALL.iter().zip(fid) {
                let (lim, mean_lim) = a.path_limits();
                let ok = within_limit(a, worst, mean);
                writeln!(
                    f,
                    "    {:<5} {:>9.2e} {} ({:>3})   {:>9.2e}   {:.0e}{}  {} ({count} curves)",
                    a.name(),
                    worst,
                    a.unit(),
                    seed,
                    mean,
                    lim,
                    mean_lim.map_or(String::new(), |m| format!(", mean {m:.0e}")),
                    if ok { "ok" } else { "OVER" }
                )?;
            }
            write!(
                f,
                "  within the limits on every structure: {}",
                if self.within_limits() == Some(true) {
                    "yes"
                } else {
                    "NO"
                }
            )?;
        } else {
            write!(
                f,
                "  (no reference: pass --reference FILE to compare with the short-step path)"
            )?;
        }
        Ok(())
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

/// µs per energy+gradient evaluation of `problem` (median of 5 batches), on this thread or
/// split with a partner thread.
pub fn eval_microseconds(
    problem: &Problem,
    opts: &SweepOptions,
    split: bool,
) -> Result<f64, SolverError> {
    let kernel = DemagKernel::cached(problem.mesh(), opts.min.precision)?;
    let mut energy = Energy::with_kernel(problem, &kernel)?;
    energy.set_split(split);
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
    Ok(median(times))
}

/// Stored anchors of paper-law structures: the short-step reference path here, the plain
/// solver's default path for the tensor bench (`solver_tensor.rs`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ReferenceFile {
    pub what: String,
    pub n: usize,
    /// The sweep of the reference path (its schedule must match the bench's).
    pub sweep: SweepOptions,
    pub structures: Vec<ReferenceCurve>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ReferenceCurve {
    pub seed: u64,
    /// In [`ANCHOR_NAMES`] order; null where the curve does not reach the anchor.
    pub anchors: Vec<Option<f64>>,
    pub evaluations: usize,
    pub non_converged: usize,
}

impl ReferenceFile {
    pub(crate) fn load(path: &std::path::Path) -> Result<Self, SolverError> {
        let text = std::fs::read_to_string(path).map_err(|e| bad_reference(path, e.to_string()))?;
        serde_json::from_str(&text).map_err(|e| bad_reference(path, e.to_string()))
    }

    /// Writes the file atomically.
    pub(crate) fn save(&self, path: &std::path::Path) -> Result<(), SolverError> {
        let text =
            serde_json::to_string_pretty(self).map_err(|e| bad_reference(path, e.to_string()))?;
        crate::fsio::write(path, text).map_err(|e| SolverError::Io {
            path: path.display().to_string(),
            source: e,
        })
    }

    /// The stored anchors of `seeds`, in that order (`path` names the file in errors).
    pub(crate) fn anchors_of(
        &self,
        path: &std::path::Path,
        seeds: &[u64],
    ) -> Result<Vec<Anchors>, SolverError> {
        seeds
            .iter()
            .map(|s| {
                let r = self
                    .structures
                    .iter()
                    .find(|r| r.seed == *s)
                    .ok_or_else(|| bad_reference(path, format!("seed {s} missing")))?;
                let v: [Option<f64>; 6] = r
                    .anchors
                    .as_slice()
                    .try_into()
                    .map_err(|_| bad_reference(path, format!("seed {s}: not six anchors")))?;
                Ok(Anchors::from_values(v))
            })
            .collect()
    }
}

pub(crate) fn bad_reference(path: &std::path::Path, why: String) -> SolverError {
    SolverError::BadOption {
        name: "reference",
        value: format!("{} ({why})", path.display()),
        expected: "a reference file of `coercive bench solver` for this grid and field schedule (delete it to recompute)",
    }
}

/// Reference anchors for `seeds`: read from `path`, the missing ones computed with the
/// short-step descent on `threads` threads and written back (atomically).
fn reference_anchors(
    path: &std::path::Path,
    n: usize,
    sweep: &SweepOptions,
    seeds: &[u64],
    problems: &[Problem],
    threads: usize,
) -> Result<Vec<Anchors>, SolverError> {
    let reference_sweep = sweep.short_step();
    let mut file = if path.exists() {
        let f = ReferenceFile::load(path)?;
        if f.n != n || f.sweep != reference_sweep {
            return Err(bad_reference(
                path,
                format!("made for n = {} with another sweep or tolerance", f.n),
            ));
        }
        f
    } else {
        ReferenceFile {
            what: "anchors of the short-step reference descent (steps ≤ 1/HA, no turn cap) on paper-law structures; written by `coercive bench solver --reference`".into(),
            n,
            sweep: reference_sweep,
            structures: Vec::new(),
        }
    };
    let missing: Vec<usize> = (0..seeds.len())
        .filter(|&k| !file.structures.iter().any(|r| r.seed == seeds[k]))
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "solver bench: computing the short-step reference path for {} structures (slow; kept in {})",
            missing.len(),
            path.display()
        );
        let todo: Vec<Problem> = missing.iter().map(|&k| problems[k].clone()).collect();
        let curves = sweep_many(&todo, &file.sweep, threads)?;
        for (&k, c) in missing.iter().zip(curves) {
            let c = c?;
            file.structures.push(ReferenceCurve {
                seed: seeds[k],
                anchors: c.anchors().values().to_vec(),
                evaluations: c.evaluations(),
                non_converged: c.non_converged(),
            });
        }
        file.structures.sort_by_key(|r| r.seed);
        file.save(path)?;
    }
    file.anchors_of(path, seeds)
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
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()
        .map_err(|e| SolverError::BadOption {
            name: "threads",
            value: format!("{} ({e})", opts.threads),
            expected: "a thread count the system can start",
        })?;
    let threads = pool.current_num_threads();
    let (eval_us_alone, eval_us_split) = match problems.first() {
        Some(p) => (
            eval_microseconds(p, &opts.sweep, false)?,
            pool.install(|| eval_microseconds(p, &opts.sweep, threads > 1))?,
        ),
        None => (f64::NAN, f64::NAN),
    };
    let single = match problems.first() {
        Some(p) if opts.single_curve => {
            let one = rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .map_err(|e| SolverError::Fft(e.to_string()))?;
            let t1 = one
                .install(|| crate::solver::sweep(p, &opts.sweep))?
                .seconds;
            let t2 = pool
                .install(|| crate::solver::sweep(p, &opts.sweep))?
                .seconds;
            Some(SingleCurve {
                seed: opts.seed,
                one_thread: t1,
                split: t2,
                threads,
            })
        }
        _ => None,
    };
    let t0 = Instant::now();
    let results = sweep_many(&problems, &opts.sweep, threads)?;
    let wall_seconds = t0.elapsed().as_secs_f64();
    let seeds: Vec<u64> = meta.iter().map(|m| m.0).collect();
    let reference = match &opts.reference {
        Some(path) => Some(reference_anchors(
            path,
            opts.n,
            &opts.sweep,
            &seeds,
            &problems,
            threads,
        )?),
        None => None,
    };
    let mut curves = Vec::with_capacity(results.len());
    for (k, (r, (seed, grains, theta))) in results.into_iter().zip(meta).enumerate() {
        let c = r?;
        curves.push(CurveFigures {
            seed,
            grains,
            theta,
            seconds: c.seconds,
            evaluations: c.evaluations(),
            non_converged: c.non_converged(),
            anchors: c.anchors(),
            reference: reference.as_ref().map(|r| r[k]),
        });
    }
    Ok(SolverBenchReport {
        n: opts.n,
        threads,
        sweep: opts.sweep,
        curves,
        wall_seconds,
        eval_us_alone,
        eval_us_split,
        single,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> SolverBenchOptions {
        SolverBenchOptions {
            n: 16,
            structures: 2,
            threads: 2,
            sweep: SweepOptions {
                h_step: 0.1,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn small_bench_runs_and_prints() {
        let r = run(&small()).unwrap();
        assert_eq!(r.curves.len(), 2);
        let text = r.to_string();
        assert!(
            text.contains("median seconds per curve") && text.contains("µs per energy+gradient")
        );
        assert!(r.fidelity().is_none() && text.contains("no reference"));
        let (psi, ng, theta) = paper_structure(16, 3).unwrap();
        assert!((16..=256).contains(&ng) && theta.abs() <= std::f64::consts::PI);
        assert!(psi.iter().all(|a| a.abs() <= theta.abs()));
    }

    /// The reference file is computed once, completed for new seeds, and refused for
    /// another grid.
    #[test]
    fn reference_is_kept_completed_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ref.json");
        let mut o = SolverBenchOptions {
            structures: 1,
            reference: Some(path.clone()),
            ..small()
        };
        let r = run(&o).unwrap();
        let stored: ReferenceFile =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(stored.structures.len(), 1);
        assert!(r.fidelity().is_some() && r.to_string().contains("against the short-step path"));
        // The short-step path itself, run as the method under test, is at distance zero.
        o.sweep = o.sweep.short_step();
        o.structures = 2;
        let r = run(&o).unwrap();
        let stored: ReferenceFile =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(stored.structures.len(), 2);
        for (worst, _, _, _) in r.fidelity().unwrap() {
            assert_eq!(worst, 0.0);
        }
        assert_eq!(r.within_limits(), Some(true));
        o.n = 24;
        let e = run(&o).unwrap_err().to_string();
        assert!(e.contains("reference") && e.contains("n = 16"), "{e}");
    }

    #[test]
    fn classes_cover_every_angle() {
        for (deg, k) in [
            (0.0, 0),
            (-44.9, 0),
            (45.0, 1),
            (100.0, 1),
            (100.5, 2),
            (-180.0, 2),
        ] {
            assert_eq!(class_of(f64::to_radians(deg)), k, "{deg}");
        }
    }
}

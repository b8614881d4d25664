//! `coercive bench solver --batch 64,256,1024`: the batched tensor solver on paper-law
//! structures: curves per second, evaluations, µs per evaluation per structure, device
//! memory, and the anchors' distance to the plain solver's, read from a file that
//! `--write-anchors` makes (so anchors computed on a CPU machine travel to a GPU one).

use super::solver::{ReferenceCurve, ReferenceFile, bad_reference, paper_structure};
use crate::settings::Device;
use crate::solver::demag::Precision;
use crate::solver::tensor::terms::BatchEnergy;
use crate::solver::tensor::{TensorOptions, sweep_batched};
use crate::solver::{ANCHOR_NAMES, Anchors, Mesh, Problem, SolverError, SweepOptions, sweep_many};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tch::Tensor;

/// µs per gradient evaluation per structure of the tensor backend: `batch` copies of
/// `problem` evaluated together on `device` (median of 5 runs).
pub fn eval_microseconds(
    problem: &Problem,
    precision: Precision,
    batch: usize,
    device: tch::Device,
) -> Result<f64, SolverError> {
    let _threads = crate::solver::tensor::TorchThreads::for_device(if device.is_cuda() {
        Device::Cuda
    } else {
        Device::Cpu
    });
    let mesh = *problem.mesh();
    let mut e = BatchEnergy::new(mesh, problem.terms(), batch, precision, device)?;
    for s in 0..batch {
        e.load(s, problem)?;
    }
    let kind = crate::solver::tensor::kind(precision);
    let phi = Tensor::randn(
        [batch as i64, mesh.ny as i64, mesh.nx as i64],
        (kind, device),
    ) * 0.1;
    let h = Tensor::full([batch as i64], 0.5, (kind, device));
    let cells = mesh.cells() * batch;
    let reps = (4_000_000 / cells.max(1)).clamp(3, 200);
    let mut times = Vec::new();
    for _ in 0..5 {
        let t0 = Instant::now();
        for _ in 0..reps {
            let g = e.gradient(&phi, &h);
            // Wait for the device: the torque is what a tick copies back.
            let _ = g.torque.double_value(&[0]);
        }
        times.push(1e6 * t0.elapsed().as_secs_f64() / (reps * batch) as f64);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[2])
}

/// What the tensor bench runs.
#[derive(Debug, Clone)]
pub struct TensorBenchOptions {
    /// Grid n × n of the paper's cells.
    pub n: usize,
    /// Paper-law structures, seeds `seed`, `seed + 1`, …
    pub structures: usize,
    pub seed: u64,
    /// One run per batch size.
    pub batches: Vec<usize>,
    pub device: Device,
    pub sweep: SweepOptions,
    /// Anchors of the plain solver (`--write-anchors`) to compare with.
    pub anchors: Option<PathBuf>,
}

/// One batch size's figures.
#[derive(Debug, Clone)]
pub struct BatchRow {
    pub batch: usize,
    pub seconds: f64,
    pub evaluations: usize,
    pub non_converged: usize,
    /// Device memory in use after the run (bytes; CUDA only).
    pub memory: Option<u64>,
    /// µs per gradient evaluation per structure, evaluations timed alone.
    pub eval_us: f64,
    /// Largest |Δ| per anchor against the file's (None without a file).
    pub worst: Option<[f64; 6]>,
}

#[derive(Debug, Clone)]
pub struct TensorBenchReport {
    pub opts: TensorBenchOptions,
    pub rows: Vec<BatchRow>,
}

impl TensorBenchReport {
    /// Whether every anchor is within the limits (1e-3 Ms, 0.01 HA) of the file's.
    pub fn within_limits(&self) -> Option<bool> {
        let lim = |k: usize| if k < 2 { 1e-3 } else { 0.01 };
        self.rows
            .iter()
            .map(|r| r.worst.map(|w| (0..6).all(|k| w[k] <= lim(k))))
            .collect::<Option<Vec<bool>>>()
            .map(|v| v.iter().all(|&x| x))
    }
}

impl fmt::Display for TensorBenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.opts;
        writeln!(
            f,
            "tensor solver bench: {} paper-law {}² structures (seeds {}…), device {}, h {} → {} step {}, {:?}",
            o.structures,
            o.n,
            o.seed,
            o.device.name(),
            o.sweep.h_start,
            o.sweep.h_end,
            o.sweep.h_step,
            o.sweep.min.precision
        )?;
        writeln!(
            f,
            "{:>6} {:>9} {:>9} {:>12} {:>8} {:>10} {:>12}  max |Δ| vs plain ({})",
            "batch",
            "seconds",
            "curves/s",
            "evaluations",
            "not conv",
            "µs/eval",
            "memory MiB",
            ANCHOR_NAMES.join(", ")
        )?;
        for r in &self.rows {
            let mem = r.memory.map_or("n/a".to_string(), |b| {
                format!("{:.0}", b as f64 / 1048576.0)
            });
            let worst = r.worst.map_or("(no --anchors file)".to_string(), |w| {
                w.iter()
                    .map(|x| format!("{x:.1e}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            });
            writeln!(
                f,
                "{:>6} {:>9.2} {:>9.3} {:>12} {:>8} {:>10.2} {:>12}  {worst}",
                r.batch,
                r.seconds,
                o.structures as f64 / r.seconds.max(1e-9),
                r.evaluations,
                r.non_converged,
                r.eval_us,
                mem
            )?;
        }
        match self.within_limits() {
            Some(ok) => write!(
                f,
                "anchors within 1e-3 Ms / 0.01 HA of the plain solver: {}",
                if ok { "yes" } else { "NO" }
            ),
            None => write!(f, "(pass --anchors FILE from --write-anchors to compare)"),
        }
    }
}

/// The paper-law problems of seeds `seed …`.
fn structures(n: usize, count: usize, seed: u64) -> Result<Vec<Problem>, SolverError> {
    let mesh = Mesh::paper(n, n)?;
    (0..count as u64)
        .map(|k| Problem::new(mesh, &paper_structure(n, seed + k)?.0))
        .collect()
}

/// Anchors of the plain solver for `count` paper-law structures, written to `path`
/// (atomically) for a later `--anchors`; returns a one-line summary.
pub fn write_anchors(
    path: &Path,
    n: usize,
    count: usize,
    seed: u64,
    sweep: &SweepOptions,
    threads: usize,
) -> Result<String, SolverError> {
    let t0 = Instant::now();
    let problems = structures(n, count, seed)?;
    let curves = sweep_many(&problems, sweep, threads)?;
    let mut file = ReferenceFile {
        what: "anchors of the plain solver's default descent on paper-law structures; written by `coercive bench solver --write-anchors`".into(),
        n,
        sweep: *sweep,
        structures: Vec::new(),
    };
    for (k, c) in curves.into_iter().enumerate() {
        let c = c?;
        file.structures.push(ReferenceCurve {
            seed: seed + k as u64,
            anchors: c.anchors().values().to_vec(),
            evaluations: c.evaluations(),
            non_converged: c.non_converged(),
        });
    }
    file.save(path)?;
    Ok(format!(
        "wrote the plain solver's anchors of {count} paper-law {n}² structures (seeds {seed}…) to {} in {:.1} s",
        path.display(),
        t0.elapsed().as_secs_f64()
    ))
}

/// The anchors of `path` for `seeds`, checked against the grid and the whole sweep (the
/// descent too: parity means the same descent on two backends).
fn read_anchors(
    path: &Path,
    n: usize,
    sweep: &SweepOptions,
    seeds: &[u64],
) -> Result<Vec<Anchors>, SolverError> {
    let f = ReferenceFile::load(path)?;
    if f.n != n || f.sweep != *sweep {
        return Err(bad_reference(
            path,
            format!("made for n = {} with another sweep or descent", f.n),
        ));
    }
    f.anchors_of(path, seeds)
}

/// Device memory in use (total − free, libtorch's cache included), from the CUDA runtime
/// libtorch loaded; None on the CPU or when the runtime cannot be found.
fn device_memory(device: Device) -> Option<u64> {
    if device != Device::Cuda {
        return None;
    }
    type MemGetInfo = unsafe extern "C" fn(*mut usize, *mut usize) -> i32;
    let name = c"cudaMemGetInfo";
    // SAFETY: dlsym/dlopen with valid C strings; the symbol, when found, has the CUDA
    // runtime's documented signature.
    unsafe {
        let mut sym = libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr());
        for lib in [c"libcudart.so.13", c"libcudart.so.12", c"libcudart.so"] {
            if !sym.is_null() {
                break;
            }
            let h = libc::dlopen(lib.as_ptr(), libc::RTLD_NOW | libc::RTLD_NOLOAD);
            if !h.is_null() {
                sym = libc::dlsym(h, name.as_ptr());
            }
        }
        if sym.is_null() {
            return None;
        }
        let f: MemGetInfo = std::mem::transmute(sym);
        let (mut free, mut total) = (0usize, 0usize);
        (f(&mut free, &mut total) == 0).then(|| (total - free) as u64)
    }
}

/// Runs the tensor bench: every batch size on the same structures.
pub fn run(opts: &TensorBenchOptions) -> Result<TensorBenchReport, SolverError> {
    let problems = structures(opts.n, opts.structures, opts.seed)?;
    let seeds: Vec<u64> = (0..opts.structures as u64).map(|k| opts.seed + k).collect();
    let reference = opts
        .anchors
        .as_deref()
        .map(|p| read_anchors(p, opts.n, &opts.sweep, &seeds))
        .transpose()?;
    let mut rows = Vec::new();
    for &batch in &opts.batches {
        let tensor = TensorOptions {
            device: opts.device,
            batch,
        }
        .validated()?;
        let eval_us = match problems.first() {
            Some(p) => eval_microseconds(p, opts.sweep.min.precision, batch, opts.device.to_tch())?,
            None => f64::NAN,
        };
        let t0 = Instant::now();
        let curves = sweep_batched(&problems, &opts.sweep, &tensor, |_, _| ())?;
        let seconds = t0.elapsed().as_secs_f64();
        let mut row = BatchRow {
            batch,
            seconds,
            evaluations: 0,
            non_converged: 0,
            memory: device_memory(opts.device),
            eval_us,
            worst: reference.as_ref().map(|_| [0.0; 6]),
        };
        for (k, c) in curves.into_iter().enumerate() {
            let c = c?;
            row.evaluations += c.evaluations();
            row.non_converged += c.non_converged();
            if let (Some(w), Some(r)) = (row.worst.as_mut(), &reference) {
                for (i, (a, b)) in c.anchors().values().iter().zip(r[k].values()).enumerate() {
                    w[i] = w[i].max(match (a, b) {
                        (Some(a), Some(b)) => (a - b).abs(),
                        (None, None) => 0.0,
                        _ => f64::INFINITY,
                    });
                }
            }
        }
        rows.push(row);
    }
    Ok(TensorBenchReport {
        opts: opts.clone(),
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// At small n on the CPU: the anchors file is written, read back and the tensor run is
    /// within the limits of it; a file of another grid or descent is refused.
    #[test]
    fn tensor_bench_runs_against_written_anchors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("anchors.json");
        let sweep = SweepOptions {
            h_step: 0.05,
            ..Default::default()
        };
        let line = write_anchors(&path, 16, 3, 1, &sweep, 2).unwrap();
        assert!(line.contains("3 paper-law 16²"), "{line}");
        let opts = TensorBenchOptions {
            n: 16,
            structures: 3,
            seed: 1,
            batches: vec![2, 4],
            device: Device::Cpu,
            sweep,
            anchors: Some(path.clone()),
        };
        let r = run(&opts).unwrap();
        assert_eq!(r.rows.len(), 2);
        assert_eq!(r.within_limits(), Some(true), "{r}");
        let text = r.to_string();
        assert!(
            text.contains("curves/s") && text.contains("µs/eval"),
            "{text}"
        );
        assert!(
            r.rows
                .iter()
                .all(|row| row.memory.is_none() && row.eval_us > 0.0)
        );
        let e = run(&TensorBenchOptions {
            n: 24,
            ..opts.clone()
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("n = 16"), "{e}");
        let mut other = opts.sweep;
        other.min.max_turn *= 0.5;
        let e = run(&TensorBenchOptions {
            sweep: other,
            ..opts
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("another sweep or descent"), "{e}");
    }

    /// The carried file of scripts/device/check.sh is the default sweep's (regenerate it
    /// with `bench solver --n 160 --structures 16 --write-anchors` when the default
    /// changes) and holds the 16 structures the check compares.
    #[test]
    fn device_check_anchors_match_the_default_sweep() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/solver/plain_160_16.json");
        let seeds: Vec<u64> = (1..=16).collect();
        let a = read_anchors(&path, 160, &SweepOptions::default(), &seeds).unwrap();
        assert_eq!(a.len(), 16);
        assert!(a.iter().all(|x| x.values().iter().all(|v| v.is_some())));
    }
}

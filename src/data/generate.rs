//! Generation: draw (and optionally label) every record of a part, crash-safe and resumable.
//!
//! While running, `DIR/.partial/` holds `spec.json` (what is being generated), `records.log`
//! (finished records, appended as they finish, behind the spec's fingerprint, see `log.rs`)
//! and `lock` (one writer per directory). Running the same generation again resumes: the
//! log's fingerprint is checked against the settings asked (whatever `spec.json` says), the
//! log checked, a torn tail cut, finished ids skipped. When every id is in the log the
//! canonical files and the manifest are written (sorted by id, see `store.rs`) and
//! `.partial/` is removed (also by a later run, when a kill came between the two). Record id
//! i depends only on (options, seed, i), so the finished files are the same bytes whatever
//! the thread count, shard layout or number of interruptions.
//!
//! Settings are validated before anything is written, and the output directory must be
//! new, empty, or a dataset (finished or not) of the same settings: user files are never
//! replaced.
//!
//! Unlabelled records (parameter draws, microseconds each) are drawn in parallel in chunks,
//! appended in id order and fsynced per chunk; labelled records (a demagnetisation curve
//! each) are appended as each curve finishes, fsynced at most once a second and at the end.

use super::error::{DataError, Result};
use super::log::{Lock, Log};
use super::record::{Label, Record};
use super::spec::{Manifest, Spec};
use super::store::{self, finalise};
use crate::grains::{Sample, draw};
use crate::progress::Progress;
use crate::solver::cache::{CurveCache, cached_sweep};
use crate::solver::demag::DemagKernel;
use crate::solver::sweep::sweep_with_kernel;
use crate::solver::tensor::{Backend, sweep_stream};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const PARTIAL: &str = ".partial";
const CHUNK: usize = 16_384;
const SYNC_EVERY: Duration = Duration::from_secs(1);

/// What a generation did (timings: for people, never stored in the dataset).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    /// Records of the part.
    pub records: u64,
    /// Records made by this run (the rest came from an earlier, interrupted run, or were
    /// taken from finished datasets).
    pub generated: u64,
    /// Records taken from finished datasets (`--from`).
    pub taken: u64,
    /// Bytes of a torn log tail cut off on resume.
    pub cut_bytes: u64,
    pub seconds: f64,
    pub labelled: bool,
    /// Field steps that missed the torque tolerance, over all curves.
    pub non_converged_steps: u64,
    /// Curves with at least one such step.
    pub non_converged_curves: u64,
    /// Missing anchors per name (M1, Mr, Hk90, Hk80, Hk70, Hc).
    pub missing: [u64; 6],
}

impl Summary {
    /// Records (curves when labelled) made per second by this run.
    pub fn rate(&self) -> f64 {
        self.generated as f64 / self.seconds.max(1e-9)
    }

    /// Adds the label statistics of `records` (non-converged steps, missing anchors).
    pub fn count(&mut self, records: &[Record]) {
        for l in records.iter().filter_map(|r| r.label.as_ref()) {
            let nc = l.non_converged() as u64;
            self.non_converged_steps += nc;
            self.non_converged_curves += (nc > 0) as u64;
            for (m, a) in self.missing.iter_mut().zip(l.anchors) {
                *m += a.is_none() as u64;
            }
        }
    }
}

impl Summary {
    /// The label statistics alone (no timing): deterministic.
    pub fn labels(&self) -> String {
        let mut s = format!(
            "non-converged steps: {} in {} curves; missing anchors:",
            self.non_converged_steps, self.non_converged_curves
        );
        for (n, m) in crate::solver::ANCHOR_NAMES.iter().zip(self.missing) {
            s.push_str(&format!(" {n} {m}"));
        }
        s
    }
}

/// One paragraph about the finished dataset in `dir` (deterministic: no timings).
pub fn describe(dir: &Path, m: &Manifest) -> String {
    let s = &m.spec;
    let g = &s.generator;
    let law = |v: Option<String>, paper: &str| v.unwrap_or_else(|| paper.into());
    let bytes: u64 = m.files.iter().map(|f| f.bytes).sum();
    format!(
        "{}: {} records (ids {}..{} of {}, shard {}/{}), {}×{} cells of {} nm, grains {}, θ {}, seed {}, {}; {} files, {:.3} MB",
        dir.display(),
        m.records,
        s.ids[0],
        s.ids[1],
        s.count,
        s.shard.index,
        s.shard.count,
        g.nx,
        g.ny,
        g.cell_nm,
        law(
            g.grains.map(|n| n.to_string()),
            &format!("uniform in {}…{}", g.grains_range.0, g.grains_range.1)
        ),
        law(
            g.theta.map(|t| format!("{}°", crate::grains::degrees(t))),
            "by the paper's law"
        ),
        g.base_seed,
        if let Some(solver) = &s.solver {
            format!(
                "labelled ({} field steps, descent {})",
                s.steps,
                solver.sweep.descent()
            )
        } else {
            "unlabelled".into()
        },
        m.files.len(),
        bytes as f64 / 1e6
    )
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = if self.labelled { "curves" } else { "records" };
        write!(
            f,
            "data: {} records ({} made now, {} resumed{}) in {:.2} s",
            self.records,
            self.generated,
            self.records - self.generated - self.taken,
            if self.taken > 0 {
                format!(", {} taken from finished datasets", self.taken)
            } else {
                String::new()
            },
            self.seconds,
        )?;
        // With nothing made there is no rate to tell.
        if self.generated > 0 {
            write!(f, ": {:.4} {what}/s", self.rate())?;
            if self.labelled {
                write!(f, " ({:.2} curves/min)", self.rate() * 60.0)?;
            }
        }
        if self.labelled {
            write!(f, "; {}", self.labels())?;
        }
        if self.cut_bytes > 0 {
            write!(f, "; cut a torn log tail of {} bytes", self.cut_bytes)?;
        }
        Ok(())
    }
}

/// Record `id`: the draws of structure `id` of `sample` (and its curve when `label` is
/// given: the labelled spec and the demag kernel of its mesh).
pub fn make_record(
    sample: &Sample,
    id: u64,
    label: Option<(&Spec, &DemagKernel)>,
) -> Result<Record> {
    make_record_cached(sample, id, label, None)
}

/// [`make_record`] taking the curve from `cache` when it holds it, and keeping a curve it
/// computes there.
pub fn make_record_cached(
    sample: &Sample,
    id: u64,
    label: Option<(&Spec, &DemagKernel)>,
    cache: Option<&CurveCache>,
) -> Result<Record> {
    let curve = match label {
        None => None,
        Some((spec, kernel)) => {
            let p = problem_of(sample, id, spec)?;
            let solver = spec.solver.as_ref().expect("labelled spec");
            Some(cached_sweep(cache, &p, &solver.sweep, || {
                sweep_with_kernel(&p, kernel, &solver.sweep, false)
            })?)
        }
    };
    record_with(sample, id, curve.as_ref())
}

/// The micromagnetic problem of record `id` of a labelled `spec`.
fn problem_of(sample: &Sample, id: u64, spec: &Spec) -> Result<crate::solver::Problem> {
    let solver = spec.solver.as_ref().expect("labelled spec");
    let s = crate::grains::voronoi(&sample.options_of(id as usize)?)?;
    Ok(s.problem(solver)?)
}

/// Record `id`: its draws, and the label of `curve` when given.
fn record_with(sample: &Sample, id: u64, curve: Option<&crate::solver::Curve>) -> Result<Record> {
    let options = sample.options_of(id as usize)?;
    let d = draw(&options)?;
    let label = curve.map(|c| Box::new(Label::from_curve(c)));
    Ok(Record {
        id,
        seed: options.seed,
        ng: d.ng as u32,
        theta: d.theta,
        label,
    })
}

/// Refuses an output directory that holds anything but a dataset (finished or not): its
/// files would be replaced.
pub fn check_output_dir(dir: &Path) -> Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(super::error::io_at(dir)(e)),
    };
    let names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    if names.is_empty() || names.iter().any(|n| n == store::MANIFEST || n == PARTIAL) {
        return Ok(());
    }
    let mut shown: Vec<&str> = names.iter().map(String::as_str).collect();
    shown.sort_unstable();
    let more = shown.len().saturating_sub(3);
    shown.truncate(3);
    Err(DataError::Incompatible(format!(
        "{} is not empty and holds no coercive dataset (it has {}{}): its files would be \
         replaced; choose a new or empty output directory",
        dir.display(),
        shown.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    )))
}

/// Removes the `.partial` of a finished dataset (left by a kill between the manifest and its
/// removal), once no generation holds its lock.
fn remove_stale_partial(dir: &Path) -> Result<()> {
    let partial = dir.join(PARTIAL);
    if !partial.exists() {
        return Ok(());
    }
    let lock = Lock::take(&partial.join("lock"))?;
    drop(lock);
    std::fs::remove_dir_all(&partial).map_err(super::error::io_at(&partial))?;
    crate::fsio::sync_dir(dir);
    Ok(())
}

/// Refuses a part whose records would not fit in memory: they are held until the canonical
/// files are written (about twice their log size, plus bookkeeping per id).
fn check_memory(spec: &Spec) -> Result<()> {
    let per_record = std::mem::size_of::<Record>() + 9 + 2 * spec.record_bytes;
    let bytes = spec.len() as u128 * per_record as u128;
    let what = format!("{} records", spec.len());
    crate::memory::check(&what, bytes).map_err(|e| DataError::BadOption {
        name: "count",
        got: spec.count.to_string(),
        expected: format!("fewer records, or more shards: {e}"),
    })
}

/// Generates (or resumes, or finds finished) the part described by `spec` in `dir`.
pub fn generate(dir: &Path, spec: &Spec) -> Result<(Manifest, Summary)> {
    generate_from(dir, spec, &[])
}

/// [`generate`], taking the records that the finished datasets `from` (same settings, any
/// count or shard) hold instead of making them again (see `reuse.rs`).
pub fn generate_from(dir: &Path, spec: &Spec, from: &[PathBuf]) -> Result<(Manifest, Summary)> {
    check_memory(spec)?;
    let t0 = Instant::now();
    // Everything that can be refused is refused before anything is written.
    check_output_dir(dir)?;
    let sample = spec.generator.sample(spec.count)?;
    if let Some(solver) = &spec.solver {
        spec.generator.check_solver(&solver)?;
    }
    let sources = super::reuse::Sources::open(from, spec)?;
    std::fs::create_dir_all(dir).map_err(super::error::io_at(dir))?;
    let mut summary = Summary {
        records: spec.len(),
        labelled: spec.labelled(),
        ..Summary::default()
    };
    if dir.join(store::MANIFEST).exists() {
        let m = store::read_manifest(dir)?;
        check_same(dir, &m.spec, spec, "a finished dataset")?;
        summary.count(&store::read_records(dir, &m)?);
        remove_stale_partial(dir)?;
        summary.seconds = t0.elapsed().as_secs_f64();
        return Ok((m, summary));
    }
    let partial = dir.join(PARTIAL);
    std::fs::create_dir_all(&partial).map_err(super::error::io_at(&partial))?;
    let lock = Lock::take(&partial.join("lock"))?;
    let spec_path = partial.join("spec.json");
    let log_path = partial.join("records.log");
    let fingerprint = super::log::fingerprint(spec);
    if spec_path.exists() {
        let old: Spec = store::read_json(&spec_path)?;
        check_same(dir, &old, spec, "an unfinished generation")?;
    } else {
        // The log's own fingerprint decides when spec.json was lost.
        super::log::check_fingerprint(&log_path, &fingerprint).map_err(|e| match e {
            DataError::Incompatible(why) => DataError::Incompatible(format!(
                "{} holds an unfinished generation with other settings ({why}); use another \
                 output directory",
                dir.display()
            )),
            e => e,
        })?;
        let json = serde_json::to_vec_pretty(spec).expect("spec serialises");
        store::write_file(&partial, "spec.json", &json)?;
    }
    let ids = spec.ids[0]..spec.ids[1];
    let mut rec = Log::recover(&log_path, spec.steps, ids.clone(), &fingerprint)?;
    summary.cut_bytes = rec.cut_bytes;
    let mut done = vec![false; spec.len() as usize];
    for r in &rec.records {
        done[(r.id - ids.start) as usize] = true;
    }
    let at = |id: u64| (id - ids.start) as usize;
    let taken = sources.take(&sample, |id| ids.contains(&id) && !done[at(id)])?;
    // Taken records go to the log like made ones: a kill now loses none of them.
    rec.log.append(&taken)?;
    rec.log.sync()?;
    summary.taken = taken.len() as u64;
    for r in taken {
        done[at(r.id)] = true;
        rec.records.push(r);
    }
    let pending: Vec<u64> = ids
        .filter(|id| !done[(id - spec.ids[0]) as usize])
        .collect();
    summary.generated = pending.len() as u64;
    let progress = Progress::new(
        spec.len(),
        if spec.labelled() { "curves" } else { "records" },
    );
    progress.inc(rec.records.len() as u64);
    let state = Mutex::new((rec.log, rec.records, Instant::now()));
    // A finished record goes to the log at once (synced at most once a second).
    let keep_record = |r: Record| -> Result<()> {
        let mut g = state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (log, records, synced) = &mut *g;
        log.append(std::slice::from_ref(&r))?;
        records.push(r);
        if synced.elapsed() >= SYNC_EVERY {
            log.sync()?;
            *synced = Instant::now();
        }
        progress.inc(1);
        Ok(())
    };
    let run = || -> Result<()> {
        let solver = spec.solver.as_ref();
        if let Some(Backend::Tensor(tensor)) = solver.map(|s| s.backend) {
            // Batched: records finish out of order; the canonical files sort them by id.
            let mut ids = pending.iter();
            let sweep = &solver.expect("labelled").sweep;
            sweep_stream::<DataError>(
                sweep,
                &tensor,
                || match ids.next() {
                    Some(&id) => Ok(Some((id, problem_of(&sample, id, spec)?))),
                    None => Ok(None),
                },
                |id, curve| keep_record(record_with(&sample, id, Some(&curve?))?),
            )
        } else if let Some(solver) = solver {
            let first = crate::grains::voronoi(&sample.options_of(0)?)?;
            let kernel =
                DemagKernel::cached(first.problem(solver)?.mesh(), solver.sweep.min.precision)?;
            pending.par_iter().try_for_each(|&id| {
                crate::interrupt::check()?;
                keep_record(make_record(&sample, id, Some((spec, &kernel)))?)
            })
        } else {
            for chunk in pending.chunks(CHUNK) {
                crate::interrupt::check()?;
                let made = chunk
                    .par_iter()
                    .map(|&id| make_record(&sample, id, None))
                    .collect::<Result<Vec<_>>>()?;
                let mut g = state
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                g.0.append(&made)?;
                g.0.sync()?;
                g.1.extend(made);
                progress.inc(chunk.len() as u64);
            }
            Ok(())
        }
    };
    let result = run();
    // Even after a panic in a worker (a poisoned lock) the finished records are kept.
    let (mut log, records, _) = state
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // Finished records reach the disk whatever happened.
    log.sync()?;
    progress.finish();
    result?;
    summary.count(&records);
    let manifest = finalise(dir, spec, records)?;
    drop(log);
    drop(lock);
    std::fs::remove_dir_all(&partial).map_err(super::error::io_at(&partial))?;
    crate::fsio::sync_dir(dir);
    summary.seconds = t0.elapsed().as_secs_f64();
    Ok((manifest, summary))
}

/// Refuses `new` where `dir` already holds `old` (names the differing manifest keys).
pub fn check_same(dir: &Path, old: &Spec, new: &Spec, what: &str) -> Result<()> {
    if old == new {
        return Ok(());
    }
    Err(DataError::Incompatible(format!(
        "{} holds {what} with other settings ({}); use another output directory",
        dir.display(),
        spec_differences(old, new)
    )))
}

/// The settings in which `new` differs from `old`, as [`differing_keys`] names them.
pub fn spec_differences(old: &Spec, new: &Spec) -> String {
    // A Spec is plain fields and maps with string keys: it always converts.
    let json = |s: &Spec| serde_json::to_value(s).expect("a Spec converts to JSON");
    differing_keys(&json(old), &json(new))
}

/// The keys of JSON object `old` whose value `new` does not share, as
/// "key: old there, new asked; …", nested objects followed down to the keys that differ
/// ("solver.sweep.min.max_turn: 0.3 there, 0.5 asked"); empty unless both are objects.
pub fn differing_keys(old: &serde_json::Value, new: &serde_json::Value) -> String {
    let mut out = Vec::new();
    differing_paths("", old, new, &mut out);
    out.join("; ")
}

fn differing_paths(
    prefix: &str,
    old: &serde_json::Value,
    new: &serde_json::Value,
    out: &mut Vec<String>,
) {
    let (Some(a), Some(b)) = (old.as_object(), new.as_object()) else {
        return;
    };
    let null = serde_json::Value::Null;
    let keys = a.keys().chain(b.keys().filter(|k| !a.contains_key(*k)));
    for k in keys {
        let (there, asked) = (a.get(k).unwrap_or(&null), b.get(k).unwrap_or(&null));
        let path = format!("{prefix}{k}");
        if there == asked {
            continue;
        } else if there.is_object() && asked.is_object() {
            differing_paths(&format!("{path}."), there, asked, out);
        } else {
            out.push(format!("{path}: {there} there, {asked} asked"));
        }
    }
}

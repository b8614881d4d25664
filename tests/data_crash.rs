//! Crash safety of `coercive data generate` through the real binary: SIGKILL at random
//! moments, resume each time, and the finished dataset equals an uninterrupted run byte for
//! byte; the log never loses or repeats a record. Also: Ctrl-C stops cleanly and resumes,
//! shards merged by the CLI equal a single run, records taken `--from` a finished dataset
//! survive a kill, and damaged files are reported by name.

use rand::{Rng, SeedableRng};
mod common;

use common::run_ok;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const COUNT: &str = "96";

fn coercive(threads: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_coercive"));
    c.args(["--quiet", "--threads", threads, "--seed", "5"]);
    c.stdout(Stdio::null()).stderr(Stdio::piped());
    c
}

/// A labelled tiny dataset: 16² cells, 4 grains, coarse enough to take a few seconds.
fn generate(out: &Path, threads: &str, extra: &[&str]) -> Command {
    let mut c = coercive(threads);
    let count = if extra.contains(&"--count") {
        &[][..]
    } else {
        &["--count", COUNT][..]
    };
    c.args(["data", "generate", "--label", "--n", "16", "--grains", "4"])
        .args(count)
        .arg("--out")
        .arg(out)
        .args(extra);
    c
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            assert!(p.is_file(), "unexpected entry {}", p.display());
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Ids in the generation log (checked: no record twice, no damage but a torn tail).
fn logged_ids(dir: &Path) -> Vec<u64> {
    let log = dir.join(".partial/records.log");
    let Ok(bytes) = std::fs::read(&log) else {
        return Vec::new();
    };
    let spec: coercive::data::Spec =
        serde_json::from_slice(&std::fs::read(dir.join(".partial/spec.json")).unwrap()).unwrap();
    let (records, _) =
        coercive::data::log::read_records(&log, &bytes, spec.steps, spec.ids[0]..spec.ids[1])
            .expect("log readable, no duplicates");
    records.iter().map(|r| r.id).collect()
}

#[test]
fn data_sigkill_at_random_moments_then_resume_equals_an_uninterrupted_run() {
    let t = tempfile::tempdir().unwrap();
    let reference = t.path().join("reference");
    let t0 = Instant::now();
    run_ok(generate(&reference, "2", &[]));
    let full = t0.elapsed();
    eprintln!("uninterrupted run: {full:?}");
    let crashed = t.path().join("crashed");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2026);
    let (mut kills, mut done) = (0, Vec::<u64>::new());
    for round in 0..12 {
        if kills >= 6 {
            break;
        }
        let mut child = generate(&crashed, "2", &[]).spawn().unwrap();
        // After the first round, wait for at least one new record (process start-up takes
        // a good part of a short run), then a random moment within the next 15% of a run.
        let start = Instant::now();
        while round > 0 && logged_ids(&crashed).len() <= done.len() {
            assert!(start.elapsed() < Duration::from_secs(60), "no progress");
            std::thread::sleep(Duration::from_millis(5));
        }
        let wait = start.elapsed() + full.mul_f64(rng.random_range(0.0..0.15));
        std::thread::sleep(wait - start.elapsed());
        if child.try_wait().unwrap().is_some() {
            panic!("round {round}: generation finished before the kill; raise COUNT");
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        let ids = logged_ids(&crashed);
        // Nothing finished before is lost.
        assert!(
            done.iter().all(|id| ids.contains(id)),
            "round {round}: records lost"
        );
        eprintln!("kill {kills} after {wait:?}: {} records logged", ids.len());
        done = ids;
    }
    assert!(kills >= 5, "only {kills} kills");
    assert!(
        !done.is_empty() && done.len() < 96,
        "{} records logged",
        done.len()
    );
    // Finish on one thread: thread count must not matter either.
    run_ok(generate(&crashed, "1", &[]));
    assert!(!crashed.join(".partial").exists());
    assert_eq!(files(&crashed), files(&reference), "finished files differ");
}

#[test]
fn data_from_takes_finished_records_and_a_kill_loses_none_of_them() {
    let t = tempfile::tempdir().unwrap();
    let p = |name: &str| -> PathBuf { t.path().join(name) };
    run_ok(generate(&p("reference"), "2", &[]));
    run_ok(generate(&p("first"), "2", &["--count", "24"]));
    let first = p("first");
    let from = ["--from", first.to_str().unwrap()];
    let grown = p("grown");
    let mut child = generate(&grown, "2", &from).spawn().unwrap();
    let start = Instant::now();
    while logged_ids(&grown).len() < 26 {
        assert!(start.elapsed() < Duration::from_secs(60), "no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    if child.try_wait().unwrap().is_some() {
        panic!("generation finished before the kill; raise COUNT");
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let ids = logged_ids(&grown);
    assert!((0..24).all(|id| ids.contains(&id)), "taken records lost");
    assert!(ids.len() < 96, "{} records logged", ids.len());
    // The taken records are in the log: the resume needs no --from.
    run_ok(generate(&grown, "1", &[]));
    assert_eq!(
        files(&grown),
        files(&p("reference")),
        "finished files differ"
    );
}

#[test]
fn data_ctrl_c_keeps_finished_records_and_the_same_command_resumes() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("d");
    let child = generate(&dir, "2", &[]).spawn().unwrap();
    let start = Instant::now();
    while logged_ids(&dir).len() < 3 {
        assert!(start.elapsed() < Duration::from_secs(60), "no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(
        err.contains("interrupted") && err.contains("resume"),
        "{err}"
    );
    let kept = logged_ids(&dir).len();
    assert!(kept >= 3, "{kept} records kept");
    run_ok(generate(&dir, "2", &[]));
    coercive::data::Dataset::open(&dir).unwrap();
}

#[test]
fn data_cli_shards_merge_to_a_single_run_and_damage_is_named() {
    let t = tempfile::tempdir().unwrap();
    let p = |name: &str| -> PathBuf { t.path().join(name) };
    let small = ["--count", "6", "--h-step", "0.1"];
    run_ok(generate(&p("single"), "2", &small));
    for i in 0..2 {
        let shard = format!("{i}/2");
        run_ok(generate(
            &p(&format!("part{i}")),
            "2",
            &[&small[..], &["--shard", &shard]].concat(),
        ));
    }
    let mut merge = coercive("2");
    merge
        .args(["data", "merge", "--out"])
        .arg(p("merged"))
        .arg(p("part0"))
        .arg(p("part1"));
    run_ok(merge);
    assert_eq!(files(&p("merged")), files(&p("single")));
    // Merging a part twice is refused.
    let mut twice = coercive("2");
    twice
        .args(["data", "merge", "--out"])
        .arg(p("twice"))
        .arg(p("part0"))
        .arg(p("part0"))
        .arg(p("part1"));
    let out = twice.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("duplicate record id 0"), "{err}");
    // One flipped byte in the last row of torque.npy.
    let f = p("single").join("torque.npy");
    let mut b = std::fs::read(&f).unwrap();
    let k = b.len() - 3;
    b[k] ^= 0x01;
    std::fs::write(&f, b).unwrap();
    let mut info = coercive("2");
    info.args(["data", "info"]).arg(p("single"));
    let out = info.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err.contains("torque.npy: record 5 (id 5) is corrupted"),
        "{err}"
    );
}

/// The tensor backend (`--solver-backend tensor`, what `--device cuda` chooses) on the CPU:
/// records finish out of order, yet SIGKILLs, a Ctrl-C and a resume on another thread count
/// give the uninterrupted run's files byte for byte; the manifest names the backend, its
/// device and batch, and a resume with another batch is refused.
#[test]
fn data_tensor_backend_is_crash_safe_and_recorded() {
    let t = tempfile::tempdir().unwrap();
    let tensor = [
        "--count",
        "40",
        "--h-step",
        "0.05",
        "--solver-backend",
        "tensor",
        "--batch",
        "4",
    ];
    let reference = t.path().join("reference");
    let t0 = Instant::now();
    run_ok(generate(&reference, "2", &tensor));
    let full = t0.elapsed();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(reference.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(
        manifest["solver"]["backend"],
        serde_json::json!({ "name": "tensor", "device": "cpu", "batch": 4 })
    );
    assert_eq!(manifest["solver"]["precision"], "f32");
    let crashed = t.path().join("crashed");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(18);
    let mut done = Vec::<u64>::new();
    for round in 0..3 {
        let mut child = generate(&crashed, "2", &tensor).spawn().unwrap();
        let start = Instant::now();
        while logged_ids(&crashed).len() <= done.len() {
            assert!(start.elapsed() < Duration::from_secs(60), "no progress");
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(full.mul_f64(rng.random_range(0.0..0.1)));
        if child.try_wait().unwrap().is_some() {
            panic!("round {round}: finished before the kill");
        }
        if round == 2 {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
            let out = child.wait_with_output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(130),
                "stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        } else {
            child.kill().unwrap();
            child.wait().unwrap();
        }
        let ids = logged_ids(&crashed);
        assert!(done.iter().all(|id| ids.contains(id)), "records lost");
        done = ids;
    }
    assert!(done.len() < 40, "{} records", done.len());
    let mut other = tensor.to_vec();
    other[7] = "8";
    let out = generate(&crashed, "2", &other).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("solver.backend.batch: 4 there, 8 asked"),
        "{err}"
    );
    run_ok(generate(&crashed, "1", &tensor));
    assert_eq!(files(&crashed), files(&reference), "finished files differ");
}

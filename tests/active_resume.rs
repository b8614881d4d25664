//! The active-learning loop (`active::run`) through the real binary: SIGKILL in the
//! middle of a round's labelling, rerun, and the labelled records, the loop's state and the
//! learning-curve figures equal those of an uninterrupted run; and a labelled pool whose
//! labels are revealed when chosen gives the same loop as the solver labelling it.

mod common;

use common::run_ok;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The loop on a 16² pool: labels from the solver (`reveal` false: an unlabelled pool) or
/// revealed from the labelled one. `prepare` makes the datasets once.
const SCRIPT: &str = r#"
let base = ARGS[0];
let law = #{ n: 16, grains: 4, seed: 77, count: 40 };
let all = data::generate(law + #{ out: `${base}/labelled`, label: true });
if ARGS[1] == "prepare" {
    data::generate(law + #{ out: `${base}/unlabelled` });
    return;
}
let test = all.filter(|r| r.id % 5 == 0);
let src = if ARGS[1] == "reveal" { all } else { data::open(`${base}/unlabelled`) };
let pool = src.filter(|r| r.id % 5 != 0);
let r = active::run(#{ pool: pool, test: test, labelled: ARGS[2], acquisition: "diverse",
    initial: 8, rounds: 2, per_round: 6, seed: 3, model: #{ members: 2, epochs: 10, trees: 20 } });
active::learning_curves([r], #{ json: `${ARGS[2]}/curves.json`, reference: "diverse" });
"#;

fn coercive(base: &Path, args: &[&str]) -> Command {
    let script = base.join("loop.rhai");
    if !script.exists() {
        std::fs::write(&script, SCRIPT).unwrap();
    }
    let mut c = Command::new(env!("CARGO_BIN_EXE_coercive"));
    c.args(["--quiet", "--threads", "2", "--no-cache", "run"])
        .arg(&script)
        .arg(base)
        .args(args);
    c.stdout(Stdio::null()).stderr(Stdio::piped());
    c
}

/// The labelled records of a loop, sorted by id, as bytes (the log's own order follows
/// which curve finished first).
fn records(dir: &Path) -> Vec<Vec<u8>> {
    let log = dir.join("records.log");
    let bytes = std::fs::read(&log).unwrap();
    let spec: coercive::data::Spec =
        coercive::data::Dataset::open(dir.parent().unwrap().join("labelled"))
            .unwrap()
            .spec()
            .clone();
    let (mut recs, valid) =
        coercive::data::log::read_records(&log, &bytes, spec.steps, spec.ids[0]..spec.ids[1])
            .expect("log readable, no duplicates");
    assert_eq!(valid, bytes.len(), "no torn tail after a finished loop");
    recs.sort_by_key(|r| r.id);
    recs.iter().map(|r| r.encode(spec.steps)).collect()
}

fn outputs(dir: &Path) -> Vec<Vec<u8>> {
    ["active.json", "labelled.csv", "curves.json"]
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect()
}

#[test]
fn active_loop_killed_mid_round_resumes_to_the_uninterrupted_result() {
    let t = tempfile::tempdir().unwrap();
    let base = t.path();
    run_ok(coercive(base, &["prepare"]));
    let whole = base.join("whole");
    run_ok(coercive(base, &["solve", whole.to_str().unwrap()]));
    let state = String::from_utf8(std::fs::read(whole.join("active.json")).unwrap()).unwrap();
    assert_eq!(records(&whole).len(), 8 + 2 * 6);
    assert!(state.contains("\"labels\": 20"), "{state}");

    // Killed once round 1's batch is chosen and part of it labelled.
    let killed = base.join("killed");
    let log = killed.join("records.log");
    let record = coercive::data::record::record_bytes(
        coercive::data::Dataset::open(base.join("labelled"))
            .unwrap()
            .spec()
            .steps,
    ) as u64;
    let header = coercive::data::log::HEADER as u64;
    let mut child = coercive(base, &["solve", killed.to_str().unwrap()])
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    let mut hit = false;
    while t0.elapsed() < Duration::from_secs(300) {
        let n = std::fs::metadata(&log).map_or(0, |m| m.len().saturating_sub(header) / record);
        if n > 8 && n < 14 {
            hit = true;
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(
        hit,
        "the loop finished or stalled before round 1 was half labelled"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let n = std::fs::metadata(&log)
        .unwrap()
        .len()
        .saturating_sub(header)
        / record;
    assert!(n < 20, "killed before the end ({n} records)");
    run_ok(coercive(base, &["solve", killed.to_str().unwrap()]));
    assert_eq!(records(&killed), records(&whole), "same labelled records");
    assert_eq!(
        outputs(&killed),
        outputs(&whole),
        "same state, table and figures"
    );

    // Pool-based benchmarking: revealing the stored labels is the same loop.
    let revealed = base.join("revealed");
    run_ok(coercive(base, &["reveal", revealed.to_str().unwrap()]));
    assert_eq!(
        records(&revealed),
        records(&whole),
        "revealed labels = computed labels"
    );
    let strip = |b: Vec<u8>| {
        String::from_utf8(b)
            .unwrap()
            .lines()
            .filter(|l| !l.contains("\"reveal\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    for (a, b) in outputs(&revealed).into_iter().zip(outputs(&whole)) {
        assert_eq!(
            strip(a),
            strip(b),
            "same batches and figures, settings aside from reveal"
        );
    }
}

/// scripts/active.rhai refuses what it cannot read before any work, naming its line.
#[test]
fn active_script_refuses_bad_arguments() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/active.rhai");
    for (args, says) in [
        (
            vec!["out", "pool"],
            "usage: coercive run scripts/active.rhai",
        ),
        (
            vec!["out", "d", "d", "0", "inputs=fine"],
            "unknown option inputs=fine",
        ),
        (
            vec!["out", "d", "d", "0", "rounds=3"],
            "unknown option rounds=3",
        ),
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_coercive"))
            .args(["--quiet", "run", script])
            .args(&args)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?}");
        assert!(
            text.contains(says) && text.contains("active.rhai:"),
            "{args:?}: {text}"
        );
    }
}

//! scripts/label_noise.rhai end to end on a small labelled dataset: each record labelled
//! again as itself comes back as stored, its images are labelled, the JSON has the
//! documented layout; a dataset labelled with other solver settings, or a run with a curve
//! cache (which would make the control vacuous), is refused.

mod common;

use std::process::Command;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/label_noise.rhai");

fn coercive(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_coercive"))
        .args(["--quiet", "--threads", "2"])
        .args(args)
        .output()
        .expect("run coercive")
}

#[test]
fn label_noise_relabels_every_record_and_its_images() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("curves");
    let json = dir.path().join("noise.json");
    common::labelled_dataset(&data, 12, 24, 3);
    let out = coercive(&[
        "--no-cache",
        "run",
        SCRIPT,
        data.to_str().unwrap(),
        json.to_str().unwrap(),
        "all",
    ]);
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{printed}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["records"], 12);
    assert_eq!(v["which"], "all");
    for a in ["M1", "Mr", "Hk90", "Hk80", "Hk70", "Hc"] {
        let r = &v["anchors"][a];
        // The control: the solver is deterministic and the label is stored whole.
        let itself = r["itself_max"].as_f64().unwrap();
        assert!(itself <= 1e-6, "{a}: relabelled as itself, off by {itself}");
        // Three images per record whose anchor exists.
        let pairs = r["pairs"].as_u64().unwrap();
        assert!(pairs > 0 && pairs % 3 == 0, "{a}: {pairs} pairs");
        let (mean, max) = (
            r["images_mean"].as_f64().unwrap(),
            r["images_max"].as_f64().unwrap(),
        );
        assert!(mean >= 0.0 && mean <= max, "{a}: mean {mean}, max {max}");
        let share = r["beyond_tol"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&share), "{a}: {share}");
    }
}

#[test]
fn label_noise_refuses_a_dataset_of_other_solver_settings() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("curves");
    let mut c = Command::new(env!("CARGO_BIN_EXE_coercive"));
    c.args(["--quiet", "--threads", "2", "data", "generate", "--out"])
        .arg(&data)
        .args(["--count", "2", "--n", "16", "--label", "--max-turn", "0.3"]);
    common::run_ok(c);
    let out = coercive(&["--no-cache", "run", SCRIPT, data.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("label_noise") && err.contains("solver settings"),
        "{err}"
    );
}

#[test]
fn label_noise_refuses_to_run_with_a_curve_cache() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("curves");
    common::labelled_dataset(&data, 2, 16, 1);
    let cache = dir.path().join("cache");
    let out = coercive(&[
        "--cache",
        cache.to_str().unwrap(),
        "run",
        SCRIPT,
        data.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("label_noise") && err.contains("--no-cache"),
        "{err}"
    );
}

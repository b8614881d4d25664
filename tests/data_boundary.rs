//! `data generate --boundary`: a grain-boundary phase labels the curves, is recorded in the
//! manifest (and absent from manifests without one), and bad input is refused by name.

use std::path::Path;
use std::process::Command;

fn generate(out: &Path, extra: &[&str]) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_coercive"))
        .args([
            "--quiet",
            "--threads",
            "1",
            "data",
            "generate",
            "--count",
            "2",
            "--n",
            "16",
        ])
        .args(["--grains", "4", "--label", "--h-step", "0.05", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .expect("run coercive");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

fn anchors(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("anchors.csv")).unwrap()
}

#[test]
fn a_boundary_phase_labels_the_dataset_and_is_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let (plain, soft) = (tmp.path().join("plain"), tmp.path().join("soft"));
    assert_eq!(generate(&plain, &[]).0, 0);
    let (code, err) = generate(&soft, &["--boundary", "4,2e-12,1.0,0"]);
    assert_eq!(code, 0, "{err}");
    let manifest = |d: &Path| std::fs::read_to_string(d.join("manifest.json")).unwrap();
    assert!(
        !manifest(&plain).contains("boundary"),
        "no phase, no key: older manifests read alike"
    );
    let m: serde_json::Value = serde_json::from_str(&manifest(&soft)).unwrap();
    let b = m
        .pointer("/solver/boundary")
        .unwrap_or_else(|| panic!("{m}"));
    assert_eq!(b["width_nm"], 4.0);
    assert_eq!(b["material"]["K1"], 0.0);
    assert_ne!(
        anchors(&plain),
        anchors(&soft),
        "a soft boundary phase changes the curves"
    );
    // Resuming the same command finds the same settings.
    assert_eq!(generate(&soft, &["--boundary", "4,2e-12,1.0,0"]).0, 0);
}

#[test]
fn bad_boundary_phases_are_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    for (arg, says) in [
        ("4,2e-12", "WIDTH_NM,A,JS,K1"),
        ("4,2e-12,1.0,x", "WIDTH_NM,A,JS,K1"),
        ("0,2e-12,1.0,1e6", "boundary.width_nm"),
        ("4,2e-12,1.0,-1", "K1"),
    ] {
        let (code, err) = generate(&tmp.path().join("bad"), &["--boundary", arg]);
        assert_ne!(code, 0, "{arg}");
        assert!(err.contains(says), "{arg}: {err}");
    }
}

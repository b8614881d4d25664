//! `coercive data upgrade` through the real binary on real v1 datasets: made by today's
//! generator and turned into exactly what v1 wrote (same files — v1 wrote them with the same
//! code — and the manifest without `manifest_sha256`, `format_version` 1). Checked: `data
//! info` refuses v1 naming the upgrade; an upgrade keeps every record and curve, re-derives
//! the anchors from the stored curves and writes what today's code writes for those records;
//! a second upgrade changes nothing; a damaged v1 dataset is refused and left as it was; an
//! upgrade killed between files is finished by the next one.

use coercive::data::{Dataset, Record, store};
use std::path::Path;
use std::process::Command;

/// Exit code, stdout, stderr.
fn coercive(args: &[&str], dir: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_coercive"))
        .args(["--quiet", "--threads", "2", "--seed", "5"])
        .args(args)
        .arg(dir)
        .output()
        .expect("run coercive");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(args: &[&str], dir: &Path) -> String {
    let (code, out, err) = coercive(args, dir);
    assert_eq!(code, 0, "{args:?} {}: {err}", dir.display());
    out
}

/// Every entry of `dir` (name, bytes), sorted; a directory is listed with empty bytes.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap_or_default())
        })
        .collect();
    v.sort();
    v
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for (name, bytes) in files(from) {
        std::fs::write(to.join(name), bytes).unwrap();
    }
}

/// Writes `records` as v1 wrote them: today's canonical files, and the manifest without
/// its own checksum, at format version 1.
fn write_v1(dir: &Path, spec: &coercive::data::Spec, records: Vec<Record>) {
    let mut spec = spec.clone();
    spec.format_version = 1;
    std::fs::create_dir_all(dir).unwrap();
    store::finalise(dir, &spec, records).unwrap();
    let path = dir.join("manifest.json");
    let json = std::fs::read_to_string(&path).unwrap();
    let at = json
        .find(",\n  \"manifest_sha256\": \"")
        .expect("v2 manifest");
    let end = at + json[at..].find("\"\n").unwrap() + 1;
    let v1 = format!("{}{}", &json[..at], &json[end..]);
    assert!(!v1.contains("manifest_sha256") && v1.contains("\"format_version\": 1,"));
    std::fs::write(&path, v1).unwrap();
}

/// A labelled v1 dataset in `dir`: 6 generated records, record 5 given the curve of a magnet
/// that never saturates (issue #12) with the anchors v1's rules gave it (an Hk or Hc at the
/// first step, −h[0]), record 4 one non-converged step. Returns the records.
fn labelled_v1(dir: &Path) -> Vec<Record> {
    let v2 = dir.with_extension("generated");
    ok(
        &[
            "data", "generate", "--label", "--n", "16", "--grains", "4", "--count", "6",
            "--h-step", "0.1", "--out",
        ],
        &v2,
    );
    let ds = Dataset::open(&v2).unwrap();
    let mut records = ds.records().to_vec();
    let h = ds.spec().fields();
    let l = records[5].label.as_mut().unwrap();
    l.my.iter_mut().for_each(|m| *m = -0.99);
    let m = -0.99f32 as f64;
    l.anchors = [
        Some(m),
        Some(m),
        Some(-h[0]),
        Some(-h[0]),
        Some(-h[0]),
        Some(-h[0]),
    ];
    records[4].label.as_mut().unwrap().converged[12] = false;
    write_v1(dir, ds.spec(), records.clone());
    records
}

/// `records` with their anchors derived from their stored curves by today's rules.
fn rederived(records: &[Record], h: &[f64]) -> Vec<Record> {
    let mut records = records.to_vec();
    for l in records.iter_mut().filter_map(|r| r.label.as_mut()) {
        let my: Vec<f64> = l.my.iter().map(|&m| m as f64).collect();
        l.anchors = coercive::solver::anchors(h, &my).named().map(|(_, v)| v);
    }
    records
}

#[test]
fn data_upgrade_v1_rederives_anchors_keeps_curves_and_is_idempotent() {
    let t = tempfile::tempdir().unwrap();
    let v1 = t.path().join("v1");
    let old = labelled_v1(&v1);
    let before = files(&v1);

    let (code, _, err) = coercive(&["data", "info"], &v1);
    assert_eq!(code, 1);
    assert!(
        err.contains("format coercive-dataset v1 is not v2: run `coercive data upgrade"),
        "{err}"
    );

    let report = ok(&["data", "upgrade"], &v1);
    assert!(
        report.contains("upgraded format v1 to v2: 6 records"),
        "{report}"
    );
    // Record 5: four anchors v1 put at the first step are missing today.
    assert!(
        report.contains("4 became missing, 0 became present"),
        "{report}"
    );
    ok(&["data", "info"], &v1);

    let ds = Dataset::open(&v1).unwrap();
    let h = ds.spec().fields();
    let want = rederived(&old, &h);
    assert_eq!(ds.records(), &want[..]);
    let l5 = ds.records()[5].label.as_ref().unwrap();
    assert_eq!(l5.anchors[2..], [None; 4]);
    let unreliable: usize = want
        .iter()
        .map(|r| {
            let u = r.label.as_ref().unwrap().unreliable(&h);
            u.iter().filter(|u| **u).count()
        })
        .sum();
    assert!(unreliable > 0);
    assert!(
        report.contains(&format!("; {unreliable} anchors are unreliable")),
        "{report}"
    );
    // Curves and parameters byte for byte; only what depends on the anchors rewritten.
    let derived = [
        "anchors.csv",
        "anchors.npy",
        "anchors_missing.npy",
        "crc32.npy",
        "manifest.json",
    ];
    let after = files(&v1);
    assert_eq!(
        after.iter().map(|f| &f.0).collect::<Vec<_>>(),
        before.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    for ((name, a), (_, b)) in after.iter().zip(&before) {
        assert_eq!(a != b, derived.contains(&name.as_str()), "{name}");
    }
    assert!(report.contains(
        "rewrote crc32.npy, anchors.npy, anchors_missing.npy, anchors.csv, manifest.json"
    ));
    // Exactly what today's code writes for those records.
    let fresh = t.path().join("fresh");
    std::fs::create_dir(&fresh).unwrap();
    store::finalise(&fresh, ds.spec(), want).unwrap();
    assert_eq!(files(&fresh), after);

    let again = ok(&["data", "upgrade"], &v1);
    assert!(again.contains("already format v2 (6 records)"), "{again}");
    assert_eq!(files(&v1), after);
}

#[test]
fn data_upgrade_refuses_a_damaged_v1_dataset_and_writes_nothing() {
    let t = tempfile::tempdir().unwrap();
    let v1 = t.path().join("v1");
    labelled_v1(&v1);
    for (name, at) in [("m.npy", 300), ("anchors.npy", 200)] {
        let d = t.path().join(format!("damaged-{name}"));
        copy_dir(&v1, &d);
        let mut b = std::fs::read(d.join(name)).unwrap();
        b[at] ^= 0x04;
        std::fs::write(d.join(name), b).unwrap();
        let before = files(&d);
        let (code, _, err) = coercive(&["data", "upgrade"], &d);
        assert_eq!(code, 1, "{name}");
        assert!(err.contains(name), "{name}: {err}");
        assert_eq!(files(&d), before, "{name}: nothing written");
    }
}

#[test]
fn data_upgrade_killed_between_files_is_finished_by_the_next_one() {
    let t = tempfile::tempdir().unwrap();
    let v1 = t.path().join("v1");
    labelled_v1(&v1);
    let done = t.path().join("done");
    copy_dir(&v1, &done);
    ok(&["data", "upgrade"], &done);
    // Killed after the copies and two replaced files, before the manifest.
    let killed = t.path().join("killed");
    copy_dir(&v1, &killed);
    std::fs::create_dir(killed.join(".upgrade")).unwrap();
    for name in [
        "crc32.npy",
        "anchors.npy",
        "anchors_missing.npy",
        "anchors.csv",
    ] {
        std::fs::copy(v1.join(name), killed.join(".upgrade").join(name)).unwrap();
    }
    for name in ["crc32.npy", "anchors.npy"] {
        std::fs::copy(done.join(name), killed.join(name)).unwrap();
    }
    let (code, _, err) = coercive(&["data", "info"], &killed);
    assert_eq!(code, 1, "still v1: {err}");
    let report = ok(&["data", "upgrade"], &killed);
    assert!(report.contains("4 became missing"), "{report}");
    assert_eq!(files(&killed), files(&done));
    // Killed after the manifest: a v2 dataset with its copies left.
    std::fs::create_dir(killed.join(".upgrade")).unwrap();
    std::fs::copy(v1.join("crc32.npy"), killed.join(".upgrade/crc32.npy")).unwrap();
    let report = ok(&["data", "upgrade"], &killed);
    assert!(report.contains("already format v2"), "{report}");
    assert_eq!(files(&killed), files(&done));
}

#[test]
fn data_upgrade_unlabelled_v1_rewrites_only_the_manifest_and_scripts_can_upgrade() {
    let t = tempfile::tempdir().unwrap();
    let v2 = t.path().join("generated");
    ok(
        &["data", "generate", "--n", "16", "--count", "6", "--out"],
        &v2,
    );
    let ds = Dataset::open(&v2).unwrap();
    let v1 = t.path().join("v1");
    write_v1(&v1, ds.spec(), ds.records().to_vec());
    let report = ok(&["data", "upgrade"], &v1);
    assert!(
        report.ends_with("6 records, curves unchanged; rewrote manifest.json\n"),
        "{report}"
    );
    assert_eq!(files(&v1), files(&v2));
    // The script binding, on a labelled v1 dataset.
    let labelled = t.path().join("labelled");
    labelled_v1(&labelled);
    let expr = format!(
        "let u = data::upgrade({:?}); [u.from, u.to, u.records, u.became_missing, u.rewritten.len()]",
        labelled.display().to_string()
    );
    let out = Command::new(env!("CARGO_BIN_EXE_coercive"))
        .args(["--quiet", "eval", &expr])
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(s.trim(), "[1, 2, 6, 4, 4]");
    assert!(Dataset::open(&labelled).is_ok());
}

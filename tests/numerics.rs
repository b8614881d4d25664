//! Issue #12, the numeric half: honest anchors, surfaced NaN, numpy's NaN semantics,
//! bounded resources and one set of limits for the command line and scripts.

use std::process::{Command, Stdio};

fn coercive(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_coercive"))
        .args(["--quiet", "--threads", "2"])
        .args(args)
        .output()
        .expect("run coercive");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn eval(expr: &str) -> (i32, String, String) {
    coercive(&["eval", expr])
}

/// Runs `script` (written to a temporary directory, which is also the working directory).
fn run(script: &str) -> (i32, String, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.rhai");
    std::fs::write(&path, script).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_coercive"))
        .args(["--quiet", "--threads", "2", "run", path.to_str().unwrap()])
        .current_dir(dir.path())
        .output()
        .expect("run coercive");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
        dir,
    )
}

const S: &str = "grains::voronoi(#{ n: 16, grains: 4, seed: 1 })";

// Item 6: anchors from curves that do not start above the level, ascending sweeps,
// unconverged steps and materials without an anisotropy field.
#[test]
fn item6_anchors_are_missing_refused_or_flagged_never_invented() {
    let (code, out, err) = eval(&format!(
        "[solver::demag_curve({S}, #{{ h_start: -0.9, h_end: -1.0 }}).anchors().Hc]"
    ));
    assert_eq!((code, out.trim()), (0, "[()]"), "{err}");
    let (code, _, err) = eval(&format!(
        "solver::demag_curve({S}, #{{ h_start: -1.0, h_end: 1.0 }}).anchors()"
    ));
    assert_eq!(code, 1);
    assert!(
        err.contains("Curve.anchors: anchors are defined on descending sweeps"),
        "{err}"
    );
    assert!(err.starts_with("<eval>:1:"), "{err}");
    let (code, out, err) = eval(&format!(
        "let a = solver::demag_curve({S}, #{{ max_iter: 1 }}).anchors(); [a.M1, a.unreliable]"
    ));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        r#"[1.0, ["M1", "Mr", "Hk90", "Hk80", "Hk70", "Hc"]]"#
    );
    let (code, out, err) = eval(&format!("solver::demag_curve({S}).anchors().unreliable"));
    assert_eq!((code, out.trim()), (0, "[]"), "{err}");
    let (code, out, err) = eval(&format!(
        "let a = solver::demag_curve({S}, #{{ material: #{{ Js: 100.0 }} }}).anchors(); [a.Hc, a.Hk90]"
    ));
    assert_eq!((code, out.trim()), (0, "[(), ()]"), "{err}");
    let (code, _, err) = eval(&format!(
        "solver::demag_curve({S}, #{{ material: #{{ K1: 0.0 }} }})"
    ));
    assert_eq!(code, 1);
    assert!(err.contains("K1 (J/m³), expected in (0, 1e9]"), "{err}");
}

// Item 6 in datasets: the table flags unreliable anchors, ascending sweeps are refused.
#[test]
fn item6_dataset_tables_flag_unreliable_anchors() {
    let (code, out, err, _dir) = run(
        "let ds = data::generate(#{ out: \"d\", count: 2, n: 8, grains: 2, label: true, \
         solver: #{ max_iter: 1, h_step: 0.5 } });\n\
         let t = ds.anchors_table();\n\
         print(t.Mr_unreliable.sum());\n\
         print(ds[0].anchors.unreliable.len());\n\
         data::generate(#{ out: \"e\", count: 2, n: 8, label: true, \
         solver: #{ h_start: -1.0, h_end: 1.0 } });\n",
    );
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(out, "2.0\n6\n");
    assert!(err.contains("t.rhai:5:"), "{err}");
    assert!(
        err.contains("a descending sweep (h_start > h_end)"),
        "{err}"
    );
}

// Item 7: NaN hidden in learning.
#[test]
fn item7_divergence_and_missing_labels_stop_training() {
    let (code, _, err, _dir) = run("let s = grains::sample(8, #{ n: 32, seed: 1 });\n\
         let v = vae::create(#{ n: 32, latent: 4, seed: 1 });\n\
         v.train(s, #{ epochs: 2, batch: 4, lr: 10.0 });\n");
    assert_eq!(code, 1);
    assert!(err.contains("t.rhai:3:"), "{err}");
    assert!(
        err.contains("Vae.train: training diverged: the loss is "),
        "{err}"
    );
    // The log-variance clamp keeps this loss finite; its rise from the first batch is what
    // marks the run diverged.
    assert!(err.contains("times its first value"), "{err}");
    assert!(err.contains("in epoch 1, step"), "{err}");
    assert!(err.contains("try a smaller lr (this run used 10)"), "{err}");

    let (code, _, err, _dir) = run(
        "let z = array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [0.2, 0.1]]);\n\
         let t = [#{ M1: 1.0 }, #{ M1: 0.9 }, #{ M1: 0.8 }, #{ M1: 0.7, Hc: () }];\n\
         let r = regressor::create(#{ inputs: 2, targets: [\"M1\", \"Hc\"] });\n\
         r.train(z, t, #{ epochs: 2, folds: 0 });\n",
    );
    assert_eq!(code, 1);
    assert!(err.contains("no labels for target(s) [\"Hc\"]"), "{err}");
}

#[test]
fn item7_checkpoints_refuse_altered_or_non_finite_weights() {
    let (code, _, err, dir) = run(
        "let r = regressor::create(#{ inputs: 2, targets: [\"M1\"], seed: 1 });\n\
         r.save(\"m\");\n\
         regressor::load(\"m\");\n",
    );
    assert_eq!(code, 0, "{err}");
    let path = dir.path().join("m.safetensors");
    let good = std::fs::read(&path).unwrap();
    let header = u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
    let data = 8 + header;
    let load = |bytes: &[u8]| {
        std::fs::write(&path, bytes).unwrap();
        let (code, _, err) = Command::new(env!("CARGO_BIN_EXE_coercive"))
            .args(["eval", "regressor::load(\"m\")"])
            .current_dir(dir.path())
            .output()
            .map(|o| {
                (
                    o.status.code().unwrap_or(-1),
                    (),
                    String::from_utf8_lossy(&o.stderr).to_string(),
                )
            })
            .unwrap();
        (code, err)
    };
    // One flipped low mantissa bit: still finite, but not what was saved.
    let mut flipped = good.clone();
    flipped[data] ^= 1;
    let (code, err) = load(&flipped);
    assert_eq!(code, 1);
    assert!(err.contains("checksum differs"), "{err}");
    let mut nan = good.clone();
    nan[data..data + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    let (code, err) = load(&nan);
    assert_eq!(code, 1);
    assert!(err.contains("the weights are not finite"), "{err}");
    assert_eq!(load(&good).0, 0);
}

// Item 8: numpy's NaN semantics; assert_close fails on NaN.
#[test]
fn item8_nan_propagates_and_nan_functions_skip_it() {
    let (code, out, err) = eval(
        "let a = array([0.0 / 0.0, 1.0, 3.0]); \
         [a.max(), a.min(), a.nanmax(), a.nanmin(), a.nansum(), a.nanmean()]",
    );
    assert_eq!(
        (code, out.trim()),
        (0, "[NaN, NaN, 3.0, 1.0, 4.0, 2.0]"),
        "{err}"
    );
    let (code, _, err) = eval("assert_close(1.0, 0.0 / 0.0, 1.0, \"x\")");
    assert_eq!(code, 1);
    assert!(err.contains("x: 1.0 vs NaN"), "{err}");
    assert_eq!(eval("assert_close(1.0, 1.5, 1.0, \"x\")").0, 0);
}

// Item 11: sizes checked against memory before allocating, with the size in the error.
#[test]
fn item11_huge_counts_and_batches_are_refused_before_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("d");
    let (code, _, err) = coercive(&[
        "data",
        "generate",
        "--out",
        out.to_str().unwrap(),
        "--count",
        "1099511627776",
        "--n",
        "16",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("1099511627776 records would need about"),
        "{err}"
    );
    assert!(!out.exists(), "nothing is written");
    let (code, _, err) = coercive(&["bench", "regressor", "--batch", "100000000"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("--batch 100000000 would need about"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let (code, _, err) = coercive(&["bench", "gp", "--rows", "100000000"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("--rows 100000000 would need about"), "{err}");
    let (code, _, err) = coercive(&["bench", "gp", "--fit-rows", "0"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("must be at least 1"), "{err}");
}

// Item 12: --threads bounded.
#[test]
fn item12_threads_are_bounded() {
    for n in ["0", "100000"] {
        let out = Command::new(env!("CARGO_BIN_EXE_coercive"))
            .args(["--threads", n, "eval", "1"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains(&format!("--threads {n}: expected 1 …")),
            "{err}"
        );
    }
}

// Item 14: one set of limits for the command line and scripts.
#[test]
fn item14_cli_and_scripts_share_limits() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("d");
    let o = out.to_str().unwrap();
    let base = ["data", "generate", "--out", o, "--count", "2", "--n", "8"];
    for (extra, script, expect) in [
        (
            vec!["--theta-deg", "1000"],
            "theta_deg: 1000.0",
            "[-2π, 2π]",
        ),
        (vec!["--cell-nm", "1e9"], "cell_nm: 1e9", "[1e-3, 1e6]"),
        (
            vec!["--label", "--h-step", "20"],
            "label: true, solver: #{ h_step: 20.0 }",
            "[1e-6, 10]",
        ),
        (
            vec!["--label", "--tol", "1e-13"],
            "label: true, solver: #{ tol: 1e-13 }",
            "[1e-12, 10]",
        ),
    ] {
        let args: Vec<&str> = base.iter().copied().chain(extra.clone()).collect();
        let (code, _, err) = coercive(&args);
        assert_eq!(code, 1, "{extra:?}: {err}");
        assert!(err.contains(expect), "{extra:?}: {err}");
        let (code, _, err) = eval(&format!(
            "data::generate(#{{ out: \"{o}\", count: 2, n: 8, {script} }})"
        ));
        assert_eq!(code, 1, "{script}: {err}");
        assert!(err.contains(expect), "{script}: {err}");
    }
    let (code, _, err) = eval(&format!(
        "data::generate(#{{ out: \"{o}\", count: 2, n: 8, solver: #{{ h_step: 0.5 }} }})"
    ));
    assert_eq!(code, 1);
    assert!(err.contains("`solver` options need `label: true`"), "{err}");
    assert!(!out.exists(), "{err}");
}

// Item 14: Ctrl-C during a script's training keeps the finished epochs; the script goes on.
#[test]
fn item14_ctrl_c_in_training_keeps_the_weights_and_the_script_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.rhai");
    std::fs::write(
        &path,
        "let s = grains::sample(16, #{ n: 32, seed: 1 });\n\
         let v = vae::create(#{ n: 32, latent: 4, seed: 1 });\n\
         v.train(s, #{ epochs: 1, batch: 8 });\n\
         print(\"training\");\n\
         let h = v.train(s, #{ epochs: 100000, batch: 8 });\n\
         v.save(\"kept\");\n\
         print(`kept ${v.history().len()}`);\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_coercive"))
        .args(["--quiet", "--threads", "1", "run", path.to_str().unwrap()])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the second training to start.
    let mut stdout = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains("training") {
        let mut buf = [0u8; 64];
        let n = std::io::Read::read(&mut stdout, &mut buf).unwrap();
        assert!(n > 0, "script ended early");
        seen.extend_from_slice(&buf[..n]);
    }
    std::thread::sleep(std::time::Duration::from_millis(1500));
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let mut rest = seen;
    std::io::Read::read_to_end(&mut stdout, &mut rest).unwrap();
    let out = child.wait_with_output().unwrap();
    let (stdout, err) = (
        String::from_utf8_lossy(&rest),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}{err}");
    assert!(err.contains("Vae.train: interrupted in epoch"), "{err}");
    assert!(stdout.contains("kept "), "{stdout}");
    assert!(dir.path().join("kept.safetensors").exists());
}

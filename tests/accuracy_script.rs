//! scripts/accuracy.rhai end to end on a small labelled dataset in its `quick` mode: every
//! predictor runs, the JSON has the documented layout, the default predictor beats the mean
//! predictor, and its predictions are ordered like the anchors; `coarse=F` sets the coarse
//! factor, and a bad option is refused before any work.

mod common;

use std::process::Command;

fn run(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_coercive"))
        .args(["--quiet", "--threads", "2"])
        .args(args)
        .output()
        .expect("run coercive");
    let (o, e) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "coercive {args:?} failed:\n{o}\n{e}");
    o.into()
}

#[test]
fn accuracy_script_writes_every_predictor_and_the_calibration() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("curves");
    let json = dir.path().join("accuracy.json");
    common::labelled_dataset(&data, 60, 32, 5);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/accuracy.rhai");
    let printed = run(&[
        "run",
        script,
        data.to_str().unwrap(),
        json.to_str().unwrap(),
        "quick",
    ]);
    assert!(printed.contains("calibration of ensemble"), "{printed}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["default"], "ensemble");
    assert_eq!(v["calibrated"], "ensemble");
    assert_eq!(v["split"]["test"], 12, "ids 0, 5, …, 55");
    assert_eq!(v["ordering_violations"], 0);
    assert_eq!(v["coarse"], 2, "the coarse inputs' default factor");
    let anchors = ["M1", "Mr", "Hk90", "Hk80", "Hk70", "Hc"];
    let predictors = v["predictors"].as_object().unwrap();
    for name in [
        "mean",
        "ridge_codes",
        "regressor_codes",
        "regressor_descriptors",
        "regressor_both",
        "ensemble_codes",
        "graphnet",
        "ensemble",
        "ensemble_coarse",
        "ensemble_scaled",
        "ensemble_averaged",
        "ensemble_scaled_images",
    ] {
        let p = &predictors[name];
        for a in anchors {
            let ms = p["mae"][a]
                .as_array()
                .unwrap_or_else(|| panic!("{name} {a}: {p}"));
            assert!(ms[0].as_f64().unwrap() >= 0.0 && ms[1].as_f64().unwrap() >= 0.0);
        }
        assert_eq!(
            p["curve"].as_object().unwrap().len(),
            2,
            "{name}: two training sizes"
        );
    }
    // The default predictor learns something on 48 curves: better than the mean on Mr.
    let mae = |name: &str, a: &str| predictors[name]["mae"][a][0].as_f64().unwrap();
    assert!(
        mae("ensemble", "Mr") < mae("mean", "Mr"),
        "{}",
        v["predictors"]
    );
    for level in ["1sigma", "2sigma"] {
        let c = v["calibration"][level][0].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&c), "{level}: {c}");
    }
    assert!(v["vae"]["reconstruction_r2"].as_f64().is_some());
    assert!(v["vae"]["probe_r2"]["cos2_mean"].as_f64().is_some());
}

#[test]
fn accuracy_script_takes_the_coarse_factor() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("curves");
    let json = dir.path().join("accuracy.json");
    common::labelled_dataset(&data, 30, 32, 6);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/accuracy.rhai");
    let (d, j) = (data.to_str().unwrap(), json.to_str().unwrap());
    for (bad, says) in [
        ("coarse=1", "the factor must be ≥ 2"),
        ("coarse=four", "the factor must be a whole number"),
        ("fine=2", "unknown option fine=2"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_coercive"))
            .args(["--quiet", "run", script, d, j, "quick", bad])
            .output()
            .expect("run coercive");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{bad}: {err}");
        assert!(
            err.contains("accuracy.rhai:") && err.contains(says),
            "{bad}: {err}"
        );
    }
    assert!(!json.exists(), "nothing written for a refused option");
    let printed = run(&["run", script, d, j, "quick", "coarse=4"]);
    assert!(printed.contains("cells 4 times as wide"), "{printed}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["coarse"], 4);
    for name in [
        "ensemble_coarse",
        "ensemble_scaled",
        "ensemble_scaled_images",
    ] {
        let hc = v["predictors"][name]["mae"]["Hc"][0].as_f64();
        assert!(
            hc.is_some_and(f64::is_finite),
            "{name}: {}",
            v["predictors"]
        );
    }
}

#[test]
fn reference_export_writes_the_coarse_inputs_of_any_factor() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("curves");
    common::labelled_dataset(&data, 10, 32, 7);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/reference/export.rhai");
    let d = data.to_str().unwrap();
    for (args, file) in [
        (vec!["scaled"], "desc_coarse2_A4.npy"),
        (vec!["scaled", "coarse=4"], "desc_coarse4_A16.npy"),
        (vec!["coarse=4", "averaged"], "desc_coarse4_avg_A16.npy"),
    ] {
        let out = dir.path().join(file);
        let o = out.to_str().unwrap();
        run(&[&["run", script, d, o][..], &args].concat());
        let shape = |f: &str| {
            let expr = format!("io::load_npy(\"{o}/{f}\").shape");
            run(&["eval", &expr]).trim().to_string()
        };
        assert_eq!(
            shape(file),
            "[10, 52]",
            "{args:?}: 46 descriptors + 6 anchors"
        );
        assert_eq!(shape("desc.npy"), "[10, 46]");
        assert_eq!(shape("anchors.npy"), "[10, 6]");
    }
}

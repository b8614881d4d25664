//! scripts/accuracy.rhai end to end on a small labelled dataset in its `quick` mode: every
//! predictor runs, the JSON has the documented layout, the default predictor beats the mean
//! predictor, and its predictions are ordered like the anchors.

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

//! scripts/design.rhai end to end in its `quick` mode on a small labelled dataset, with a
//! distilled VAE (label head taught the descriptor model's anchors): every space and the
//! closed loop run, the report records the VAE, and the options refuse what they cannot do.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn coercive(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_coercive"))
        .args(["--quiet", "--threads", "2"])
        .args(args)
        .output()
        .expect("run coercive")
}

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The run failed, saying `says`.
fn assert_refused(o: &Output, says: &str) {
    assert!(
        !o.status.success(),
        "accepted; expected \"{says}\": {}",
        text(o)
    );
    assert!(text(o).contains(says), "expected \"{says}\": {}", text(o));
}

#[test]
fn design_script_runs_with_a_distilled_vae_and_refuses_bad_options() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let data = p("curves");
    common::labelled_dataset(Path::new(&data), 40, 32, 5);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/design.rhai");
    let (out, vae) = (p("out"), p("vae"));
    let ran = coercive(&["run", script, &data, &out, &vae, "quick", "distill=2"]);
    assert!(ran.status.success(), "{}", text(&ran));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/design.json")).unwrap())
            .unwrap();
    let v = &report["latent"]["vae"];
    assert_eq!(v["label_head"], true, "{v}");
    assert_eq!(v["distill"], 2, "{v}");
    assert_eq!(v["latent"], 16, "{v}");
    assert!(report["latent"]["codes_test_mae"]["Hk90"].as_f64().unwrap() >= 0.0);
    // The test error is taken on the 8 test records (id % 5 == 0) and 6 hold-out structures
    // labelled into OUT/holdout; the feasible region's count is among them.
    assert_eq!(report["holdout"], 6);
    assert_eq!(report["test_count"], 8 + 6);
    let holdout = coercive(&["data", "info", &p("out/holdout")]);
    assert!(holdout.status.success(), "{}", text(&holdout));
    for o in ["max_Hc", "max_Hk90"] {
        let n = report["objectives"][o]["test_in_region"].as_i64().unwrap();
        assert!((0..=14).contains(&n), "{o}: {n}");
    }

    // The checkpoint is reused; a plain one cannot be distilled after the fact.
    let plain = p("plain");
    let made = coercive(&["run", script, &data, &p("out2"), &plain, "quick"]);
    assert!(made.status.success(), "{}", text(&made));
    let refused = coercive(&[
        "run",
        script,
        &data,
        &p("out3"),
        &plain,
        "quick",
        "distill=2",
    ]);
    assert_refused(&refused, "has no label head");
    // The generator space with the scaled coarse-mesh anchors, predicted over each magnet's
    // symmetric images: the model keeps its columns, and the same OUT_DIR refuses other
    // inputs.
    let coarse_out = p("coarse");
    let ran = coercive(&[
        "run",
        script,
        &data,
        &coarse_out,
        "quick",
        "inputs=scaled",
        "images",
    ]);
    assert!(ran.status.success(), "{}", text(&ran));
    let model = std::fs::read_to_string(dir.path().join("coarse/ensemble.json")).unwrap();
    assert!(model.contains("coarse2_A4_Hc"), "{model}");
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("coarse/design.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["images"], true);
    let guards = &report["objectives"]["max_Hc"]["guards"];
    assert!(
        guards["none"]["runs"]
            .as_array()
            .is_some_and(|r| !r.is_empty()),
        "{guards}"
    );
    let other = coercive(&["run", script, &data, &coarse_out, "quick"]);
    assert_refused(&other, "reads other inputs");

    // Labels of another descent are refused before any work (designs are verified by the
    // defaults).
    let older = p("older");
    let made = coercive(&[
        "data",
        "generate",
        "--out",
        &older,
        "--count",
        "5",
        "--n",
        "16",
        "--label",
        "--max-turn",
        "0.3",
        "--carry-step",
        "false",
    ]);
    assert!(made.status.success(), "{}", text(&made));
    let refused = coercive(&["run", script, &older, &p("out4"), "quick"]);
    assert_refused(&refused, "other solver settings");
    assert!(
        !dir.path().join("out4/holdout").exists(),
        "nothing labelled before the check"
    );

    for (bad, says) in [
        (
            vec!["inputs=fine"],
            "inputs must be descriptors, coarse, scaled or averaged",
        ),
        (vec![vae.as_str(), "inputs=scaled"], "generator space only"),
        (vec![vae.as_str(), "images"], "generator space only"),
        (vec!["distill=2"], "needs a VAE path"),
        (vec![vae.as_str(), "distill=0"], "distill must be ≥ 1"),
        (vec![vae.as_str(), "distil=2"], "unknown option distil=2"),
        (vec!["holdout=-1"], "holdout must be ≥ 0"),
    ] {
        let mut args = vec!["run", script, &data, &out];
        args.extend(bad.iter().copied());
        args.push("quick");
        let o = coercive(&args);
        assert_refused(&o, says);
    }

    // The seed study refuses what it cannot read before any work, naming the line.
    let seeds = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/design_seeds.rhai");
    let holdout = p("out/holdout");
    for (bad, says) in [
        (
            vec![data.as_str(), &vae],
            "usage: coercive run scripts/design_seeds.rhai",
        ),
        (
            vec![data.as_str(), &vae, &holdout, "9", "spread6"],
            "must be FIRST-LAST",
        ),
        (
            vec![data.as_str(), &vae, &holdout, "9-7", "spread6"],
            "FIRST ≤ LAST",
        ),
        (
            vec![data.as_str(), &vae, &holdout, "7-8", "spread7"],
            "unknown guard spread7",
        ),
    ] {
        let mut args = vec!["run", seeds];
        args.extend(bad.iter().copied());
        let o = coercive(&args);
        assert_refused(&o, says);
        assert!(text(&o).contains("design_seeds.rhai:"), "{}", text(&o));
    }
}

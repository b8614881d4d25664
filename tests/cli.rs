//! The command line: eval, run with ARGS, doc, exit codes, device check, interruption.

use std::process::{Command, Stdio};

fn coercive(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_coercive"))
        .args(args)
        .output()
        .expect("run coercive");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn eval_prints_the_value() {
    let (code, out, _) = coercive(&["eval", "linspace(0.0, 1.0, 3).sum()"]);
    assert_eq!((code, out.as_str()), (0, "1.5\n"));
}

#[test]
fn run_passes_args_and_fails_with_position() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("args.rhai");
    std::fs::write(
        &script,
        "print(ARGS);\nlet x = ARGS[0].parse_int();\nzeros(-x);\n",
    )
    .unwrap();
    let (code, out, err) = coercive(&["run", script.to_str().unwrap(), "3", "--flag"]);
    assert_eq!(out, "[\"3\", \"--flag\"]\n");
    assert_eq!(code, 1);
    assert!(
        err.starts_with(&format!("{}:3:1: zeros: shape entries", script.display())),
        "{err}"
    );
}

#[test]
fn doc_lists_every_native_function_with_a_summary() {
    let (code, out, _) = coercive(&["doc"]);
    assert_eq!(code, 0);
    for name in [
        "linspace(",
        "io::read_csv(",
        "io::save_npy(",
        "help(",
        "fmt(",
        "report::table(",
    ] {
        assert!(out.contains(name), "`coercive doc` misses {name}");
    }
    // Scripts never see Rust's handle types or closures.
    for rust in ["Shared", "Arc<", "Mutex", "FnPtr", "NativeCallContext", "|"] {
        let bad: Vec<&str> = out
            .lines()
            .filter(|l| !l.starts_with("    ") && l.contains(rust))
            .collect();
        assert!(bad.is_empty(), "`coercive doc` shows {rust}: {bad:?}");
    }
    // Every signature line is followed by a one-line description.
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines
            .chunks(2)
            .all(|p| p.len() == 2 && p[1].starts_with("    ") && !p[1].trim().is_empty())
    );
    let (code, _, err) = coercive(&["doc", "no_such_thing"]);
    assert_eq!(code, 1);
    assert!(err.contains("no function or module named `no_such_thing`"));
}

#[test]
fn doc_lists_properties_indexers_and_operators_in_script_words() {
    let (code, out, _) = coercive(&["doc"]);
    assert_eq!(code, 0);
    for line in [
        "Curve.h -> NdArray",
        "Curve.my -> NdArray",
        "Curve.converged -> array",
        "State.m -> NdArray",
        "State.converged -> bool",
        "State.h -> float",
        "Curve.snapshots -> array",
        "Curve.snapshot_labels -> array",
        "solver::snapshot(c: Curve, label: string) -> State",
        "Structure.theta -> any",
        "Structure.theta_deg -> any",
        "NdArray[i: int] -> any",
        "NdArray[idx: array] = value: float",
        "NdArray + float -> NdArray",
        "-NdArray -> NdArray",
        "vae::create() -> Vae",
    ] {
        assert!(
            out.lines().any(|l| l == line),
            "`coercive doc` misses the line {line}"
        );
    }
    // Closures compiled into the stdlib are no part of it.
    assert!(!out.contains("anon$"), "`coercive doc` shows a closure");
    // The units of θ are said where it is documented.
    let (_, theta, _) = coercive(&["doc", "theta"]);
    assert!(theta.contains("Misorientation θ in radians"), "{theta}");
    let (_, deg, _) = coercive(&["doc", "Structure.theta_deg"]);
    assert!(deg.contains("Misorientation θ in degrees"), "{deg}");
    // A type lists its members: properties as well as methods.
    let (code, curve, _) = coercive(&["doc", "Curve"]);
    assert_eq!(code, 0);
    for member in [
        "Curve.h -> NdArray",
        "Curve.torque -> NdArray",
        "solver::anchors(c: Curve)",
    ] {
        assert!(
            curve.contains(member),
            "`coercive doc Curve` misses {member}:\n{curve}"
        );
    }
}

#[test]
fn theta_reads_back_in_both_units() {
    let (code, out, err) = coercive(&[
        "eval",
        "let s = grains::voronoi(#{ n: 8, grains: 2, theta_deg: 30.0, seed: 1 }); \
         [s.theta_deg, s.theta, `${s}`]",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "[30.0, 0.5235987755982988, \"Structure(8×8 cells of 2 nm, 2 grains, θ = 30°, seed 1)\"]\n"
    );
}

#[test]
fn cuda_request_fails_clearly_without_a_gpu() {
    if tch::Cuda::is_available() {
        return;
    }
    let (code, _, err) = coercive(&["--device", "cuda", "eval", "1"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--device cuda: CUDA is not available"),
        "{err}"
    );
    let (code, _, err) = coercive(&["--device", "tpu", "eval", "1"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown device `tpu`"), "{err}");
}

#[test]
fn sigint_interrupts_a_running_script() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("spin.rhai");
    std::fs::write(&script, "let n = 0;\nloop { n += 1; }\n").unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_coercive"))
        .args(["run", script.to_str().unwrap()])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted by Ctrl-C"));
}

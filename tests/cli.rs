//! The command line: eval, run with ARGS, doc, exit codes, device check, interruption.

use std::process::{Command, Stdio};

/// A finished command as (exit code, or -1 for a signal; stdout; stderr).
fn outcome(out: std::process::Output) -> (i32, String, String) {
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn coercive(args: &[&str]) -> (i32, String, String) {
    outcome(
        Command::new(env!("CARGO_BIN_EXE_coercive"))
            .args(args)
            .output()
            .expect("run coercive"),
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
    for rust in [
        "Shared",
        "Arc<",
        "Mutex",
        "FnPtr",
        "NativeCallContext",
        "anon$",
    ] {
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

/// coercive started with `args`, and the first line it printed; its stdout is closed
/// after that line.
fn started(args: &[&str]) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_coercive"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    (child, line)
}

#[test]
fn a_reader_that_goes_away_ends_the_script_quietly() {
    // `coercive run s.rhai | head -1`: once the reader has closed the pipe, the next
    // print ends the run as it ends any filter, without an internal error.
    let (child, line) = started(&["eval", "for i in 0..1000000 { print(`line ${i}`); }"]);
    assert_eq!(line, "line 0\n");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(141), "stderr: {stderr}");
    assert!(stderr.is_empty(), "stderr: {stderr}");
}

#[test]
fn sigint_interrupts_a_running_script() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("spin.rhai");
    std::fs::write(
        &script,
        "print(\"running\");\nlet n = 0;\nloop { n += 1; }\n",
    )
    .unwrap();
    // Signal only once the script runs: on a loaded machine start-up (libtorch) can take
    // longer than any fixed wait, and a SIGINT before the handler exists kills outright.
    let (child, line) = started(&["run", script.to_str().unwrap()]);
    assert_eq!(line, "running\n");
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted by Ctrl-C"));
}

#[test]
fn script_randomness_follows_the_seed() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("draw.rhai");
    std::fs::write(
        &script,
        "print([rand(), randint(0, 1000000), choice([1, 2, 3, 4, 5, 6, 7, 8, 9])]);\n\
         print(shuffle([1, 2, 3, 4, 5, 6, 7, 8, 9]));\nprint(rand([3]).sum() + randn(3).sum());\n",
    )
    .unwrap();
    let draw = |seed: &str| {
        let (code, out, err) = coercive(&["--seed", seed, "run", script.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        out
    };
    let first = draw("5");
    assert_eq!(first, draw("5"), "the same seed draws the same numbers");
    assert_ne!(first, draw("6"), "another seed draws others");
    assert_eq!(first.lines().count(), 3);
}

#[test]
fn data_generate_takes_its_shard_from_a_slurm_job_array() {
    let (_, help, _) = coercive(&["data", "generate", "--help"]);
    assert!(help.contains("SLURM_ARRAY_TASK_ID") && help.contains("SLURM_ARRAY_TASK_COUNT"));
    let dir = tempfile::tempdir().unwrap();
    let generate = |out: &str, id: &str, extra: &[&str]| {
        let out = dir.path().join(out);
        let mut args = vec![
            "--quiet",
            "data",
            "generate",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(["--count", "6", "--n", "8"]);
        args.extend(extra);
        // The variables are set on the child only: nothing here touches this process's env.
        let o = Command::new(env!("CARGO_BIN_EXE_coercive"))
            .args(&args)
            .env("SLURM_ARRAY_TASK_ID", id)
            .env("SLURM_ARRAY_TASK_COUNT", "3")
            .env_remove("SLURM_ARRAY_TASK_MIN")
            .output()
            .unwrap();
        outcome(o)
    };
    let (code, out, err) = generate("a", "2", &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("ids 4..6 of 6, shard 2/3"), "{out}");
    assert!(err.contains("shard 2/3 from SLURM_ARRAY_TASK_ID"), "{err}");
    // --shard wins over the environment.
    let (code, out, _) = generate("b", "2", &["--shard", "0/2"]);
    assert_eq!(code, 0);
    assert!(out.contains("shard 0/2"), "{out}");
    let (code, _, err) = generate("c", "3", &[]);
    assert_eq!(code, 1);
    assert!(
        err.contains("SLURM_ARRAY_TASK_ID = 3") && err.contains("0..3"),
        "{err}"
    );
}

/// A dataset labelled with another descent (the first default: 0.3 rad cap, neither of the
/// sweep's speed-ups) is extended by giving its settings back; a rerun with other settings
/// is refused naming each one.
#[test]
fn data_generate_takes_an_older_datasets_descent() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("d");
    let old = [
        "--predict-max",
        "0",
        "--max-turn",
        "0.3",
        "--carry-step",
        "false",
    ];
    let run = |extra: &[&str]| {
        let base = [
            "--quiet",
            "data",
            "generate",
            "--out",
            out.to_str().unwrap(),
        ];
        let size = [
            "--count", "2", "--n", "8", "--grains", "2", "--label", "--h-step", "0.5",
        ];
        coercive(&[&base[..], &size[..], extra].concat())
    };
    let (code, _, err) = run(&old);
    assert_eq!(code, 0, "{err}");
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"predict_max\": 0.0"), "{manifest}");
    // `data info` names the descent, so what to give back can be read off the dataset.
    let (code, info, err) = coercive(&["data", "info", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        info.contains("descent bb (max_turn 0.3, tau_max 100, predict_max 0, carry_step off)"),
        "{info}"
    );
    let (code, _, err) = run(&[]);
    assert_eq!(code, 1);
    assert!(
        err.contains("solver.sweep.predict_max: 0.0 there, 0.05 asked")
            && err.contains("solver.sweep.min.max_turn: 0.3 there, 0.5 asked")
            && err.contains("solver.sweep.carry_step: false there, true asked"),
        "{err}"
    );
    let (code, _, err) = run(&["--predict-max", "0", "--max-turn", "0.25", "--carry-step"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("solver.sweep.min.max_turn: 0.3 there, 0.25 asked")
            && err.contains("solver.sweep.carry_step: false there, true asked")
            && !err.contains("predict_max"),
        "{err}"
    );
    let (code, out_text, err) = run(&old);
    assert_eq!(code, 0, "{err}");
    assert!(out_text.contains("0 made now, 2 resumed"), "{out_text}");
    let (code, _, err) = coercive(&[
        "data",
        "generate",
        "--out",
        "x",
        "--count",
        "1",
        "--max-turn",
        "0.3",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("--label as well"), "{err}");
}

/// Runs `examples/cluster/label.sbatch` as Slurm would run one task, with `coercive`
/// replaced by a stub that prints its arguments: (exit code, arguments, stderr).
fn run_sbatch_task(id: &str, count: &str) -> (i32, String, String) {
    use std::os::unix::fs::PermissionsExt;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/cluster/label.sbatch");
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let stub = bin.join("coercive");
    std::fs::write(&stub, "#!/bin/sh\necho \"$@\"\n").unwrap();
    std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let o = Command::new("bash")
        .arg(script)
        .current_dir(dir.path())
        .env("PATH", path)
        .env("SLURM_ARRAY_TASK_ID", id)
        .env("SLURM_ARRAY_TASK_COUNT", count)
        .env("SLURM_ARRAY_TASK_MIN", id)
        .env("SLURM_CPUS_PER_TASK", "8")
        .output()
        .unwrap();
    outcome(o)
}

#[test]
fn the_cluster_example_passes_its_shard_so_one_task_can_be_resubmitted() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/cluster/label.sbatch");
    let status = Command::new("bash").args(["-n", path]).status().unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(path).unwrap();
    // SHARDS and the #SBATCH --array line say the same number.
    let shards: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("SHARDS="))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("a SHARDS=N line");
    assert!(
        text.contains(&format!("#SBATCH --array=0-{}\n", shards - 1)),
        "--array must be 0-{}",
        shards - 1
    );
    assert!(text.contains("coercive data merge"));
    // A lone resubmitted task (`sbatch --array=7`) is an array of one, yet still shard 7.
    let (code, args, err) = run_sbatch_task("7", "1");
    assert_eq!(code, 0, "{err}");
    assert!(args.contains("data generate --label"), "{args}");
    assert!(args.contains(&format!("--shard 7/{shards}")), "{args}");
    assert!(
        args.contains("--out parts/shard-007") && args.contains("--threads 8"),
        "{args}"
    );
    let (_, args, _) = run_sbatch_task("0", &shards.to_string());
    assert!(args.contains(&format!("--shard 0/{shards}")), "{args}");
    // An id past the shards is refused before coercive runs.
    let (code, args, err) = run_sbatch_task(&shards.to_string(), "1");
    assert_eq!(code, 1);
    assert!(
        args.is_empty() && err.contains("is not a shard of"),
        "{err}"
    );
}

/// `coercive bench gp` times one fit whose search sees `--fit-rows` of the rows and whose
/// weights use all, and says so in its summary line.
#[test]
fn gp_bench_reports_the_rows_searched_and_weighted() {
    let args: Vec<&str> = "bench gp --rows 80 --inputs 3 --fit-rows 30"
        .split_whitespace()
        .collect();
    let (code, out, err) = coercive(&args);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("150 search steps on 30 rows, weights on 80"),
        "{out}"
    );
    assert!(
        out.contains("bench-summary gp rows=80 inputs=3 fit_rows=30 seconds="),
        "{out}"
    );
}

/// `coercive bench solver` on two 12² structures, no cache.
const SMALL_SOLVER_BENCH: [&str; 8] = [
    "-q",
    "--no-cache",
    "bench",
    "solver",
    "--n",
    "12",
    "--structures",
    "2",
];

/// The GPU check's two commands, at small n on the CPU: `bench solver --write-anchors`
/// (plain solver) and `bench solver --batch … --anchors` (tensor solver against them);
/// the tensor options of a script call; `--device cuda` refused clearly on this build.
#[test]
fn tensor_bench_and_anchor_file_commands() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("anchors.json");
    let f = file.to_str().unwrap();
    let common = SMALL_SOLVER_BENCH;
    let (code, out, err) = coercive(&[&common[..], &["--write-anchors", f]].concat());
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("wrote the plain solver's anchors of 2"),
        "{out}"
    );
    let (code, out, err) = coercive(&[&common[..], &["--batch", "1,2", "--anchors", f]].concat());
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("curves/s") && out.contains("of the plain solver: yes"),
        "{out}"
    );
    let (code, out, err) = coercive(&[
        "-q",
        "--no-cache",
        "eval",
        "let s = grains::voronoi(#{ n: 8, grains: 2, seed: 3 });
         let o = #{ h_step: 0.1, demag: false };
         let a = solver::demag_curve(s, o).anchors();
         o.backend = \"tensor\"; o.batch = 2;
         let b = solver::demag_curve(s, o).anchors();
         abs(a.Mr - b.Mr) < 1e-4",
    ]);
    assert_eq!((code, out.as_str()), (0, "true\n"), "{err}");
    let (code, _, err) = coercive(&["--device", "cuda", "bench", "solver", "--n", "12"]);
    if !tch::Cuda::is_available() {
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("CUDA is not available"), "{err}");
    }
}

/// The sweep's two speed-ups and the turn cap are bench options (both speed-ups on by
/// default): named in the report's header either way, and a bad value refused naming the
/// option.
#[test]
fn bench_solver_takes_the_sweep_speed_ups() {
    let common = SMALL_SOLVER_BENCH;
    let (code, out, err) = coercive(&common);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("max_turn 0.5,") && out.contains("predict_max 0.05, carry_step on"),
        "{out}"
    );
    let (code, out, err) = coercive(
        &[
            &common[..],
            &["--predict-max", "0", "--carry-step", "false"],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("predict_max 0, carry_step off"), "{out}");
    let (code, out, err) =
        coercive(&[&common[..], &["--carry-step", "--max-turn", "0.3"]].concat());
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("max_turn 0.3,") && out.contains("carry_step on"),
        "{out}"
    );
    let (code, _, err) = coercive(&[&common[..], &["--predict-max=-1"]].concat());
    assert_ne!(code, 0);
    assert!(err.contains("predict_max") && err.contains("≥ 0"), "{err}");
}

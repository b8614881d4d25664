//! Issue 16, item 1: finished curves survive an interrupt or a later error. Own process:
//! the interrupt flag is process-wide.

use coercive::solver::batch::sweep_many_cached;
use coercive::solver::{CurveCache, Mesh, Problem, SweepOptions};
use std::process::Command;

fn problem(seed: u64) -> Problem {
    let psi: Vec<f64> = (0..256)
        .map(|c| ((c as u64 * 7 + seed * 13) % 17) as f64 * 0.2)
        .collect();
    Problem::new(Mesh::paper(16, 16).unwrap(), &psi).unwrap()
}

#[test]
fn an_interrupted_batch_keeps_what_finished_and_a_rerun_computes_only_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let cache = CurveCache::at(dir.path().join("curves"));
    let opts = SweepOptions {
        h_step: 0.05,
        ..Default::default()
    };
    let (a, b, c) = (problem(1), problem(2), problem(3));
    let first = sweep_many_cached(&[a.clone(), b.clone()], &opts, 2, Some(&cache)).unwrap();
    let first: Vec<_> = first.into_iter().map(|r| r.unwrap()).collect();
    assert_eq!(std::fs::read_dir(cache.dir()).unwrap().count(), 2);

    // Ctrl-C before the batch: the finished curves still come back, the new one does not.
    coercive::interrupt::request();
    let cut =
        sweep_many_cached(&[a.clone(), b.clone(), c.clone()], &opts, 2, Some(&cache)).unwrap();
    coercive::interrupt::reset();
    assert_eq!(cut[0].as_ref().unwrap(), &first[0]);
    assert_eq!(cut[1].as_ref().unwrap(), &first[1]);
    assert!(
        cut[2]
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("interrupted")
    );

    let rerun = sweep_many_cached(&[a, b, c], &opts, 2, Some(&cache)).unwrap();
    // Taken, not recomputed: even the wall-clock seconds are the first run's.
    assert_eq!(rerun[0].as_ref().unwrap().seconds, first[0].seconds);
    assert_eq!(rerun[1].as_ref().unwrap().seconds, first[1].seconds);
    assert!(rerun[2].is_ok());
    assert_eq!(std::fs::read_dir(cache.dir()).unwrap().count(), 3);
}

#[test]
fn a_script_that_fails_after_its_batch_does_not_pay_for_it_twice() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("study.rhai");
    std::fs::write(
        &script,
        "let ss = [];\nfor k in 0..3 { ss.push(grains::voronoi(#{ n: 16, grains: 3, seed: k })); }\n\
         let cs = solver::demag_curves(ss, #{ h_step: 0.05 });\n\
         print(cs.map(|c| c.seconds));\n\
         plot::lines(\"x.png\", [], #{ titel: \"typo\" });\n",
    )
    .unwrap();
    let cache = dir.path().join("cache");
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_coercive"))
            .args(["--quiet", "--cache"])
            .arg(&cache)
            .arg("run")
            .arg(&script)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let first = run();
    assert_eq!(first.status.code(), Some(1), "the typo fails the script");
    let second = run();
    assert_eq!(second.status.code(), Some(1));
    // The printed seconds are the first run's: the curves came from the cache.
    assert_eq!(
        String::from_utf8_lossy(&first.stdout),
        String::from_utf8_lossy(&second.stdout)
    );
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 3);
    // --no-cache computes again (different wall-clock seconds).
    let fresh = Command::new(env!("CARGO_BIN_EXE_coercive"))
        .args(["--quiet", "--no-cache", "run"])
        .arg(&script)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_ne!(
        String::from_utf8_lossy(&fresh.stdout),
        String::from_utf8_lossy(&first.stdout)
    );
}

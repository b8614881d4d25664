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

#[path = "../build/solver_source.rs"]
mod fingerprint;

/// The cache's key holds a fingerprint of the solver's code (build/solver_source.rs):
/// what cannot change a curve must not move it, what can must.
mod solver_source {
    use super::fingerprint::fingerprint;
    use std::path::Path;

    const MOD_RS: &str = "//! The solver.\nmod energy;\n#[cfg(test)]\nmod validation;\n";
    const ENERGY_RS: &str = "\
/// Zeeman energy density.
pub fn zeeman(m: f64, h: f64) -> f64 {
    -m * h // per unit Ms
}
const TOL: f64 = 1e-4;
#[cfg(test)]
mod tests {
    #[test]
    fn zero() { assert_eq!(super::zeeman(0.0, 1.0), 0.0); }
}
";

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let p = dir.path().join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        dir
    }

    fn of(files: &[(&str, &str)]) -> String {
        fingerprint(tree(files).path())
    }

    fn base() -> Vec<(&'static str, &'static str)> {
        vec![
            ("mod.rs", MOD_RS),
            ("energy.rs", ENERGY_RS),
            ("validation.rs", "#[test]\nfn a() {}\n"),
        ]
    }

    fn with(name: &'static str, text: &'static str) -> Vec<(&'static str, &'static str)> {
        let mut files = base();
        match files.iter_mut().find(|(n, _)| *n == name) {
            Some(f) => f.1 = text,
            None => files.push((name, text)),
        }
        files
    }

    #[test]
    fn comments_docs_layout_and_test_code_leave_it_alone() {
        let reference = of(&base());
        let same = [
            // comments and docs
            with(
                "energy.rs",
                "\
//! Zeeman.
/// The Zeeman energy density, -m·h.
pub fn zeeman(m: f64, h: f64) -> f64 {
    /* reduced units */ -m * h
}
const TOL: f64 = 1e-4;
#[cfg(test)]
mod tests {
    #[test]
    fn zero() { assert_eq!(super::zeeman(0.0, 1.0), 0.0); }
}
",
            ),
            // layout (what rustfmt changes) and another test module
            with(
                "energy.rs",
                "pub fn zeeman(m:f64,h:f64)->f64{-m*h}\nconst TOL : f64 = 1e-4 ;\n\
                 #[cfg(test)] mod tests { #[test] fn one() { assert!(true) } }\n",
            ),
            // a file declared `#[cfg(test)] mod validation;`
            with("validation.rs", "#[test]\nfn b() { assert_eq!(1, 1) }\n"),
        ];
        for files in same {
            assert_eq!(of(&files), reference, "{:?}", files[1]);
        }
    }

    #[test]
    fn a_change_to_compiled_code_moves_it() {
        let reference = of(&base());
        let moved = [
            with(
                "energy.rs",
                &ENERGY_RS.replacen("1e-4", "2e-4", 1).leak()[..],
            ),
            with(
                "energy.rs",
                &ENERGY_RS.replacen("-m * h", "m * h", 1).leak()[..],
            ),
            with(
                "energy.rs",
                &ENERGY_RS.replacen("zeeman(m", "zeeman_density(m", 1).leak()[..],
            ),
            // the test module's attribute gone: it is compiled code now
            with(
                "energy.rs",
                &ENERGY_RS.replacen("#[cfg(test)]", "", 1).leak()[..],
            ),
            // validation.rs compiled in every build
            with("mod.rs", "//! The solver.\nmod energy;\nmod validation;\n"),
            // a new file
            with("exchange.rs", "pub const A: f64 = 1.0;\n"),
            // not Rust tokens: hashed as bytes
            with("exchange.rs", "\"unclosed\n"),
        ];
        for files in moved {
            assert_ne!(of(&files), reference, "{files:?}");
        }
        assert_ne!(
            of(&with("exchange.rs", "\"unclosed\n")),
            of(&with("exchange.rs", "\"unclosed \n"))
        );
        // Not UTF-8: hashed as bytes too.
        let bytes = |b: &[u8]| {
            let dir = tree(&base());
            std::fs::write(dir.path().join("exchange.rs"), b).unwrap();
            fingerprint(dir.path())
        };
        assert_ne!(bytes(&[0xff, 1]), bytes(&[0xff, 2]));
    }

    #[test]
    fn the_build_keys_the_cache_with_this_fingerprint() {
        assert_eq!(
            fingerprint(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("src/solver")
                    .as_path()
            ),
            env!("COERCIVE_SOLVER_SOURCE")
        );
    }
}

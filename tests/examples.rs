//! Golden tests: every `examples/NAME.rhai` runs through the binary and its stdout must
//! equal `examples/NAME.out` exactly; every `examples/errors/NAME.rhai` must exit with
//! status 1 and print exactly `examples/errors/NAME.err` on stderr.
//!
//! Refresh the expectations after an intended change with
//! `UPDATE_GOLDEN=1 cargo test --test examples` and review the diff.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `examples/<rel>` from a fresh directory (so files the example writes stay there)
/// under the same relative path, so messages name `examples/…` deterministically.
fn run_example(rel: &Path) -> (i32, String, String) {
    let work = tempfile::tempdir().expect("temp dir");
    let target = work.path().join("examples").join(rel);
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::copy(root().join("examples").join(rel), &target).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_coercive"))
        .args(["--quiet", "--threads", "2", "run"])
        .arg(Path::new("examples").join(rel))
        .current_dir(work.path())
        // A fresh curve cache per example: no example takes another's curves.
        .env("COERCIVE_CACHE", work.path().join("cache"))
        .output()
        .expect("run coercive");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn scripts(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rhai"))
        .collect();
    v.sort();
    v
}

fn check(expected_path: &Path, actual: &str, failures: &mut Vec<String>) {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(expected_path, actual).unwrap();
        return;
    }
    match std::fs::read_to_string(expected_path) {
        Ok(expected) if expected == actual => {}
        Ok(expected) => failures.push(format!(
            "{}: output differs\n--- expected\n{expected}\n--- actual\n{actual}",
            expected_path.display()
        )),
        Err(_) => failures.push(format!(
            "{}: missing (run with UPDATE_GOLDEN=1)",
            expected_path.display()
        )),
    }
}

#[test]
fn examples_match_their_golden_output() {
    let mut failures = Vec::new();
    let all = scripts(&root().join("examples"));
    assert!(all.len() >= 6, "expected at least 6 examples");
    for script in all {
        let name = script.file_name().unwrap();
        let (code, stdout, stderr) = run_example(Path::new(name));
        if code != 0 {
            failures.push(format!("{}: exit {code}\n{stderr}", script.display()));
            continue;
        }
        check(&script.with_extension("out"), &stdout, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn error_examples_report_file_line_col() {
    let mut failures = Vec::new();
    let all = scripts(&root().join("examples/errors"));
    assert!(all.len() >= 2, "expected at least 2 error examples");
    for script in all {
        let rel = Path::new("errors").join(script.file_name().unwrap());
        let (code, _stdout, stderr) = run_example(&rel);
        if code != 1 {
            failures.push(format!(
                "{}: expected exit 1, got {code}\n{stderr}",
                script.display()
            ));
        }
        let first = stderr.lines().next().unwrap_or("");
        let prefix = format!("examples/{}:", rel.display());
        if !first.starts_with(&prefix)
            || first[prefix.len()..]
                .split(':')
                .take(2)
                .any(|n| n.parse::<u32>().is_err())
        {
            failures.push(format!(
                "{}: stderr does not start with file:line:col: {first}",
                script.display()
            ));
        }
        check(&script.with_extension("err"), &stderr, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

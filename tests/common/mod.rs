//! Helpers shared by integration tests.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Every file below `dir` whose extension is `ext`, recursively.
#[allow(dead_code)] // not every test crate that shares this module lists files
pub fn files_with_extension(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = vec![];
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == ext) {
                out.push(p);
            }
        }
    }
    out
}

/// Runs `c` and fails the test with its stderr unless it succeeds.
#[allow(dead_code)] // not every test crate that shares this module runs commands
pub fn run_ok(mut c: Command) {
    let out = c.output().expect("run coercive");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Writes a labelled density-law dataset of `count` `n`² curves to `out` with the binary.
#[allow(dead_code)] // not every test crate that shares this module needs labelled data
pub fn labelled_dataset(out: &Path, count: usize, n: usize, seed: u64) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_coercive"));
    c.args(["--quiet", "--threads", "2", "data", "generate", "--out"])
        .arg(out)
        .args(["--count", &count.to_string(), "--n", &n.to_string()])
        .args([
            "--grains-range",
            "density",
            "--label",
            "--seed",
            &seed.to_string(),
        ]);
    run_ok(c);
}

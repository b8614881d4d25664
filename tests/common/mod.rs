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

//! `coercive kernel` through a real Jupyter client (`jupyter_client`, `nbconvert` from the
//! project venv `.venv`, which `.ci/setup` provisions): the checks of `tests/kernel/client.py`,
//! and the example notebook executed by `jupyter nbconvert --execute` with its figures.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The venv's Python, with jupyter_client; a clear failure when setup was not run.
fn python() -> PathBuf {
    let py = root().join(".venv/bin/python");
    let ok = Command::new(&py)
        .args(["-c", "import jupyter_client, nbconvert"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "{} lacks jupyter_client/nbconvert: run .ci/setup",
        py.display()
    );
    py
}

/// Installs the kernelspec of this build under a temporary prefix; the JUPYTER_PATH for it.
fn kernelspec(tmp: &Path) -> PathBuf {
    let out = Command::new(env!("CARGO_BIN_EXE_coercive"))
        .args(["kernel", "install", "--prefix"])
        .arg(tmp)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    tmp.join("share/jupyter")
}

/// A Jupyter command (or the client script) with the kernelspec found and a quiet cache.
fn jupyter(tmp: &Path, args: &[&str]) -> std::process::Output {
    Command::new(python())
        .args(args)
        .current_dir(root())
        .env("JUPYTER_PATH", kernelspec(tmp))
        .env("JUPYTER_RUNTIME_DIR", tmp.join("runtime"))
        .env("JUPYTER_PLATFORM_DIRS", "1")
        .env("COERCIVE_CACHE", tmp.join("cache"))
        .output()
        .unwrap()
}

#[test]
fn a_jupyter_client_runs_cells_completes_inspects_interrupts_and_restarts() {
    let tmp = tempfile::tempdir().unwrap();
    let out = jupyter(tmp.path(), &["tests/kernel/client.py"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("ok restart starts afresh"), "{text}");
}

#[test]
fn the_example_notebook_executes_with_its_figures() {
    let tmp = tempfile::tempdir().unwrap();
    // Run from a copy, so the files the notebook writes stay in the temporary directory.
    let notebook = tmp.path().join("quickstart.ipynb");
    std::fs::copy(
        root().join("examples/notebooks/quickstart.ipynb"),
        &notebook,
    )
    .unwrap();
    let executed = tmp.path().join("executed.ipynb");
    let started = std::time::Instant::now();
    let out = jupyter(
        tmp.path(),
        &[
            "-m",
            "nbconvert",
            "--to",
            "notebook",
            "--execute",
            "--ExecutePreprocessor.timeout=120",
            "--output",
            "executed.ipynb",
            notebook.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let nb: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&executed).unwrap()).unwrap();
    let outputs: Vec<&serde_json::Value> = nb["cells"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["outputs"].as_array())
        .flatten()
        .collect();
    assert!(
        !outputs.iter().any(|o| o["output_type"] == "error"),
        "{outputs:?}"
    );
    let images = outputs
        .iter()
        .filter(|o| o["data"]["image/png"].is_string())
        .count();
    assert!(images >= 5, "{images} images in the executed notebook");
    eprintln!(
        "notebook executed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

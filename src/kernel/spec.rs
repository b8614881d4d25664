//! The kernelspec: `kernel.json` (how Jupyter starts this binary) and the logos, in a
//! directory `kernels/NAME` of a Jupyter data directory.

use std::path::{Path, PathBuf};

/// Writes the kernelspec `name` under `prefix/share/jupyter/kernels`, or the user's Jupyter
/// data directory without a prefix; returns its directory.
pub fn install(prefix: Option<&Path>, name: &str, display_name: &str) -> Result<PathBuf, String> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(format!(
            "install: the kernel name `{name}` must be letters, digits, `-`, `_` or `.`"
        ));
    }
    let data = match prefix {
        Some(p) => p.join("share").join("jupyter"),
        None => jupyter_zmq_client::user_data_dir()
            .map_err(|e| format!("install: no user Jupyter data directory: {e}"))?,
    };
    let dir = data.join("kernels").join(name);
    let exe = std::env::current_exe()
        .map_err(|e| format!("install: cannot find this program's path: {e}"))?;
    std::fs::create_dir_all(&dir)
        .map_err(|e| format!("install: cannot create {}: {e}", dir.display()))?;
    let spec = serde_json::json!({
        "argv": [exe.display().to_string(), "kernel", "-f", "{connection_file}"],
        "display_name": display_name,
        "language": "rhai",
        "interrupt_mode": "signal",
        "metadata": { "debugger": false },
    });
    let text = serde_json::to_string_pretty(&spec).expect("a JSON value");
    let write = |file: &str, bytes: &[u8]| {
        crate::fsio::write(dir.join(file), bytes)
            .map_err(|e| format!("install: cannot write {}: {e}", dir.join(file).display()))
    };
    write("kernel.json", text.as_bytes())?;
    for (file, size) in [("logo-32x32.png", 32), ("logo-64x64.png", 64)] {
        write(file, &logo(size)?)?;
    }
    Ok(dir)
}

/// A square logo: a hysteresis loop's two branches in the colormap's blue and red.
fn logo(size: u32) -> Result<Vec<u8>, String> {
    let n = size as usize;
    let mut rgb = vec![255u8; n * n * 3];
    for px in 0..n {
        let h = 2.0 * px as f64 / (n - 1) as f64 - 1.0;
        for (shift, colour) in [(0.3, [40u8, 80, 200]), (-0.3, [200u8, 40, 40])] {
            let m = ((h + shift) * 4.0).tanh();
            let py = ((1.0 - m) / 2.0 * (n - 1) as f64).round() as usize;
            for dy in 0..2.min(n - py) {
                let k = 3 * ((py + dy) * n + px);
                rgb[k..k + 3].copy_from_slice(&colour);
            }
        }
    }
    crate::plot::encode_png((size, size), &rgb).map_err(|e| format!("install: the logo: {e}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn writes_a_kernelspec_that_starts_this_binary() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = super::install(Some(tmp.path()), "coercive", "coercive (Rhai)").unwrap();
        assert_eq!(dir, tmp.path().join("share/jupyter/kernels/coercive"));
        let spec: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("kernel.json")).unwrap())
                .unwrap();
        assert_eq!(spec["argv"][1], "kernel");
        assert_eq!(spec["argv"][3], "{connection_file}");
        assert_eq!(spec["language"], "rhai");
        assert!(dir.join("logo-64x64.png").is_file());
        let bad = super::install(Some(tmp.path()), "a/b", "x").unwrap_err();
        assert!(bad.contains("kernel name `a/b`"), "{bad}");
    }
}

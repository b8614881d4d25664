//! Bakes libtorch's directory into the binaries' rpath so neither `coercive` nor the
//! test binaries need LD_LIBRARY_PATH, and hashes the solver's source so that curves
//! cached by other solver code are never taken (`solver::cache`).
use std::hash::{DefaultHasher, Hasher};

fn main() {
    println!("cargo:rerun-if-changed=src/solver");
    println!("cargo:rerun-if-changed=src/solver/tensor");
    // The solver's files and those of its sub-modules (src/solver/tensor).
    let list = |dir: &std::path::Path| -> Vec<std::path::PathBuf> {
        std::fs::read_dir(dir)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default()
    };
    let mut files: Vec<_> = list(std::path::Path::new("src/solver"))
        .into_iter()
        .flat_map(|p| if p.is_dir() { list(&p) } else { vec![p] })
        .collect();
    files.sort();
    let mut h = DefaultHasher::new();
    for f in files {
        h.write(f.to_string_lossy().as_bytes());
        h.write(&std::fs::read(&f).unwrap_or_default());
    }
    println!("cargo:rustc-env=COERCIVE_SOLVER_SOURCE={:016x}", h.finish());
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    if let Ok(dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
        if std::env::var_os("CARGO_FEATURE_CUDA").is_some() {
            // Without --no-as-needed the linker drops libtorch_cuda (no symbol is
            // referenced directly) and Cuda::is_available() is false.
            println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
        }
    }
}

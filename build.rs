//! Bakes libtorch's directory into the binaries' rpath so neither `coercive` nor the
//! test binaries need LD_LIBRARY_PATH, and fingerprints the solver's code so that
//! curves cached by other solver code are never taken (`solver::cache`).
#[path = "build/solver_source.rs"]
mod solver_source;

fn main() {
    println!("cargo:rerun-if-changed=src/solver");
    println!("cargo:rerun-if-changed=src/solver/tensor");
    println!("cargo:rerun-if-changed=build/solver_source.rs");
    let source = solver_source::fingerprint(std::path::Path::new("src/solver"));
    println!("cargo:rustc-env=COERCIVE_SOLVER_SOURCE={source}");
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

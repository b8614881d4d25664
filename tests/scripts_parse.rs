//! Every script shipped in the repository parses: the long experiment scripts (the paper's
//! steps, accuracy, validation) run for minutes to hours, so a syntax error must not wait
//! until their last step to show.

use coercive::engine::new_engine;
use std::path::Path;

fn rhai_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rhai_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rhai") {
            out.push(p);
        }
    }
}

#[test]
fn every_shipped_script_parses() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let engine = new_engine(None).unwrap();
    // As `coercive run` gives them.
    let mut scope = rhai::Scope::new();
    scope.push_constant("ARGS", rhai::Array::new());
    let mut files = vec![];
    for d in ["scripts", "stdlib", "examples"] {
        rhai_files(&root.join(d), &mut files);
    }
    assert!(files.len() >= 20, "only {} scripts found", files.len());
    let bad: Vec<String> = files
        .iter()
        .filter(|p| !p.components().any(|c| c.as_os_str() == "errors"))
        .filter_map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            engine
                .compile_with_scope(&scope, &text)
                .err()
                .map(|e| format!("{}: {e}", p.strip_prefix(root).unwrap().display()))
        })
        .collect();
    assert!(bad.is_empty(), "scripts that do not parse:\n{}", bad.join("\n"));
}

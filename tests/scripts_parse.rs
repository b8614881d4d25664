//! Every script shipped in the repository parses: the long experiment scripts (the paper's
//! steps, accuracy, validation) run for minutes to hours, so a syntax error must not wait
//! until their last step to show.

mod common;

use coercive::engine::new_engine;
use std::path::Path;

#[test]
fn every_shipped_script_parses() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let engine = new_engine(None).unwrap();
    // As `coercive run` gives them.
    let mut scope = rhai::Scope::new();
    scope.push_constant("ARGS", rhai::Array::new());
    let mut files = vec![];
    for d in ["scripts", "stdlib", "examples"] {
        files.extend(common::files_with_extension(&root.join(d), "rhai"));
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
    assert!(
        bad.is_empty(),
        "scripts that do not parse:\n{}",
        bad.join("\n")
    );
}

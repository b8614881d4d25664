//! The layers of `src/lib.rs`: domain code never reaches into scripting or the app, and
//! scripting never into the app. Checked on the `crate::` paths and `use` lines of every
//! source file, so a new dependency upwards fails here rather than in a later refactor.

mod common;

use std::path::Path;

const DOMAIN: &[&str] = &[
    "data",
    "design",
    "forc",
    "grains",
    "learn",
    "plot",
    "solver",
    "array",
    "colormap",
    "cpu",
    "display",
    "fsio",
    "guard",
    "interrupt",
    "memory",
    "named",
    "progress",
    "settings",
];
const SCRIPTING: &[&str] = &["api", "docs", "engine", "stdlib"];
const APP: &[&str] = &["bench", "cli", "kernel", "repl", "runner"];

fn layer(module: &str) -> usize {
    if DOMAIN.contains(&module) {
        0
    } else if SCRIPTING.contains(&module) {
        1
    } else if APP.contains(&module) {
        2
    } else {
        panic!("module `{module}` is in no layer: add it to src/lib.rs and this test")
    }
}

#[test]
fn no_module_uses_a_layer_above_its_own() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let all = common::files_with_extension(&src, "rs");
    let mut wrong = vec![];
    for path in all {
        let rel = path.strip_prefix(&src).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let top = top.trim_end_matches(".rs").to_string();
        if top == "lib" || top == "main" {
            continue;
        }
        let own = layer(&top);
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            for (k, _) in line.match_indices("crate::") {
                let used: String = line[k + 7..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if used.is_empty()
                    || !(DOMAIN.contains(&used.as_str())
                        || SCRIPTING.contains(&used.as_str())
                        || APP.contains(&used.as_str()))
                {
                    continue;
                }
                if layer(&used) > own {
                    wrong.push(format!("{}:{}: {top} uses {used}", rel.display(), n + 1));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "uses of a higher layer:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn every_module_of_lib_rs_has_a_layer() {
    let lib =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    for line in lib.lines() {
        if let Some(m) = line.strip_prefix("pub mod ") {
            layer(m.trim_end_matches(';'));
        }
    }
}

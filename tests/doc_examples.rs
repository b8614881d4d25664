//! Every ```rhai block in a native or stdlib function's documentation runs, in a fresh
//! engine in an empty directory, and must finish without error (examples state their
//! results with `assert` / `assert_close`): documentation that cannot drift from the code.

use coercive::engine::new_engine;

fn examples(doc: &str) -> Vec<String> {
    let mut out = vec![];
    let mut block: Option<Vec<&str>> = None;
    for line in doc.lines() {
        let t = line.trim();
        match &mut block {
            None if t == "```rhai" => block = Some(vec![]),
            Some(b) if t == "```" => {
                out.push(b.join("\n"));
                block = None;
            }
            Some(b) => b.push(line),
            None => {}
        }
    }
    assert!(block.is_none(), "unclosed ```rhai block in:\n{doc}");
    out
}

#[test]
fn every_documented_example_runs() {
    let dir = tempfile::tempdir().unwrap();
    std::env::set_current_dir(dir.path()).unwrap();
    coercive::progress::set_quiet(true);
    let engine = new_engine(None).unwrap();
    coercive::docs::init(&engine);
    let mut ran = 0;
    let mut failed = vec![];
    for entry in &coercive::docs::get().entries {
        for script in examples(&entry.doc) {
            let mut engine = new_engine(None).unwrap();
            engine.on_print(|_| {});
            if let Err(e) = engine.run(&script) {
                failed.push(format!("{}: {e}\n{script}", entry.name));
            }
            ran += 1;
        }
    }
    assert!(
        failed.is_empty(),
        "examples that fail:\n\n{}",
        failed.join("\n\n")
    );
    // Overloads share a doc comment: count distinct examples, and keep there being some.
    assert!(ran >= 15, "only {ran} documented examples ran");
}

//! Property test: thousands of generated scripts — every documented native function called
//! with values of every kind (wrong types, wrong counts, negative, huge, NaN, empty, bad
//! paths, misspelt options), plus random statement soups — must end in a value or a Rhai
//! error, never a panic.

use coercive::engine::new_engine;
use rand::{Rng, SeedableRng};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Argument expressions of every kind; domain values are added as modules land.
const POOL: &[&str] = &[
    "0",
    "1",
    "-1",
    "3",
    "7",
    "64",
    "-1000000",
    "9223372036854775807",
    "0.5",
    "-2.5",
    "1e308",
    "-0.0",
    "0.0/0.0",
    "1.0/0.0",
    "\"\"",
    "\"text\"",
    // Unwritable even for root: a file stands where the directory should be.
    "\"blocker/f.csv\"",
    "\"fuzz_out.png\"",
    "\"fuzz_out.csv\"",
    "\"kx\"",
    "\"axis\"",
    "()",
    "true",
    "[]",
    "[1, 2]",
    "[[1, 2], [3]]",
    "[\"a\", 1]",
    "#{}",
    "#{ n: 8 }",
    "#{ n: 8, grains: 3, seed: 1 }",
    "#{ bogus: 1 }",
    "#{ n: -5 }",
    "#{ n: \"8\" }",
    "zeros(3)",
    "zeros([0])",
    "array([[1, 2], [3, 4]])",
    "linspace(1.0, -1.0, 5)",
    "randn([2, 2], 1)",
    "grains::voronoi(#{ n: 8, grains: 2, seed: 1 })",
    "grains::sample(5, #{ n: 8 })",
    "solver::demag_curve(grains::voronoi(#{ n: 4, grains: 1, seed: 1 }), #{ h_step: 0.25 })",
    "solver::relax(grains::voronoi(#{ n: 4, grains: 1, seed: 1 }), 0.0, #{})",
    "#{ h_step: 0.5, tol: 1e-3 }",
    "#{ tol: -1.0 }",
    "#{ material: #{ A: 0.0 } }",
    "data::generate(#{ out: \"fuzz_dataset\", count: 3, n: 8 })",
    "data::generate(#{ out: \"fuzz_labelled\", count: 2, n: 4, grains: 1, label: true, solver: #{ h_step: 0.5 } })",
    "\"converged\"",
    "|r| r.id > 0",
];

fn call_names(engine: &rhai::Engine) -> Vec<(String, usize)> {
    let _ = engine;
    coercive::docs::get()
        .entries
        .iter()
        .filter(|e| e.origin == "native" && !e.name.starts_with("help"))
        .map(|e| {
            let params = e
                .signature
                .split_once('(')
                .and_then(|(_, r)| r.split_once(')'))
                .map_or("", |(p, _)| p);
            let n = if params.trim().is_empty() {
                0
            } else {
                params.split(',').count()
            };
            (e.name.clone(), n)
        })
        .collect()
}

fn script_for(rng: &mut impl Rng, names: &[(String, usize)]) -> String {
    let (name, arity) = &names[rng.random_range(0..names.len())];
    // Mostly the documented arity, sometimes one more or fewer.
    let n = match rng.random_range(0..10) {
        0 => arity.saturating_sub(1),
        1 => arity + 1,
        _ => *arity,
    };
    let args: Vec<&str> = (0..n)
        .map(|_| POOL[rng.random_range(0..POOL.len())])
        .collect();
    match rng.random_range(0..4) {
        // Method-call form on the first argument.
        0 if n > 0 && !name.contains("::") => {
            format!("let x = {}; x.{name}({});", args[0], args[1..].join(", "))
        }
        // Feed the result of one call into another.
        // (Not into the solver: a default 160² structure would make a slow test.)
        1 => {
            let (other, _) = &names[rng.random_range(0..names.len())];
            if other.starts_with("solver::") {
                return format!("let r = {name}({}); r", args.join(", "));
            }
            format!("let r = {name}({}); let s = {other}(r);", args.join(", "))
        }
        _ => format!("let r = {name}({}); r", args.join(", ")),
    }
}

/// Random statement soups: valid and broken syntax, operators on mixed types.
fn soup(rng: &mut impl Rng) -> String {
    const PARTS: &[&str] = &[
        "let a = zeros(3);",
        "a + \"s\"",
        "a[10]",
        "a[[0, 0]]",
        "a / 0",
        "a.reshape([2, 2])",
        "let b = a * a;",
        "print(a);",
        "{",
        "}",
        "(",
        ")",
        "fn f(x) { x + 1 }",
        "f(a)",
        "a.slice(5, -9)",
        "throw \"boom\";",
        "array([[1], [2, 3]])",
        "a[-4] = 1.0;",
        "b.dot(zeros(4))",
        "import \"report\" as r;",
        "r::pad(1, 5)",
        "import \"nope\" as n;",
        "help(\"zeros\");",
        "fmt(1.5, 99)",
        "io::read_json(\"/nonexistent\")",
    ];
    (0..rng.random_range(1..6))
        .map(|_| PARTS[rng.random_range(0..PARTS.len())])
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn generated_scripts_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    std::env::set_current_dir(dir.path()).unwrap();
    std::fs::write("blocker", "a file, not a directory").unwrap();
    coercive::progress::set_quiet(true);
    let mut engine = new_engine(None).unwrap();
    engine.set_max_operations(2_000_000);
    engine.on_print(|_| {});
    let names = call_names(&engine);
    assert!(
        names.len() >= 20,
        "too few native functions documented: {}",
        names.len()
    );
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2024);
    let (mut ok, mut err) = (0, 0);
    let mut panics = Vec::new();
    const SCRIPTS: usize = 2400;
    for k in 0..SCRIPTS {
        let script = if k % 6 == 5 {
            soup(&mut rng)
        } else {
            script_for(&mut rng, &names)
        };
        match catch_unwind(AssertUnwindSafe(|| engine.run(&script))) {
            Ok(Ok(())) => ok += 1,
            Ok(Err(_)) => err += 1,
            Err(_) => panics.push(script),
        }
    }
    // Every native function is called at least once with its documented arity.
    for (name, arity) in &names {
        let args = vec!["()"; *arity].join(", ");
        if catch_unwind(AssertUnwindSafe(|| engine.run(&format!("{name}({args});")))).is_err() {
            panics.push(format!("{name}({args})"));
        }
    }
    eprintln!(
        "{SCRIPTS} scripts: {ok} ran, {err} errors, {} panics",
        panics.len()
    );
    assert!(
        panics.is_empty(),
        "scripts that panicked:\n{}",
        panics.join("\n---\n")
    );
    assert!(
        ok > 100 && err > 100,
        "the generator should produce both valid and invalid calls ({ok} ok, {err} errors)"
    );
}

//! The standard library written in Rhai (`stdlib/*.rhai`), embedded in the binary and
//! imported as `import "name" as n;`. Setting `COERCIVE_STDLIB=DIR` reads the modules from
//! DIR instead (for developing the stdlib without rebuilding). `prelude.rhai` is loaded
//! into every engine's global namespace.

use rhai::module_resolvers::FileModuleResolver;
use rhai::{Engine, EvalAltResult, Module, ModuleResolver, Position, Scope, Shared};
use std::borrow::Cow;
use std::path::PathBuf;

/// Embedded modules: (import name, source).
const EMBEDDED: &[(&str, &str)] = &[
    ("prelude", include_str!("../stdlib/prelude.rhai")),
    ("report", include_str!("../stdlib/report.rhai")),
    ("learn", include_str!("../stdlib/learn.rhai")),
];

pub const OVERRIDE_VAR: &str = "COERCIVE_STDLIB";

pub fn names() -> impl Iterator<Item = &'static str> {
    EMBEDDED.iter().map(|(n, _)| *n)
}

/// Whether `name` is a stdlib module a script imports (the prelude is always there).
pub fn is_importable(name: &str) -> bool {
    name != "prelude" && names().any(|n| n == name)
}

/// The source of a stdlib module, from the override folder when set.
pub fn source(name: &str) -> Option<Cow<'static, str>> {
    let embedded = EMBEDDED.iter().find(|(n, _)| *n == name)?;
    if let Some(dir) = std::env::var_os(OVERRIDE_VAR) {
        let path = PathBuf::from(dir).join(format!("{name}.rhai"));
        if let Ok(text) = std::fs::read_to_string(&path) {
            return Some(Cow::Owned(text));
        }
    }
    Some(Cow::Borrowed(embedded.1))
}

/// Resolves stdlib names first, then script files relative to the importing script.
pub struct Resolver {
    files: FileModuleResolver,
}

impl Resolver {
    pub fn new(base: Option<PathBuf>) -> Self {
        let files = match base {
            Some(dir) => FileModuleResolver::new_with_path(dir),
            None => FileModuleResolver::new(),
        };
        Resolver { files }
    }
}

impl ModuleResolver for Resolver {
    fn resolve(
        &self,
        engine: &Engine,
        source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<Shared<Module>, Box<EvalAltResult>> {
        if let Some(text) = source_for_import(path) {
            let mut ast = engine
                .compile(text.as_ref())
                .map_err(|e| Box::new(EvalAltResult::ErrorInModule(path.into(), e.into(), pos)))?;
            ast.set_source(format!("stdlib/{path}.rhai"));
            let m = Module::eval_ast_as_new(Scope::new(), &ast, engine)
                .map_err(|e| Box::new(EvalAltResult::ErrorInModule(path.into(), e, pos)))?;
            return Ok(m.into());
        }
        self.files.resolve(engine, source, path, pos)
    }
}

fn source_for_import(path: &str) -> Option<Cow<'static, str>> {
    if is_importable(path) {
        source(path)
    } else {
        None
    }
}

/// Compiles the prelude into a module for the global namespace.
pub fn prelude(engine: &Engine) -> Result<Module, Box<EvalAltResult>> {
    let text = source("prelude").unwrap_or_default();
    let mut ast = engine.compile(text.as_ref())?;
    ast.set_source("stdlib/prelude.rhai");
    Module::eval_ast_as_new(Scope::new(), &ast, engine)
}

/// Documentation of every public stdlib function.
pub fn docs(engine: &Engine) -> Vec<crate::docs::DocEntry> {
    let mut out = Vec::new();
    for name in names() {
        let Some(text) = source(name) else { continue };
        let Ok(ast) = engine.compile(text.as_ref()) else {
            continue;
        };
        for f in ast.iter_functions() {
            // Closures compile to functions named `anon$…`: no part of the interface.
            if f.access == rhai::FnAccess::Private || crate::docs::is_anonymous(f.name) {
                continue;
            }
            let qualified = if name == "prelude" {
                f.name.to_string()
            } else {
                format!("{name}::{}", f.name)
            };
            out.push(crate::docs::DocEntry {
                signature: format!("{qualified}({})", f.params.join(", ")),
                name: qualified,
                doc: crate::docs::clean_comment(&f.comments),
                origin: format!("stdlib {name}"),
                kind: crate::docs::Kind::Function,
                receiver: None,
            });
        }
    }
    out
}

//! Running scripts and expressions, and reporting their errors as `file:line:col: message`.

use rhai::{AST, Dynamic, Engine, EvalAltResult, ParseError, ParseErrorType, Position, Scope};
use std::path::Path;

/// A script failure, already formatted for the terminal.
#[derive(Debug)]
pub struct ScriptError(pub String);

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn at(source: &str, pos: Position) -> String {
    match (pos.line(), pos.position()) {
        (Some(l), Some(c)) => format!("{source}:{l}:{c}"),
        (Some(l), None) => format!("{source}:{l}"),
        _ => source.to_string(),
    }
}

pub fn format_parse_error(source: &str, err: &ParseError) -> String {
    format!(
        "{}: syntax error: {}{}",
        at(source, err.position()),
        err.err_type(),
        import_hint(err.err_type())
    )
}

/// `learn::morph` without `import "learn" as learn;` is an undefined module to Rhai; say
/// which line is missing when the module is one of the stdlib's.
fn import_hint(err: &ParseErrorType) -> String {
    match err {
        ParseErrorType::ModuleUndefined(m) if crate::stdlib::is_importable(m) => {
            format!(" (hint: add `import \"{m}\" as {m};`)")
        }
        _ => String::new(),
    }
}

/// Formats a runtime error, following errors inside imported modules to their own file.
pub fn format_eval_error(source: &str, err: &EvalAltResult) -> String {
    if let EvalAltResult::ErrorInModule(module, inner, pos) = &err {
        let module_src = if module.ends_with(".rhai") || crate::stdlib::source(&module).is_none() {
            module.to_string()
        } else {
            format!("stdlib/{module}.rhai")
        };
        return format!(
            "{}\n  in module \"{module}\" imported at {}",
            format_eval_error(&module_src, inner),
            at(source, *pos)
        );
    }
    let pos = err.position();
    let mut msg = match err {
        EvalAltResult::ErrorRuntime(v, _) => runtime_message(v),
        EvalAltResult::ErrorParsing(p, _) => format!("syntax error: {p}{}", import_hint(p)),
        EvalAltResult::ErrorTerminated(token, _) => token.to_string(),
        EvalAltResult::ErrorMismatchDataType(expected, actual, _) => {
            mismatch_message(expected, actual)
        }
        // Display appends " (line L, position C)", which the prefix already says.
        other => {
            let s = other.to_string();
            s.strip_suffix(&format!(" ({pos})"))
                .unwrap_or(&s)
                .to_string()
        }
    };
    if let EvalAltResult::ErrorFunctionNotFound(sig, _) = err {
        // Rhai names the argument types in Rust (`&str | ImmutableString | String`).
        msg = crate::docs::script_types(&msg);
        msg.push_str(&expected_signatures(sig));
    }
    format!("{}: {msg}", at(source, pos))
}

/// Rhai's "Data type incorrect" in script words (`coercive::array::NdArray` is `NdArray`),
/// with a hint where an array comparison's mask stands for a truth value (`if h > 0.5`).
fn mismatch_message(expected: &str, actual: &str) -> String {
    let (expected, actual) = (type_words(expected), type_words(actual));
    let mut msg = format!("Data type incorrect: {actual} (expecting {expected})");
    if actual == "NdArray" && expected == "bool" {
        msg.push_str(
            ": comparing arrays gives a mask, one 0 or 1 per element; ask any(mask), \
             all(mask), or array_equal(a, b) for true or false",
        );
    }
    msg
}

/// A Rust type name as scripts know it: paths dropped, then `docs::script_types`.
fn type_words(t: &str) -> String {
    let mut out = String::new();
    let mut word = String::new();
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
        } else if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            word.clear();
        } else {
            out.push_str(&word);
            word.clear();
            out.push(c);
        }
    }
    out.push_str(&word);
    crate::docs::script_types(&out)
}

fn runtime_message(v: &Dynamic) -> String {
    let s = v.to_string();
    if s.contains(": ") && !s.starts_with("interrupted") {
        s
    } else {
        format!("error: {s}")
    }
}

/// "expected one of: …" for a call whose argument types matched no overload.
fn expected_signatures(called: &str) -> String {
    let name = called
        .split(|c: char| c == ' ' || c == '(')
        .next()
        .unwrap_or(called);
    let docs = crate::docs::get();
    let found: Vec<_> = docs
        .entries
        .iter()
        .filter(|e| e.name == name || e.name.ends_with(&format!("::{name}")))
        .collect();
    if found.is_empty() {
        return String::new();
    }
    let mut s = String::from("\n  expected one of:");
    for e in found {
        s.push_str(&format!("\n    {}", e.signature));
    }
    s
}

/// Compiles a script file.
pub fn compile_file(engine: &Engine, path: &Path, scope: &Scope) -> Result<AST, ScriptError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| ScriptError(format!("{name}: cannot read script: {e}")))?;
    compile_text(engine, &name, &text, scope)
}

pub fn compile_text(
    engine: &Engine,
    name: &str,
    text: &str,
    scope: &Scope,
) -> Result<AST, ScriptError> {
    let mut ast = engine
        .compile_with_scope(scope, text)
        .map_err(|e| ScriptError(format_parse_error(name, &e)))?;
    ast.set_source(name);
    Ok(ast)
}

/// Runs a compiled script in `scope`; returns the value of its last expression.
pub fn run_ast(
    engine: &Engine,
    name: &str,
    scope: &mut Scope,
    ast: &AST,
) -> Result<Dynamic, ScriptError> {
    crate::interrupt::reset();
    engine
        .eval_ast_with_scope::<Dynamic>(scope, ast)
        .map_err(|e| ScriptError(format_eval_error(name, &e)))
}

/// The text `print` would show for a value (custom types through their `to_string`).
pub fn display(engine: &Engine, v: &Dynamic) -> String {
    if v.is_string() {
        return format!("{v:?}");
    }
    let mut scope = Scope::new();
    scope.push("value", v.clone());
    engine
        .eval_with_scope::<String>(&mut scope, "to_string(value)")
        .unwrap_or_else(|_| v.to_string())
}

/// A scope holding the script's arguments as the constant `ARGS` (array of strings).
pub fn scope_with_args(args: &[String]) -> Scope<'static> {
    let mut scope = Scope::new();
    scope.push_constant(
        "ARGS",
        args.iter()
            .cloned()
            .map(Dynamic::from)
            .collect::<rhai::Array>(),
    );
    scope
}

/// Runs a script file with arguments.
pub fn run_file(engine: &Engine, path: &Path, args: &[String]) -> Result<Dynamic, ScriptError> {
    let mut scope = scope_with_args(args);
    let ast = compile_file(engine, path, &scope)?;
    run_ast(engine, &path.display().to_string(), &mut scope, &ast)
}

#[cfg(test)]
mod tests {
    #[test]
    fn type_mismatches_speak_of_script_types() {
        assert_eq!(super::type_words("coercive::array::NdArray"), "NdArray");
        assert_eq!(
            super::type_words("coercive::api::grains::SharedStructure"),
            "Structure"
        );
        assert_eq!(super::type_words("alloc::vec::Vec<f64>"), "Vec<float>");
        let msg = super::mismatch_message("bool", "coercive::array::NdArray");
        assert!(
            msg.starts_with("Data type incorrect: NdArray (expecting bool): comparing arrays")
                && msg.contains("any(mask)"),
            "{msg}"
        );
        assert_eq!(
            super::mismatch_message("int", "string"),
            "Data type incorrect: string (expecting int)"
        );
    }
}

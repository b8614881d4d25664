//! Type names in a script's words. Rust spells them `RResult<NdArray>`, `&mut SharedVae`,
//! `i64` in signatures and `alloc::sync::Arc<…>` for a value's type; a user only ever reads
//! `NdArray`, `Vae`, `int`, `Structure`.

use rhai::Dynamic;

/// Rust types in Rhai's words: `RResult<NdArray>` → `NdArray`, `&mut Structure` →
/// `Structure`, `i64` → `int`, `f64` → `float`, `&str` → `string`.
pub fn script_types(sig: &str) -> String {
    let mut s = sig.to_string();
    while let Some(i) = s.find("RResult<") {
        let inner_start = i + "RResult<".len();
        let mut depth = 1;
        let mut end = inner_start;
        for (k, c) in s[inner_start..].char_indices() {
            match c {
                '<' => depth += 1,
                '>' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                end = inner_start + k;
                break;
            }
        }
        s = format!("{}{}{}", &s[..i], &s[inner_start..end], &s[end + 1..]);
    }
    for (from, to) in [
        // How Rhai names a string argument in "Function not found".
        ("&str | ImmutableString | String", "string"),
        ("&mut ", ""),
        ("SharedPca", "PCA"),
        ("FnPtr", "function"),
        ("String", "string"),
        ("&str", "string"),
        ("ImmutableString", "string"),
        ("i64", "int"),
        ("f64", "float"),
        ("Dynamic", "any"),
        ("Array", "array"),
        ("Map", "map"),
    ] {
        s = replace_word(&s, from, to);
    }
    // Handles are `Shared<Type>` in Rust (an Arc); scripts see the type.
    strip_shared(&s)
}

/// The type of a value as `type_of` says it: the registered name of a custom type
/// (`Structure`, not `alloc::sync::Arc<coercive::grains::structure::Structure>`), else
/// Rhai's word (`int`, `map`).
pub fn type_of(v: &Dynamic) -> String {
    let rust = v.type_name();
    match super::get().type_names.get(rust) {
        Some(name) => name.clone(),
        None if rust.contains("::") => last_path_word(rust),
        None => script_types(rust),
    }
}

/// `alloc::sync::Arc<std::sync::Mutex<coercive::learn::vae::Vae>>` → `Vae`: the innermost
/// type's own name, for a type the engine has not named (tests without an engine).
fn last_path_word(rust: &str) -> String {
    let inner = rust.trim_end_matches('>');
    let inner = inner.rsplit(['<', ' ', '(', ',']).next().unwrap_or(inner);
    inner.rsplit("::").next().unwrap_or(inner).to_string()
}

/// `SharedVae` → `Vae`: "Shared" dropped before a capitalised word at a word start.
fn strip_shared(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("Shared") {
        let at_start = rest[..i]
            .chars()
            .last()
            .is_none_or(|c| !c.is_alphanumeric() && c != '_');
        let after = &rest[i + "Shared".len()..];
        out.push_str(&rest[..i]);
        if !(at_start && after.starts_with(|c: char| c.is_ascii_uppercase())) {
            out.push_str("Shared");
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

fn replace_word(s: &str, from: &str, to: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(from) {
        let before_ok = !from.starts_with(|c: char| c.is_alphanumeric())
            || rest[..i]
                .chars()
                .last()
                .is_none_or(|c| !c.is_alphanumeric() && c != '_');
        let after = &rest[i + from.len()..];
        let after_ok = !from.ends_with(|c: char| c.is_alphanumeric())
            || after
                .chars()
                .next()
                .is_none_or(|c| !c.is_alphanumeric() && c != '_');
        out.push_str(&rest[..i]);
        out.push_str(if before_ok && after_ok { to } else { from });
        rest = after;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_in_script_words() {
        assert_eq!(
            script_types("dot(a: &mut NdArray, b: NdArray) -> RResult<f64>"),
            "dot(a: NdArray, b: NdArray) -> float"
        );
        assert_eq!(
            script_types("f(m: Map, s: &str) -> RResult<Map>"),
            "f(m: map, s: string) -> map"
        );
        assert_eq!(
            script_types("train(g: &mut SharedGraphNet, p: SharedPca) -> Shared"),
            "train(g: GraphNet, p: PCA) -> Shared"
        );
        assert_eq!(
            script_types("io::write_json (Structure, &str | ImmutableString | String, i64)"),
            "io::write_json (Structure, string, int)"
        );
    }

    #[test]
    fn values_are_named_as_scripts_name_them() {
        assert_eq!(type_of(&Dynamic::from_int(1)), "int");
        assert_eq!(type_of(&Dynamic::from_float(1.0)), "float");
        assert_eq!(type_of(&Dynamic::from(rhai::Map::new())), "map");
        // Without an engine's names, the innermost Rust type's own name.
        assert_eq!(
            last_path_word("alloc::sync::Arc<std::sync::Mutex<coercive::learn::vae::Vae>>"),
            "Vae"
        );
    }
}

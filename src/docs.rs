//! One source for documentation: the doc comments of native functions (collected from the
//! engine's metadata) and of stdlib functions (from the parsed stdlib scripts). `help()`
//! in scripts and `coercive doc` both print from here.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

#[derive(Debug, Clone)]
pub struct DocEntry {
    /// Qualified name as a script calls it: `grains::voronoi`, `linspace`, `curves::hc`.
    pub name: String,
    /// `name(param: Type, …) -> Type`.
    pub signature: String,
    /// Doc comment text without the `///` markers.
    pub doc: String,
    /// Where it comes from: `native` or `stdlib <module>`.
    pub origin: String,
}

impl DocEntry {
    pub fn summary(&self) -> &str {
        self.doc
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("(undocumented)")
    }
}

#[derive(Debug, Default, Clone)]
pub struct Docs {
    pub entries: Vec<DocEntry>,
}

#[cfg(test)]
mod tests {
    #[test]
    fn signatures_in_script_words() {
        assert_eq!(
            super::script_types("dot(a: &mut NdArray, b: NdArray) -> RResult<f64>"),
            "dot(a: NdArray, b: NdArray) -> float"
        );
        assert_eq!(
            super::script_types("f(m: Map, s: &str) -> RResult<Map>"),
            "f(m: map, s: string) -> map"
        );
        assert_eq!(
            super::script_types("train(g: &mut SharedGraphNet, p: SharedPca) -> Shared"),
            "train(g: GraphNet, p: PCA) -> Shared"
        );
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct MetaRoot {
    modules: BTreeMap<String, MetaModule>,
    functions: Vec<MetaFn>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct MetaModule {
    functions: Vec<MetaFn>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct MetaFn {
    name: String,
    signature: String,
    doc_comments: Vec<String>,
}

/// Strips `///`, `/**`, `*/` markers from doc comment lines.
pub fn clean_comment(lines: &[impl AsRef<str>]) -> String {
    lines
        .iter()
        .flat_map(|l| l.as_ref().lines().map(str::to_string).collect::<Vec<_>>())
        .map(|l| {
            let t = l.trim();
            let t = t
                .strip_prefix("///")
                .or_else(|| t.strip_prefix("/**"))
                .unwrap_or(t);
            let t = t.strip_suffix("*/").unwrap_or(t);
            t.strip_prefix(' ').unwrap_or(t).to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

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

/// Operators, indexers and property accessors are documented with their type, not listed.
fn is_listed(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && !name.starts_with("get$")
        && !name.starts_with("set$")
        && !name.starts_with("index$")
}

impl Docs {
    /// Native functions registered by coercive (Rhai's own standard library is left out)
    /// plus the stdlib modules.
    pub fn collect(engine: &rhai::Engine) -> Docs {
        let json = engine.gen_fn_metadata_to_json(false).unwrap_or_default();
        let root: MetaRoot = serde_json::from_str(&json).unwrap_or_default();
        let mut entries = Vec::new();
        let mut push = |prefix: &str, f: MetaFn| {
            if !is_listed(&f.name) || f.doc_comments.is_empty() {
                return;
            }
            entries.push(DocEntry {
                name: format!("{prefix}{}", f.name),
                signature: script_types(&format!("{prefix}{}", f.signature)),
                doc: clean_comment(&f.doc_comments),
                origin: "native".into(),
            });
        };
        for f in root.functions {
            push("", f);
        }
        for (m, module) in root.modules {
            for f in module.functions {
                push(&format!("{m}::"), f);
            }
        }
        entries.extend(crate::stdlib::docs(engine));
        entries.sort_by(|a, b| a.name.cmp(&b.name).then(a.signature.cmp(&b.signature)));
        entries.dedup_by(|a, b| a.signature == b.signature);
        Docs { entries }
    }

    pub fn find(&self, name: &str) -> Vec<&DocEntry> {
        let exact: Vec<_> = self.entries.iter().filter(|e| e.name == name).collect();
        if !exact.is_empty() {
            return exact;
        }
        // `voronoi` finds `grains::voronoi`; `grains` lists the module.
        self.entries
            .iter()
            .filter(|e| {
                e.name.rsplit("::").next() == Some(name) || e.name.starts_with(&format!("{name}::"))
            })
            .collect()
    }

    /// One line per function: signature and summary.
    pub fn listing(&self) -> String {
        let mut out = String::new();
        for e in &self.entries {
            out.push_str(&format!("{}\n    {}\n", e.signature, e.summary()));
        }
        out
    }

    /// Full documentation of `name` (a function, `module::function` or a module).
    pub fn describe(&self, name: &str) -> Option<String> {
        let found = self.find(name);
        if found.is_empty() {
            return None;
        }
        let module_listing = found
            .iter()
            .any(|e| e.name != name && e.name.starts_with(&format!("{name}::")));
        let mut out = String::new();
        for e in found {
            if module_listing {
                out.push_str(&format!("{}\n    {}\n", e.signature, e.summary()));
            } else {
                out.push_str(&format!(
                    "{}    [{}]\n{}\n\n",
                    e.signature,
                    e.origin,
                    indent(&e.doc)
                ));
            }
        }
        Some(out.trim_end().to_string() + "\n")
    }

    /// Names whose signatures start with `prefix`-matching names (for completion).
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.entries.iter().map(|e| e.name.clone()).collect();
        v.dedup();
        v
    }
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

static DOCS: OnceLock<Docs> = OnceLock::new();

/// Records the documentation once, from the first fully built engine.
pub fn init(engine: &rhai::Engine) {
    DOCS.get_or_init(|| Docs::collect(engine));
}

pub fn get() -> &'static Docs {
    static EMPTY: OnceLock<Docs> = OnceLock::new();
    DOCS.get()
        .unwrap_or_else(|| EMPTY.get_or_init(Docs::default))
}

/// Text for `help()` (overview) or `help(name)`.
pub fn help_text(name: Option<&str>) -> String {
    let docs = get();
    match name {
        None => format!(
            "coercive — grains, micromagnetics and learned hysteresis in Rhai.\n\
             Modules: {}\n\
             help(\"name\") documents a function or a module (e.g. help(\"grains\"), help(\"linspace\")).\n\
             `coercive doc` lists every function.\n",
            modules(docs).join(", ")
        ),
        Some(n) => docs
            .describe(n)
            .unwrap_or_else(|| format!("no function or module named `{n}`; try help()\n")),
    }
}

fn modules(docs: &Docs) -> Vec<String> {
    let mut m: Vec<String> = docs
        .entries
        .iter()
        .filter_map(|e| e.name.split_once("::").map(|(m, _)| m.to_string()))
        .collect();
    m.sort();
    m.dedup();
    m
}

//! One source for documentation: the doc comments of native functions, properties,
//! indexers and operators (collected from the engine's metadata) and of stdlib functions
//! (from the parsed stdlib scripts). `help()` in scripts, `coercive doc` and the REPL's
//! completion all read from here.

mod members;
mod types;

pub use types::{script_types, type_of};

use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

/// What an entry documents; the listing shows them in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Function,
    /// `c.h`
    Property,
    /// `a[i]`
    Indexer,
    /// `a + b`
    Operator,
}

#[derive(Debug, Clone)]
pub struct DocEntry {
    /// Qualified name as a script calls it: `grains::voronoi`, `linspace`, `curves::hc`;
    /// `Curve.h` for a property, `NdArray[]` for an indexer, `+` for an operator.
    pub name: String,
    /// `name(param: Type, …) -> Type`, `Curve.h -> NdArray`, `NdArray + float -> NdArray`.
    pub signature: String,
    /// Doc comment text without the `///` markers.
    pub doc: String,
    /// Where it comes from: `native` or `stdlib <module>`.
    pub origin: String,
    pub kind: Kind,
    /// The script type of the first parameter (`Curve`) when it is typed: `help("Curve")`
    /// lists every entry whose receiver it is.
    pub receiver: Option<String>,
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
    /// Rust type names of the registered types → their script names, for [`type_of`].
    pub type_names: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct MetaRoot {
    modules: BTreeMap<String, MetaModule>,
    functions: Vec<MetaFn>,
    custom_types: Vec<MetaType>,
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
    namespace: String,
    params: Vec<MetaParam>,
    return_type: String,
    signature: String,
    doc_comments: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct MetaParam {
    name: Option<String>,
    #[serde(rename = "type")]
    ty: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct MetaType {
    type_name: String,
    display_name: String,
}

impl MetaFn {
    /// The script type of the first parameter, when it is typed.
    fn receiver(&self) -> Option<String> {
        let ty = script_types(self.params.first()?.ty.as_deref()?);
        (ty != "any").then_some(ty)
    }

    /// A property, indexer or operator: its kind, written name and signature.
    fn member(&self) -> Option<(Kind, String, String)> {
        let params: Vec<members::Param> = self
            .params
            .iter()
            .map(|p| members::Param {
                name: p.name.as_deref().unwrap_or("_"),
                ty: p.ty.as_deref().map_or("any".into(), script_types),
            })
            .collect();
        members::describe(&self.name, &params, &script_types(&self.return_type))
    }
}

/// Rhai names closures `anon$…`; they are no part of any interface.
pub fn is_anonymous(name: &str) -> bool {
    name.starts_with("anon$")
}

fn metadata(engine: &rhai::Engine, with_rhai_std: bool) -> MetaRoot {
    let json = engine
        .gen_fn_metadata_to_json(with_rhai_std)
        .unwrap_or_default();
    serde_json::from_str(&json).unwrap_or_default()
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

/// Plain functions by name; properties, indexers and operators come through
/// [`MetaFn::member`], and Rhai's closures not at all.
fn is_function_name(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && !name.contains('$')
}

impl Docs {
    /// Native functions and members registered by coercive (Rhai's own standard library is
    /// left out) plus the stdlib modules.
    pub fn collect(engine: &rhai::Engine) -> Docs {
        let root = metadata(engine, false);
        let type_names = root
            .custom_types
            .iter()
            .map(|t| (t.type_name.clone(), t.display_name.clone()))
            .collect();
        let mut entries = Vec::new();
        let mut push = |prefix: &str, f: MetaFn| {
            if f.doc_comments.is_empty() || is_anonymous(&f.name) {
                return;
            }
            let (kind, name, signature) = match f.member() {
                Some(member) => member,
                None if is_function_name(&f.name) => (
                    Kind::Function,
                    format!("{prefix}{}", f.name),
                    script_types(&format!("{prefix}{}", f.signature)),
                ),
                None => return,
            };
            entries.push(DocEntry {
                name,
                signature,
                doc: clean_comment(&f.doc_comments),
                origin: "native".into(),
                kind,
                receiver: f.receiver(),
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
        entries
            .sort_by(|a, b| (a.kind, &a.name, &a.signature).cmp(&(b.kind, &b.name, &b.signature)));
        entries.dedup_by(|a, b| a.signature == b.signature);
        Docs {
            entries,
            type_names,
        }
    }

    /// Whether `name` is a type some entry takes first (`Curve`, `NdArray`, `map`).
    pub fn is_type(&self, name: &str) -> bool {
        self.entries
            .iter()
            .any(|e| e.receiver.as_deref() == Some(name))
    }

    pub fn find(&self, name: &str) -> Vec<&DocEntry> {
        let exact: Vec<_> = self.entries.iter().filter(|e| e.name == name).collect();
        if !exact.is_empty() {
            return exact;
        }
        // `Curve` lists what a Curve has: properties, methods, indexers, operators.
        if self.is_type(name) {
            return self
                .entries
                .iter()
                .filter(|e| e.receiver.as_deref() == Some(name))
                .collect();
        }
        // `voronoi` finds `grains::voronoi`, `theta` finds `Structure.theta`; `grains`
        // lists the module.
        self.entries
            .iter()
            .filter(|e| {
                e.name.rsplit([':', '.']).next() == Some(name)
                    || e.name.starts_with(&format!("{name}::"))
            })
            .collect()
    }

    /// Two lines per entry: signature and summary.
    pub fn listing(&self) -> String {
        let mut out = String::new();
        for e in &self.entries {
            out.push_str(&format!("{}\n    {}\n", e.signature, e.summary()));
        }
        out
    }

    /// Full documentation of `name` (a function, `module::function`, `Type.property`), or
    /// the listing of a module or a type.
    pub fn describe(&self, name: &str) -> Option<String> {
        let found = self.find(name);
        if found.is_empty() {
            return None;
        }
        let listing = found
            .iter()
            .any(|e| e.name != name && e.name.starts_with(&format!("{name}::")))
            || found.iter().all(|e| e.receiver.as_deref() == Some(name));
        let mut out = String::new();
        for e in found {
            if listing {
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

    /// Function names, qualified as a script calls them (for completion).
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .entries
            .iter()
            .filter(|e| e.kind == Kind::Function)
            .map(|e| e.name.clone())
            .collect();
        v.dedup();
        v
    }

    /// Script names of the registered types.
    pub fn types(&self) -> Vec<String> {
        let set: BTreeSet<&String> = self.type_names.values().collect();
        set.into_iter().cloned().collect()
    }
}

/// What follows a dot for a value of each type: its properties and the functions callable
/// as its methods, Rhai's own (`push`, `keys`) included. For completion; built on demand
/// because Rhai's standard library makes the metadata large.
pub fn members_by_type(engine: &rhai::Engine) -> BTreeMap<String, BTreeSet<String>> {
    let root = metadata(engine, true);
    let methods = root.functions.into_iter().chain(
        root.modules
            .into_values()
            .flat_map(|m| m.functions)
            .filter(|f| f.namespace == "global"),
    );
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in methods {
        let Some(receiver) = f.receiver() else {
            continue;
        };
        let name = match f.name.strip_prefix("get$") {
            Some(prop) => prop,
            None if is_function_name(&f.name) => f.name.as_str(),
            None => continue,
        };
        out.entry(receiver).or_default().insert(name.to_string());
    }
    out
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
             Types: {}\n\
             help(\"name\") documents a function, a module or a type (e.g. help(\"grains\"), \
             help(\"linspace\"), help(\"Curve\")).\n\
             `coercive doc` lists every function, property, indexer and operator.\n",
            modules(docs).join(", "),
            docs.types().join(", ")
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
        .filter(|e| e.kind == Kind::Function)
        .filter_map(|e| e.name.split_once("::").map(|(m, _)| m.to_string()))
        .collect();
    m.sort();
    m.dedup();
    m
}

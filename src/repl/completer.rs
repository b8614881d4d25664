//! Tab completion: variables in the REPL scope, functions defined in the session, native
//! and stdlib functions (`grains::vo<TAB>`), keywords, and after `x.` the properties and
//! methods of the type of `x`'s value (and a map's keys).

use rustyline::Context;
use rustyline::completion::{Completer, Pair};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

const KEYWORDS: &[&str] = &[
    "let", "const", "fn", "if", "else", "for", "in", "while", "loop", "break", "continue",
    "return", "import", "as", "true", "false", "throw", "try", "catch", "switch",
];

/// What completion knows of a variable's value.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Var {
    /// Its type in script words (`Curve`, `map`).
    pub ty: String,
    /// A map's keys.
    pub keys: Vec<String>,
}

/// What the session holds now; the REPL refreshes it after every input.
#[derive(Debug, Default)]
pub struct Known {
    /// Variables and session functions.
    pub names: Vec<String>,
    pub vars: BTreeMap<String, Var>,
}

/// Names known to the session.
#[derive(Default)]
pub struct Names {
    /// Native and stdlib functions, qualified (`grains::voronoi`).
    pub fixed: Vec<String>,
    /// Properties and methods by the type they are called on.
    pub members: BTreeMap<String, BTreeSet<String>>,
    pub dynamic: Arc<Mutex<Known>>,
}

impl Names {
    pub fn candidates(&self, line: &str, pos: usize) -> (usize, Vec<String>) {
        let head = &line[..pos];
        let start = head
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == ':'))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let word = &head[start..];
        let mut out: Vec<String> = match head[..start].strip_suffix('.') {
            Some(before) => self.after_dot(before),
            None => {
                let names = self.dynamic.lock().map(|d| d.names.clone());
                KEYWORDS
                    .iter()
                    .map(|s| s.to_string())
                    .chain(names.unwrap_or_default())
                    .chain(self.fixed.iter().cloned())
                    .chain(
                        self.fixed
                            .iter()
                            .filter_map(|n| n.split_once("::").map(|(m, _)| format!("{m}::"))),
                    )
                    .collect()
            }
        };
        out.retain(|n| n.starts_with(word));
        out.sort();
        out.dedup();
        (start, out)
    }

    /// Members of the value of the variable before the dot, by its type; any member of any
    /// type when the receiver is not a plain variable (`f(x).`, `a.b.`).
    fn after_dot(&self, before: &str) -> Vec<String> {
        let ident_start = before
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let plain = !before[..ident_start].ends_with(['.', ':']);
        let var = plain
            .then(|| {
                self.dynamic
                    .lock()
                    .ok()?
                    .vars
                    .get(&before[ident_start..])
                    .cloned()
            })
            .flatten();
        match var {
            Some(v) => v
                .keys
                .into_iter()
                .chain(self.members.get(&v.ty).into_iter().flatten().cloned())
                .collect(),
            None => self.members.values().flatten().cloned().collect(),
        }
    }
}

impl Completer for Names {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, names) = self.candidates(line, pos);
        Ok((
            start,
            names
                .into_iter()
                .map(|n| Pair {
                    display: n.clone(),
                    replacement: n,
                })
                .collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        let members = [
            ("Curve", &["h", "my", "anchors"][..]),
            ("map", &["keys", "len"][..]),
            ("NdArray", &["sum", "shape"][..]),
        ]
        .into_iter()
        .map(|(t, m)| (t.to_string(), m.iter().map(|s| s.to_string()).collect()))
        .collect();
        let names = Names {
            fixed: vec![
                "io::read_csv".into(),
                "io::write_csv".into(),
                "linspace".into(),
            ],
            members,
            ..Default::default()
        };
        {
            let mut known = names.dynamic.lock().unwrap();
            known.names.push("line_count".into());
            let var = |ty: &str, keys: &[&str]| Var {
                ty: ty.into(),
                keys: keys.iter().map(|s| s.to_string()).collect(),
            };
            known.vars.insert("c".into(), var("Curve", &[]));
            known
                .vars
                .insert("m".into(), var("map", &["mean_size", "n_grains"]));
        }
        names
    }

    #[test]
    fn completes_modules_members_and_methods() {
        let names = names();
        assert_eq!(
            names.candidates("x = io::re", 10),
            (4, vec!["io::read_csv".to_string()])
        );
        assert_eq!(
            names.candidates("lin", 3).1,
            vec!["line_count".to_string(), "linspace".to_string()]
        );
    }

    #[test]
    fn completes_after_a_dot_by_the_value_type() {
        let names = names();
        // A Curve offers a Curve's members only.
        assert_eq!(
            names.candidates("c.", 2),
            (2, vec!["anchors".into(), "h".into(), "my".into()])
        );
        assert_eq!(names.candidates("print(c.m", 9).1, vec!["my".to_string()]);
        // A map offers its keys and the map methods.
        assert_eq!(
            names.candidates("m.", 2).1,
            vec!["keys", "len", "mean_size", "n_grains"]
        );
        // An expression or an unknown name: every member of every type.
        assert_eq!(names.candidates("f(x).s", 6).1, vec!["shape", "sum"]);
        assert_eq!(names.candidates("z.s", 3).1, vec!["shape", "sum"]);
    }
}

//! Tab completion: variables in the REPL scope, functions defined in the session, native
//! and stdlib functions (`grains::vo<TAB>`), methods after a dot, and keywords.

use rustyline::Context;
use rustyline::completion::{Completer, Pair};
use std::sync::{Arc, Mutex};

const KEYWORDS: &[&str] = &[
    "let", "const", "fn", "if", "else", "for", "in", "while", "loop", "break", "continue",
    "return", "import", "as", "true", "false", "throw", "try", "catch", "switch",
];

/// Names known to the session; the REPL refreshes `dynamic` after every line.
#[derive(Default)]
pub struct Names {
    pub fixed: Vec<String>,
    pub dynamic: Arc<Mutex<Vec<String>>>,
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
        let after_dot = head[..start].ends_with('.');
        let dynamic = self.dynamic.lock().map(|d| d.clone()).unwrap_or_default();
        let mut out: Vec<String> = if after_dot {
            // Methods: any function's unqualified name.
            self.fixed
                .iter()
                .filter_map(|n| n.rsplit("::").next())
                .filter(|n| n.starts_with(word))
                .map(String::from)
                .collect()
        } else {
            KEYWORDS
                .iter()
                .map(|s| s.to_string())
                .chain(dynamic)
                .chain(self.fixed.iter().cloned())
                .chain(
                    self.fixed
                        .iter()
                        .filter_map(|n| n.split_once("::").map(|(m, _)| format!("{m}::"))),
                )
                .filter(|n| n.starts_with(word))
                .collect()
        };
        out.sort();
        out.dedup();
        (start, out)
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

    #[test]
    fn completes_modules_members_and_methods() {
        let names = Names {
            fixed: vec![
                "io::read_csv".into(),
                "io::write_csv".into(),
                "linspace".into(),
            ],
            ..Default::default()
        };
        names.dynamic.lock().unwrap().push("line_count".into());
        assert_eq!(
            names.candidates("x = io::re", 10),
            (4, vec!["io::read_csv".to_string()])
        );
        assert_eq!(
            names.candidates("lin", 3).1,
            vec!["line_count".to_string(), "linspace".to_string()]
        );
        assert_eq!(
            names.candidates("a.wri", 5),
            (2, vec!["write_csv".to_string()])
        );
    }
}

//! Imports that outlive their line. Rhai resolves `learn::` while compiling, against the
//! imports of the same text, so a module imported on one REPL line would be unknown on the
//! next; the session registers each imported module as a static module of its engine.

/// `(path, alias)` of each `import "path" as alias` in `text`, outside comments.
pub fn imported(text: &str) -> Vec<(String, String)> {
    let code: String = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = vec![];
    let mut rest = code.as_str();
    while let Some(i) = rest.find("import") {
        let before_ok = rest[..i]
            .chars()
            .last()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        rest = &rest[i + "import".len()..];
        if !before_ok {
            continue;
        }
        let Some(after_quote) = rest.trim_start().strip_prefix('"') else {
            continue;
        };
        let Some((path, tail)) = after_quote.split_once('"') else {
            continue;
        };
        let Some(tail) = tail.trim_start().strip_prefix("as") else {
            continue;
        };
        if !tail.starts_with(char::is_whitespace) {
            continue;
        }
        let tail = tail.trim_start();
        let alias: String = tail
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !alias.is_empty() {
            out.push((path.to_string(), alias));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::imported;

    #[test]
    fn finds_aliased_imports() {
        let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        assert_eq!(
            imported("import \"learn\" as learn; let x = 1;\nimport \"lib/my.rhai\" as my;"),
            pairs(&[("learn", "learn"), ("lib/my.rhai", "my")])
        );
        // No alias, no namespace; comments and other words are not imports.
        assert!(
            imported("import \"report\"; // import \"x\" as y\nreimport(\"a\" as b)").is_empty()
        );
    }
}

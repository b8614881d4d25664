//! The fingerprint of the solver's source that keys the curve cache (`solver::cache`).
//!
//! It reads the code as tokens, so only a change that can alter a compiled curve moves
//! it: comments, doc comments, layout (rustfmt) and `#[cfg(test)]` items (test modules,
//! and files declared as `#[cfg(test)] mod x;`) are left out. Shared by build.rs and
//! tests/solver_cache.rs.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The hex SHA-256 of the compiled code of every `.rs` file under `dir` (sub-folders
/// included). A file that is not valid Rust tokens is hashed as bytes, so it still moves
/// the fingerprint.
pub fn fingerprint(dir: &Path) -> String {
    let mut files = Vec::new();
    collect(dir, &mut files);
    files.sort();
    let sources: Vec<Source> = files.into_iter().map(Source::read).collect();
    let test_only = test_only_files(&sources);
    let mut h = Sha256::new();
    for src in sources
        .iter()
        .filter(|s| !test_only.iter().any(|t| s.path.starts_with(t)))
    {
        let rel = src.path.strip_prefix(dir).unwrap_or(&src.path);
        h.update(rel.to_string_lossy().as_bytes());
        h.update([0]);
        match &src.tokens {
            Some(tokens) => write_code(tokens, &mut h),
            None => h.update(&src.bytes),
        }
        h.update([0xff]);
    }
    format!("{:x}", h.finalize())
}

/// One file, read once: its bytes and, when they are UTF-8 Rust tokens, the tokens.
struct Source {
    path: PathBuf,
    bytes: Vec<u8>,
    tokens: Option<Vec<TokenTree>>,
}

impl Source {
    fn read(path: PathBuf) -> Source {
        let bytes = std::fs::read(&path).unwrap_or_default();
        let tokens = std::str::from_utf8(&bytes)
            .ok()
            .and_then(|text| TokenStream::from_str(text).ok())
            .map(|t| t.into_iter().collect());
        Source {
            path,
            bytes,
            tokens,
        }
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Files and folders of the modules declared `#[cfg(test)] mod name;`: `name.rs` and
/// `name/` beside the declaring file (mod.rs) or in its own folder (other files).
fn test_only_files(sources: &[Source]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for src in sources {
        let Some(tokens) = &src.tokens else { continue };
        let f = &src.path;
        let base = match f.file_stem().and_then(|s| s.to_str()) {
            Some("mod") | Some("lib") | Some("main") => f.parent().map(Path::to_path_buf),
            _ => Some(f.with_extension("")),
        };
        let Some(base) = base else { continue };
        let mut i = 0;
        while i < tokens.len() {
            if let Some(after) = cfg_test_attribute(&tokens, i) {
                let end = item_end(&tokens, after);
                let item: Vec<String> = tokens[after..end]
                    .iter()
                    .filter(|t| !matches!(t, TokenTree::Group(g) if g.delimiter() == Delimiter::Bracket))
                    .filter(|t| !matches!(t, TokenTree::Punct(p) if p.as_char() == '#'))
                    .map(|t| t.to_string())
                    .collect();
                // `pub`, `pub(crate)` … then `mod name ;`
                let item: Vec<&str> = item
                    .iter()
                    .map(String::as_str)
                    .skip_while(|t| *t == "pub" || t.starts_with('('))
                    .collect();
                if let ["mod", name, ";"] = item.as_slice() {
                    out.push(base.join(format!("{name}.rs")));
                    out.push(base.join(name));
                }
                i = end;
            } else {
                i += 1;
            }
        }
    }
    out
}

/// When `tokens[i..]` starts with `#[cfg(test)]`, the index just after it.
fn cfg_test_attribute(tokens: &[TokenTree], i: usize) -> Option<usize> {
    let TokenTree::Punct(p) = tokens.get(i)? else {
        return None;
    };
    let TokenTree::Group(g) = tokens.get(i + 1)? else {
        return None;
    };
    if p.as_char() != '#' || g.delimiter() != Delimiter::Bracket {
        return None;
    }
    let inner: String = g.stream().to_string().split_whitespace().collect();
    (inner == "cfg(test)").then_some(i + 2)
}

/// The index just past the item starting at `tokens[start]`: after its first `;` or
/// `{ … }` at this level. An item with a brace before its end (`const X: S = S { … };`)
/// ends early and leaves its tail in the hash, which only errs towards a new key.
fn item_end(tokens: &[TokenTree], start: usize) -> usize {
    let mut i = start;
    while i < tokens.len() {
        match &tokens[i] {
            TokenTree::Punct(p) if p.as_char() == ';' => return i + 1,
            TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// Writes the code of `tokens` (no comments, no doc attributes, no `#[cfg(test)]`
/// items), each token with its kind, so that layout cannot move the hash.
fn write_code(tokens: &[TokenTree], h: &mut Sha256) {
    let mut i = 0;
    while i < tokens.len() {
        if let Some(after) = cfg_test_attribute(&tokens, i) {
            i = item_end(&tokens, after);
            continue;
        }
        if let Some(after) = doc_attribute(&tokens, i) {
            i = after;
            continue;
        }
        match &tokens[i] {
            TokenTree::Group(g) => {
                let (open, close) = match g.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::None => ("\u{1}", "\u{2}"),
                };
                h.update(open.as_bytes());
                write_code(&g.stream().into_iter().collect::<Vec<_>>(), h);
                h.update(close.as_bytes());
            }
            TokenTree::Ident(id) => {
                h.update(b"i");
                h.update(id.to_string().as_bytes());
                h.update([0]);
            }
            TokenTree::Punct(p) => {
                h.update(b"p");
                h.update(p.as_char().to_string().as_bytes());
                // `a - -b` against `a --b`: spacing is part of the token stream.
                h.update([matches!(p.spacing(), proc_macro2::Spacing::Joint) as u8]);
            }
            TokenTree::Literal(l) => {
                h.update(b"l");
                h.update(l.to_string().as_bytes());
                h.update([0]);
            }
        }
        i += 1;
    }
}

/// When `tokens[i..]` starts with a doc attribute (`#[doc = …]` or `#![doc = …]`, which
/// is what `///` and `//!` comments are), the index just after it.
fn doc_attribute(tokens: &[TokenTree], i: usize) -> Option<usize> {
    let TokenTree::Punct(p) = tokens.get(i)? else {
        return None;
    };
    if p.as_char() != '#' {
        return None;
    }
    let mut j = i + 1;
    if let Some(TokenTree::Punct(bang)) = tokens.get(j) {
        if bang.as_char() == '!' {
            j += 1;
        }
    }
    let TokenTree::Group(g) = tokens.get(j)? else {
        return None;
    };
    if g.delimiter() != Delimiter::Bracket {
        return None;
    }
    let first = g.stream().into_iter().next()?;
    matches!(&first, TokenTree::Ident(id) if id == "doc").then_some(j + 1)
}

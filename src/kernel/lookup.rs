//! Completion and inspection for a cell, from the REPL's completer and the documentation
//! index (`help`, `coercive doc`). Jupyter counts the cursor in characters, Rust in bytes.

use crate::repl::Session;

/// Where the word before char offset `pos` starts (a char offset) and what may replace it.
pub fn complete(session: &Session, code: &str, pos: usize) -> (usize, Vec<String>) {
    let at = byte_of(code, pos);
    let (start, names) = session.completer().candidates(code, at);
    (code[..start].chars().count(), names)
}

/// The documentation of the name under (or just before) char offset `pos`: a function or
/// module (`grains::voronoi`, `linspace`), or a method or property after a variable of a
/// known type (`c.anchors`).
pub fn inspect(session: &Session, code: &str, pos: usize) -> Option<String> {
    let at = byte_of(code, pos);
    let is_name = |c: char| c.is_alphanumeric() || c == '_' || c == ':';
    let start = code[..at]
        .char_indices()
        .rev()
        .find(|(_, c)| !is_name(*c))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let end = code[at..]
        .char_indices()
        .find(|(_, c)| !is_name(*c))
        .map_or(code.len(), |(i, _)| at + i);
    let name = code[start..end].trim_matches(':');
    if name.is_empty() {
        return None;
    }
    let docs = crate::docs::get();
    let receiver_type = code[..start].strip_suffix('.').and_then(|before| {
        let var_start = before
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let known = session.known();
        known.vars.get(&before[var_start..]).map(|v| v.ty.clone())
    });
    receiver_type
        .and_then(|ty| docs.describe(&format!("{ty}.{name}")))
        .or_else(|| docs.describe(name))
}

/// The byte index of char offset `pos` in `code` (its end when past it).
fn byte_of(code: &str, pos: usize) -> usize {
    code.char_indices().nth(pos).map_or(code.len(), |(i, _)| i)
}

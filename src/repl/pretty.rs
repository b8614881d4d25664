//! How the REPL shows a value: as `print` would, except that an array or map too wide for
//! one line is spread over several, indented by depth; an array of numbers is wrapped in
//! rows, anything else gets a line per element. Scripts' `print` is unchanged.

use crate::runner;
use rhai::{Dynamic, Engine};

const INDENT: usize = 2;

/// `v` laid out for a terminal `width` characters wide.
pub fn pretty(engine: &Engine, v: &Dynamic, width: usize) -> String {
    layout(engine, v, 0, 0, width)
}

/// `v` starting at column `col`, its inner lines indented by `indent` + [`INDENT`].
fn layout(engine: &Engine, v: &Dynamic, indent: usize, col: usize, width: usize) -> String {
    let one_line = flat(engine, v);
    let fits = col + one_line.chars().count() <= width && !one_line.contains('\n');
    if fits || !(v.is_array() || v.is_map()) {
        return one_line;
    }
    let pad = " ".repeat(indent + INDENT);
    let mut out = String::new();
    if let Some(items) = v.read_lock::<rhai::Array>() {
        out.push_str("[\n");
        if items.iter().all(is_scalar) {
            // Numbers in rows, as many as fit.
            let mut row = String::new();
            for item in items.iter() {
                let text = format!("{},", flat(engine, item));
                if !row.is_empty() && pad.len() + row.len() + 1 + text.len() > width {
                    out.push_str(&format!("{pad}{row}\n"));
                    row.clear();
                }
                if !row.is_empty() {
                    row.push(' ');
                }
                row.push_str(&text);
            }
            out.push_str(&format!("{pad}{row}\n"));
        } else {
            for item in items.iter() {
                let text = layout(engine, item, indent + INDENT, pad.len(), width);
                out.push_str(&format!("{pad}{text},\n"));
            }
        }
        out.push_str(&" ".repeat(indent));
        out.push(']');
    } else if let Some(map) = v.read_lock::<rhai::Map>() {
        out.push_str("#{\n");
        for (k, item) in map.iter() {
            let key = format!("{:?}: ", k.as_str());
            let text = layout(engine, item, indent + INDENT, pad.len() + key.len(), width);
            out.push_str(&format!("{pad}{key}{text},\n"));
        }
        out.push_str(&" ".repeat(indent));
        out.push('}');
    }
    out
}

/// What `print` shows, in the form it takes inside an array (strings quoted).
fn flat(engine: &Engine, v: &Dynamic) -> String {
    if is_scalar(v) {
        // Rhai prints these itself; skipping the engine keeps long arrays quick.
        v.to_string()
    } else {
        runner::display(engine, v)
    }
}

fn is_scalar(v: &Dynamic) -> bool {
    v.is_int() || v.is_float() || v.is_bool() || v.is_unit() || v.is_char()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `script`'s value as the REPL shows it at `width` columns.
    fn shown(script: &str, width: usize) -> String {
        let e = Engine::new();
        pretty(&e, &e.eval::<Dynamic>(script).unwrap(), width)
    }

    #[test]
    fn short_values_stay_on_one_line() {
        assert_eq!(
            shown("#{a: 1, b: [1, 2]}", 80),
            "#{\"a\": 1, \"b\": [1, 2]}"
        );
        assert_eq!(shown("\"text\"", 80), "\"text\"");
    }

    #[test]
    fn long_maps_and_arrays_spread_over_lines() {
        assert_eq!(
            shown(
                "#{name: \"a rather long name\", values: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], inner: #{x: 1.5}}",
                30
            ),
            "#{\n  \"inner\": #{\"x\": 1.5},\n  \"name\": \"a rather long name\",\n  \"values\": [\n    1, 2, 3, 4, 5, 6, 7, 8, 9,\n    10, 11, 12,\n  ],\n}"
        );
        assert_eq!(
            shown(
                "[\"one string\", \"another string\", \"a third string\"]",
                30
            ),
            "[\n  \"one string\",\n  \"another string\",\n  \"a third string\",\n]"
        );
    }
}

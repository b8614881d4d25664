//! How a cell's value is shown: always as text (as the REPL shows it), and besides as a
//! figure (structures, curves, reversal curves, states) or an HTML table (a text table such as
//! `regressor::table`'s).

use crate::api::solver::{SharedCurve, SharedState};
use crate::plot::Plot;
use crate::repl::Session;
use base64::Engine as _;
use jupyter_protocol::{Media, MediaType};
use rhai::Dynamic;

/// Columns of the text form.
const WIDTH: usize = 100;
/// Pixel size of a structure's figure, as `plot::field` draws it.
const FIELD_SIZE: (u32, u32) = (640, 560);

/// The representations of `v`.
pub fn of_value(session: &Session, v: &Dynamic) -> Media {
    let text = match v.read_lock::<rhai::ImmutableString>() {
        // A text table or a report reads better without quotes and escapes.
        Some(s) if s.contains('\n') => s.to_string(),
        _ => session.show(v, WIDTH),
    };
    let mut media = vec![];
    if let Some(png) = figure(v) {
        media.push(MediaType::Png(png_base64(&png)));
    }
    if let Some(html) = table_html(&text) {
        media.push(MediaType::Html(html));
    }
    media.push(MediaType::Plain(text));
    Media::new(media)
}

/// PNG bytes as a display message carries them.
pub fn png_base64(png: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(png)
}

/// The figure of a structure, curve, reversal-curve set or state; `None` for other values (or a failed drawing,
/// which the text form still describes).
fn figure(v: &Dynamic) -> Option<Vec<u8>> {
    if let Some(c) = v.read_lock::<SharedCurve>() {
        return crate::api::solver::curve_figure(&c)
            .to_png(crate::plot::DEFAULT_SIZE)
            .ok();
    }
    if let Some(f) = v.read_lock::<crate::api::forc::SharedForc>() {
        return crate::plot::forc_plot(&f.data)
            .to_png(crate::plot::DEFAULT_SIZE)
            .ok();
    }
    if let Some(st) = v.read_lock::<SharedState>() {
        return crate::api::solver::state_figure(&st)
            .to_png(crate::api::solver::STATE_FIGURE_SIZE)
            .ok();
    }
    if v.is::<crate::api::grains::SharedStructure>() {
        return crate::api::plot::field_image("display", v)
            .ok()?
            .title("k_x")
            .to_png(FIELD_SIZE)
            .ok();
    }
    None
}

/// An HTML table for a text table: two or more lines whose cells, separated by runs of two
/// or more spaces, are as many on every line (two or more); the first line is the header.
fn table_html(text: &str) -> Option<String> {
    let rows: Vec<Vec<&str>> = text
        .lines()
        .map(|l| {
            l.trim()
                .split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect()
        })
        .collect();
    let width = rows.first()?.len();
    if rows.len() < 2 || width < 2 || rows.iter().any(|r| r.len() != width) {
        return None;
    }
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let row = |cells: &[&str], tag: &str| {
        let cells: String = cells
            .iter()
            .map(|c| format!("<{tag}>{}</{tag}>", escape(c)))
            .collect();
        format!("<tr>{cells}</tr>")
    };
    let body: String = rows[1..].iter().map(|r| row(r, "td")).collect();
    Some(format!(
        "<table><thead>{}</thead><tbody>{body}</tbody></table>",
        row(&rows[0], "th")
    ))
}

#[cfg(test)]
mod tests {
    use super::{figure, table_html};

    #[test]
    fn a_set_of_reversal_curves_is_shown_as_a_figure() {
        use crate::solver::{Mesh, Problem, SweepOptions, Terms, forc};
        let p = Problem::new(Mesh::paper(2, 2).unwrap(), &[0.3; 4])
            .unwrap()
            .with_terms(Terms::all().without_demag());
        let opts = SweepOptions {
            h_step: 0.5,
            ..Default::default()
        };
        let computed = forc(&p, &opts, Some(crate::solver::forc::REJOIN_ANGLE), 1, None).unwrap();
        let f = std::sync::Arc::new(crate::api::forc::ForcSet::from_solver(computed).unwrap());
        let png = figure(&rhai::Dynamic::from(f)).expect("a figure");
        assert!(png.starts_with(b"\x89PNG"), "PNG bytes");
        // A measured set, in its file's units, is shown the same way.
        use crate::forc::{Format, Reversal, Reversals};
        let curves = [(5.0, 1.0), (-5.0, -1.0)]
            .map(|(h_r, m)| Reversal {
                h_r,
                h: vec![h_r, 10.0],
                m: vec![m, 1.0],
            })
            .to_vec();
        let measured = std::sync::Arc::new(crate::api::forc::ForcSet {
            data: Reversals::new(curves, None, false).unwrap(),
            source: crate::api::forc::Source::Measured {
                path: "sample.frc".into(),
                format: Format::Columns,
            },
        });
        let png = figure(&rhai::Dynamic::from(measured)).expect("a figure");
        assert!(png.starts_with(b"\x89PNG"), "PNG bytes");
        // Values without a figure have none.
        assert!(figure(&rhai::Dynamic::from(3_i64)).is_none());
    }

    #[test]
    fn text_tables_become_html_tables() {
        let text = "property  unit  model\nHc        HA    0.0123\nMr        Ms    –";
        assert_eq!(
            table_html(text).unwrap(),
            "<table><thead><tr><th>property</th><th>unit</th><th>model</th></tr></thead>\
             <tbody><tr><td>Hc</td><td>HA</td><td>0.0123</td></tr>\
             <tr><td>Mr</td><td>Ms</td><td>–</td></tr></tbody></table>"
        );
        // Prose, a single line or ragged rows are no table.
        assert_eq!(table_html("one line"), None);
        assert_eq!(table_html("a b\nc d"), None);
        assert_eq!(table_html("a  b\nc  d  e"), None);
    }
}

//! Curve panels: a demagnetisation curve and its anchors; a set of reversal curves.

use super::{Series, Symbol, XyPlot};
use crate::solver::{Anchors, Curve, Forc};

/// A demagnetisation-curve panel: the computed curve (if any), anchors `a` marked and,
/// with `through`, a line drawn through them (predicted anchors, Figures 6–8).
pub fn anchors_plot(title: &str, c: Option<&Curve>, a: &Anchors, through: bool) -> XyPlot {
    let mut p = XyPlot::new()
        .title(title)
        .labels("h = H / HA", "M / Ms")
        .x_range(-1.0, 1.0)
        .y_range(-1.05, 1.05);
    if let Some(c) = c {
        p = p.line("computed", &c.fields(), &c.my());
    }
    let points = a.points();
    if through && points.len() > 1 {
        let (x, y): (Vec<f64>, Vec<f64>) = points.iter().map(|(_, x, y)| (*x, *y)).unzip();
        p = p.line("anchors", &x, &y);
    }
    for (label, x, y) in points {
        p = p.mark(label, x, y, Symbol::Diamond);
    }
    p
}

/// First-order reversal curves: every reversal curve as a thin grey line, the descending
/// branch over them.
pub fn forc_plot(f: &Forc) -> XyPlot {
    let mut p = XyPlot::new()
        .title("First-order reversal curves")
        .labels("h = H / HA", "M / Ms")
        .y_range(-1.05, 1.05);
    for c in &f.reversals {
        p = p.series(Series::line("", &c.fields(), &c.my()).with_color([150, 150, 150]));
    }
    p.line(
        "descending branch",
        &f.descending.fields(),
        &f.descending.my(),
    )
}

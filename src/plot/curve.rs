//! Curve panels: a demagnetisation curve and its anchors; a set of reversal curves and
//! their distribution.

use super::{Series, Symbol, Tiles, XyPlot};
use crate::solver::{Anchors, Curve, Distribution, Forc};

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

/// The FORC diagram: ρ over coercivity h_c (x) and bias field h_u (y), each lattice point
/// the diamond between its neighbours, red below zero, blue above; `step` is the field
/// step of the reversal curves.
pub fn forc_diagram(d: &Distribution, step: f64, smoothing: usize) -> XyPlot {
    let half = (step / 2.0, step / 2.0);
    XyPlot::new()
        .title(format!("FORC distribution (smoothing {smoothing})"))
        .labels("h_c = (h − h_r)/2 in HA", "h_u = (h + h_r)/2 in HA")
        .tiles(Tiles::diamonds(&d.h_c, &d.h_u, &d.rho, half).label("ρ in Ms/HA²"))
}

//! Curve panels: a demagnetisation curve and its anchors; a set of reversal curves and
//! their distribution.

use super::{Series, Symbol, Tiles, XyPlot};
use crate::forc::{Distribution, Reversals};
use crate::solver::{Anchors, Curve};

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
/// branch (their first points) over them.
pub fn forc_plot(r: &Reversals) -> XyPlot {
    let mut p = XyPlot::new().title("First-order reversal curves");
    p = if r.reduced {
        p.labels("h = H / HA", "M / Ms").y_range(-1.05, 1.05)
    } else {
        p.labels("H (file units)", "M (file units)")
    };
    for c in r.curves() {
        p = p.series(Series::line("", &c.h, &c.m).with_color([150, 150, 150]));
    }
    let (h, m) = r.descending();
    p.line("descending branch", &h, &m)
}

/// The FORC diagram: ρ over coercivity h_c (x) and bias field h_u (y), each point the
/// diamond between its neighbours, red below zero, blue above.
pub fn forc_diagram(d: &Distribution, smoothing: usize, units: (&str, &str)) -> XyPlot {
    let (field, moment) = units;
    let half = (d.steps.0 + d.steps.1) / 4.0;
    XyPlot::new()
        .title(format!("FORC distribution (smoothing {smoothing})"))
        .labels(
            format!("h_c = (h − h_r)/2 in {field}"),
            format!("h_u = (h + h_r)/2 in {field}"),
        )
        .tiles(
            Tiles::diamonds(&d.h_c, &d.h_u, &d.rho, (half, half))
                .label(format!("ρ in {moment}/{field}²")),
        )
}

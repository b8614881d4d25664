//! Figures of several panels: a gallery of structures and a morph strip.

use ndarray::Array2;

use super::{Image, keep, scratch};
use crate::colormap;
use crate::plot::{FieldImage, Figure, Legend, Panel, Plot, PlotError, XyPlot};

/// A structure of 4×4 grains with a k_x that depends on `seed`, and its id map.
fn structure(seed: usize) -> (Array2<f64>, Array2<u32>) {
    let ids = Array2::from_shape_fn((32, 32), |(j, i)| ((i / 8) + 4 * (j / 8)) as u32);
    let kx = ids.mapv(|g| (((g as usize * 7 + seed * 5) % 13) as f64 / 6.0 - 1.0).clamp(-1.0, 1.0));
    (kx, ids)
}

fn curve(hc: f64) -> XyPlot {
    let h: Vec<f64> = (0..61).map(|k| 1.0 - k as f64 / 30.0).collect();
    let m: Vec<f64> = h.iter().map(|&h| ((h + hc) * 6.0).tanh()).collect();
    XyPlot::new()
        .labels("h", "M/Ms")
        .line("", &h, &m)
        .x_range(-1.0, 1.0)
        .y_range(-1.1, 1.1)
        .legend(Legend::Hidden)
}

fn gallery() -> Figure {
    (0..6).fold(Figure::new(2, 3).title("Six structures"), |f, k| {
        let (kx, ids) = structure(k);
        let img = FieldImage::new(kx.view())
            .title(format!("structure {k}"))
            .colorbar_label("k_x");
        f.panel(img.grains(ids.view()).unwrap())
    })
}

#[test]
fn gallery_panels_land_in_their_cells() {
    let fig = gallery();
    let size = (900, 560);
    let img = Image::from_rgb(size, fig.render_rgb(size).unwrap());
    let cells = fig.cells(size).unwrap();
    assert_eq!(cells.len(), 6);
    assert_eq!((cells[5].x1, cells[5].y1), (900, 560));
    assert!(cells[0].y0 > 0, "title band above the grid");
    for (k, cell) in cells.iter().enumerate() {
        let Panel::Field(p) = &fig.panels[k] else {
            unreachable!()
        };
        let lay = p
            .layout((cell.width() as u32, cell.height() as u32))
            .unwrap();
        let c = lay.cell(4, 28); // grain (0, 3): top-left quarter of the picture
        let (x, y) = (cell.x0 + (c.x0 + c.x1) / 2, cell.y0 + (c.y0 + c.y1) / 2);
        assert_eq!(
            img.at(x as u32, y as u32),
            colormap::rgb(p.field[[28, 4]]),
            "panel {k}"
        );
    }
    // The figure title renders above the panels.
    assert!(img.ink((300, 600), (0, cells[0].y0 as u32)) > 100);
}

#[test]
fn morph_strip_png_and_svg() {
    let (_guard, dir) = scratch();
    let n = 4;
    let mut fig = Figure::new(2, n)
        .title("Morph A → B")
        .row_weights(&[1.0, 1.2])
        .panel_size(300, 260);
    for k in 0..n {
        let (kx, _) = structure(k);
        fig = fig.panel(
            FieldImage::new(kx.view())
                .title(format!("t = {:.2}", k as f64 / 3.0))
                .with_colorbar(k == n - 1),
        );
    }
    for k in 0..n {
        fig = fig.panel(curve(0.2 + 0.1 * k as f64));
    }
    let cells = fig.cells(fig.default_size()).unwrap();
    assert!(
        cells[n].height() > cells[0].height(),
        "second row is taller"
    );
    let png = dir.join("morph.png");
    fig.save(&png).unwrap();
    let img = Image::read(&png);
    assert_eq!((img.w, img.h), fig.default_size());
    keep(&png);
    gallery().save(dir.join("gallery.svg")).unwrap();
    keep(&dir.join("gallery.svg"));
    let (_g, d2) = scratch();
    gallery().save(d2.join("gallery.png")).unwrap();
    keep(&d2.join("gallery.png"));
}

#[test]
fn bad_grids_are_reported() {
    let err = |f: Figure| f.render_rgb((400, 300)).unwrap_err();
    assert!(matches!(
        err(Figure::new(0, 3)),
        PlotError::EmptyGrid { .. }
    ));
    let three = Figure::new(1, 2)
        .panel(Panel::Empty)
        .panel(Panel::Empty)
        .panel(Panel::Empty);
    assert_eq!(
        err(three).to_string(),
        "figure has 3 panels but only 1×2 = 2 cells"
    );
    let e = err(Figure::new(2, 1).row_weights(&[1.0]));
    assert!(
        e.to_string()
            .starts_with("row weights must be 2 positive numbers"),
        "{e}"
    );
    // Panels too small to lay out are refused, not drawn into a panic.
    let tiny = (0..20).fold(Figure::new(1, 20), |f, _| f.panel(curve(0.3)));
    assert!(matches!(err(tiny), PlotError::Size { .. }));
    // A partly filled grid is fine; errors inside a panel come through.
    Figure::new(2, 2)
        .panel(curve(0.1))
        .render_rgb((400, 300))
        .unwrap();
    let bad = Figure::new(1, 1).panel(XyPlot::new());
    assert_eq!(err(bad).to_string(), "plot is empty: nothing to plot");
}

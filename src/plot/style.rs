//! Sizes that scale with the panel and the series colours, so a panel in a 2×6 gallery
//! and a full 800×600 plot both look proportionate.

use plotters::style::{IntoFont, RGBColor, TextStyle};

use super::font::FAMILY;

/// matplotlib's "tab10": distinct and readable in print.
const PALETTE: [[u8; 3]; 10] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
    [227, 119, 194],
    [127, 127, 127],
    [188, 189, 34],
    [23, 190, 207],
];

/// The k-th palette colour, as RGB bytes (for series that must share one, e.g. a line and
/// its spread).
pub fn palette(k: usize) -> [u8; 3] {
    PALETTE[k % PALETTE.len()]
}

/// The k-th series colour unless `own` overrides it.
pub fn series_color(k: usize, own: Option<[u8; 3]>) -> RGBColor {
    let [r, g, b] = own.unwrap_or(palette(k));
    RGBColor(r, g, b)
}

/// Font sizes, line width and margins for a panel of `w`×`h` pixels.
#[derive(Clone, Copy, Debug)]
pub struct Scale {
    pub title: f64,
    pub label: f64,
    pub tick: f64,
    pub line: u32,
    pub marker: u32,
    pub margin: u32,
}

impl Scale {
    pub fn of(w: u32, h: u32) -> Scale {
        let base = w.min(h) as f64;
        // Text grows with the square root of the panel: readable in a small gallery panel
        // (~11 px at 320) without shouting in a full plot (~15 px at 600).
        let root = base.sqrt();
        Scale {
            title: (0.82 * root).clamp(9.0, 32.0),
            label: (0.70 * root).clamp(8.0, 28.0),
            tick: (0.62 * root).clamp(8.0, 24.0),
            line: (base / 300.0).round().clamp(1.0, 3.0) as u32,
            marker: (base / 150.0).round().clamp(2.0, 6.0) as u32,
            margin: (base * 0.025).round().clamp(3.0, 20.0) as u32,
        }
    }

    pub fn font(px: f64) -> TextStyle<'static> {
        (FAMILY, px).into_font().into()
    }
}

//! A vertical colorbar in the paper's colormap: the bar, its ticks and its label, beside a
//! field image or a map of tiles.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::error::Result;
use super::field::{MISSING, PixelRect, frame};
use super::range::{tick_label, ticks};
use super::style::Scale;
use crate::colormap;

/// The colours of values in [vmin, vmax] (red … blue), and how they are labelled.
#[derive(Clone, Copy, Debug)]
pub(super) struct Colorbar<'a> {
    pub vmin: f64,
    pub vmax: f64,
    pub label: &'a str,
}

impl Colorbar<'_> {
    /// Pixel width of the bar in a panel of `(w, h)`.
    pub fn width((w, h): (u32, u32)) -> i32 {
        (w.min(h) as f64 * 0.035).round().max(8.0) as i32
    }

    /// Colour of `v`; grey where it is NaN or infinite.
    pub fn color(&self, v: f64) -> RGBColor {
        let [r, g, b] = if v.is_finite() {
            colormap::rgb_in(v, self.vmin, self.vmax)
        } else {
            MISSING
        };
        RGBColor(r, g, b)
    }

    /// Ticks with their labels.
    fn ticks(&self) -> Vec<(f64, String)> {
        let (values, step) = ticks(self.vmin, self.vmax, 4);
        values
            .into_iter()
            .map(|v| (v, tick_label(v, step)))
            .collect()
    }

    /// Pixel width of the widest tick label.
    fn widest_tick(&self, s: Scale) -> i32 {
        let widths = self
            .ticks()
            .into_iter()
            .map(|(_, t)| text_size(&t, s.tick).0);
        widths.max().unwrap_or(0)
    }

    /// Pixels right of the bar for its ticks, their labels and its label.
    pub fn labels_width(&self, s: Scale) -> i32 {
        let label_w = self.widest_tick(s);
        let title_w = if self.label.is_empty() {
            0
        } else {
            (s.label * 1.6) as i32
        };
        tick_len(s) + 3 + label_w + title_w
    }

    /// Draws the bar into `bar`, its ticks and labels to its right.
    pub fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        bar: &PixelRect,
        s: Scale,
    ) -> Result<()> {
        let n = bar.height();
        // Pixel row k from the bottom shows vmin + k/(n−1)·(vmax − vmin): exact end colours.
        let value_at =
            |k: i32| self.vmin + (self.vmax - self.vmin) * k as f64 / (n - 1).max(1) as f64;
        for k in 0..n {
            let y = bar.y1 - 1 - k;
            let row = [(bar.x0, y), (bar.x1, y + 1)];
            area.draw(&Rectangle::new(row, self.color(value_at(k)).filled()))?;
        }
        frame(area, bar)?;
        let font = Scale::font(s.tick).pos(Pos::new(HPos::Left, VPos::Center));
        let len = tick_len(s);
        for (v, label) in self.ticks() {
            let k = ((v - self.vmin) / (self.vmax - self.vmin) * (n - 1) as f64).round() as i32;
            let y = bar.y1 - 1 - k;
            area.draw(&PathElement::new(
                vec![(bar.x1, y), (bar.x1 + len, y)],
                BLACK.stroke_width(1),
            ))?;
            area.draw_text(&label, &font, (bar.x1 + len + 3, y))?;
        }
        if !self.label.is_empty() {
            let x = bar.x1 + len + 3 + self.widest_tick(s) + (s.label * 0.9) as i32;
            let font = Scale::font(s.label)
                .transform(FontTransform::Rotate270)
                .pos(Pos::new(HPos::Center, VPos::Center));
            area.draw_text(self.label, &font, (x, (bar.y0 + bar.y1) / 2))?;
        }
        Ok(())
    }
}

fn tick_len(s: Scale) -> i32 {
    (s.tick * 0.35).round() as i32
}

/// Width and height of `text` in the bundled font at `px`.
fn text_size(text: &str, px: f64) -> (i32, i32) {
    let (w, h) = Scale::font(px).font.box_size(text).unwrap_or((0, 0));
    (w as i32, h as i32)
}

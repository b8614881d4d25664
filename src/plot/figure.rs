//! Several panels in one figure on a rows × cols grid: a gallery of structures, or a
//! morph strip (decoded structures in a row above their demagnetisation curves).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::error::{PlotError, Result};
use super::field::{FieldImage, PixelRect};
use super::output::Plot;
use super::style::Scale;
use super::xy::XyPlot;

/// One cell of a figure.
#[derive(Clone, Debug, PartialEq)]
pub enum Panel {
    Xy(XyPlot),
    Field(FieldImage),
    /// Left blank (e.g. to finish a row).
    Empty,
}

impl From<XyPlot> for Panel {
    fn from(p: XyPlot) -> Panel {
        Panel::Xy(p)
    }
}

impl From<FieldImage> for Panel {
    fn from(p: FieldImage) -> Panel {
        Panel::Field(p)
    }
}

impl Plot for Panel {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()> {
        match self {
            Panel::Xy(p) => p.draw(area),
            Panel::Field(p) => p.draw(area),
            Panel::Empty => Ok(area.fill(&WHITE)?),
        }
    }
}

/// Panels filled in row-major order; cells without a panel stay blank.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    pub rows: usize,
    pub cols: usize,
    pub title: String,
    pub panels: Vec<Panel>,
    /// Relative row heights (empty: all equal).
    pub row_weights: Vec<f64>,
    /// Size of one panel for [`Plot::save`]; the figure's default size follows from it.
    pub panel_size: (u32, u32),
}

impl Figure {
    pub fn new(rows: usize, cols: usize) -> Figure {
        Figure {
            rows,
            cols,
            title: String::new(),
            panels: Vec::new(),
            row_weights: Vec::new(),
            panel_size: (400, 320),
        }
    }

    pub fn title(mut self, title: impl Into<String>) -> Figure {
        self.title = title.into();
        self
    }

    /// Adds the next panel (row-major).
    pub fn panel(mut self, p: impl Into<Panel>) -> Figure {
        self.panels.push(p.into());
        self
    }

    pub fn row_weights(mut self, weights: &[f64]) -> Figure {
        self.row_weights = weights.to_vec();
        self
    }

    pub fn panel_size(mut self, w: u32, h: u32) -> Figure {
        self.panel_size = (w, h);
        self
    }

    fn check(&self) -> Result<()> {
        let (rows, cols) = (self.rows, self.cols);
        if rows == 0 || cols == 0 {
            return Err(PlotError::EmptyGrid { rows, cols });
        }
        let cells = rows.saturating_mul(cols);
        if self.panels.len() > cells {
            return Err(PlotError::TooManyPanels {
                panels: self.panels.len(),
                rows,
                cols,
                cells,
            });
        }
        let w = &self.row_weights;
        if !w.is_empty() && (w.len() != rows || !w.iter().all(|v| v.is_finite() && *v > 0.0)) {
            return Err(PlotError::BadOption(format!(
                "row weights must be {rows} positive numbers (one per row): got {w:?}"
            )));
        }
        Ok(())
    }

    fn title_band(&self, (w, h): (u32, u32)) -> i32 {
        if self.title.is_empty() {
            0
        } else {
            (Scale::of(w, h).title * 1.2 * 1.8) as i32
        }
    }

    /// Pixel rectangle of each grid cell (row-major) in an image of `(w, h)`.
    pub fn cells(&self, (w, h): (u32, u32)) -> Result<Vec<PixelRect>> {
        self.check()?;
        let top = self.title_band((w, h));
        let weights = if self.row_weights.is_empty() {
            vec![1.0; self.rows]
        } else {
            self.row_weights.clone()
        };
        let total: f64 = weights.iter().sum();
        let avail = (h as i32 - top).max(0) as f64;
        // Cumulative edges, rounded once, so neighbouring cells share their edge exactly.
        let mut ys = vec![top];
        let mut acc = 0.0;
        for wgt in &weights {
            acc += wgt;
            ys.push(top + (avail * acc / total).round() as i32);
        }
        let xs: Vec<i32> = (0..=self.cols)
            .map(|c| (w as f64 * c as f64 / self.cols as f64).round() as i32)
            .collect();
        Ok((0..self.rows)
            .flat_map(|r| (0..self.cols).map(move |c| (r, c)))
            .map(|(r, c)| PixelRect {
                x0: xs[c],
                x1: xs[c + 1],
                y0: ys[r],
                y1: ys[r + 1],
            })
            .collect())
    }
}

impl Plot for Figure {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()> {
        let size = area.dim_in_pixel();
        let cells = self.cells(size)?;
        area.fill(&WHITE)?;
        if !self.title.is_empty() {
            let s = Scale::of(size.0, size.1);
            let font = Scale::font(s.title * 1.2).pos(Pos::new(HPos::Center, VPos::Top));
            area.draw_text(&self.title, &font, (size.0 as i32 / 2, s.margin as i32))?;
        }
        for (panel, r) in self.panels.iter().zip(&cells) {
            let sub = area
                .clone()
                .shrink((r.x0, r.y0), (r.width() as u32, r.height() as u32));
            panel.draw(&sub)?;
        }
        Ok(())
    }

    fn default_size(&self) -> (u32, u32) {
        let (w, h) = self.panel_size;
        let band = if self.title.is_empty() { 0 } else { 48 };
        (
            w.saturating_mul(self.cols.max(1) as u32),
            h.saturating_mul(self.rows.max(1) as u32) + band,
        )
    }
}

//! Scalar fields on a grid (easy-axis component k_x of a grain structure, a
//! magnetisation component) as nearest-neighbour images in the paper's colormap, with a
//! colorbar and optional grain boundaries.

use ndarray::{Array2, ArrayView2};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::colorbar::Colorbar;
use super::error::{PlotError, Result};
use super::output::{Plot, check_size_of};
use super::range::checked;
use super::style::Scale;

/// Colour of cells whose value is NaN or infinite: neutral grey, distinct from the map.
pub const MISSING: [u8; 3] = [128, 128, 128];
/// Colour of grain boundaries.
const BOUNDARY: RGBColor = BLACK;

/// A half-open pixel rectangle [x0, x1) × [y0, y1), y down as in the image file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PixelRect {
    pub x0: i32,
    pub y0: i32,
    pub x1: i32,
    pub y1: i32,
}

impl PixelRect {
    pub fn width(&self) -> i32 {
        self.x1 - self.x0
    }

    pub fn height(&self) -> i32 {
        self.y1 - self.y0
    }

    /// As plotters' rectangle corners (its filled rectangles are half-open too).
    fn corners(&self) -> [(i32, i32); 2] {
        [(self.x0, self.y0), (self.x1, self.y1)]
    }
}

/// Where a field image puts its cells and its colorbar inside a panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldLayout {
    pub image: PixelRect,
    pub colorbar: Option<PixelRect>,
    pub nx: usize,
    pub ny: usize,
}

impl FieldLayout {
    /// Pixel rectangle of cell (i, j) = field[[j, i]]; row j = 0 is at the bottom.
    pub fn cell(&self, i: usize, j: usize) -> PixelRect {
        let edge = |k: usize, n: usize, len: i32| (k as f64 * len as f64 / n as f64).round() as i32;
        let im = &self.image;
        PixelRect {
            x0: im.x0 + edge(i, self.nx, im.width()),
            x1: im.x0 + edge(i + 1, self.nx, im.width()),
            y0: im.y1 - edge(j + 1, self.ny, im.height()),
            y1: im.y1 - edge(j, self.ny, im.height()),
        }
    }
}

/// Which neighbouring cells belong to different grains.
#[derive(Clone, Debug, PartialEq)]
struct Boundaries {
    /// [ny, nx−1]: cell (i, j) and (i+1, j) differ.
    right: Array2<bool>,
    /// [ny−1, nx]: cell (i, j) and (i, j+1) differ.
    up: Array2<bool>,
}

/// A 2-D field [ny, nx] drawn as an image, row 0 at the bottom (y up).
#[derive(Clone, Debug, PartialEq)]
pub struct FieldImage {
    pub field: Array2<f64>,
    /// Values mapped to the ends of the colormap (red … blue).
    pub vmin: f64,
    pub vmax: f64,
    pub title: String,
    pub colorbar: bool,
    pub colorbar_label: String,
    boundaries: Option<Boundaries>,
}

impl FieldImage {
    /// The field over the default range [−1, 1], with a colorbar.
    pub fn new(field: ArrayView2<f64>) -> FieldImage {
        FieldImage {
            field: field.to_owned(),
            vmin: -1.0,
            vmax: 1.0,
            title: String::new(),
            colorbar: true,
            colorbar_label: String::new(),
            boundaries: None,
        }
    }

    pub fn title(mut self, title: impl Into<String>) -> FieldImage {
        self.title = title.into();
        self
    }

    pub fn range(mut self, vmin: f64, vmax: f64) -> FieldImage {
        self.vmin = vmin;
        self.vmax = vmax;
        self
    }

    pub fn colorbar_label(mut self, label: impl Into<String>) -> FieldImage {
        self.colorbar_label = label.into();
        self
    }

    /// Shows or hides the colorbar (a strip of structures may share one legend).
    pub fn with_colorbar(mut self, on: bool) -> FieldImage {
        self.colorbar = on;
        self
    }

    /// Overlays the boundaries between grains of the id map `ids` (same shape as the field).
    pub fn grains<T: PartialEq>(mut self, ids: ArrayView2<T>) -> Result<FieldImage> {
        let (ny, nx) = self.field.dim();
        if ids.dim() != (ny, nx) {
            let (gy, gx) = ids.dim();
            let what = "grain id map".to_string();
            return Err(PlotError::ShapeMismatch {
                what,
                expected: [ny, nx],
                got: [gy, gx],
            });
        }
        let right = Array2::from_shape_fn((ny, nx.saturating_sub(1)), |(j, i)| {
            ids[[j, i]] != ids[[j, i + 1]]
        });
        let up = Array2::from_shape_fn((ny.saturating_sub(1), nx), |(j, i)| {
            ids[[j, i]] != ids[[j + 1, i]]
        });
        self.boundaries = Some(Boundaries { right, up });
        Ok(self)
    }

    fn check(&self) -> Result<(f64, f64)> {
        if self.field.is_empty() {
            return Err(PlotError::Empty(format!(
                "field of shape {:?}",
                self.field.shape()
            )));
        }
        if !self.field.iter().any(|v| v.is_finite()) {
            return Err(PlotError::NoFinite("field".to_string()));
        }
        checked("colour", (self.vmin, self.vmax))
    }

    fn color(&self, v: f64) -> RGBColor {
        self.bar().color(v)
    }

    /// The colorbar of this image's range and label.
    fn bar(&self) -> Colorbar<'_> {
        Colorbar {
            vmin: self.vmin,
            vmax: self.vmax,
            label: &self.colorbar_label,
        }
    }

    /// Where the cells and the colorbar go in a panel of `(w, h)` pixels: cells are
    /// square, the image is as large as fits beside the colorbar and under the title.
    pub fn layout(&self, (w, h): (u32, u32)) -> Result<FieldLayout> {
        self.check()?;
        check_size_of("panel", (w, h))?;
        super::font::ensure();
        let s = Scale::of(w, h);
        let (ny, nx) = self.field.dim();
        let m = s.margin as i32;
        let top = m + if self.title.is_empty() {
            0
        } else {
            (s.title * 1.5) as i32
        };
        let bar = Colorbar::width((w, h));
        let side = if self.colorbar {
            m + bar + self.bar().labels_width(s)
        } else {
            0
        };
        let (aw, ah) = (w as i32 - 2 * m - side, h as i32 - top - m);
        let cell = (aw as f64 / nx as f64).min(ah as f64 / ny as f64);
        let (iw, ih) = (
            (cell * nx as f64).round() as i32,
            (cell * ny as f64).round() as i32,
        );
        // Fewer pixels than cells is allowed (nearest-neighbour decimation); none is not.
        if iw < 1 || ih < 1 {
            return Err(PlotError::BadOption(format!(
                "panel {w}×{h} leaves {aw}×{ah} pixels for a field of {nx}×{ny} cells: make it larger"
            )));
        }
        let x0 = m + (aw - iw) / 2;
        let y0 = top + (ah - ih) / 2;
        let image = PixelRect {
            x0,
            y0,
            x1: x0 + iw,
            y1: y0 + ih,
        };
        let colorbar = self.colorbar.then(|| PixelRect {
            x0: image.x1 + m,
            y0,
            x1: image.x1 + m + bar,
            y1: image.y1,
        });
        Ok(FieldLayout {
            image,
            colorbar,
            nx,
            ny,
        })
    }
}

impl Plot for FieldImage {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()> {
        let (w, h) = area.dim_in_pixel();
        let lay = self.layout((w, h))?;
        let s = Scale::of(w, h);
        area.fill(&WHITE)?;
        if !self.title.is_empty() {
            let font = Scale::font(s.title).pos(Pos::new(HPos::Center, VPos::Top));
            area.draw_text(
                &self.title,
                &font,
                ((lay.image.x0 + lay.image.x1) / 2, s.margin as i32),
            )?;
        }
        self.draw_cells(area, &lay)?;
        if let Some(b) = &self.boundaries {
            draw_boundaries(area, &lay, b)?;
        }
        frame(area, &lay.image)?;
        if let Some(bar) = lay.colorbar {
            self.bar().draw(area, &bar, s)?;
        }
        Ok(())
    }
}

/// A 1-pixel black frame just outside `r`, so that no cell or bar pixel is covered.
pub(super) fn frame<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    r: &PixelRect,
) -> Result<()> {
    area.draw(&Rectangle::new(
        [(r.x0 - 1, r.y0 - 1), (r.x1, r.y1)],
        BLACK.stroke_width(1),
    ))?;
    Ok(())
}

impl FieldImage {
    /// One rectangle per run of equal colour in a row: exact pixels in PNG, small SVGs
    /// for piecewise-constant grain structures.
    fn draw_cells<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        lay: &FieldLayout,
    ) -> Result<()> {
        for (j, row) in self.field.outer_iter().enumerate() {
            let mut start = 0;
            for i in 1..=lay.nx {
                let c = self.color(row[start]);
                if i < lay.nx && self.color(row[i]) == c {
                    continue;
                }
                let (a, b) = (lay.cell(start, j), lay.cell(i - 1, j));
                let run = PixelRect { x1: b.x1, ..a };
                area.draw(&Rectangle::new(run.corners(), c.filled()))?;
                start = i;
            }
        }
        Ok(())
    }
}

/// Grain boundaries as 1-pixel lines on the first pixel column/row past each cell edge,
/// merged along runs of boundary cells.
fn draw_boundaries<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    lay: &FieldLayout,
    b: &Boundaries,
) -> Result<()> {
    let style = BOUNDARY.filled();
    // Vertical segments: between columns i and i+1, over rows j0..j1.
    for (i, runs) in runs_along(&b.right.t()) {
        for (j0, j1) in runs {
            let x = lay.cell(i + 1, 0).x0;
            let r = PixelRect {
                x0: x,
                x1: x + 1,
                y0: lay.cell(0, j1 - 1).y0,
                y1: lay.cell(0, j0).y1,
            };
            area.draw(&Rectangle::new(r.corners(), style))?;
        }
    }
    // Horizontal segments: between rows j and j+1 (the upper cell's bottom edge).
    for (j, runs) in runs_along(&b.up.view()) {
        for (i0, i1) in runs {
            let y = lay.cell(0, j + 1).y1 - 1;
            let r = PixelRect {
                x0: lay.cell(i0, 0).x0,
                x1: lay.cell(i1 - 1, 0).x1,
                y0: y,
                y1: y + 1,
            };
            area.draw(&Rectangle::new(r.corners(), style))?;
        }
    }
    Ok(())
}

/// For each row k of `mask`, the runs [a, b) of consecutive `true`.
fn runs_along(mask: &ArrayView2<bool>) -> Vec<(usize, Vec<(usize, usize)>)> {
    mask.outer_iter()
        .enumerate()
        .map(|(k, row)| {
            let mut runs = Vec::new();
            let mut start = None;
            for (i, &on) in row.iter().chain(std::iter::once(&false)).enumerate() {
                match (on, start) {
                    (true, None) => start = Some(i),
                    (false, Some(a)) => {
                        runs.push((a, i));
                        start = None;
                    }
                    _ => {}
                }
            }
            (k, runs)
        })
        .collect()
}

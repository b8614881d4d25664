//! x–y plots: labelled lines (demagnetisation curves with their anchor points) and point
//! sets (parity plots of predicted against true values, with the y = x line).

use std::iter::once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::clip::{self, Window};
use super::colorbar::Colorbar;
use super::error::{PlotError, Result};
use super::field::PixelRect;
use super::output::{Plot, check_size_of};
use super::range::{axis_label, checked, finite_extent, padded, ticks};
use super::style::{Scale, series_color};
use super::tiles::Tiles;

/// One data set: drawn as a line, as points, or both.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub label: String,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub line: bool,
    pub markers: bool,
    /// Overrides the palette colour.
    pub color: Option<[u8; 3]>,
}

impl Series {
    /// A line through the points in order (NaN breaks it).
    pub fn line(label: impl Into<String>, x: &[f64], y: &[f64]) -> Series {
        Series {
            label: label.into(),
            x: x.to_vec(),
            y: y.to_vec(),
            line: true,
            markers: false,
            color: None,
        }
    }

    /// Unconnected points, as in a scatter plot.
    pub fn points(label: impl Into<String>, x: &[f64], y: &[f64]) -> Series {
        Series {
            markers: true,
            line: false,
            ..Series::line(label, x, y)
        }
    }

    /// Also draws (or hides) a marker on every point.
    pub fn with_markers(mut self, on: bool) -> Series {
        self.markers = on;
        self
    }

    pub fn with_color(mut self, rgb: [u8; 3]) -> Series {
        self.color = Some(rgb);
        self
    }

    fn check(&self) -> Result<()> {
        let what = || format!("series `{}`", self.label);
        if self.x.len() != self.y.len() {
            return Err(PlotError::LengthMismatch {
                what: what(),
                x: self.x.len(),
                y: self.y.len(),
            });
        }
        if self.x.is_empty() {
            return Err(PlotError::Empty(what()));
        }
        Ok(())
    }

    /// Finite points only: NaN or infinite coordinates are skipped, not drawn at the edge.
    fn finite_points(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.x
            .iter()
            .zip(&self.y)
            .map(|(&x, &y)| (x, y))
            .filter(|(x, y)| x.is_finite() && y.is_finite())
    }
}

/// Shape of a labelled marker point.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Symbol {
    #[default]
    Circle,
    Square,
    Triangle,
    Diamond,
    Cross,
}

/// A labelled point such as an anchor of a demagnetisation curve (M1, Mr, Hk90, …).
/// Non-finite marks (an anchor the curve never reached) are skipped.
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    pub label: String,
    pub x: f64,
    pub y: f64,
    pub symbol: Symbol,
}

impl Mark {
    fn finite(&self) -> Option<(f64, f64)> {
        (self.x.is_finite() && self.y.is_finite()).then_some((self.x, self.y))
    }
}

/// Corner of the legend box.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Legend {
    #[default]
    UpperLeft,
    UpperRight,
    LowerLeft,
    LowerRight,
    Hidden,
}

/// A line or scatter plot: series, marks, titles, and optionally fixed or equal ranges and
/// the y = x diagonal. Build with the chained setters, draw with [`Plot`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct XyPlot {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    pub marks: Vec<Mark>,
    pub x_range: Option<(f64, f64)>,
    pub y_range: Option<(f64, f64)>,
    /// Same automatic range on both axes (parity plots).
    pub equal_ranges: bool,
    /// Dashed y = x line across the range both axes share.
    pub diagonal: bool,
    pub legend: Legend,
    /// Coloured tiles under the series, with their colorbar at the right.
    pub tiles: Option<Tiles>,
}

impl XyPlot {
    pub fn new() -> XyPlot {
        XyPlot::default()
    }

    pub fn title(mut self, title: impl Into<String>) -> XyPlot {
        self.title = title.into();
        self
    }

    pub fn labels(mut self, x: impl Into<String>, y: impl Into<String>) -> XyPlot {
        self.x_label = x.into();
        self.y_label = y.into();
        self
    }

    pub fn series(mut self, s: Series) -> XyPlot {
        self.series.push(s);
        self
    }

    pub fn line(self, label: impl Into<String>, x: &[f64], y: &[f64]) -> XyPlot {
        self.series(Series::line(label, x, y))
    }

    pub fn points(self, label: impl Into<String>, x: &[f64], y: &[f64]) -> XyPlot {
        self.series(Series::points(label, x, y))
    }

    pub fn mark(mut self, label: impl Into<String>, x: f64, y: f64, symbol: Symbol) -> XyPlot {
        self.marks.push(Mark {
            label: label.into(),
            x,
            y,
            symbol,
        });
        self
    }

    pub fn x_range(mut self, lo: f64, hi: f64) -> XyPlot {
        self.x_range = Some((lo, hi));
        self
    }

    pub fn y_range(mut self, lo: f64, hi: f64) -> XyPlot {
        self.y_range = Some((lo, hi));
        self
    }

    pub fn equal_ranges(mut self, on: bool) -> XyPlot {
        self.equal_ranges = on;
        self
    }

    pub fn diagonal(mut self, on: bool) -> XyPlot {
        self.diagonal = on;
        self
    }

    pub fn legend(mut self, legend: Legend) -> XyPlot {
        self.legend = legend;
        self
    }

    pub fn tiles(mut self, tiles: Tiles) -> XyPlot {
        self.tiles = Some(tiles);
        self
    }

    /// Validates the data and returns the (x, y) axis ranges that will be drawn.
    pub fn ranges(&self) -> Result<((f64, f64), (f64, f64))> {
        if self.series.is_empty() && self.tiles.is_none() {
            return Err(PlotError::Empty(self.what()));
        }
        for s in &self.series {
            s.check()?;
        }
        if let Some(t) = &self.tiles {
            t.check()?;
        }
        let tile_corners = self.tiles.iter().flat_map(Tiles::corners);
        let pts: Vec<(f64, f64)> = (self.series.iter().flat_map(Series::finite_points))
            .chain(self.marks.iter().filter_map(Mark::finite))
            .chain(tile_corners)
            .collect();
        if pts.is_empty() {
            return Err(PlotError::NoFinite(self.what()));
        }
        let (ex, ey) = match (
            finite_extent(pts.iter().map(|p| &p.0)),
            finite_extent(pts.iter().map(|p| &p.1)),
        ) {
            (Some(ex), Some(ey)) => (ex, ey),
            _ => return Err(PlotError::NoFinite(self.what())),
        };
        let (ex, ey) = if self.equal_ranges {
            let both = (ex.0.min(ey.0), ex.1.max(ey.1));
            (both, both)
        } else {
            (ex, ey)
        };
        let x = checked("x", self.x_range.unwrap_or_else(|| padded(ex)))?;
        let y = checked("y", self.y_range.unwrap_or_else(|| padded(ey)))?;
        Ok((x, y))
    }

    fn what(&self) -> String {
        if self.title.is_empty() {
            "plot".to_string()
        } else {
            format!("plot `{}`", self.title)
        }
    }
}

impl Plot for XyPlot {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()> {
        let (xr, yr) = self.ranges()?;
        let (w, h) = area.dim_in_pixel();
        check_size_of("panel", (w, h))?;
        let s = Scale::of(w, h);
        area.fill(&WHITE)?;
        // Tiles take a strip at the right for their colorbar.
        let bar_w = Colorbar::width((w, h));
        let side_w = match &self.tiles {
            Some(t) => s.margin as i32 + bar_w + t.colorbar().labels_width(s),
            None => 0,
        };
        let (area, side) = area.split_horizontally(w as i32 - side_w);
        let mut builder = ChartBuilder::on(&area);
        builder
            .margin(s.margin)
            .x_label_area_size(s.tick * 1.6 + s.label * 1.8)
            .y_label_area_size(s.tick * 3.0 + s.label * 1.6);
        if !self.title.is_empty() {
            builder.caption(&self.title, Scale::font(s.title));
        }
        let mut chart = builder.build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)?;
        // Labels with the decimals the tick step needs ("100", not "100.0").
        let (x_step, y_step) = (ticks(xr.0, xr.1, 7).1, ticks(yr.0, yr.1, 7).1);
        chart
            .configure_mesh()
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .label_style(Scale::font(s.tick))
            .axis_desc_style(Scale::font(s.label))
            .bold_line_style(RGBColor(225, 225, 225))
            .light_line_style(TRANSPARENT)
            .x_labels(7)
            .y_labels(7)
            .x_label_formatter(&|v| axis_label(*v, x_step))
            .y_label_formatter(&|v| axis_label(*v, y_step))
            .draw()?;
        // Tiles under everything else, the frame included.
        if let Some(t) = &self.tiles {
            chart.draw_series(t.polygons())?;
        }
        // A closed frame, as journals print it (plotters draws only the left/bottom axes).
        // In pixels: the data-space corner (x_hi, y_hi) lands one pixel outside the area.
        let plot_px = chart.plotting_area().strip_coord_spec();
        let (pw, ph) = plot_px.dim_in_pixel();
        plot_px.draw(&Rectangle::new(
            [(0, 0), (pw as i32 - 1, ph as i32 - 1)],
            BLACK.stroke_width(1),
        ))?;

        if let Some(t) = &self.tiles {
            let (top, left) = (plot_px.get_base_pixel(), side.get_base_pixel());
            let bar = PixelRect {
                x0: s.margin as i32,
                y0: top.1 - left.1,
                x1: s.margin as i32 + bar_w,
                y1: top.1 - left.1 + ph as i32,
            };
            t.colorbar().draw(&side, &bar, s)?;
        }
        let window = Window::new(xr, yr);
        if self.diagonal {
            let (lo, hi) = (xr.0.max(yr.0), xr.1.min(yr.1));
            if lo < hi {
                let grey = RGBColor(110, 110, 110).stroke_width(s.line.saturating_sub(1).max(1));
                chart.draw_series(DashedLineSeries::new(
                    [(lo, lo), (hi, hi)],
                    3 * s.marker,
                    2 * s.marker,
                    grey,
                ))?;
            }
        }
        for (k, series) in self.series.iter().enumerate() {
            let color = series_color(k, series.color);
            if series.line {
                for run in clip::runs(&series.x, &series.y, &window) {
                    chart.draw_series(LineSeries::new(run, color.stroke_width(s.line)))?;
                }
            }
            if series.markers {
                let inside = series.finite_points().filter(|p| window.contains(*p));
                chart.draw_series(inside.map(|p| Circle::new(p, s.marker, color.filled())))?;
            }
            if !series.label.is_empty() {
                // The legend's sample is drawn as the series is: the part not drawn is
                // transparent, which keeps one concrete element type for the closure.
                let shown = |on: bool| if on { color.to_rgba() } else { TRANSPARENT };
                let path_style = shown(series.line).stroke_width(s.line);
                let dot_style = shown(series.markers).filled();
                let (len, r) = ((4 * s.marker + 8) as i32, s.marker);
                // An empty series only to carry the legend entry (lines may be split in runs).
                chart
                    .draw_series(std::iter::empty::<Circle<(f64, f64), u32>>())?
                    .label(series.label.as_str())
                    .legend(move |at| {
                        EmptyElement::at(at)
                            + PathElement::new(vec![(0, 0), (len, 0)], path_style)
                            + Circle::new((len / 2, 0), r, dot_style)
                    });
            }
        }
        for m in &self.marks {
            let Some(p) = m.finite().filter(|p| window.contains(*p)) else {
                continue;
            };
            draw_mark(&mut chart, m, p, (xr.0 + xr.1) / 2.0, s)?;
        }
        let labelled = self.series.iter().any(|s| !s.label.is_empty());
        if let (true, Some(pos)) = (labelled, corner(self.legend)) {
            chart
                .configure_series_labels()
                .position(pos)
                .label_font(Scale::font(s.tick))
                .background_style(WHITE.mix(0.9))
                .border_style(RGBColor(160, 160, 160))
                .margin(s.margin)
                .draw()?;
        }
        Ok(())
    }
}

fn corner(l: Legend) -> Option<SeriesLabelPosition> {
    match l {
        Legend::UpperLeft => Some(SeriesLabelPosition::UpperLeft),
        Legend::UpperRight => Some(SeriesLabelPosition::UpperRight),
        Legend::LowerLeft => Some(SeriesLabelPosition::LowerLeft),
        Legend::LowerRight => Some(SeriesLabelPosition::LowerRight),
        Legend::Hidden => None,
    }
}

type Chart<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// A black symbol with its label beside it, on the side facing the plot's centre.
fn draw_mark<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    m: &Mark,
    p: (f64, f64),
    x_mid: f64,
    s: Scale,
) -> Result<()> {
    let r = (s.marker as f64 * 1.6).round() as i32;
    let ink = BLACK.filled();
    let at = EmptyElement::at(p);
    match m.symbol {
        Symbol::Circle => chart.draw_series(once(at + Circle::new((0, 0), r, ink)))?,
        Symbol::Square => chart.draw_series(once(at + Rectangle::new([(-r, -r), (r, r)], ink)))?,
        Symbol::Triangle => chart.draw_series(once(
            at + Polygon::new(vec![(0, -r - 1), (r, r), (-r, r)], ink),
        ))?,
        Symbol::Diamond => chart.draw_series(once(
            at + Polygon::new(vec![(0, -r - 1), (r + 1, 0), (0, r + 1), (-r - 1, 0)], ink),
        ))?,
        Symbol::Cross => {
            let stroke = BLACK.stroke_width(s.line + 1);
            let a = PathElement::new(vec![(-r, -r), (r, r)], stroke);
            let b = PathElement::new(vec![(-r, r), (r, -r)], stroke);
            chart.draw_series(once(EmptyElement::at(p) + a + b))?
        }
    };
    let (dx, h) = if p.0 <= x_mid {
        (r + 3, HPos::Left)
    } else {
        (-r - 3, HPos::Right)
    };
    let font = Scale::font(s.tick).pos(Pos::new(h, VPos::Bottom));
    chart.draw_series(once(
        EmptyElement::at(p) + Text::new(m.label.clone(), (dx, -r), font),
    ))?;
    Ok(())
}

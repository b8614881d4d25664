//! A scalar on the points of a lattice, drawn as coloured tiles under an x–y plot's axes
//! with a colorbar: the FORC diagram (ρ over h_c and h_u), whose points tile the plane as
//! diamonds.

use plotters::prelude::*;

use super::colorbar::Colorbar;
use super::error::{PlotError, Result};

/// Values at points (x, y), each drawn as the diamond |Δx|/half.0 + |Δy|/half.1 ≤ 1
/// around its point; NaN in grey.
#[derive(Clone, Debug, PartialEq)]
pub struct Tiles {
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub values: Vec<f64>,
    /// Half-diagonals of a diamond along x and y.
    pub half: (f64, f64),
    /// Values at the colormap's ends (red, blue).
    pub range: (f64, f64),
    pub label: String,
}

impl Tiles {
    /// Diamonds over a range symmetric about 0 (white), as large as the largest |value|:
    /// a signed density reads as red below zero and blue above.
    pub fn diamonds(x: &[f64], y: &[f64], values: &[f64], half: (f64, f64)) -> Tiles {
        let top = values
            .iter()
            .filter(|v| v.is_finite())
            .fold(0.0f64, |m, v| m.max(v.abs()));
        let top = if top > 0.0 { top } else { 1.0 };
        Tiles {
            x: x.to_vec(),
            y: y.to_vec(),
            values: values.to_vec(),
            half,
            range: (-top, top),
            label: String::new(),
        }
    }

    pub fn label(mut self, label: impl Into<String>) -> Tiles {
        self.label = label.into();
        self
    }

    pub(super) fn check(&self) -> Result<()> {
        let n = self.values.len();
        if n == 0 || self.x.len() != n || self.y.len() != n {
            return Err(PlotError::BadOption(format!(
                "tiles need as many x ({}), y ({}) and values ({n}), at least one",
                self.x.len(),
                self.y.len()
            )));
        }
        let (hx, hy) = self.half;
        if !(hx.is_finite() && hy.is_finite() && hx > 0.0 && hy > 0.0) {
            return Err(PlotError::BadOption(format!(
                "tile half-widths must be finite and > 0, got ({hx}, {hy})"
            )));
        }
        Ok(())
    }

    /// The corners of every tile at a finite point: the extent the axes must show.
    pub(super) fn corners(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        let (hx, hy) = self.half;
        let points = self.x.iter().zip(&self.y);
        points
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .flat_map(move |(&x, &y)| [(x - hx, y), (x + hx, y), (x, y - hy), (x, y + hy)])
    }

    pub(super) fn colorbar(&self) -> Colorbar<'_> {
        Colorbar {
            vmin: self.range.0,
            vmax: self.range.1,
            label: &self.label,
        }
    }

    /// One filled diamond per point, in data coordinates.
    pub(super) fn polygons(&self) -> impl Iterator<Item = Polygon<(f64, f64)>> + '_ {
        let (hx, hy) = self.half;
        let bar = self.colorbar();
        (0..self.values.len())
            .filter(|&k| self.x[k].is_finite() && self.y[k].is_finite())
            .map(move |k| {
                let (x, y) = (self.x[k], self.y[k]);
                let corners = vec![(x - hx, y), (x, y + hy), (x + hx, y), (x, y - hy)];
                Polygon::new(corners, bar.color(self.values[k]).filled())
            })
    }
}

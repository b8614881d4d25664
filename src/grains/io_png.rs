//! PNG pictures painted with the project colormap: k_x = sin ψ, red −1 … white 0 … blue +1.
//! Image row 0 is the top, i.e. j = ny − 1 (y up, as a physicist draws it); each cell is a
//! `scale` × `scale` block of pixels.
//!
//! Reading inverts the colormap: each colour gives k_x, and ψ = asin k_x ∈ [−π/2, π/2] (sin ψ
//! cannot tell ψ from π − ψ, so axes beyond ±90° come back mirrored). A round trip is exact to
//! the colormap's 8-bit resolution on k_x (about 0.01–0.02), not on ψ. Grains are the
//! 4-connected regions of one colour. Boundaries and scale bars are drawn in black, which is
//! not a colormap colour: a picture with them is refused on reading, as is any colour farther
//! than `max_dist2` (squared RGB distance) from the colormap.

use super::error::{Result, format_err, in_file, invalid, io_err};
use super::structure::{MAX_CELLS, Structure};
use crate::colormap;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::Path;

const BLACK: [u8; 3] = [0, 0, 0];

#[derive(Clone, Debug, PartialEq)]
pub struct PngOptions {
    /// Pixels per cell side.
    pub scale: usize,
    /// Black one-pixel lines where neighbouring cells belong to different grains.
    pub boundaries: bool,
    /// A black bar of this length (nm) at the bottom left.
    pub scale_bar_nm: Option<f64>,
}

impl Default for PngOptions {
    fn default() -> Self {
        PngOptions {
            scale: 4,
            boundaries: false,
            scale_bar_nm: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct PngReadOptions {
    /// Cell size (nm) of the structure read.
    pub cell_nm: f64,
    /// Pixels per cell side; None finds the largest block size at which every block is one
    /// colour.
    pub scale: Option<usize>,
    /// Largest squared RGB distance from the colormap accepted.
    pub max_dist2: u32,
}

impl Default for PngReadOptions {
    fn default() -> Self {
        PngReadOptions {
            cell_nm: super::DEFAULT_CELL_NM,
            scale: None,
            max_dist2: 48,
        }
    }
}

impl Structure {
    /// The RGB picture (row 0 at the top), width nx·scale, height ny·scale.
    pub fn render_rgb(&self, o: &PngOptions) -> Result<(usize, usize, Vec<u8>)> {
        let s = o.scale;
        let (w, h) = (self.nx().saturating_mul(s), self.ny().saturating_mul(s));
        if s == 0 || w.saturating_mul(h) > MAX_CELLS {
            return Err(invalid(
                "PNG scale",
                format!("≥ 1 pixel per cell and ≤ {MAX_CELLS} pixels"),
                s,
            ));
        }
        let colour: Vec<[u8; 3]> = self
            .grain_angles()
            .iter()
            .map(|a| colormap::rgb(a.sin()))
            .collect();
        let mut img = vec![0u8; w * h * 3];
        let g = |i: usize, j: usize| self.grains()[self.index(i, j)];
        for py in 0..h {
            let j = self.ny() - 1 - py / s;
            for px in 0..w {
                let i = px / s;
                let right = px % s == s - 1 && i + 1 < self.nx() && g(i + 1, j) != g(i, j);
                let top = py % s == 0 && j + 1 < self.ny() && g(i, j + 1) != g(i, j);
                let c = if o.boundaries && (right || top) {
                    BLACK
                } else {
                    colour[g(i, j) as usize]
                };
                img[3 * (py * w + px)..3 * (py * w + px) + 3].copy_from_slice(&c);
            }
        }
        if let Some(nm) = o.scale_bar_nm {
            let len = (nm / self.cell_nm() * s as f64).round();
            let margin = (w / 40).max(2);
            let thick = (h / 80).max(2);
            if !(len >= 1.0 && len as usize + 2 * margin <= w && thick + 2 * margin <= h) {
                return Err(invalid(
                    "scale bar (nm)",
                    format!("a length that fits in the {w} px wide picture"),
                    nm,
                ));
            }
            for py in h - margin - thick..h - margin {
                for px in margin..margin + len as usize {
                    img[3 * (py * w + px)..3 * (py * w + px) + 3].copy_from_slice(&BLACK);
                }
            }
        }
        Ok((w, h, img))
    }

    pub fn write_png(&self, path: impl AsRef<Path>, o: &PngOptions) -> Result<()> {
        let path = path.as_ref();
        let (w, h, img) = self.render_rgb(o)?;
        let fail = |e: png::EncodingError| format_err(path, "writing", "a PNG file", e);
        let file = File::create(path).map_err(|e| io_err(path, e))?;
        let mut enc = png::Encoder::new(BufWriter::new(file), w as u32, h as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(fail)?;
        writer.write_image_data(&img).map_err(fail)?;
        writer.finish().map_err(fail)
    }

    /// Reads a picture painted with the colormap (see the module notes).
    pub fn read_png(path: impl AsRef<Path>, o: &PngReadOptions) -> Result<Structure> {
        let path = path.as_ref();
        let (w, h, rgb) = decode(path)?;
        let s = match o.scale {
            Some(s) if s >= 1 && w % s == 0 && h % s == 0 => s,
            Some(s) => {
                return Err(format_err(
                    path,
                    "size",
                    format!("a multiple of the scale {s} on both sides"),
                    format!("{w} × {h} px"),
                ));
            }
            None => infer_scale(w, h, &rgb),
        };
        let (nx, ny) = (w / s, h / s);
        // Cell (i, j) reads pixel (i·s, (ny − 1 − j)·s), its block's top-left corner.
        let pixel = |c: usize| {
            let (i, j) = (c % nx, c / nx);
            let k = 3 * ((ny - 1 - j) * s * w + i * s);
            [rgb[k], rgb[k + 1], rgb[k + 2]]
        };
        let colours: Vec<[u8; 3]> = (0..nx * ny).map(pixel).collect();
        let mut value: HashMap<[u8; 3], f64> = HashMap::new();
        for (c, col) in colours.iter().enumerate() {
            if value.contains_key(col) {
                continue;
            }
            let (v, d) = colormap::value_of(*col);
            if d > o.max_dist2 {
                let (i, j) = (c % nx, c / nx);
                return Err(format_err(
                    path,
                    format!(
                        "pixel (x {}, y {}) of cell (i {i}, j {j})",
                        i * s,
                        (ny - 1 - j) * s
                    ),
                    format!("a colormap colour (squared RGB distance ≤ {})", o.max_dist2),
                    format!(
                        "#{:02x}{:02x}{:02x} at distance {d}",
                        col[0], col[1], col[2]
                    ),
                ));
            }
            value.insert(*col, v);
        }
        super::raster::from_keys(nx, ny, o.cell_nm, &colours, |c| {
            value[c].clamp(-1.0, 1.0).asin()
        })
        .map_err(|e| in_file(path, e))
    }
}

/// The picture as 8-bit RGB (grey expanded, alpha dropped, 16-bit reduced).
fn decode(path: &Path) -> Result<(usize, usize, Vec<u8>)> {
    let fail = |e: png::DecodingError| format_err(path, "decoding", "a PNG picture", e);
    let file = File::open(path).map_err(|e| io_err(path, e))?;
    let mut dec = png::Decoder::new(BufReader::new(file));
    dec.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = dec.read_info().map_err(fail)?;
    let (w, h) = (reader.info().width as usize, reader.info().height as usize);
    if w.saturating_mul(h) > MAX_CELLS {
        return Err(format_err(
            path,
            "size",
            format!("at most {MAX_CELLS} pixels"),
            format!("{w} × {h}"),
        ));
    }
    let mut buf = vec![0u8; reader.output_buffer_size().unwrap_or(0)];
    let info = reader.next_frame(&mut buf).map_err(fail)?;
    let channels = info.color_type.samples();
    if info.line_size < w * channels || buf.len() < h * info.line_size {
        return Err(format_err(
            path,
            "pixel data",
            format!("{h} rows of {w} pixels"),
            format!("{} bytes", buf.len()),
        ));
    }
    let mut rgb = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        let row = &buf[y * info.line_size..y * info.line_size + w * channels];
        for p in row.chunks_exact(channels) {
            match channels {
                1 | 2 => rgb.extend_from_slice(&[p[0], p[0], p[0]]),
                _ => rgb.extend_from_slice(&p[..3]),
            }
        }
    }
    Ok((w, h, rgb))
}

/// The largest s dividing both sides such that every s × s block is one colour.
fn infer_scale(w: usize, h: usize, rgb: &[u8]) -> usize {
    let px = |x: usize, y: usize| &rgb[3 * (y * w + x)..3 * (y * w + x) + 3];
    let uniform = |s: usize| (0..h).all(|y| (0..w).all(|x| px(x, y) == px(x - x % s, y - y % s)));
    let g = gcd(w, h);
    (1..=g)
        .rev()
        .filter(|s| g % s == 0)
        .find(|&s| uniform(s))
        .unwrap_or(1)
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

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
//!
//! The grid and cell size are written into the picture (a `tEXt` chunk `coercive` holding
//! `{"nx":…,"ny":…,"cell_nm":…,"scale":…}`) and read back from it; a picture without it needs
//! the pixels per cell from the caller (never guessed from colour runs: a grain can span
//! several cells).

use super::error::{Result, format_err, in_file, invalid, io_err};
use super::structure::{MAX_CELLS, Structure};
use crate::colormap;
use std::collections::HashMap;
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
    /// Cell size (nm): the picture's own when it has one (a different value here is an
    /// error), else this, else [`DEFAULT_CELL_NM`](super::DEFAULT_CELL_NM).
    pub cell_nm: Option<f64>,
    /// Pixels per cell side: the picture's own when it has one (a different value here is
    /// an error), else this; required for pictures without coercive's metadata.
    pub scale: Option<usize>,
    /// Largest squared RGB distance from the colormap accepted.
    pub max_dist2: u32,
}

impl Default for PngReadOptions {
    fn default() -> Self {
        PngReadOptions {
            cell_nm: None,
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
        let meta = Meta {
            nx: self.nx(),
            ny: self.ny(),
            cell_nm: self.cell_nm(),
            scale: o.scale,
        };
        let mut bytes = Vec::new();
        let mut enc = png::Encoder::new(&mut bytes, w as u32, h as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.add_text_chunk(META_KEY.into(), serde_json::to_string(&meta).expect("meta"))
            .map_err(fail)?;
        let mut writer = enc.write_header().map_err(fail)?;
        writer.write_image_data(&img).map_err(fail)?;
        writer.finish().map_err(fail)?;
        crate::fsio::write(path, &bytes).map_err(|e| io_err(path, e))?;
        crate::display::figure(&bytes);
        Ok(())
    }

    /// Reads a picture painted with the colormap (see the module notes).
    pub fn read_png(path: impl AsRef<Path>, o: &PngReadOptions) -> Result<Structure> {
        let path = path.as_ref();
        let (w, h, rgb, meta) = decode(path)?;
        let agree = |what: &str, file: String, given: String| {
            format_err(
                path,
                what,
                format!("the value given, {given} (leave it out to take the picture's)"),
                format!("{file} in the picture's metadata"),
            )
        };
        let (s, cell_nm) = match &meta {
            Some(m) => {
                if let Some(s) = o.scale.filter(|&s| s != m.scale) {
                    return Err(agree("scale", m.scale.to_string(), s.to_string()));
                }
                if let Some(c) = o.cell_nm.filter(|&c| c != m.cell_nm) {
                    return Err(agree("cell_nm", m.cell_nm.to_string(), c.to_string()));
                }
                (m.scale, m.cell_nm)
            }
            None => {
                let s = o.scale.ok_or_else(|| {
                    format_err(
                        path,
                        "metadata",
                        "coercive's grid metadata or the pixels per cell (`scale`) given",
                        "a picture without them",
                    )
                })?;
                (s, o.cell_nm.unwrap_or(super::DEFAULT_CELL_NM))
            }
        };
        if s == 0 || w % s != 0 || h % s != 0 {
            return Err(format_err(
                path,
                "size",
                format!("a multiple of the scale {s} on both sides"),
                format!("{w} × {h} px"),
            ));
        }
        let (nx, ny) = (w / s, h / s);
        if let Some(m) = meta.filter(|m| (m.nx, m.ny) != (nx, ny)) {
            return Err(format_err(
                path,
                "size",
                format!(
                    "{} × {} px ({} × {} cells of {s} px, as its metadata says)",
                    m.nx.saturating_mul(s),
                    m.ny.saturating_mul(s),
                    m.nx,
                    m.ny
                ),
                format!("{w} × {h} px"),
            ));
        }
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
        super::raster::from_keys(nx, ny, cell_nm, &colours, |c| {
            value[c].clamp(-1.0, 1.0).asin()
        })
        .map_err(|e| in_file(path, e))
    }
}

const META_KEY: &str = "coercive";

/// The grid a picture was painted from, in its `tEXt` chunk `coercive`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Meta {
    nx: usize,
    ny: usize,
    cell_nm: f64,
    scale: usize,
}

/// The picture as 8-bit RGB (grey expanded, alpha dropped, 16-bit reduced) and its grid
/// metadata when it has some.
type Decoded = (usize, usize, Vec<u8>, Option<Meta>);

fn decode(path: &Path) -> Result<Decoded> {
    let fail = |e: png::DecodingError| format_err(path, "decoding", "a PNG picture", e);
    let bytes = std::fs::read(path).map_err(|e| io_err(path, e))?;
    let mut dec = png::Decoder::new(std::io::Cursor::new(&bytes[..]));
    dec.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = dec.read_info().map_err(fail)?;
    let (w, h) = (reader.info().width as usize, reader.info().height as usize);
    let meta = match reader
        .info()
        .uncompressed_latin1_text
        .iter()
        .find(|t| t.keyword == META_KEY)
    {
        None => None,
        Some(t) => Some(serde_json::from_str::<Meta>(&t.text).map_err(|e| {
            format_err(
                path,
                "tEXt chunk coercive",
                "{\"nx\":…,\"ny\":…,\"cell_nm\":…,\"scale\":…}",
                e,
            )
        })?),
    };
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
    Ok((w, h, rgb, meta))
}

//! Writing a plot to disk: the format follows the path's extension (.png or .svg), the
//! PNG is encoded here from plotters' RGB buffer (no `image` crate).

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::{BitMapBackend, DrawingArea, DrawingBackend, IntoDrawingArea, SVGBackend};

use super::error::{PlotError, Result};
use super::font;

/// Size used by [`Plot::save`] unless the plot asks for another.
pub const DEFAULT_SIZE: (u32, u32) = (800, 600);

/// Smallest edge of an image or panel: below this axes and labels cannot be laid out.
pub const MIN_EDGE: u32 = 32;
/// Largest image edge: keeps a typo (e.g. 80000) from allocating gigabytes.
pub const MAX_EDGE: u32 = 16384;

/// Output formats, chosen by extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Png,
    Svg,
}

impl Format {
    /// The format of `path` from its extension (case-insensitive).
    pub fn of(path: &Path) -> Result<Format> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
        {
            Some(e) if e == "png" => Ok(Format::Png),
            Some(e) if e == "svg" => Ok(Format::Svg),
            Some(e) => Err(PlotError::Extension(format!("`.{e}`"))),
            None => Err(PlotError::Extension(format!(
                "(none in `{}`)",
                path.display()
            ))),
        }
    }
}

/// Anything that can draw itself into a plotters area: single plots, panels, figures.
pub trait Plot {
    /// Draws into `area` (any backend); the area's size sets fonts and margins.
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()>;

    /// The size [`Plot::save`] uses.
    fn default_size(&self) -> (u32, u32) {
        DEFAULT_SIZE
    }

    /// Writes the plot at its default size; the format follows the extension.
    fn save(&self, path: impl AsRef<Path>) -> Result<()>
    where
        Self: Sized,
    {
        self.save_sized(path, self.default_size())
    }

    /// Writes the plot at `(width, height)` pixels; the format follows the extension. With a
    /// front end attached ([`crate::display`]) the figure is shown there too, and an empty
    /// path shows it without writing a file.
    fn save_sized(&self, path: impl AsRef<Path>, size: (u32, u32)) -> Result<()>
    where
        Self: Sized,
    {
        let path = path.as_ref();
        if path.as_os_str().is_empty() && crate::display::attached() {
            crate::display::figure(&self.to_png(size)?);
            return Ok(());
        }
        let format = Format::of(path)?;
        check_size(size)?;
        check_directory(path)?;
        let write = |bytes: &[u8]| {
            crate::fsio::write(path, bytes).map_err(|source| PlotError::Write {
                path: path.to_path_buf(),
                source,
            })
        };
        match format {
            Format::Png => {
                let png = self.to_png(size)?;
                write(&png)?;
                crate::display::figure(&png);
                Ok(())
            }
            Format::Svg => {
                // Drawn into memory first: plotters' file backend writes on drop, which
                // would leave a partial file behind when a panel fails.
                font::ensure();
                let mut svg = String::new();
                {
                    let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
                    self.draw(&root)?;
                    root.present()?;
                }
                write(svg.as_bytes())?;
                if crate::display::attached() {
                    crate::display::figure(&self.to_png(size)?);
                }
                Ok(())
            }
        }
    }

    /// The plot as PNG bytes at `(width, height)` pixels.
    fn to_png(&self, size: (u32, u32)) -> Result<Vec<u8>>
    where
        Self: Sized,
    {
        encode_png(size, &self.render_rgb(size)?)
    }

    /// Renders to an RGB buffer (row-major from the top, 3 bytes a pixel).
    fn render_rgb(&self, (w, h): (u32, u32)) -> Result<Vec<u8>>
    where
        Self: Sized,
    {
        check_size((w, h))?;
        font::ensure();
        let mut buf = vec![255u8; w as usize * h as usize * 3];
        {
            let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
            self.draw(&root)?;
            root.present()?;
        }
        Ok(buf)
    }
}

/// Checks that an image (`what` = "image") or a panel has a size we can lay out.
pub(crate) fn check_size_of(what: &'static str, (w, h): (u32, u32)) -> Result<()> {
    let ok = |e| (MIN_EDGE..=MAX_EDGE).contains(&e);
    if ok(w) && ok(h) {
        Ok(())
    } else {
        Err(PlotError::Size {
            what,
            w,
            h,
            min: MIN_EDGE,
            max: MAX_EDGE,
        })
    }
}

fn check_size(size: (u32, u32)) -> Result<()> {
    check_size_of("image", size)
}

/// Directories are not created: a missing one is usually a typo in the script.
fn check_directory(path: &Path) -> Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.is_dir() => {
            Err(PlotError::NoDirectory(dir.to_path_buf()))
        }
        _ => Ok(()),
    }
}

/// An RGB buffer (row-major from the top, 3 bytes a pixel) as PNG bytes.
pub fn encode_png((w, h): (u32, u32), rgb: &[u8]) -> Result<Vec<u8>> {
    let png = |source| PlotError::Png {
        path: "<image>".into(),
        source,
    };
    let mut bytes = Vec::new();
    let mut enc = png::Encoder::new(&mut bytes, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(png)?;
    writer.write_image_data(rgb).map_err(png)?;
    writer.finish().map_err(png)?;
    Ok(bytes)
}

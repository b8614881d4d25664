//! Tests of the plot core: files are written and decode, pixels carry the right colours,
//! text renders, and bad or degenerate input gives errors, never panics.

mod field;
mod tiles;
mod figure;
mod xy;

use std::path::{Path, PathBuf};

/// An RGB image read back from a PNG file.
pub struct Image {
    pub w: u32,
    pub h: u32,
    pub rgb: Vec<u8>,
}

impl Image {
    pub fn read(path: &Path) -> Image {
        let file = std::io::BufReader::new(std::fs::File::open(path).expect("open png"));
        let mut reader = png::Decoder::new(file).read_info().expect("png header");
        let mut rgb = vec![0; reader.output_buffer_size().expect("size")];
        let info = reader.next_frame(&mut rgb).expect("png data");
        assert_eq!(info.color_type, png::ColorType::Rgb);
        rgb.truncate(info.buffer_size());
        Image {
            w: info.width,
            h: info.height,
            rgb,
        }
    }

    pub fn from_rgb((w, h): (u32, u32), rgb: Vec<u8>) -> Image {
        assert_eq!(rgb.len(), (w * h * 3) as usize);
        Image { w, h, rgb }
    }

    pub fn at(&self, x: u32, y: u32) -> [u8; 3] {
        let k = 3 * (y * self.w + x) as usize;
        [self.rgb[k], self.rgb[k + 1], self.rgb[k + 2]]
    }

    /// Pixels in [x0, x1) × [y0, y1) that are not white.
    pub fn ink(&self, (x0, x1): (u32, u32), (y0, y1): (u32, u32)) -> usize {
        (y0..y1)
            .flat_map(|y| (x0..x1).map(move |x| (x, y)))
            .filter(|&(x, y)| self.at(x, y) != [255; 3])
            .count()
    }
}

/// A fresh directory for one test's files (removed when the guard drops).
pub fn scratch() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    (dir, path)
}

/// Copies `path` into $PLOT_KEEP (if set) so a person can look at the figure.
pub fn keep(path: &Path) {
    if let Some(dir) = std::env::var_os("PLOT_KEEP") {
        let name = path.file_name().expect("file name");
        std::fs::copy(path, Path::new(&dir).join(name)).expect("keep copy");
    }
}

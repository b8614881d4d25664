//! VTK XML files for ParaView and VisIt, which read neither OVF nor npy: one layer of
//! cells as image data (`.vti`, written by `vtkio`) and a series of them as a collection
//! (`.pvd`, whose time ParaView steps through). Coordinates are in nm; the data are cell
//! data, so each value colours its own cell.

use std::io;
use std::path::Path;
use vtkio::model::{
    Attribute, Attributes, ByteOrder, DataSet, Extent, ImageDataPiece, Piece, Version, Vtk,
};

/// A grid of nx × ny cells of dx × dy nm, cell c = j·nx + i (x fastest).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Grid {
    pub nx: usize,
    pub ny: usize,
    pub dx_nm: f64,
    pub dy_nm: f64,
}

/// One value per cell, under `name`.
#[derive(Clone, Debug)]
pub enum CellArray<'a> {
    Scalar(&'a str, Vec<f64>),
    /// Three components per cell: ParaView offers them to its glyph filter.
    Vector(&'a str, Vec<[f64; 3]>),
    Int(&'a str, Vec<i32>),
}

impl CellArray<'_> {
    fn len(&self) -> usize {
        match self {
            CellArray::Scalar(_, v) => v.len(),
            CellArray::Vector(_, v) => v.len(),
            CellArray::Int(_, v) => v.len(),
        }
    }

    fn attribute(self) -> Attribute {
        match self {
            CellArray::Scalar(name, v) => Attribute::scalars(name, 1).with_data(v),
            CellArray::Vector(name, v) => Attribute::vectors(name).with_data(v.concat()),
            CellArray::Int(name, v) => Attribute::scalars(name, 1).with_data(v),
        }
    }
}

/// Writes `arrays` on `grid` as VTK XML image data (binary, base64) to `path`, atomically.
/// Every array must hold one value per cell.
pub fn write_cells(path: &Path, grid: Grid, title: &str, arrays: Vec<CellArray>) -> io::Result<()> {
    let cells = grid.nx * grid.ny;
    if let Some(a) = arrays.iter().find(|a| a.len() != cells) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} values for {} × {} cells", a.len(), grid.nx, grid.ny),
        ));
    }
    // One layer of cells: nx + 1 × ny + 1 points in a plane.
    let extent = Extent::Ranges([0..=grid.nx as i32, 0..=grid.ny as i32, 0..=0]);
    let vtk = Vtk {
        version: Version::Auto,
        title: title.into(),
        byte_order: ByteOrder::LittleEndian,
        file_path: None,
        data: DataSet::ImageData {
            extent: extent.clone(),
            origin: [0.0; 3],
            // The layer's thickness is no spacing of a one-point-thick image: dx stands in.
            spacing: [grid.dx_nm as f32, grid.dy_nm as f32, grid.dx_nm as f32],
            meta: None,
            pieces: vec![Piece::Inline(Box::new(ImageDataPiece {
                extent,
                data: Attributes {
                    point: vec![],
                    cell: arrays.into_iter().map(CellArray::attribute).collect(),
                },
            }))],
        },
    };
    super::write_with(path, |w| vtk.write_xml(w).map_err(io::Error::other))
}

/// Writes a ParaView collection to `path`, atomically: the files (relative to `path`'s
/// directory) at their times, in order.
pub fn write_collection(path: &Path, files: &[(f64, String)]) -> io::Result<()> {
    let mut s = String::from(
        "<?xml version=\"1.0\"?>\n<VTKFile type=\"Collection\" version=\"0.1\" \
         byte_order=\"LittleEndian\">\n  <Collection>\n",
    );
    for (t, file) in files {
        s += &format!(
            "    <DataSet timestep=\"{t}\" group=\"\" part=\"0\" file=\"{}\"/>\n",
            escape(file)
        );
    }
    s.push_str("  </Collection>\n</VTKFile>\n");
    super::write(path, s)
}

/// `s` as an XML attribute value.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The cell arrays of a `.vti` as VTK reads them: per `<DataArray>` its type, name and
/// values (base64 behind a UInt64 byte count, which must match; Float64 or Int32).
#[cfg(test)]
pub(crate) fn data_arrays(text: &str) -> Vec<(String, String, Vec<f64>)> {
    use base64::Engine;
    let attr = |tag: &str, key: &str| {
        let at = tag.find(&format!("{key}=\"")).unwrap() + key.len() + 2;
        tag[at..at + tag[at..].find('"').unwrap()].to_string()
    };
    text.split("<DataArray ")
        .skip(1)
        .map(|rest| {
            let (tag, body) = rest.split_once('>').unwrap();
            assert_eq!(attr(tag, "format"), "binary");
            let body = &body[..body.find("</DataArray>").unwrap()];
            let raw = base64::engine::general_purpose::STANDARD
                .decode(body.trim())
                .unwrap();
            let (head, bytes) = raw.split_at(8);
            assert_eq!(
                u64::from_le_bytes(head.try_into().unwrap()),
                bytes.len() as u64
            );
            let ty = attr(tag, "type");
            let values = match ty.as_str() {
                "Float64" => bytes
                    .chunks(8)
                    .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                    .collect(),
                "Int32" => bytes
                    .chunks(4)
                    .map(|c| i32::from_le_bytes(c.try_into().unwrap()) as f64)
                    .collect(),
                t => panic!("type {t}"),
            };
            (ty, attr(tag, "Name"), values)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(dy_nm: f64) -> Grid {
        Grid {
            nx: 3,
            ny: 2,
            dx_nm: 2.0,
            dy_nm,
        }
    }

    #[test]
    fn image_data_holds_one_value_per_cell_in_vtk_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.vti");
        let m: Vec<[f64; 3]> = (0..6).map(|c| [c as f64, -(c as f64), 0.5]).collect();
        let arrays = vec![
            CellArray::Vector("m", m.clone()),
            CellArray::Int("grain", vec![0, 0, 1, 1, 2, 7]),
            CellArray::Scalar("psi", vec![0.1, 0.2, 0.3, 0.4, 0.5, 0.6]),
        ];
        write_cells(&path, grid(2.5), "test", arrays).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        // A plane of 4 × 3 points: 3 × 2 cells of 2 × 2.5 nm.
        assert!(
            text.contains("type=\"ImageData\"")
                && text.contains("byte_order=\"LittleEndian\"")
                && text.contains("header_type=\"UInt64\"")
                && text.contains("WholeExtent=\"0 3 0 2 0 0\"")
                && text.contains("Spacing=\"2 2.5 2\"")
                && text.contains("<CellData")
                && text.contains("NumberOfComponents=\"3\""),
            "{text}"
        );
        let read = data_arrays(&text);
        let head: Vec<(&str, &str)> = read.iter().map(|a| (&*a.0, &*a.1)).collect();
        assert_eq!(
            head,
            [("Float64", "m"), ("Int32", "grain"), ("Float64", "psi")]
        );
        assert_eq!(read[0].2, m.concat());
        assert_eq!(read[1].2, [0.0, 0.0, 1.0, 1.0, 2.0, 7.0]);
        assert_eq!(read[2].2, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
    }

    #[test]
    fn a_wrong_length_is_refused_and_nothing_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.vti");
        let short = vec![CellArray::Int("grain", vec![0; 5])];
        let e = write_cells(&path, grid(2.0), "t", short).unwrap_err();
        assert!(e.to_string().contains("5 values for 3 × 2 cells"), "{e}");
        assert!(!path.exists());
    }

    #[test]
    fn a_collection_lists_its_files_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("series.pvd");
        write_collection(
            &path,
            &[(0.0, "m000_M1.vti".into()), (1.0, "a\"b.vti".into())],
        )
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let first = text.find("timestep=\"0\" group=\"\" part=\"0\" file=\"m000_M1.vti\"");
        let second = text.find("timestep=\"1\" group=\"\" part=\"0\" file=\"a&quot;b.vti\"");
        assert!(first.is_some() && second > first, "{text}");
        assert!(text.starts_with("<?xml") && text.contains("type=\"Collection\""));
    }
}

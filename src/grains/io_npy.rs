//! NumPy files.
//!
//! * `.npy`: the per-cell angle array, float64, shape [ny, nx] (row j = y index). Read
//!   back, grains are the 4-connected regions of equal angle (as for every loader without
//!   grain ids); the cell size is not stored.
//! * `.npz`: `grain` int32 [ny, nx] (int64 accepted on read), `angle` float64 [ng],
//!   `cell_nm` float64 scalar (optional on read). Grain ids and the cell size survive exactly.
//!   Stored and deflated (`numpy.savez_compressed`) archives are read.

use super::error::{Result, format_err, in_file, io_err};
use super::structure::Structure;
use crate::fsio::npy;
use ndarray::{Array0, Array1, Array2, Ix0, Ix2};
use ndarray_npy::NpzWriter;
use std::io::Cursor;
use std::path::Path;

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| io_err(path, e))
}

fn write(path: &Path, bytes: Vec<u8>) -> Result<()> {
    crate::fsio::write(path, bytes).map_err(|e| io_err(path, e))
}

impl Structure {
    /// Per-cell angles as an [ny, nx] array.
    pub fn angle_array(&self) -> Array2<f64> {
        Array2::from_shape_fn((self.ny(), self.nx()), |(j, i)| {
            self.cell_angle(self.index(i, j))
        })
    }

    /// Grain ids as an [ny, nx] array.
    pub fn grain_array(&self) -> Array2<u32> {
        Array2::from_shape_fn((self.ny(), self.nx()), |(j, i)| {
            self.grains()[self.index(i, j)]
        })
    }

    pub fn write_npy(&self, path: impl AsRef<Path>) -> Result<()> {
        write(path.as_ref(), npy::to_bytes(&self.angle_array()))
    }

    /// Reads an [ny, nx] float64 angle array; grains are the 4-connected regions of equal
    /// angle.
    pub fn read_npy(path: impl AsRef<Path>, cell_nm: f64) -> Result<Structure> {
        let path = path.as_ref();
        let a = npy::read::<f64, Ix2>(&read(path)?)
            .map_err(|e| format_err(path, "array", "float64 of shape [ny, nx]", e))?;
        let (ny, nx) = a.dim();
        let flat: Vec<f64> = a.iter().copied().collect(); // standard order: c = j·nx + i
        if let Some(k) = flat.iter().position(|v| !v.is_finite()) {
            return Err(format_err(
                path,
                format!("element [{}, {}]", k / nx.max(1), k % nx.max(1)),
                "a finite angle",
                flat[k],
            ));
        }
        Structure::from_cell_angles(nx, ny, cell_nm, &flat).map_err(|e| in_file(path, e))
    }

    pub fn write_npz(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let fail = |e: ndarray_npy::WriteNpzError| format_err(path, "writing", "an .npz file", e);
        let mut npz = NpzWriter::new(Cursor::new(Vec::new()));
        npz.add_array("grain", &self.grain_array().mapv(|g| g as i32))
            .map_err(fail)?;
        npz.add_array("angle", &Array1::from(self.grain_angles().to_vec()))
            .map_err(fail)?;
        npz.add_array("cell_nm", &Array0::from_elem((), self.cell_nm()))
            .map_err(fail)?;
        write(path, npz.finish().map_err(fail)?.into_inner())
    }

    /// Reads `grain` and `angle` (deflated archives too). The cell size is the file's
    /// `cell_nm`; `cell_nm` given here must agree with it, and is used when the file has none
    /// (else [`DEFAULT_CELL_NM`](super::DEFAULT_CELL_NM)).
    pub fn read_npz(path: impl AsRef<Path>, cell_nm: Option<f64>) -> Result<Structure> {
        let path = path.as_ref();
        let entries = npy::entries(&read(path)?)
            .map_err(|e| format_err(path, "archive", "an .npz file", e))?;
        let find = |n: &str| entries.iter().find(|(k, _)| k == n).map(|(_, b)| b);
        let (Some(grain), Some(angle)) = (find("grain"), find("angle")) else {
            let names: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
            return Err(format_err(
                path,
                "arrays",
                "\"grain\" and \"angle\"",
                format!("{names:?}"),
            ));
        };
        let grain: Array2<i64> = match npy::read::<i32, Ix2>(grain) {
            Ok(g) => g.mapv(i64::from),
            Err(_) => npy::read(grain).map_err(|e| {
                format_err(path, "array grain", "int32 or int64 of shape [ny, nx]", e)
            })?,
        };
        let angle: Array1<f64> = npy::read(angle)
            .map_err(|e| format_err(path, "array angle", "float64 of shape [ng]", e))?;
        let stored = find("cell_nm")
            .map(|b| {
                npy::read::<f64, Ix0>(b)
                    .map(|c| c.into_scalar())
                    .map_err(|e| format_err(path, "array cell_nm", "a float64 scalar", e))
            })
            .transpose()?;
        let cell_nm = match (stored, cell_nm) {
            (Some(s), Some(c)) if s.to_bits() != c.to_bits() => {
                return Err(format_err(
                    path,
                    "cell_nm",
                    format!("the cell size given, {c} nm (leave it out to take the file's)"),
                    format!("{s} nm in the file"),
                ));
            }
            (Some(s), _) => s,
            (None, c) => c.unwrap_or(super::DEFAULT_CELL_NM),
        };
        let (ny, nx) = grain.dim();
        let ng = angle.len();
        let mut ids = Vec::with_capacity(nx * ny);
        for ((j, i), &g) in grain.indexed_iter() {
            if g < 0 || g as usize >= ng {
                return Err(format_err(
                    path,
                    format!("grain[{j}, {i}]"),
                    format!("an id in 0 … {}", ng as i64 - 1),
                    g,
                ));
            }
            ids.push(g as u32);
        }
        Structure::from_grains(nx, ny, cell_nm, ids, angle.to_vec()).map_err(|e| in_file(path, e))
    }
}

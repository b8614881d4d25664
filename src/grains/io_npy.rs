//! NumPy files.
//!
//! * `.npy`: the per-cell angle array, float64, shape [ny, nx] (row j = y index). Read
//!   back, grains are the cells of equal angle; the cell size is not stored.
//! * `.npz`: `grain` int32 [ny, nx] (int64 accepted on read), `angle` float64 [ng],
//!   `cell_nm` float64 scalar (optional on read). Grain ids and the cell size survive exactly.

use super::error::{Result, format_err, in_file, io_err};
use super::structure::Structure;
use ndarray::{Array0, Array1, Array2};
use ndarray_npy::{NpzReader, NpzWriter, ReadNpyExt, WriteNpyExt};
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::Path;

fn open(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| io_err(path, e))
}

fn create(path: &Path) -> Result<BufWriter<File>> {
    File::create(path)
        .map(BufWriter::new)
        .map_err(|e| io_err(path, e))
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
        let path = path.as_ref();
        self.angle_array()
            .write_npy(create(path)?)
            .map_err(|e| format_err(path, "writing", "an .npy file", e))
    }

    /// Reads an [ny, nx] float64 angle array; grains are cells of equal angle.
    pub fn read_npy(path: impl AsRef<Path>, cell_nm: f64) -> Result<Structure> {
        let path = path.as_ref();
        let a = Array2::<f64>::read_npy(BufReader::new(open(path)?))
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
        let mut npz = NpzWriter::new(create(path)?);
        npz.add_array("grain", &self.grain_array().mapv(|g| g as i32))
            .map_err(fail)?;
        npz.add_array("angle", &Array1::from(self.grain_angles().to_vec()))
            .map_err(fail)?;
        npz.add_array("cell_nm", &Array0::from_elem((), self.cell_nm()))
            .map_err(fail)?;
        npz.finish().map_err(fail)?;
        Ok(())
    }

    /// Reads `grain` and `angle` (and `cell_nm` when present, else `cell_nm` given here).
    pub fn read_npz(path: impl AsRef<Path>, cell_nm: f64) -> Result<Structure> {
        let path = path.as_ref();
        let mut npz = NpzReader::new(open(path)?)
            .map_err(|e| format_err(path, "archive", "an .npz file", e))?;
        let names = npz
            .names()
            .map_err(|e| format_err(path, "archive", "an .npz file", e))?;
        let has = |n: &str| names.iter().any(|x| x == n);
        if !has("grain") || !has("angle") {
            return Err(format_err(
                path,
                "arrays",
                "\"grain\" and \"angle\"",
                format!("{names:?}"),
            ));
        }
        let grain: Array2<i64> = match npz.by_name::<ndarray::OwnedRepr<i32>, ndarray::Ix2>("grain")
        {
            Ok(g) => g.mapv(i64::from),
            Err(_) => npz.by_name("grain").map_err(|e| {
                format_err(path, "array grain", "int32 or int64 of shape [ny, nx]", e)
            })?,
        };
        let angle: Array1<f64> = npz
            .by_name("angle")
            .map_err(|e| format_err(path, "array angle", "float64 of shape [ng]", e))?;
        let cell_nm = if has("cell_nm") {
            let c: Array0<f64> = npz
                .by_name("cell_nm")
                .map_err(|e| format_err(path, "array cell_nm", "a float64 scalar", e))?;
            c.into_scalar()
        } else {
            cell_nm
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

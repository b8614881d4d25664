//! VTK image data for ParaView: per cell the grain id, the easy axis as a vector and its
//! angle ψ (radians). A state's file can carry the same arrays beside m
//! ([`crate::solver::Relaxed::write_vtk`]).

use super::error::{Result, io_err};
use super::structure::Structure;
use crate::fsio::vtk::{self, CellArray, Grid};
use std::path::Path;

impl Structure {
    /// The grid as VTK files give it.
    fn vtk_grid(&self) -> Grid {
        Grid {
            nx: self.nx(),
            ny: self.ny(),
            dx_nm: self.cell_nm(),
            dy_nm: self.cell_nm(),
        }
    }

    /// `grain` (id), `easy_axis` (k = (sin ψ, cos ψ, 0)) and `psi` (radians) of every cell.
    pub fn vtk_cells(&self) -> Vec<CellArray<'static>> {
        let psi = self.cell_angles();
        let axis = psi.iter().map(|p| [p.sin(), p.cos(), 0.0]).collect();
        // Grain ids are below MAX_GRAINS, far inside i32.
        let grain = self.grains().iter().map(|&g| g as i32).collect();
        vec![
            CellArray::Int("grain", grain),
            CellArray::Vector("easy_axis", axis),
            CellArray::Scalar("psi", psi),
        ]
    }

    /// Writes [`Structure::vtk_cells`] as VTK XML image data (`.vti`).
    pub fn write_vtk(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        vtk::write_cells(
            path,
            self.vtk_grid(),
            "coercive grain structure",
            self.vtk_cells(),
        )
        .map_err(|e| io_err(path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_structure_file_holds_its_grains_and_axes_cell_by_cell() {
        let s = Structure::from_grains(3, 2, 2.0, vec![0, 0, 1, 1, 2, 2], vec![0.0, 0.5, -1.0])
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.vti");
        s.write_vtk(&path).unwrap();
        let read = crate::fsio::vtk::data_arrays(&std::fs::read_to_string(&path).unwrap());
        let names: Vec<&str> = read.iter().map(|a| a.1.as_str()).collect();
        assert_eq!(names, ["grain", "easy_axis", "psi"]);
        assert_eq!(read[0].2, [0.0, 0.0, 1.0, 1.0, 2.0, 2.0]);
        // Cell 2 is grain 1: k = (sin 0.5, cos 0.5, 0).
        assert_eq!(&read[1].2[6..9], &[0.5f64.sin(), 0.5f64.cos(), 0.0]);
        assert_eq!(read[2].2, [0.0, 0.0, 0.5, 0.5, -1.0, -1.0]);
    }
}

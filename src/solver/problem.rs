//! What the solver is asked about: mesh, per-cell easy axes, material(s) and energy terms.
//! Independent of the grain type: a structure is only its flat per-cell angles ψ.

use super::energy::Terms;
use super::material::Material;
use super::mesh::Mesh;
use super::{SolverError, check_cells};

/// A validated magnet: `psi[c]` is the easy-axis angle of cell `c = j*nx + i` (radians from
/// +y towards +x). `material` is the reference that sets the units (HA, weights);
/// `cell_materials`, when given, overrides the constants per cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    mesh: Mesh,
    psi: Vec<f64>,
    material: Material,
    cell_materials: Option<Vec<Material>>,
    terms: Terms,
}

impl Problem {
    /// Nd2Fe14B everywhere, all four terms on.
    pub fn new(mesh: Mesh, psi: &[f64]) -> Result<Self, SolverError> {
        check_cells("easy-axis angles psi", psi, mesh.cells())?;
        Ok(Problem {
            mesh,
            psi: psi.to_vec(),
            material: Material::nd2fe14b(),
            cell_materials: None,
            terms: Terms::default(),
        })
    }

    /// Uniform material (also the unit reference).
    pub fn with_material(mut self, material: Material) -> Result<Self, SolverError> {
        self.material = material.validated()?;
        Ok(self)
    }

    /// Per-cell materials (one per cell; K1 may be 0 there); the uniform material stays the
    /// unit reference.
    pub fn with_cell_materials(mut self, cells: Vec<Material>) -> Result<Self, SolverError> {
        if cells.len() != self.mesh.cells() {
            return Err(SolverError::LengthMismatch {
                what: "cell materials",
                expected: self.mesh.cells(),
                got: cells.len(),
            });
        }
        for m in &cells {
            m.validated_phase()?;
        }
        self.cell_materials = Some(cells);
        Ok(self)
    }

    pub fn with_terms(mut self, terms: Terms) -> Self {
        self.terms = terms;
        self
    }

    pub fn mesh(&self) -> &Mesh {
        &self.mesh
    }
    pub fn psi(&self) -> &[f64] {
        &self.psi
    }
    pub fn material(&self) -> &Material {
        &self.material
    }
    pub fn terms(&self) -> Terms {
        self.terms
    }

    /// Material of cell `c`.
    pub fn cell_material(&self, c: usize) -> &Material {
        match &self.cell_materials {
            Some(v) => &v[c],
            None => &self.material,
        }
    }

    /// The mirror image x → −x: cell i goes to nx−1−i and ψ to −ψ.
    pub fn mirrored_x(&self) -> Problem {
        let (nx, ny) = (self.mesh.nx, self.mesh.ny);
        let mirror = |c: usize| (c / nx) * nx + (nx - 1 - c % nx);
        let mut out = self.clone();
        for j in 0..ny {
            for i in 0..nx {
                let c = j * nx + i;
                out.psi[mirror(c)] = -self.psi[c];
            }
        }
        if let (Some(src), Some(dst)) = (&self.cell_materials, &mut out.cell_materials) {
            for c in 0..src.len() {
                dst[mirror(c)] = src[c];
            }
        }
        out
    }
}

//! The finite-difference mesh: one layer of nx × ny cells of dx × dy × dz (metres).

use super::SolverError;

/// One layer of `nx × ny` cells; cell `c = j*nx + i` (i along x, j along y).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mesh {
    pub nx: usize,
    pub ny: usize,
    /// Cell size along x, y and thickness along z, in metres.
    pub dx: f64,
    pub dy: f64,
    pub dz: f64,
}

impl Mesh {
    /// The paper's cell: 2 × 2 × 36 000 nm³.
    pub const PAPER_CELL: (f64, f64, f64) = (2e-9, 2e-9, 36_000e-9);

    /// `nx × ny` cells of the paper's size, validated.
    pub fn paper(nx: usize, ny: usize) -> Result<Self, SolverError> {
        let (dx, dy, dz) = Self::PAPER_CELL;
        Self::new(nx, ny, dx, dy, dz)
    }

    /// A validated mesh: at least one cell, finite positive cell sizes (metres).
    pub fn new(nx: usize, ny: usize, dx: f64, dy: f64, dz: f64) -> Result<Self, SolverError> {
        if nx == 0 || ny == 0 {
            return Err(SolverError::EmptyGrid { nx, ny });
        }
        // The padded FFT grid is (2nx) × (2ny); keep it far from usize overflow and memory
        // exhaustion.
        if nx.saturating_mul(ny) > 1 << 26 {
            return Err(SolverError::BadOption {
                name: "grid",
                value: format!("{nx}×{ny}"),
                expected: "at most 2^26 cells",
            });
        }
        for (name, v) in [("dx", dx), ("dy", dy), ("dz", dz)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(SolverError::BadCellSize { name, value: v });
            }
        }
        Ok(Mesh { nx, ny, dx, dy, dz })
    }

    pub fn cells(&self) -> usize {
        self.nx * self.ny
    }

    /// Cell volume dx·dy·dz in m³.
    pub fn cell_volume(&self) -> f64 {
        self.dx * self.dy * self.dz
    }

    /// Flat index of cell (i, j).
    pub fn index(&self, i: usize, j: usize) -> usize {
        j * self.nx + i
    }
}

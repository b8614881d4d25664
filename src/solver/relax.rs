//! One field: minimise from a given (or uniform +y) state and keep the state with its
//! energies per term; `write_ovf` saves m as OVF 2.0 (text or binary-4), readable by
//! mumax3, OOMMF and Ubermag (m_z = 0), `write_vtk` as VTK image data for ParaView.

use super::demag::Precision;
use super::energy::{Energies, Energy, LocalFields, mean_m};
use super::mesh::Mesh;
use super::minimizer::{MinimizeOptions, StepStats, minimize};
use super::problem::Problem;
use super::{SolverError, check_cells};
use std::io::Write;
use std::sync::Arc;

/// A relaxed state.
#[derive(Debug, Clone, PartialEq)]
pub struct Relaxed {
    /// Applied field (units of HA).
    pub h: [f64; 2],
    /// Per-cell angles φ, m = (sin φ, cos φ, 0).
    pub phi: Vec<f64>,
    pub energies: Energies,
    pub stats: StepStats,
    /// The problem it solves and the precision of its demag kernel, for its local fields
    /// (shared by the states of one sweep).
    pub problem: Arc<Problem>,
    pub precision: Precision,
}

/// OVF 2.0 data encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OvfFormat {
    Text,
    Binary4,
}

/// Relaxes `problem` at the applied field `h` (units of HA, in-plane), starting from `init`
/// angles or from m ∥ +y.
pub fn relax(
    problem: &Problem,
    h: [f64; 2],
    init: Option<&[f64]>,
    opts: &MinimizeOptions,
) -> Result<Relaxed, SolverError> {
    if !(h[0].is_finite() && h[1].is_finite()) {
        return Err(SolverError::BadOption {
            name: "field",
            value: format!("{h:?}"),
            expected: "finite field components (units of HA)",
        });
    }
    let n = problem.mesh().cells();
    let mut phi = match init {
        Some(p) => {
            check_cells("initial angles phi", p, n)?;
            p.to_vec()
        }
        None => vec![0.0; n],
    };
    let mut energy = Energy::new(problem, opts.precision)?;
    energy.set_split(super::fork::fits(1, rayon::current_num_threads()));
    let stats = minimize(&mut energy, &mut phi, h, opts)?;
    let energies = energy.energies(&phi, h)?;
    Ok(Relaxed {
        h,
        phi,
        energies,
        stats,
        problem: Arc::new(problem.clone()),
        precision: opts.precision,
    })
}

impl Relaxed {
    /// The grid it lives on (its problem's).
    pub fn mesh(&self) -> &Mesh {
        self.problem.mesh()
    }

    /// Its effective field, demag field, torque and energy densities, cell by cell (one
    /// evaluation; computed on demand, so a kept state costs only its angles).
    pub fn local_fields(&self) -> Result<LocalFields, SolverError> {
        Energy::new(&self.problem, self.precision)?.local_fields(&self.phi, self.h)
    }

    /// Mean (m_x, m_y).
    pub fn mean_m(&self) -> [f64; 2] {
        mean_m(&self.phi)
    }

    /// Per-cell m = (m_x, m_y, 0), c = j*nx + i.
    pub fn m(&self) -> Vec<[f64; 3]> {
        self.phi
            .iter()
            .map(|p| {
                let (s, c) = p.sin_cos();
                [s, c, 0.0]
            })
            .collect()
    }

    /// Writes m as an OVF 2.0 file (x fastest, then y; one z layer).
    pub fn write_ovf(
        &self,
        path: impl AsRef<std::path::Path>,
        format: OvfFormat,
    ) -> Result<(), SolverError> {
        let path = path.as_ref();
        let io = |source| SolverError::Io {
            path: path.display().to_string(),
            source,
        };
        crate::fsio::write_with(path, |w| self.write_ovf_to(w, format)).map_err(io)
    }

    /// Writes m, the effective and demag fields (cell vectors `m`, `h_eff`, `h_demag`), the
    /// torque (`torque`), the energy densities (`e_exchange`, … in J/m³) and `with`, arrays
    /// of the same cells (a structure's grains and axes), as VTK XML image data (`.vti`).
    pub fn write_vtk(
        &self,
        path: impl AsRef<std::path::Path>,
        with: Vec<crate::fsio::vtk::CellArray>,
    ) -> Result<(), SolverError> {
        let path = path.as_ref();
        let m = self.mesh();
        let grid = crate::fsio::vtk::Grid {
            nx: m.nx,
            ny: m.ny,
            dx_nm: m.dx * 1e9,
            dy_nm: m.dy * 1e9,
        };
        use crate::fsio::vtk::CellArray;
        let in_plane = |v: &[[f64; 2]]| v.iter().map(|[x, y]| [*x, *y, 0.0]).collect();
        let f = self.local_fields()?;
        let mut arrays = vec![
            CellArray::Vector("m", self.m()),
            CellArray::Vector("h_eff", in_plane(&f.h_eff)),
            CellArray::Vector("h_demag", in_plane(&f.h_demag)),
            CellArray::Scalar("torque", f.torque.clone()),
            CellArray::Scalar("e_exchange", f.energy_density.exchange.clone()),
            CellArray::Scalar("e_anisotropy", f.energy_density.anisotropy.clone()),
            CellArray::Scalar("e_zeeman", f.energy_density.zeeman.clone()),
            CellArray::Scalar("e_demag", f.energy_density.demag.clone()),
        ];
        arrays.extend(with);
        let title = format!("coercive state at h = ({}, {}) HA", self.h[0], self.h[1]);
        crate::fsio::vtk::write_cells(path, grid, &title, arrays).map_err(|source| {
            SolverError::Io {
                path: path.display().to_string(),
                source,
            }
        })
    }

    fn write_ovf_to(&self, w: &mut impl Write, format: OvfFormat) -> std::io::Result<()> {
        let m = self.mesh();
        let head = [
            "# OOMMF OVF 2.0".to_string(),
            "# Segment count: 1".into(),
            "# Begin: Segment".into(),
            "# Begin: Header".into(),
            "# Title: m".into(),
            format!(
                "# Desc: coercive relaxed state at h = ({}, {}) HA",
                self.h[0], self.h[1]
            ),
            "# meshtype: rectangular".into(),
            "# meshunit: m".into(),
            "# xmin: 0".into(),
            "# ymin: 0".into(),
            "# zmin: 0".into(),
            format!("# xmax: {:e}", m.dx * m.nx as f64),
            format!("# ymax: {:e}", m.dy * m.ny as f64),
            format!("# zmax: {:e}", m.dz),
            "# valuedim: 3".into(),
            "# valuelabels: m_x m_y m_z".into(),
            "# valueunits: 1 1 1".into(),
            format!("# xbase: {:e}", m.dx / 2.0),
            format!("# ybase: {:e}", m.dy / 2.0),
            format!("# zbase: {:e}", m.dz / 2.0),
            format!("# xnodes: {}", m.nx),
            format!("# ynodes: {}", m.ny),
            "# znodes: 1".into(),
            format!("# xstepsize: {:e}", m.dx),
            format!("# ystepsize: {:e}", m.dy),
            format!("# zstepsize: {:e}", m.dz),
            "# End: Header".into(),
        ];
        for line in head {
            writeln!(w, "{line}")?;
        }
        match format {
            OvfFormat::Text => {
                writeln!(w, "# Begin: Data Text")?;
                for [x, y, z] in self.m() {
                    writeln!(w, "{x:.9e} {y:.9e} {z:.9e}")?;
                }
                writeln!(w, "# End: Data Text")?;
            }
            OvfFormat::Binary4 => {
                writeln!(w, "# Begin: Data Binary 4")?;
                w.write_all(&1234567.0f32.to_le_bytes())?;
                for v in self.m() {
                    for c in v {
                        w.write_all(&(c as f32).to_le_bytes())?;
                    }
                }
                writeln!(w)?;
                writeln!(w, "# End: Data Binary 4")?;
            }
        }
        writeln!(w, "# End: Segment")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solver::Terms;

    fn small() -> Relaxed {
        let mesh = Mesh::paper(3, 2).unwrap();
        let p = Problem::new(mesh, &[0.1, 0.5, -0.3, 1.0, 0.0, 0.2])
            .unwrap()
            .with_terms(Terms::all().without_demag());
        relax(
            &p,
            [0.0, -0.2],
            None,
            &MinimizeOptions {
                tol: 1e-8,
                ..Default::default()
            },
        )
        .unwrap()
    }

    #[test]
    fn relaxes_and_reports_energies() {
        let r = small();
        assert!(r.stats.converged && r.stats.torque < 1e-8);
        // The torque map is the one the stopping rule read.
        let largest = r
            .local_fields()
            .unwrap()
            .torque
            .iter()
            .fold(0.0f64, |a, t| a.max(t.abs()));
        assert!(
            (largest - r.stats.torque).abs() < 1e-12,
            "{largest} {}",
            r.stats.torque
        );
        let e = r.energies;
        assert!(
            (e.total - (e.exchange + e.anisotropy + e.zeeman + e.demag)).abs()
                < 1e-6 * e.total.abs()
        );
        assert_eq!(e.demag, 0.0);
    }

    #[test]
    fn ovf_round_trip() {
        let r = small();
        let dir = tempfile::tempdir().unwrap();
        for fmt in [OvfFormat::Text, OvfFormat::Binary4] {
            let path = dir.path().join("m.ovf");
            r.write_ovf(&path, fmt).unwrap();
            let bytes = std::fs::read(&path).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            assert!(text.starts_with("# OOMMF OVF 2.0\n"));
            assert!(text.contains("# xnodes: 3\n") && text.contains("# ynodes: 2\n"));
            let m = r.m();
            let values: Vec<f64> = match fmt {
                OvfFormat::Text => {
                    let start = text.find("# Begin: Data Text\n").unwrap() + 19;
                    let end = text.find("# End: Data Text").unwrap();
                    text[start..end]
                        .split_whitespace()
                        .map(|s| s.parse().unwrap())
                        .collect()
                }
                OvfFormat::Binary4 => {
                    let tag = b"# Begin: Data Binary 4\n";
                    let start =
                        bytes.windows(tag.len()).position(|w| w == tag).unwrap() + tag.len();
                    let f = |k: usize| {
                        f32::from_le_bytes(
                            bytes[start + 4 * k..start + 4 * k + 4].try_into().unwrap(),
                        )
                    };
                    assert_eq!(f(0), 1234567.0);
                    (1..=18).map(|k| f(k) as f64).collect()
                }
            };
            assert_eq!(values.len(), 18);
            for (c, v) in m.iter().enumerate() {
                for k in 0..3 {
                    assert!((values[3 * c + k] - v[k]).abs() < 1e-6);
                }
            }
        }
    }
}

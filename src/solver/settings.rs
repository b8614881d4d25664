//! The settings of a demagnetisation curve besides the structure: sweep and minimiser,
//! material, energy terms and layer thickness, with their one validation and their
//! manifest form.

use super::{Material, Mesh, Precision, Problem, SolverError, SweepOptions, Terms};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Everything a demagnetisation curve depends on besides the structure. Shared by
/// `solver::demag_curve` options, dataset labelling and dataset manifests.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(into = "SolverSpec", try_from = "SolverSpec")]
pub struct SolverSettings {
    pub sweep: SweepOptions,
    pub material: Material,
    pub terms: Terms,
    pub thickness_nm: f64,
}

impl Default for SolverSettings {
    fn default() -> Self {
        SolverSettings {
            sweep: SweepOptions::default(),
            material: Material::nd2fe14b(),
            terms: Terms::default(),
            thickness_nm: Mesh::PAPER_CELL.2 * 1e9,
        }
    }
}

impl SolverSettings {
    /// The one check of every solver limit, used by scripts and the command line alike.
    pub fn validate(&self) -> Result<(), SolverError> {
        self.sweep.fields()?;
        self.sweep.min.validated()?;
        self.material.validated()?;
        if !(1e-3..=1e9).contains(&self.thickness_nm) {
            return Err(SolverError::BadOption {
                name: "thickness_nm",
                value: self.thickness_nm.to_string(),
                expected: "a thickness in [1e-3, 1e9] nm",
            });
        }
        Ok(())
    }

    /// The micromagnetic problem of an `nx × ny` raster of square cells of `cell_nm` with
    /// easy-axis angles `angles` (row-major), of this thickness, material and terms.
    pub fn problem(
        &self,
        nx: usize,
        ny: usize,
        cell_nm: f64,
        angles: &[f64],
    ) -> Result<Problem, SolverError> {
        let d = cell_nm * 1e-9;
        let mesh = Mesh::new(nx, ny, d, d, self.thickness_nm * 1e-9)?;
        Ok(Problem::new(mesh, angles)?
            .with_material(self.material)?
            .with_terms(self.terms))
    }
}

/// The manifest form of [`SolverSettings`] (plain fields, precision spelled out).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct SolverSpec {
    sweep: SweepOptions,
    precision: String,
    material: BTreeMap<String, f64>,
    terms: BTreeMap<String, bool>,
    thickness_nm: f64,
}

impl From<SolverSettings> for SolverSpec {
    fn from(s: SolverSettings) -> Self {
        let t = s.terms;
        SolverSpec {
            sweep: s.sweep,
            precision: match s.sweep.min.precision {
                Precision::F32 => "f32",
                Precision::F64 => "f64",
            }
            .into(),
            material: [
                ("A", s.material.a),
                ("Ms", s.material.ms),
                ("K1", s.material.k1),
            ]
            .into_iter()
            .map(|(k, v)| (k.into(), v))
            .collect(),
            terms: [
                ("exchange", t.exchange),
                ("anisotropy", t.anisotropy),
                ("zeeman", t.zeeman),
                ("demag", t.demag),
            ]
            .into_iter()
            .map(|(k, v)| (k.into(), v))
            .collect(),
            thickness_nm: s.thickness_nm,
        }
    }
}

impl TryFrom<SolverSpec> for SolverSettings {
    type Error = String;
    fn try_from(s: SolverSpec) -> Result<Self, String> {
        let mut sweep = s.sweep;
        sweep.min.precision = match s.precision.as_str() {
            "f32" => Precision::F32,
            "f64" => Precision::F64,
            p => return Err(format!("unknown precision {p:?}")),
        };
        let m = |k: &str| {
            s.material
                .get(k)
                .copied()
                .ok_or(format!("material.{k} missing"))
        };
        let t = |k: &str| s.terms.get(k).copied().ok_or(format!("terms.{k} missing"));
        Ok(SolverSettings {
            sweep,
            material: Material {
                a: m("A")?,
                ms: m("Ms")?,
                k1: m("K1")?,
            },
            terms: Terms {
                exchange: t("exchange")?,
                anisotropy: t("anisotropy")?,
                zeeman: t("zeeman")?,
                demag: t("demag")?,
            },
            thickness_nm: s.thickness_nm,
        })
    }
}

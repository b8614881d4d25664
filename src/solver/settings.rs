//! The settings of a demagnetisation curve besides the structure: sweep and minimiser,
//! material, energy terms and layer thickness, with their one validation and their
//! manifest form.

use super::tensor::{Backend, TensorOptions};
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
    /// A grain-boundary phase, if any: its cells take their own constants.
    pub boundary: Option<BoundaryPhase>,
    /// Which solver computes the curves (the manifest names it only when not the plain
    /// one: a tensor curve differs from a plain one in rounding, so it is another path).
    pub backend: Backend,
}

/// A grain-boundary phase: the cells whose centre lies within `width_nm`/2 of a grain
/// boundary (the midline between cells of different grains; a cell exactly at `width_nm`/2
/// belongs to the layer only on its lower-id grain's side, so a width of k cells is k cells
/// wide) take `material`, whose K1 may be 0.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoundaryPhase {
    pub width_nm: f64,
    #[serde(with = "material_map")]
    pub material: Material,
}

impl Default for SolverSettings {
    fn default() -> Self {
        SolverSettings {
            sweep: SweepOptions::default(),
            material: Material::nd2fe14b(),
            terms: Terms::default(),
            thickness_nm: Mesh::PAPER_CELL.2 * 1e9,
            boundary: None,
            backend: Backend::Plain,
        }
    }
}

impl SolverSettings {
    /// The one check of every solver limit, used by scripts and the command line alike.
    pub fn validate(&self) -> Result<(), SolverError> {
        self.sweep.validated()?;
        self.material.validated()?;
        self.backend.validated()?;
        if matches!(self.backend, Backend::Tensor(_))
            && self.sweep.min.method != super::Method::BarzilaiBorwein
        {
            return Err(SolverError::BadOption {
                name: "method",
                value: self.sweep.min.method.name().into(),
                expected: "\"bb\" with the tensor backend (L-BFGS runs on the plain solver only)",
            });
        }
        if !(1e-3..=1e9).contains(&self.thickness_nm) {
            return Err(SolverError::BadOption {
                name: "thickness_nm",
                value: self.thickness_nm.to_string(),
                expected: "a thickness in [1e-3, 1e9] nm",
            });
        }
        if let Some(b) = &self.boundary {
            b.material.validated_phase()?;
            if !(b.width_nm > 0.0 && b.width_nm <= 1e6) {
                return Err(SolverError::BadOption {
                    name: "boundary.width_nm",
                    value: b.width_nm.to_string(),
                    expected: "a width in (0, 1e6] nm",
                });
            }
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    boundary: Option<BoundaryPhase>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    backend: Option<BackendSpec>,
}

/// A backend other than the plain solver, as the manifest writes it:
/// `{ "name": "tensor", "device": "cuda", "batch": 256 }`.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct BackendSpec {
    name: String,
    #[serde(flatten)]
    tensor: TensorOptions,
}

/// A material as the manifest writes it: `{ "A", "Ms", "K1" }`.
mod material_map {
    use super::Material;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeMap;

    pub fn serialize<S: Serializer>(m: &Material, s: S) -> Result<S::Ok, S::Error> {
        to_map(m).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Material, D::Error> {
        from_map(&BTreeMap::deserialize(d)?).map_err(serde::de::Error::custom)
    }

    pub fn to_map(m: &Material) -> BTreeMap<String, f64> {
        [("A", m.a), ("Ms", m.ms), ("K1", m.k1)]
            .into_iter()
            .map(|(k, v)| (k.into(), v))
            .collect()
    }

    pub fn from_map(m: &BTreeMap<String, f64>) -> Result<Material, String> {
        let get = |k: &str| m.get(k).copied().ok_or(format!("material.{k} missing"));
        Ok(Material {
            a: get("A")?,
            ms: get("Ms")?,
            k1: get("K1")?,
        })
    }
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
            material: material_map::to_map(&s.material),
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
            boundary: s.boundary,
            backend: match s.backend {
                Backend::Plain => None,
                Backend::Tensor(tensor) => Some(BackendSpec {
                    name: "tensor".into(),
                    tensor,
                }),
            },
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
        let t = |k: &str| s.terms.get(k).copied().ok_or(format!("terms.{k} missing"));
        Ok(SolverSettings {
            sweep,
            material: material_map::from_map(&s.material)?,
            terms: Terms {
                exchange: t("exchange")?,
                anisotropy: t("anisotropy")?,
                zeeman: t("zeeman")?,
                demag: t("demag")?,
            },
            thickness_nm: s.thickness_nm,
            boundary: s.boundary,
            backend: match s.backend {
                None => Backend::Plain,
                Some(b) if b.name == "tensor" => Backend::Tensor(b.tensor),
                Some(b) => return Err(format!("unknown backend {:?}", b.name)),
            },
        })
    }
}

//! What a dataset is made of, as stored in its manifest: generator options, solver
//! settings, record layout, shard and the files with their checksums. Two runs with equal
//! specs produce the same records; a resume or a merge refuses anything else.

use super::error::{DataError, Result};
use crate::grains::{Sample, Structure, VoronoiOptions};
use crate::solver::{Material, Mesh, Precision, Problem, SweepOptions, Terms};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const FORMAT: &str = "coercive-dataset";
/// 2: the manifest carries its own SHA-256.
pub const FORMAT_VERSION: u32 = 2;

/// The structure law: `grains`/`theta` `None` follow the paper's law; record id i is drawn
/// with rng seed `splitmix64(base_seed, i)`, exactly `grains::Sample::new(.., base_seed, ..)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GeneratorSpec {
    pub nx: usize,
    pub ny: usize,
    pub cell_nm: f64,
    pub grains: Option<usize>,
    /// Range of the drawn grain count when `grains` is None.
    #[serde(default = "paper_grains")]
    pub grains_range: (usize, usize),
    /// Radians.
    pub theta: Option<f64>,
    pub periodic: bool,
    pub base_seed: u64,
}

fn paper_grains() -> (usize, usize) {
    crate::grains::PAPER_GRAINS
}

impl GeneratorSpec {
    pub fn new(options: &VoronoiOptions, base_seed: u64) -> Self {
        GeneratorSpec {
            nx: options.nx,
            ny: options.ny,
            cell_nm: options.cell_nm,
            grains: options.grains,
            grains_range: options.grains_range,
            theta: options.theta,
            periodic: options.periodic,
            base_seed,
        }
    }

    pub fn options(&self) -> VoronoiOptions {
        VoronoiOptions {
            nx: self.nx,
            ny: self.ny,
            cell_nm: self.cell_nm,
            grains: self.grains,
            grains_range: self.grains_range,
            theta: self.theta,
            seed: self.base_seed,
            periodic: self.periodic,
        }
    }

    /// The lazy sample whose structure i is record id i.
    pub fn sample(&self, count: u64) -> Result<Sample> {
        Ok(Sample::new(self.options(), self.base_seed, count as usize)?)
    }
}

/// Everything a demagnetisation curve depends on besides the structure. Shared by
/// `solver::demag_curve` options and dataset labelling.
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
            thickness_nm: 36_000.0,
        }
    }
}

impl SolverSettings {
    /// The one check of every solver limit, used by scripts and the command line alike.
    pub fn validate(&self) -> std::result::Result<(), crate::solver::SolverError> {
        self.sweep.fields()?;
        self.sweep.min.validated()?;
        self.material.validated()?;
        if !(1e-3..=1e9).contains(&self.thickness_nm) {
            return Err(crate::solver::SolverError::BadOption {
                name: "thickness_nm",
                value: self.thickness_nm.to_string(),
                expected: "a thickness in [1e-3, 1e9] nm",
            });
        }
        Ok(())
    }

    /// [`SolverSettings::validate`] and the mesh on the generator's grid: everything a
    /// generation checks before it writes anything.
    pub fn validate_for(&self, generator: &GeneratorSpec) -> Result<()> {
        self.validate()?;
        let d = generator.cell_nm * 1e-9;
        Mesh::new(generator.nx, generator.ny, d, d, self.thickness_nm * 1e-9)?;
        Ok(())
    }

    /// The micromagnetic problem of `s` (cells of `s.cell_nm()`, this thickness, material
    /// and terms).
    pub fn problem(
        &self,
        s: &Structure,
    ) -> std::result::Result<Problem, crate::solver::SolverError> {
        let d = s.cell_nm() * 1e-9;
        let mesh = Mesh::new(s.nx(), s.ny(), d, d, self.thickness_nm * 1e-9)?;
        Ok(Problem::new(mesh, &s.cell_angles())?
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
    fn try_from(s: SolverSpec) -> std::result::Result<Self, String> {
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

/// Part `index` of `count` (0-based): record ids [index·N/count, (index+1)·N/count).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Parses `i/n` (0 ≤ i < n).
    pub fn parse(s: &str) -> Result<Shard> {
        let bad = || DataError::BadOption {
            name: "shard",
            got: format!("{s:?}"),
            expected: "i/n with 0 ≤ i < n, e.g. 0/4".into(),
        };
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            i.trim().parse::<u64>().map_err(|_| bad())?,
            n.trim().parse::<u64>().map_err(|_| bad())?,
        );
        if index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// The ids of this shard among `total`.
    pub fn ids(&self, total: u64) -> std::ops::Range<u64> {
        let at = |k: u64| ((k as u128 * total as u128) / self.count as u128) as u64;
        at(self.index)..at(self.index + 1)
    }
}

/// The fixed part of a manifest: known before the first record is drawn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub format: String,
    pub format_version: u32,
    pub coercive_version: String,
    pub units: BTreeMap<String, String>,
    /// Records of the whole dataset (all shards).
    pub count: u64,
    pub generator: GeneratorSpec,
    /// Solver settings when the records carry curves and anchors.
    pub solver: Option<SolverSettings>,
    /// Field steps per curve (0 when unlabelled).
    pub steps: usize,
    /// Bytes of one record in the generation log.
    pub record_bytes: usize,
    pub shard: Shard,
    /// Record ids of this part: [first, end).
    pub ids: [u64; 2],
}

impl Spec {
    pub fn new(
        generator: GeneratorSpec,
        count: u64,
        solver: Option<SolverSettings>,
        shard: Shard,
    ) -> Result<Spec> {
        generator.options().validate()?;
        if let Some(s) = &solver {
            s.validate_for(&generator)?;
        }
        if count == 0 || count > 1 << 40 {
            return Err(DataError::BadOption {
                name: "count",
                got: count.to_string(),
                expected: "1 … 2^40 records".into(),
            });
        }
        let steps = match &solver {
            Some(s) => {
                // Every record gets anchors, which only a descending sweep has.
                if s.sweep.h_end >= s.sweep.h_start {
                    return Err(DataError::BadOption {
                        name: "h_start/h_end",
                        got: format!("{} → {}", s.sweep.h_start, s.sweep.h_end),
                        expected: "a descending sweep (h_start > h_end): labels carry anchors"
                            .into(),
                    });
                }
                s.sweep.fields()?.len()
            }
            None => 0,
        };
        let ids = shard.ids(count);
        let units = [
            ("h", "HA = 2K1/(μ0Ms), applied along +y"),
            ("m", "Ms (mean m_y per field step; mx: mean m_x)"),
            (
                "anchors",
                "M1, Mr in Ms; Hk90, Hk80, Hk70, Hc in HA as positive magnitudes",
            ),
            ("theta", "radians"),
            ("cell_nm", "nm"),
            ("torque", "HA"),
        ];
        Ok(Spec {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            coercive_version: env!("CARGO_PKG_VERSION").into(),
            units: units
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
            count,
            generator,
            solver,
            steps,
            record_bytes: super::record::record_bytes(steps),
            shard,
            ids: [ids.start, ids.end],
        })
    }

    pub fn labelled(&self) -> bool {
        self.solver.is_some()
    }

    /// Records of this part.
    pub fn len(&self) -> u64 {
        self.ids[1] - self.ids[0]
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The applied fields of every curve.
    pub fn fields(&self) -> Vec<f64> {
        self.solver
            .as_ref()
            .and_then(|s| s.sweep.fields().ok())
            .unwrap_or_default()
    }

    /// This spec as the whole dataset (what a merge of all its shards is).
    pub fn whole(&self) -> Spec {
        Spec {
            shard: Shard::WHOLE,
            ids: [0, self.count],
            ..self.clone()
        }
    }
}

/// One canonical file of a finished dataset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileSum {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

/// `manifest.json` of a finished dataset (or finished shard).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    #[serde(flatten)]
    pub spec: Spec,
    pub records: u64,
    pub files: Vec<FileSum>,
    /// SHA-256 of the manifest's compact JSON with this field empty: an edited setting is
    /// detected, not trusted.
    #[serde(default)]
    pub manifest_sha256: String,
}

impl Manifest {
    /// The manifest of `files`, its own checksum filled in.
    pub fn new(spec: Spec, records: u64, files: Vec<FileSum>) -> Manifest {
        let mut m = Manifest {
            spec,
            records,
            files,
            manifest_sha256: String::new(),
        };
        m.manifest_sha256 = m.own_sha256();
        m
    }

    fn own_sha256(&self) -> String {
        let unsigned = Manifest {
            manifest_sha256: String::new(),
            ..self.clone()
        };
        super::store::sha256_hex(&serde_json::to_vec(&unsigned).expect("manifest serialises"))
    }

    /// What is wrong with a manifest read from disk: a checksum that does not match its
    /// content, or settings that contradict each other.
    pub fn problem(&self) -> Option<String> {
        if self.manifest_sha256 != self.own_sha256() {
            return Some(format!(
                "its content's SHA-256 is {}, manifest_sha256 says {:?} (edited or damaged)",
                self.own_sha256(),
                self.manifest_sha256
            ));
        }
        let s = &self.spec;
        let ids = (s.shard.index < s.shard.count).then(|| s.shard.ids(s.count));
        if ids != Some(s.ids[0]..s.ids[1]) || self.records != s.len() {
            return Some(format!(
                "ids {:?}, shard {}/{}, count {} and records {} disagree",
                s.ids, s.shard.index, s.shard.count, s.count, self.records
            ));
        }
        let steps = s
            .solver
            .as_ref()
            .map_or(Ok(0), |v| v.sweep.fields().map(|f| f.len()));
        if steps.ok() != Some(s.steps) || s.record_bytes != super::record::record_bytes(s.steps) {
            return Some(format!(
                "steps {} and record_bytes {} do not match the solver settings",
                s.steps, s.record_bytes
            ));
        }
        None
    }
}

//! What a dataset is made of, as stored in its manifest: generator options, solver
//! settings, record layout, shard and the files with their checksums. Two runs with equal
//! specs produce the same records; a resume or a merge refuses anything else.

use super::error::{DataError, Result};
use crate::grains::{Sample, VoronoiOptions};
use crate::solver::{Mesh, SolverSettings};
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

    /// [`SolverSettings::validate`] and the mesh on this grid: everything a generation
    /// checks before it writes anything.
    pub fn check_solver(&self, solver: &SolverSettings) -> Result<()> {
        solver.validate()?;
        let d = self.cell_nm * 1e-9;
        Mesh::new(self.nx, self.ny, d, d, solver.thickness_nm * 1e-9)?;
        Ok(())
    }

    /// The lazy sample whose structure i is record id i.
    pub fn sample(&self, count: u64) -> Result<Sample> {
        Ok(Sample::new(self.options(), self.base_seed, count as usize)?)
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
            generator.check_solver(s)?;
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

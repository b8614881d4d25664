//! Records taken from finished datasets instead of made again (`data generate --from`).
//!
//! Record id i depends only on the generator, the solver settings and i, never on the count
//! or the shard. So a finished dataset of the same settings but another count or shard
//! holds exactly the records a generation would make for the ids they share: labelling 500
//! curves and later asking for 1 000 costs 500 curves, not 1 000. Every part taken from is
//! fully checked (files, checksums, records), and each taken record is checked against its
//! own draw (seed, grains, θ) before it counts as done.

use super::error::{DataError, Result};
use super::generate::spec_differences;
use super::record::Record;
use super::spec::{Manifest, Shard, Spec};
use super::store;
use crate::grains::Sample;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `spec` without what says which records a part holds (count, shard, ids): two parts of
/// the same law hold the same record for every id they share.
fn law(spec: &Spec) -> Spec {
    Spec {
        count: 0,
        shard: Shard::WHOLE,
        ids: [0, 0],
        ..spec.clone()
    }
}

/// Finished datasets to take records from, their manifests read and their settings checked
/// (before a generation writes anything).
pub struct Sources(Vec<(PathBuf, Manifest)>);

impl Sources {
    /// Refuses a directory of `from` that is not a finished dataset of `spec`'s settings.
    pub fn open(from: &[PathBuf], spec: &Spec) -> Result<Sources> {
        let mut parts = Vec::new();
        for dir in from {
            let m = store::read_manifest(dir)?;
            let (there, asked) = (law(&m.spec), law(spec));
            if there != asked {
                return Err(DataError::Incompatible(format!(
                    "{} (to take records from) holds a dataset with other settings ({}): its \
                     records are not this dataset's",
                    dir.display(),
                    spec_differences(&there, &asked)
                )));
            }
            parts.push((dir.clone(), m));
        }
        Ok(Sources(parts))
    }

    /// Their records (every file and record checked) whose ids are `wanted`, in id order,
    /// each checked against its draw in `sample`. Refuses an id that two of them hold with
    /// different contents.
    pub fn take(&self, sample: &Sample, wanted: impl Fn(u64) -> bool) -> Result<Vec<Record>> {
        let mut found: BTreeMap<u64, (Record, &Path)> = BTreeMap::new();
        for (dir, m) in &self.0 {
            if !(m.spec.ids[0]..m.spec.ids[1]).any(&wanted) {
                continue;
            }
            for r in store::read_records(dir, m)? {
                if !wanted(r.id) {
                    continue;
                }
                match found.get(&r.id) {
                    Some((same, _)) if *same == r => {}
                    Some((_, first)) => {
                        return Err(DataError::Duplicate {
                            path: dir.display().to_string(),
                            id: r.id,
                            what: format!("also in {} with other contents", first.display()),
                        });
                    }
                    None => {
                        check_draw(dir, sample, &r)?;
                        found.insert(r.id, (r, dir));
                    }
                }
            }
        }
        Ok(found.into_values().map(|(r, _)| r).collect())
    }
}

/// Refuses record `r` of `dir` unless its seed, grains and θ are record `r.id`'s draw.
fn check_draw(dir: &Path, sample: &Sample, r: &Record) -> Result<()> {
    let options = sample.options_of(r.id as usize)?;
    let d = crate::grains::draw(&options)?;
    if (r.seed, r.ng, r.theta) == (options.seed, d.ng as u32, d.theta) {
        return Ok(());
    }
    Err(DataError::Incompatible(format!(
        "{}: record {} has seed {}, {} grains, θ {} where its settings draw seed {}, {} \
         grains, θ {}: made by another version of the generator; it cannot be taken",
        dir.display(),
        r.id,
        r.seed,
        r.ng,
        r.theta,
        options.seed,
        d.ng,
        d.theta
    )))
}

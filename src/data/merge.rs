//! `data merge`: the finished shards of one dataset combined into the dataset a single
//! process would have written (byte for byte). Every part is fully checked first; parts of
//! different datasets (any manifest difference besides the shard) and records present twice
//! are refused, as is a set of parts that leaves ids uncovered, and an output directory
//! holding anything but the same dataset.

use super::error::{DataError, Result};
use super::generate::{check_output_dir, check_same};
use super::spec::Manifest;
use super::store;
use std::path::{Path, PathBuf};

/// Merges the finished parts in `parts` into a new dataset in `out`.
pub fn merge(out: &Path, parts: &[PathBuf]) -> Result<Manifest> {
    let Some(first) = parts.first() else {
        return Err(DataError::BadOption {
            name: "parts",
            got: "none".into(),
            expected: "at least one finished dataset directory".into(),
        });
    };
    check_output_dir(out)?;
    let whole = store::read_manifest(first)?.spec.whole();
    let mut records = Vec::new();
    let mut owner: Vec<(u64, usize)> = Vec::new();
    for (k, dir) in parts.iter().enumerate() {
        let m = store::read_manifest(dir)?;
        check_same(dir, &m.spec.whole(), &whole, "a part of another dataset")?;
        let rs = store::read_records(dir, &m)?;
        owner.extend(rs.iter().map(|r| (r.id, k)));
        records.extend(rs);
    }
    owner.sort_unstable();
    if let Some(w) = owner.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(DataError::Duplicate {
            path: parts[w[1].1].display().to_string(),
            id: w[0].0,
            what: format!("also in {}", parts[w[0].1].display()),
        });
    }
    if owner.len() as u64 != whole.count {
        let have: Vec<u64> = owner.iter().map(|o| o.0).collect();
        let missing = (0..whole.count).find(|id| have.binary_search(id).is_err());
        return Err(DataError::Incompatible(format!(
            "the parts hold {} of the dataset's {} records (first missing id: {}); give every shard",
            owner.len(),
            whole.count,
            missing.map_or("?".into(), |m| m.to_string())
        )));
    }
    if out.join(store::MANIFEST).exists() {
        let m = store::read_manifest(out)?;
        check_same(out, &m.spec, &whole, "a finished dataset")?;
    }
    std::fs::create_dir_all(out).map_err(super::error::io_at(out))?;
    store::finalise(out, &whole, records)
}

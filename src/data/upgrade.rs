//! `data upgrade`: a finished dataset of format v1 rewritten as the current format, its
//! records kept. v2 stores the same records; its manifest carries its own SHA-256, and its
//! anchors follow stricter rules (`solver::anchors`: a level must be crossed from above on a
//! descending sweep). So every file and record is checked against the v1 manifest as
//! [`store::read_records`] checks any dataset, the anchors of labelled records are re-derived
//! from their stored curves, and the canonical files whose bytes change (`anchors.npy`,
//! `anchors_missing.npy`, `anchors.csv`, and `crc32.npy`: a record's CRC-32 covers its
//! anchors) are rewritten, then the v2 manifest.
//!
//! Crash safety: the old bytes of each file about to change are first copied to
//! `DIR/.upgrade/`, then the files are replaced through `fsio`, the manifest last, then the
//! copies removed. A kill before the manifest leaves the v1 manifest, and the next upgrade
//! puts the copies back before checking anything; a kill after it leaves a v2 dataset (whose
//! leftover copies the next upgrade removes). A damaged v1 dataset is refused before anything
//! is written.

use super::error::{DataError, Result, format_at, io_at};
use super::log::Lock;
use super::spec::{FORMAT_VERSION, Manifest};
use super::store::{self, MANIFEST, sha256_hex};
use std::path::{Path, PathBuf};

/// The copies of the files an unfinished upgrade replaces.
pub const BACKUP: &str = ".upgrade";

/// What an upgrade did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Upgraded {
    pub dir: PathBuf,
    /// Format version found (the current one when there was nothing to do).
    pub from: u32,
    pub records: u64,
    pub labelled: bool,
    /// Canonical files rewritten (the manifest aside).
    pub rewritten: Vec<String>,
    /// Records with at least one anchor changed (value or presence).
    pub records_changed: u64,
    /// Anchors present before and after whose value changed, and the largest change.
    pub changed: u64,
    pub largest_change: f64,
    pub became_missing: u64,
    pub became_present: u64,
    /// Anchors (re-derived) that depend on a non-converged step.
    pub unreliable: u64,
}

impl Upgraded {
    /// Adds one record's anchors, `before` and `after` re-derivation.
    fn count(&mut self, before: [Option<f64>; 6], after: [Option<f64>; 6], unreliable: [bool; 6]) {
        let mut any = false;
        for (b, a) in before.into_iter().zip(after) {
            match (b, a) {
                (Some(b), Some(a)) if b.to_bits() != a.to_bits() => {
                    self.changed += 1;
                    self.largest_change = self.largest_change.max((a - b).abs());
                }
                (Some(_), None) => self.became_missing += 1,
                (None, Some(_)) => self.became_present += 1,
                _ => continue,
            }
            any = true;
        }
        self.records_changed += any as u64;
        self.unreliable += unreliable.iter().filter(|u| **u).count() as u64;
    }
}

impl std::fmt::Display for Upgraded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let dir = self.dir.display();
        if self.from == FORMAT_VERSION {
            return write!(
                f,
                "{dir}: already format v{FORMAT_VERSION} ({} records): nothing to upgrade",
                self.records
            );
        }
        write!(
            f,
            "{dir}: upgraded format v{} to v{FORMAT_VERSION}: {} records, curves unchanged",
            self.from, self.records
        )?;
        if self.labelled {
            write!(
                f,
                "; anchors re-derived from the stored curves by today's rules: {} changed \
                 value (largest change {:.3e}: the stored curves are f32, v1 derived from the \
                 unrounded ones), {} became missing, {} became present, in {} records; {} \
                 anchors are unreliable (after a non-converged step)",
                self.changed,
                self.largest_change,
                self.became_missing,
                self.became_present,
                self.records_changed,
                self.unreliable
            )?;
        }
        let mut files = self.rewritten.clone();
        files.push(MANIFEST.into());
        write!(f, "; rewrote {}", files.join(", "))
    }
}

/// Upgrades the finished dataset in `dir` to the current format (see the module doc).
pub fn upgrade(dir: &Path) -> Result<Upgraded> {
    // Two upgrades of one directory would restore each other's copies.
    let _lock = Lock::on_dir(dir)?;
    let old = store::read_manifest_any_version(dir)?;
    let mut up = Upgraded {
        dir: dir.to_path_buf(),
        from: old.spec.format_version,
        records: old.records,
        labelled: old.spec.labelled(),
        ..Upgraded::default()
    };
    if up.from == FORMAT_VERSION {
        store::read_manifest(dir)?;
        remove_backup(dir)?;
        return Ok(up);
    }
    if up.from != 1 {
        return Err(format_at(
            &dir.join(MANIFEST),
            format!(
                "format v{}: `data upgrade` rewrites v1 as v{FORMAT_VERSION}",
                up.from
            ),
        ));
    }
    restore_backup(dir, &old)?;
    let mut records = store::read_records(dir, &old)?;
    let mut spec = old.spec.clone();
    spec.format_version = FORMAT_VERSION;
    let fields = spec.fields();
    for l in records.iter_mut().filter_map(|r| r.label.as_mut()) {
        let before = l.anchors;
        l.anchors = l.curve(&fields).anchors().named().map(|(_, v)| v);
        up.count(before, l.anchors, l.unreliable(&fields));
    }
    let (files, manifest) = store::contents(&spec, &records);
    let manifest_path = dir.join(MANIFEST);
    if let Some(problem) = manifest.problem() {
        return Err(DataError::Checksum {
            path: manifest_path.display().to_string(),
            what: problem,
        });
    }
    let names = |m: &Manifest| m.files.iter().map(|f| f.name.clone()).collect::<Vec<_>>();
    if names(&old) != names(&manifest) {
        return Err(format_at(
            &manifest_path,
            format!(
                "lists files {:?}, expected {:?}",
                names(&old),
                names(&manifest)
            ),
        ));
    }
    let changed: Vec<&(&str, Vec<u8>)> = files
        .iter()
        .zip(&old.files)
        .zip(&manifest.files)
        .filter(|((_, was), now)| was.sha256 != now.sha256 || was.bytes != now.bytes)
        .map(|((file, _), _)| file)
        .collect();
    // Every copy is on disk before the first file is replaced.
    let backup = dir.join(BACKUP);
    std::fs::create_dir_all(&backup).map_err(io_at(&backup))?;
    crate::fsio::sync_dir(dir);
    for (name, _) in &changed {
        let path = dir.join(name);
        let bytes = std::fs::read(&path).map_err(io_at(&path))?;
        if !matches(&old, name, &bytes) {
            return Err(DataError::Checksum {
                path: path.display().to_string(),
                what: "changed while being upgraded".into(),
            });
        }
        store::write_file(&backup, name, &bytes)?;
    }
    for (name, bytes) in &changed {
        store::write_file(dir, name, bytes)?;
        up.rewritten.push(name.to_string());
    }
    store::write_manifest(dir, &manifest)?;
    remove_backup(dir)?;
    Ok(up)
}

/// Whether `bytes` are the file `name` as manifest `m` lists it.
fn matches(m: &Manifest, name: &str, bytes: &[u8]) -> bool {
    m.files
        .iter()
        .any(|f| f.name == name && f.bytes == bytes.len() as u64 && f.sha256 == sha256_hex(bytes))
}

/// Puts back the files an interrupted upgrade had replaced: each copy that is the file the
/// (still v1) manifest lists, where the file itself is not.
fn restore_backup(dir: &Path, old: &Manifest) -> Result<()> {
    let backup = dir.join(BACKUP);
    if !backup.is_dir() {
        return Ok(());
    }
    for f in &old.files {
        let (path, copy) = (dir.join(&f.name), backup.join(&f.name));
        let Ok(saved) = std::fs::read(&copy) else {
            continue;
        };
        let current = std::fs::read(&path).unwrap_or_default();
        if matches(old, &f.name, &saved) && !matches(old, &f.name, &current) {
            store::write_file(dir, &f.name, &saved)?;
        }
    }
    Ok(())
}

fn remove_backup(dir: &Path) -> Result<()> {
    let backup = dir.join(BACKUP);
    if backup.exists() {
        std::fs::remove_dir_all(&backup).map_err(io_at(&backup))?;
        crate::fsio::sync_dir(dir);
    }
    Ok(())
}

//! The finished dataset on disk: canonical files written from the records sorted by id, then
//! `manifest.json` with each file's size and SHA-256 and its own SHA-256, each file written
//! through `fsio` (temporary name, fsync, rename), the manifest last — a directory with a
//! manifest is complete.
//!
//! | file | dtype, shape | content |
//! |---|---|---|
//! | `id.npy` | u64 [N] | record ids, ascending |
//! | `seed.npy` | u64 [N] | rng seed of each structure |
//! | `ng.npy` | u32 [N] | grains drawn |
//! | `theta.npy` | f64 [N] | θ (radians) |
//! | `crc32.npy` | u32 [N] | CRC-32 of each record's bytes (see `record.rs`) |
//! | `h.npy` | f64 [S] | applied fields (labelled only, as are the rows below) |
//! | `m.npy`, `mx.npy` | f32 [N, S] | mean m_y, m_x per field step |
//! | `iterations.npy` | u32 [N, S] | energy+gradient evaluations per step |
//! | `torque.npy` | f32 [N, S] | final max torque per step (HA) |
//! | `converged.npy` | bool [N, S] | whether each step reached the tolerance |
//! | `anchors.npy` | f64 [N, 6] | M1, Mr, Hk90, Hk80, Hk70, Hc; NaN when missing |
//! | `anchors_missing.npy` | bool [N, 6] | the missing flags |
//! | `anchors.csv` | text | id, seed, ng, theta, and for labelled sets non_converged, M1 … Hc (empty = missing) |
//!
//! Nothing in them depends on time, thread count, shard layout or interruptions.

use super::error::{DataError, Result, format_at, io_at};
use super::record::{Label, Record};
use super::spec::{FileSum, Manifest, Spec};
use crate::solver::ANCHOR_NAMES;
use ndarray::{Array1, Array2};
use ndarray_npy::WritableElement;
use sha2::{Digest, Sha256};
use std::path::Path;

pub const MANIFEST: &str = "manifest.json";

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes `bytes` to `dir/name` atomically (see `fsio`).
pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let path = dir.join(name);
    crate::fsio::write(&path, bytes).map_err(io_at(&path))
}

fn npy<A: WritableElement, D: ndarray::Dimension>(a: ndarray::Array<A, D>) -> Vec<u8> {
    crate::fsio::npy::to_bytes(&a)
}

fn rows<T: Copy>(records: &[Record], steps: usize, f: impl Fn(&Label) -> &[T]) -> Array2<T> {
    let flat: Vec<T> = records
        .iter()
        .flat_map(|r| f(r.label.as_ref().expect("labelled")).iter().copied())
        .collect();
    Array2::from_shape_vec((records.len(), steps), flat).expect("one row per record")
}

fn csv_table(records: &[Record]) -> Vec<u8> {
    let labelled = records.first().is_some_and(|r| r.label.is_some());
    let mut s = String::from("id,seed,ng,theta");
    if labelled {
        s.push_str(",non_converged");
        for n in ANCHOR_NAMES {
            s.push(',');
            s.push_str(n);
        }
    }
    s.push('\n');
    for r in records {
        s.push_str(&format!("{},{},{},{}", r.id, r.seed, r.ng, r.theta));
        if let Some(l) = &r.label {
            s.push_str(&format!(",{}", l.non_converged()));
            for a in l.anchors {
                s.push(',');
                if let Some(a) = a {
                    s.push_str(&a.to_string());
                }
            }
        }
        s.push('\n');
    }
    s.into_bytes()
}

/// The canonical files of `records` (sorted by id), name → bytes.
fn canonical_files(spec: &Spec, records: &[Record]) -> Vec<(&'static str, Vec<u8>)> {
    let col = |f: fn(&Record) -> u64| Array1::from_iter(records.iter().map(f));
    let steps = spec.steps;
    let mut files = vec![
        ("id.npy", npy(col(|r| r.id))),
        ("seed.npy", npy(col(|r| r.seed))),
        (
            "ng.npy",
            npy(Array1::from_iter(records.iter().map(|r| r.ng))),
        ),
        (
            "theta.npy",
            npy(Array1::from_iter(records.iter().map(|r| r.theta))),
        ),
        (
            "crc32.npy",
            npy(Array1::from_iter(records.iter().map(|r| r.crc(steps)))),
        ),
    ];
    if spec.labelled() {
        fn anchors<T>(records: &[Record], f: fn(Option<f64>) -> T) -> Array2<T> {
            Array2::from_shape_fn((records.len(), 6), |(i, k)| {
                f(records[i].label.as_ref().expect("labelled").anchors[k])
            })
        }
        files.extend([
            ("h.npy", npy(Array1::from(spec.fields()))),
            ("m.npy", npy(rows(records, steps, |l| &l.my))),
            ("mx.npy", npy(rows(records, steps, |l| &l.mx))),
            (
                "iterations.npy",
                npy(rows(records, steps, |l| &l.iterations)),
            ),
            ("torque.npy", npy(rows(records, steps, |l| &l.torque))),
            ("converged.npy", npy(rows(records, steps, |l| &l.converged))),
            (
                "anchors.npy",
                npy(anchors(records, |a| a.unwrap_or(f64::NAN))),
            ),
            (
                "anchors_missing.npy",
                npy(anchors(records, |a| a.is_none())),
            ),
        ]);
    }
    files.push(("anchors.csv", csv_table(records)));
    files
}

/// The canonical files of `records` (sorted by id) and the manifest that lists them, nothing
/// written: for [`finalise`] and `upgrade`, which write them in the same order.
pub(crate) fn contents(
    spec: &Spec,
    records: &[Record],
) -> (Vec<(&'static str, Vec<u8>)>, Manifest) {
    let files = canonical_files(spec, records);
    let sums = files
        .iter()
        .map(|(name, bytes)| FileSum {
            name: (*name).into(),
            bytes: bytes.len() as u64,
            sha256: sha256_hex(bytes),
        })
        .collect();
    let manifest = Manifest::new(spec.clone(), records.len() as u64, sums);
    (files, manifest)
}

/// Writes `manifest.json`: last, so a directory with a manifest is complete.
pub(crate) fn write_manifest(dir: &Path, manifest: &Manifest) -> Result<()> {
    let mut json = serde_json::to_vec_pretty(manifest).expect("manifest serialises");
    json.push(b'\n');
    write_file(dir, MANIFEST, &json)
}

/// Writes the finished dataset: canonical files, then the manifest. `records` must be all
/// records of the part, in any order.
pub fn finalise(dir: &Path, spec: &Spec, mut records: Vec<Record>) -> Result<Manifest> {
    records.sort_by_key(|r| r.id);
    let expected = spec.len();
    let ids_ok = records.len() as u64 == expected
        && records
            .iter()
            .enumerate()
            .all(|(k, r)| r.id == spec.ids[0] + k as u64);
    if !ids_ok {
        return Err(DataError::Incompatible(format!(
            "{}: cannot finish: {} records for ids {}..{} (expected each id once)",
            dir.display(),
            records.len(),
            spec.ids[0],
            spec.ids[1]
        )));
    }
    let (files, manifest) = contents(spec, &records);
    for (name, bytes) in files {
        write_file(dir, name, &bytes)?;
    }
    write_manifest(dir, &manifest)?;
    Ok(manifest)
}

/// Reads a JSON file into `T`, naming the file on error.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path).map_err(io_at(path))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| format_at(path, format!("not a valid manifest: {e}")))
}

/// Reads the manifest of a finished dataset in `dir` of any format version (for `upgrade`):
/// only its format name is checked.
pub fn read_manifest_any_version(dir: &Path) -> Result<Manifest> {
    let path = dir.join(MANIFEST);
    if !path.exists() {
        let hint = if dir.join(super::generate::PARTIAL).exists() {
            "generation has not finished (run the same `data generate` again to resume)"
        } else {
            "not a coercive dataset"
        };
        return Err(format_at(&path, format!("missing: {hint}")));
    }
    let m: Manifest = read_json(&path)?;
    if m.spec.format != super::spec::FORMAT {
        return Err(format_at(
            &path,
            format!("format {:?} is not {}", m.spec.format, super::spec::FORMAT),
        ));
    }
    Ok(m)
}

/// Reads the manifest of a finished dataset in `dir`.
pub fn read_manifest(dir: &Path) -> Result<Manifest> {
    let path = dir.join(MANIFEST);
    let m = read_manifest_any_version(dir)?;
    let (have, want) = (m.spec.format_version, super::spec::FORMAT_VERSION);
    if have != want {
        let what = if have < want {
            format!(
                "run `coercive data upgrade {}` (scripts: `data::upgrade(dir)`) to rewrite it \
                 as v{want}, its records kept",
                dir.display()
            )
        } else {
            "written by a newer coercive".into()
        };
        return Err(format_at(
            &path,
            format!("format {} v{have} is not v{want}: {what}", m.spec.format),
        ));
    }
    if let Some(problem) = m.problem() {
        return Err(DataError::Checksum {
            path: path.display().to_string(),
            what: problem,
        });
    }
    Ok(m)
}

/// A canonical file read back, with whether its bytes match the manifest.
struct Loaded {
    bytes: Vec<u8>,
    intact: bool,
}

fn load_file(dir: &Path, sum: &FileSum) -> Result<Loaded> {
    let path = dir.join(&sum.name);
    let bytes = std::fs::read(&path).map_err(io_at(&path))?;
    if bytes.len() as u64 != sum.bytes {
        return Err(DataError::Checksum {
            path: path.display().to_string(),
            what: format!(
                "{} bytes, the manifest says {} (truncated or extended)",
                bytes.len(),
                sum.bytes
            ),
        });
    }
    let intact = sha256_hex(&bytes) == sum.sha256;
    Ok(Loaded { bytes, intact })
}

fn parse_npy<T: ndarray_npy::ReadableElement, D: ndarray::Dimension>(
    path: &Path,
    bytes: &[u8],
    shape: &[usize],
) -> Result<ndarray::Array<T, D>> {
    let a = crate::fsio::npy::read::<T, D>(bytes).map_err(|e| {
        format_at(
            path,
            format!("not a readable .npy of the expected dtype: {e}"),
        )
    })?;
    if a.shape() != shape {
        return Err(format_at(
            path,
            format!("shape {:?}, expected {shape:?}", a.shape()),
        ));
    }
    Ok(a)
}

/// Reads and checks every record of the finished dataset in `dir`: file sizes and SHA-256
/// against the manifest, then each record against `crc32.npy`. A damaged file is reported
/// with the first record it damages.
pub fn read_records(dir: &Path, m: &Manifest) -> Result<Vec<Record>> {
    let spec = &m.spec;
    let n = m.records as usize;
    let s = spec.steps;
    let mut files = std::collections::BTreeMap::new();
    for sum in &m.files {
        files.insert(sum.name.as_str(), load_file(dir, sum)?);
    }
    let get = |name: &str| -> Result<&Loaded> {
        files
            .get(name)
            .ok_or_else(|| format_at(&dir.join(MANIFEST), format!("lists no file {name}")))
    };
    macro_rules! col {
        ($name:expr, $t:ty, $d:ty, $shape:expr) => {
            parse_npy::<$t, $d>(&dir.join($name), &get($name)?.bytes, &$shape)?
        };
    }
    let ids = col!("id.npy", u64, ndarray::Ix1, [n]);
    let seed = col!("seed.npy", u64, ndarray::Ix1, [n]);
    let ng = col!("ng.npy", u32, ndarray::Ix1, [n]);
    let theta = col!("theta.npy", f64, ndarray::Ix1, [n]);
    let crc = col!("crc32.npy", u32, ndarray::Ix1, [n]);
    let labels: Option<Vec<Box<Label>>> = if spec.labelled() {
        let my = col!("m.npy", f32, ndarray::Ix2, [n, s]);
        let mx = col!("mx.npy", f32, ndarray::Ix2, [n, s]);
        let it = col!("iterations.npy", u32, ndarray::Ix2, [n, s]);
        let tq = col!("torque.npy", f32, ndarray::Ix2, [n, s]);
        let cv = col!("converged.npy", bool, ndarray::Ix2, [n, s]);
        let an = col!("anchors.npy", f64, ndarray::Ix2, [n, 6]);
        let miss = col!("anchors_missing.npy", bool, ndarray::Ix2, [n, 6]);
        Some(
            (0..n)
                .map(|i| {
                    Box::new(Label {
                        my: my.row(i).to_vec(),
                        mx: mx.row(i).to_vec(),
                        iterations: it.row(i).to_vec(),
                        torque: tq.row(i).to_vec(),
                        converged: cv.row(i).to_vec(),
                        anchors: std::array::from_fn(|k| (!miss[[i, k]]).then_some(an[[i, k]])),
                    })
                })
                .collect(),
        )
    } else {
        None
    };
    let mut labels = labels.map(Vec::into_iter);
    let records: Vec<Record> = (0..n)
        .map(|i| Record {
            id: ids[i],
            seed: seed[i],
            ng: ng[i],
            theta: theta[i],
            label: labels.as_mut().and_then(Iterator::next),
        })
        .collect();
    // Which file is damaged, and its first damaged record.
    let damaged: Vec<&str> = m
        .files
        .iter()
        .filter(|f| !files[f.name.as_str()].intact)
        .map(|f| f.name.as_str())
        .collect();
    let bad = records
        .iter()
        .enumerate()
        .position(|(k, r)| r.crc(s) != crc[k] || r.id != spec.ids[0] + k as u64);
    match (damaged.first(), bad) {
        (None, None) => Ok(records),
        (file, Some(k)) => Err(DataError::CorruptRecord {
            path: dir
                .join(file.copied().unwrap_or("crc32.npy"))
                .display()
                .to_string(),
            position: k,
            id: Some(records[k].id),
            what: match file {
                Some(_) => {
                    "the file's SHA-256 differs from the manifest and this record fails its CRC-32"
                        .into()
                }
                None => "fails its CRC-32 although every file matches the manifest".into(),
            },
        }),
        (Some(file), None) => Err(DataError::Checksum {
            path: dir.join(file).display().to_string(),
            what: "SHA-256 differs from the manifest (outside the record values: header or table)"
                .into(),
        }),
    }
}

//! The generation log: a header (`CLOG`, u32 version, the SHA-256 of the spec the records
//! were made with) and then fixed-size, checksummed records appended in the order they
//! finish. A record is one `write` of its whole bytes; the file is fsynced in batches. The
//! header ties the records to their settings even when `spec.json` is lost.
//!
//! Recovery (every start): records are read front to back. A torn or failing record at the
//! very end — what a crash in the middle of an append leaves — is cut off and regenerated;
//! a failing record anywhere else, an id outside the part or an id seen twice is an error
//! naming the file, the position and the id, because it cannot come from a crash.

use super::error::{DataError, Result, io_at};
use super::record::Record;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 4] = b"CLOG";
const VERSION: u32 = 1;
/// Bytes of the header: magic, version, fingerprint.
pub const HEADER: usize = 4 + 4 + 32;

/// The SHA-256 of the spec's JSON: what the records of a log were made with.
pub fn fingerprint(spec: &super::spec::Spec) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(serde_json::to_vec(spec).expect("spec serialises")).into()
}

fn header(fingerprint: &[u8; 32]) -> Vec<u8> {
    let mut h = MAGIC.to_vec();
    h.extend_from_slice(&VERSION.to_le_bytes());
    h.extend_from_slice(fingerprint);
    h
}

/// Refuses a log at `path` (if there is one) whose header names another spec.
pub fn check_fingerprint(path: &Path, fingerprint: &[u8; 32]) -> Result<()> {
    let mut head = Vec::new();
    match File::open(path) {
        Ok(f) => f
            .take(HEADER as u64)
            .read_to_end(&mut head)
            .map_err(io_at(path))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_at(path)(e)),
    };
    let want = header(fingerprint);
    if head.len() == HEADER && head[..8] == want[..8] && head != want {
        return Err(DataError::Incompatible(format!(
            "{}: its records were made with other settings (spec fingerprint {}, asked {})",
            path.display(),
            hex(&head[8..]),
            hex(fingerprint)
        )));
    }
    Ok(())
}

pub struct Log {
    path: PathBuf,
    file: File,
    steps: usize,
    /// Bytes appended since the last fsync.
    unsynced: usize,
}

/// What recovery found.
pub struct Recovered {
    pub log: Log,
    pub records: Vec<Record>,
    /// Bytes of a torn tail that were cut off.
    pub cut_bytes: u64,
}

impl Log {
    /// Opens (creating if needed) the log at `path` for records made with the spec of
    /// `fingerprint`, checks every record and cuts a torn tail. Ids must lie in `ids` and
    /// appear once. A log of another spec is `Incompatible`.
    pub fn recover(
        path: &Path,
        steps: usize,
        ids: std::ops::Range<u64>,
        fingerprint: &[u8; 32],
    ) -> Result<Recovered> {
        let io = io_at(path);
        let head = header(fingerprint);
        let torn = match std::fs::read(path) {
            Ok(bytes) => bytes.len() < HEADER && head.starts_with(&bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
            Err(e) => return Err(io(e)),
        };
        if torn {
            // New, or a header torn by a kill (a log from before headers were written
            // whole): no record can follow it yet. The header is written whole, so the log
            // is never seen without one.
            crate::fsio::write(path, &head).map_err(&io)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .open(path)
            .map_err(&io)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(&io)?;
        check_fingerprint(path, fingerprint)?;
        let (records, valid) = read_records(path, &bytes, steps, ids)?;
        let cut_bytes = (bytes.len() - valid) as u64;
        if cut_bytes > 0 {
            file.set_len(valid as u64).map_err(&io)?;
            file.sync_all().map_err(&io)?;
        }
        file.seek(SeekFrom::End(0)).map_err(&io)?;
        Ok(Recovered {
            log: Log {
                path: path.to_path_buf(),
                file,
                steps,
                unsynced: 0,
            },
            records,
            cut_bytes,
        })
    }

    /// Appends records (one write for all of them).
    pub fn append(&mut self, records: &[Record]) -> Result<()> {
        let bytes: Vec<u8> = records.iter().flat_map(|r| r.encode(self.steps)).collect();
        self.file.write_all(&bytes).map_err(io_at(&self.path))?;
        self.unsynced += bytes.len();
        Ok(())
    }

    /// Flushes appended records to disk.
    pub fn sync(&mut self) -> Result<()> {
        if self.unsynced > 0 {
            self.file.sync_data().map_err(io_at(&self.path))?;
            self.unsynced = 0;
        }
        Ok(())
    }
}

fn hex(b: &[u8]) -> String {
    b.iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        + "…"
}

/// Valid records of a log image (header included) and the length of its valid prefix.
pub fn read_records(
    path: &Path,
    bytes: &[u8],
    steps: usize,
    ids: std::ops::Range<u64>,
) -> Result<(Vec<Record>, usize)> {
    if bytes.len() < HEADER || bytes[..4] != MAGIC[..] || bytes[4..8] != VERSION.to_le_bytes() {
        return Err(DataError::Format {
            path: path.display().to_string(),
            msg: format!(
                "expected a generation log (\"CLOG\" version {VERSION} and a {HEADER}-byte header)"
            ),
        });
    }
    let (offset, bytes) = (HEADER, &bytes[HEADER..]);
    let n = super::record::record_bytes(steps);
    let full = bytes.len() / n;
    let mut seen = vec![false; (ids.end - ids.start) as usize];
    let mut records = Vec::with_capacity(full);
    for k in 0..full {
        let corrupt = |id, what: String| DataError::CorruptRecord {
            path: path.display().to_string(),
            position: k,
            id,
            what,
        };
        let r = match Record::decode(&bytes[k * n..], steps) {
            Ok(r) => r,
            // The last whole record may be a torn append (its size reached the disk, not
            // all its bytes): drop it with the partial tail.
            Err(_) if k + 1 == full => return Ok((records, offset + k * n)),
            Err((id, what)) => return Err(corrupt(id, what)),
        };
        if !ids.contains(&r.id) {
            return Err(corrupt(
                Some(r.id),
                format!("id outside this part's ids {}..{}", ids.start, ids.end),
            ));
        }
        let slot = &mut seen[(r.id - ids.start) as usize];
        if *slot {
            return Err(DataError::Duplicate {
                path: path.display().to_string(),
                id: r.id,
                what: format!("again at record {k}"),
            });
        }
        *slot = true;
        records.push(r);
    }
    Ok((records, offset + full * n))
}

/// An exclusive advisory lock on `path` (released when the process ends, even by SIGKILL).
pub struct Lock(#[allow(dead_code)] File);

impl Lock {
    pub fn take(path: &Path) -> Result<Lock> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(io_at(path))?;
        Self::flock(file, path)
    }

    /// The same lock on directory `dir` itself: taking it writes nothing.
    pub fn on_dir(dir: &Path) -> Result<Lock> {
        Self::flock(File::open(dir).map_err(io_at(dir))?, dir)
    }

    fn flock(file: File, path: &Path) -> Result<Lock> {
        use std::os::fd::AsRawFd;
        // SAFETY: flock on a descriptor we own.
        let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if r != 0 {
            return Err(DataError::Locked {
                path: path.display().to_string(),
            });
        }
        Ok(Lock(file))
    }
}

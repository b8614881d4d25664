//! Files on disk. Every file the tool writes goes through [`write`] / [`write_with`] /
//! [`stage`]: the content goes to a temporary file in the target's directory, is fsynced and
//! then renamed over the target, so a failed save (full disk, Ctrl-C, crash) leaves the
//! previous file intact. Readers of foreign formats check sizes before allocating (`npy`).

pub mod npy;
pub mod vtk;

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A written temporary file waiting to replace `path`; dropped uncommitted, it is removed.
#[must_use = "a staged file replaces nothing until committed"]
pub struct Staged {
    tmp: PathBuf,
    path: PathBuf,
}

impl Staged {
    /// Renames the temporary file over the target and syncs the directory (best effort).
    pub fn commit(self) -> io::Result<()> {
        std::fs::rename(&self.tmp, &self.path)?;
        sync_dir(self.path.parent().unwrap_or(Path::new("")));
        std::mem::forget(self);
        Ok(())
    }

    /// The target path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.tmp);
    }
}

/// Commits staged files in order (all were written: only renames remain).
pub fn commit_all(staged: Vec<Staged>) -> io::Result<()> {
    staged.into_iter().try_for_each(Staged::commit)
}

/// fsync of a directory so a rename in it survives a power cut (best effort: some file
/// systems refuse to open or sync directories).
pub fn sync_dir(dir: &Path) {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// A fresh temporary name beside `path` (same directory, so the rename is atomic).
fn temp_beside(path: &Path) -> io::Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "expected a file name, got a path ending in `..` or `/`",
        )
    })?;
    let mut tmp = std::ffi::OsString::from(".");
    tmp.push(name);
    tmp.push(format!(
        ".{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    Ok(path.with_file_name(tmp))
}

/// Writes a temporary file beside `path` through `fill` (which gets its path: for
/// libraries that write to a path themselves) and fsyncs it; the target is untouched until
/// [`Staged::commit`].
pub fn stage_via<E: From<io::Error>>(
    path: impl AsRef<Path>,
    fill: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<Staged, E> {
    let path = path.as_ref().to_path_buf();
    let tmp = temp_beside(&path)?;
    // Reserve the name; `fill` may reopen it.
    OpenOptions::new().write(true).create_new(true).open(&tmp)?;
    let staged = Staged { tmp, path };
    fill(&staged.tmp)?;
    File::open(&staged.tmp)?.sync_all()?;
    Ok(staged)
}

/// Writes a temporary file beside `path` through `fill` and fsyncs it (see [`stage_via`]).
pub fn stage<E: From<io::Error>>(
    path: impl AsRef<Path>,
    fill: impl FnOnce(&mut io::BufWriter<&File>) -> Result<(), E>,
) -> Result<Staged, E> {
    stage_via(path, |tmp| {
        let file = OpenOptions::new().write(true).truncate(true).open(tmp)?;
        let mut w = io::BufWriter::new(&file);
        fill(&mut w)?;
        w.flush()?;
        Ok(())
    })
}

/// Replaces `path` with what `fill` writes, atomically.
pub fn write_with<E: From<io::Error>>(
    path: impl AsRef<Path>,
    fill: impl FnOnce(&mut io::BufWriter<&File>) -> Result<(), E>,
) -> Result<(), E> {
    Ok(stage(path, fill)?.commit()?)
}

/// Replaces `path` with `bytes`, atomically.
pub fn write(path: impl AsRef<Path>, bytes: impl AsRef<[u8]>) -> io::Result<()> {
    write_with(path, |w| w.write_all(bytes.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fsio_failed_fill_keeps_the_old_file_and_leaves_no_temporary() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f.txt");
        write(&p, "old").unwrap();
        let r: io::Result<()> = write_with(&p, |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
        write(&p, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        assert!(write(d.path().join("no/such/dir/f"), "x").is_err());
    }
}

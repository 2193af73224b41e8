//! The store's writer lock: what keeps `prune` from deleting the blobs of a
//! backup that is still being written.
//!
//! A backup stores its blobs first and commits its manifest last; between
//! the two, no document references those blobs. So every writer
//! (`backup`, `capture_point`) and every reader that must find its blobs
//! again (`restore`, `rollback`) holds a *shared* `flock` on
//! `<work_dir>/backups/.write.lock` for its whole duration, and leaves a
//! marker `<work_dir>/backups/.in-progress-<id>` naming what it writes.
//! `prune` takes the lock *exclusively* without waiting: while any of them
//! runs it is refused ([`BackupError::InProgress`], naming the markers) and
//! deletes nothing. Once it holds the lock no writer is alive, so a marker
//! still there belongs to a writer that died before committing: it is
//! removed and reported, and the blobs only it had written are unreferenced
//! and pruned. The kernel drops a dead process's lock, so a crash never
//! blocks `prune` for good.
//!
//! The lock and its markers stay files in the local `work_dir` whatever
//! backend holds the blobs and documents (for the file backend `work_dir`
//! is the state directory, so they sit where they always did). They order
//! the calls of this machine only; across machines the plan's lease
//! serialises them: every mutating call (`backup`, `capture_point`,
//! `restore`, `rollback`, `prune`) runs under it, and a database backend
//! refuses the writes of a holder that lost it (its fencing token).

use std::fs::{self, File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use crate::error::{BackupError, io_err};
use crate::store::BackupStore;

const LOCK_FILE: &str = ".write.lock";
const MARKER_PREFIX: &str = ".in-progress-";

/// A held shared lock (and its in-progress marker, if it writes).
/// Dropping it removes the marker and releases the lock.
#[derive(Debug)]
pub(crate) struct SharedLock {
    _file: File,
    marker: Option<PathBuf>,
}

impl Drop for SharedLock {
    fn drop(&mut self) {
        if let Some(m) = &self.marker {
            let _ = fs::remove_file(m);
        }
    }
}

/// The held exclusive lock of a `prune`.
#[derive(Debug)]
pub(crate) struct ExclusiveLock {
    _file: File,
    /// Ids of markers left by writers that died before committing (removed).
    pub(crate) abandoned: Vec<String>,
}

impl BackupStore {
    fn lock_path(&self) -> PathBuf {
        self.lock_dir.join(LOCK_FILE)
    }

    fn open_lock(&self) -> Result<File, BackupError> {
        let path = self.lock_path();
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io_err(&path, "open the store lock"))
    }

    /// Takes the shared lock (waiting for a `prune` in progress to end);
    /// `writing` names the backup or point it writes, for `prune`'s refusal.
    pub(crate) fn lock_shared(&self, writing: Option<&str>) -> Result<SharedLock, BackupError> {
        let file = self.open_lock()?;
        file.lock_shared()
            .map_err(io_err(self.lock_path(), "lock (shared)"))?;
        let marker = match writing {
            Some(id) => {
                let path = self.lock_dir.join(format!("{MARKER_PREFIX}{id}"));
                fs::write(&path, format!("{}\n", std::process::id()))
                    .map_err(io_err(&path, "write the in-progress marker"))?;
                Some(path)
            }
            None => None,
        };
        Ok(SharedLock {
            _file: file,
            marker,
        })
    }

    /// Takes the lock exclusively, or refuses at once while anything
    /// holds it shared; removes the markers of dead writers.
    pub(crate) fn lock_exclusive(&self) -> Result<ExclusiveLock, BackupError> {
        let file = self.open_lock()?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(BackupError::InProgress {
                    dir: self.lock_dir.clone(),
                    writing: markers(&self.lock_dir)?,
                });
            }
            Err(TryLockError::Error(e)) => {
                return Err(io_err(self.lock_path(), "lock (exclusive)")(e));
            }
        }
        let abandoned = markers(&self.lock_dir)?;
        for id in &abandoned {
            let path = self.lock_dir.join(format!("{MARKER_PREFIX}{id}"));
            fs::remove_file(&path).map_err(io_err(&path, "remove an abandoned marker"))?;
        }
        Ok(ExclusiveLock {
            _file: file,
            abandoned,
        })
    }
}

/// The ids named by in-progress markers in `dir`, sorted.
fn markers(dir: &Path) -> Result<Vec<String>, BackupError> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err(dir, "list directory"))? {
        let entry = entry.map_err(io_err(dir, "list directory"))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(id) = name.strip_prefix(MARKER_PREFIX) {
            out.push(id.to_string());
        }
    }
    out.sort();
    Ok(out)
}

//! File backend: `lease.json` (human-readable) guarded by a `flock` on `lease.guard`.
//!
//! All reads-and-changes of `lease.json` happen under an exclusive `flock` on
//! `lease.guard` (held only for the duration of one operation; the kernel drops it
//! if the process dies). A new lease is written to a temp file, fsynced, then
//! hard-linked to `lease.json`, which fails if the name exists (O_EXCL semantics),
//! so two acquirers can never both succeed even without the guard.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::sys::{self, FlockGuard, ProcState};
use super::{
    Acquired, ForcedUnlock, Lease, LeaseError, LeaseHandle, LeaseInfo, StaleReason, StaleRecovery,
};
use crate::atomic::{FileError, temp_path_for, write_atomic};

/// Lease stored in a state directory.
#[derive(Debug, Clone)]
pub struct FileLease {
    dir: PathBuf,
    ttl: Duration,
    purpose: Option<String>,
}

/// A held file lease; released on drop.
#[derive(Debug)]
pub struct FileLeaseHandle {
    dir: PathBuf,
    info: LeaseInfo,
    released: bool,
}

fn io(path: &Path, op: &'static str) -> impl FnOnce(io::Error) -> LeaseError {
    move |source| LeaseError::Io {
        path: path.to_path_buf(),
        op,
        source,
    }
}

fn from_file_error(e: FileError) -> LeaseError {
    match e {
        FileError::Io { path, op, source } => LeaseError::Io { path, op, source },
        other => LeaseError::Io {
            path: PathBuf::new(),
            op: "write lease",
            source: io::Error::other(other.to_string()),
        },
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn age_of(ts_ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(now_ms().saturating_sub(ts_ms)).unwrap_or(0))
}

fn lease_path(dir: &Path) -> PathBuf {
    dir.join(FileLease::FILE_NAME)
}

fn lock_guard(dir: &Path) -> Result<FlockGuard, LeaseError> {
    let path = dir.join(FileLease::GUARD_NAME);
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io(&path, "open lease guard"))?;
    sys::flock_exclusive(f).map_err(io(&path, "flock lease guard"))
}

/// Raw bytes of `lease.json` and the parse result.
type RawLease = (Vec<u8>, Result<LeaseInfo, String>);

/// Raw bytes and parsed lease, or `None` if there is no lease file.
fn read_raw(dir: &Path) -> Result<Option<RawLease>, LeaseError> {
    let path = lease_path(dir);
    match fs::read(&path) {
        Ok(bytes) => {
            let parsed = serde_json::from_slice::<LeaseInfo>(&bytes).map_err(|e| e.to_string());
            Ok(Some((bytes, parsed)))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(&path, "read lease")(e)),
    }
}

fn read_lease(dir: &Path) -> Result<Option<LeaseInfo>, LeaseError> {
    match read_raw(dir)? {
        None => Ok(None),
        Some((_, Ok(info))) => Ok(Some(info)),
        Some((_, Err(detail))) => Err(LeaseError::Corrupt {
            path: lease_path(dir),
            detail,
        }),
    }
}

fn encode(info: &LeaseInfo) -> Vec<u8> {
    let mut v = serde_json::to_vec_pretty(info).unwrap_or_default();
    v.push(b'\n');
    v
}

fn remove_lease(dir: &Path) -> Result<(), LeaseError> {
    let path = lease_path(dir);
    fs::remove_file(&path).map_err(io(&path, "remove lease"))?;
    crate::atomic::fsync_dir(dir).map_err(from_file_error)
}

fn held(info: &LeaseInfo) -> LeaseError {
    LeaseError::Held {
        purpose: info.purpose.clone(),
        holder: info.holder.clone(),
        pid: info.pid,
        host: info.host.clone(),
        heartbeat_age: age_of(info.heartbeat_at),
    }
}

impl FileLease {
    /// Name of the lease file.
    pub const FILE_NAME: &'static str = "lease.json";
    /// Name of the guard file used for `flock`.
    pub const GUARD_NAME: &'static str = "lease.guard";
    /// Default TTL after which a lease without heartbeat is considered stale.
    pub const DEFAULT_TTL: Duration = Duration::from_secs(300);

    /// Lease over `dir` (created if missing) with the default TTL.
    pub fn new(dir: &Path) -> Result<FileLease, LeaseError> {
        Self::with_ttl(dir, Self::DEFAULT_TTL)
    }

    /// Records what the holder does (`cutover backup create by ana`) in the
    /// lease it acquires, so whoever is refused reads it.
    pub fn for_purpose(mut self, purpose: impl Into<String>) -> FileLease {
        self.purpose = Some(purpose.into());
        self
    }

    /// Lease over `dir` with a custom heartbeat TTL.
    pub fn with_ttl(dir: &Path, ttl: Duration) -> Result<FileLease, LeaseError> {
        fs::create_dir_all(dir).map_err(io(dir, "create state directory"))?;
        Ok(FileLease {
            dir: dir.to_path_buf(),
            ttl,
            purpose: None,
        })
    }

    /// Decide whether `info` is stale from this host's point of view.
    pub fn staleness(&self, info: &LeaseInfo) -> Option<StaleReason> {
        if info.host == sys::hostname() {
            let boot = sys::boot_id();
            if let (Some(theirs), Some(ours)) = (&info.boot_id, &boot)
                && theirs != ours
            {
                return Some(StaleReason::Rebooted);
            }
            match sys::process_state(info.pid) {
                ProcState::Dead => return Some(StaleReason::DeadPid),
                ProcState::Alive(Some(start)) if info.pid_start.is_some_and(|s| s != start) => {
                    return Some(StaleReason::PidReused);
                }
                ProcState::Alive(_) => {}
            }
        }
        let age = age_of(info.heartbeat_at);
        (age > self.ttl).then_some(StaleReason::HeartbeatExpired { age })
    }

    fn create(&self, info: &LeaseInfo) -> Result<(), LeaseError> {
        let path = lease_path(&self.dir);
        let tmp = temp_path_for(&path);
        let written = (|| -> io::Result<()> {
            let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
            f.write_all(&encode(info))?;
            f.sync_all()
        })();
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(io(&tmp, "write lease temp file")(e));
        }
        let linked = fs::hard_link(&tmp, &path);
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => crate::atomic::fsync_dir(&self.dir).map_err(from_file_error),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => match read_lease(&self.dir)? {
                Some(other) => Err(held(&other)),
                None => Err(io(&path, "link lease")(e)),
            },
            Err(e) => Err(io(&path, "link lease")(e)),
        }
    }
}

impl Lease for FileLease {
    type Handle = FileLeaseHandle;

    fn acquire(&self) -> Result<Acquired<FileLeaseHandle>, LeaseError> {
        let _guard = lock_guard(&self.dir)?;
        let mut recovered = None;
        if let Some(existing) = read_lease(&self.dir)? {
            match self.staleness(&existing) {
                None => return Err(held(&existing)),
                Some(reason) => {
                    remove_lease(&self.dir)?;
                    recovered = Some(StaleRecovery {
                        previous: existing,
                        reason,
                    });
                }
            }
        }
        let now = now_ms();
        let info = LeaseInfo {
            holder: sys::random_id(),
            pid: std::process::id(),
            host: sys::hostname(),
            boot_id: sys::boot_id(),
            pid_start: sys::own_start_time(),
            acquired_at: now,
            heartbeat_at: now,
            token: None,
            purpose: self.purpose.clone(),
        };
        self.create(&info)?;
        Ok(Acquired {
            handle: FileLeaseHandle {
                dir: self.dir.clone(),
                info,
                released: false,
            },
            recovered,
        })
    }

    fn current(&self) -> Result<Option<LeaseInfo>, LeaseError> {
        read_lease(&self.dir)
    }

    fn force_unlock(&self, reason: &str) -> Result<Option<ForcedUnlock>, LeaseError> {
        let _guard = lock_guard(&self.dir)?;
        let Some((raw, parsed)) = read_raw(&self.dir)? else {
            return Ok(None);
        };
        remove_lease(&self.dir)?;
        Ok(Some(ForcedUnlock {
            previous: parsed.ok(),
            raw: String::from_utf8_lossy(&raw).into_owned(),
            reason: reason.to_string(),
        }))
    }
}

impl FileLeaseHandle {
    fn check_ours(&self) -> Result<(), LeaseError> {
        let current = read_lease(&self.dir)?;
        if current
            .as_ref()
            .is_some_and(|c| c.holder == self.info.holder)
        {
            Ok(())
        } else {
            Err(LeaseError::Lost {
                holder: self.info.holder.clone(),
                current: current.map(Box::new),
            })
        }
    }

    fn release_inner(&mut self) -> Result<(), LeaseError> {
        if self.released {
            return Ok(());
        }
        self.released = true;
        let _guard = lock_guard(&self.dir)?;
        self.check_ours()?;
        remove_lease(&self.dir)
    }
}

impl LeaseHandle for FileLeaseHandle {
    fn info(&self) -> &LeaseInfo {
        &self.info
    }

    fn heartbeat(&mut self) -> Result<(), LeaseError> {
        if self.released {
            return Err(LeaseError::Lost {
                holder: self.info.holder.clone(),
                current: None,
            });
        }
        let _guard = lock_guard(&self.dir)?;
        self.check_ours()?;
        let mut next = self.info.clone();
        next.heartbeat_at = now_ms();
        write_atomic(&lease_path(&self.dir), &encode(&next)).map_err(from_file_error)?;
        self.info = next;
        Ok(())
    }

    fn release(mut self) -> Result<(), LeaseError> {
        self.release_inner()
    }
}

impl Drop for FileLeaseHandle {
    fn drop(&mut self) {
        let _ = self.release_inner();
    }
}

//! Single-writer lease over a state directory.

mod file;
pub(crate) mod sys;

pub use sys::hostname;

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use file::{FileLease, FileLeaseHandle};

/// Who holds (or held) a lease. Stored as `lease.json` by the file backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseInfo {
    /// Random 128-bit holder id (hex), unique per acquisition.
    pub holder: String,
    /// Holder process id.
    pub pid: u32,
    /// Holder hostname.
    pub host: String,
    /// Linux boot id of the holder's host, if known (detects reboots).
    #[serde(default)]
    pub boot_id: Option<String>,
    /// Holder process start time in clock ticks since boot, if known (detects pid reuse).
    #[serde(default)]
    pub pid_start: Option<u64>,
    /// When the lease was acquired, ms since the Unix epoch.
    pub acquired_at: i64,
    /// Last heartbeat, ms since the Unix epoch.
    pub heartbeat_at: i64,
    /// What the holder does (`cutover backup create by ana`), when it said
    /// ([`FileLease::for_purpose`]); absent in leases written before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// Fencing token of this acquisition (database backends): grows by one
    /// at every acquisition, and every write checks it. Absent for the
    /// file backend, where the lease is an `flock`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<u64>,
}

/// Why an existing lease was judged stale and taken over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaleReason {
    /// The holder pid no longer exists on this host (or is a zombie).
    DeadPid,
    /// The pid exists but belongs to a different process (start time differs).
    PidReused,
    /// This host has rebooted since the lease was taken.
    Rebooted,
    /// The last heartbeat is older than the lease TTL.
    HeartbeatExpired {
        /// Age of the last heartbeat.
        age: Duration,
    },
}

/// A stale lease that `acquire` removed; journal it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleRecovery {
    /// The lease that was removed.
    pub previous: LeaseInfo,
    /// Why it was considered stale.
    pub reason: StaleReason,
}

/// A successful acquisition.
#[derive(Debug)]
pub struct Acquired<H> {
    /// The held lease; released on drop.
    pub handle: H,
    /// Set when a stale lease had to be recovered first.
    pub recovered: Option<StaleRecovery>,
}

/// What `force_unlock` removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForcedUnlock {
    /// Parsed lease, if the file was readable.
    pub previous: Option<LeaseInfo>,
    /// Raw file content (lossy UTF-8), for the record.
    pub raw: String,
    /// The reason given by the operator.
    pub reason: String,
}

/// Lease errors.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// Someone else holds a live lease.
    #[error(
        "lease held by {}{holder} (pid {pid} on {host}, last heartbeat {heartbeat_age:?} ago)",
        purpose.as_ref().map_or(String::new(), |p| format!("`{p}`, holder "))
    )]
    Held {
        /// What the holder does, if it said.
        purpose: Option<String>,
        /// Holder id.
        holder: String,
        /// Holder pid.
        pid: u32,
        /// Holder host.
        host: String,
        /// Age of its last heartbeat.
        heartbeat_age: Duration,
    },
    /// Our lease was removed or replaced by someone else (e.g. `force_unlock`).
    #[error("lease {holder} lost: now {}", current.as_ref().map_or("unheld".to_string(), |c| format!("held by {} (pid {} on {})", c.holder, c.pid, c.host)))]
    Lost {
        /// Our holder id.
        holder: String,
        /// Current lease, if any.
        current: Option<Box<LeaseInfo>>,
    },
    /// The lease file cannot be parsed; use `force_unlock`.
    #[error("{}: unreadable lease file: {detail}", path.display())]
    Corrupt {
        /// Lease file.
        path: PathBuf,
        /// Parse error.
        detail: String,
    },
    /// An I/O operation failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// File involved.
        path: PathBuf,
        /// What was being done.
        op: &'static str,
        /// Underlying error.
        source: io::Error,
    },
    /// The state database failed (unreachable, refused, table missing, gone away).
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}

/// A lease store (backend-neutral; the file backend is [`FileLease`]).
pub trait Lease {
    /// The handle of a held lease.
    type Handle: LeaseHandle;

    /// Take the lease, recovering a stale one (reported in [`Acquired::recovered`]).
    fn acquire(&self) -> Result<Acquired<Self::Handle>, LeaseError>;

    /// The current lease, if any.
    fn current(&self) -> Result<Option<LeaseInfo>, LeaseError>;

    /// Remove whatever lease exists, live or not. Returns what was removed.
    fn force_unlock(&self, reason: &str) -> Result<Option<ForcedUnlock>, LeaseError>;
}

/// A held lease. Dropping it releases it (best effort).
pub trait LeaseHandle {
    /// The lease as written.
    fn info(&self) -> &LeaseInfo;

    /// Refresh `heartbeat_at`. Fails with [`LeaseError::Lost`] if the lease is no longer ours.
    fn heartbeat(&mut self) -> Result<(), LeaseError>;

    /// Release the lease explicitly, reporting errors.
    fn release(self) -> Result<(), LeaseError>
    where
        Self: Sized;
}

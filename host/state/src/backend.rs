//! Where a plan's state lives, and one handle over either backend: the
//! state directory (the embedded default) or PostgreSQL (for teams).
//!
//! The engine opens a [`StateBackend`] and takes its journal, lease, blobs
//! and documents from it; it never names a backend's types. Writes to a
//! database backend carry the [`Fence`] of the lease they were made under.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::blob::{BlobError, BlobStore, FileBlobStore};
use crate::db::DbError;
use crate::docs::{DocError, DocStore, FileDocStore};
use crate::journal::{
    Anchor, FileJournal, Journal, JournalError, Record, RecordRef, Records, RepairReport,
};
use crate::lease::{
    Acquired, FileLease, FileLeaseHandle, ForcedUnlock, Lease, LeaseError, LeaseHandle, LeaseInfo,
};
use crate::pg::{PgConfig, PgJournal, PgLease, PgLeaseHandle, PgState};

/// The fencing token of a held database lease: every write made under the
/// lease presents it, and the database refuses it once another holder has
/// taken the lease or the lease has expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fence {
    /// Token of the acquisition (grows by one at each acquisition).
    pub token: u64,
}

/// Environment variable that names the state database, overriding `[plan] state`.
pub use cutover_base::STATE_URL_ENV;

/// Environment variable that sets a database lease's time to live in
/// milliseconds (default [`DEFAULT_DB_LEASE_TTL`]).
pub const LEASE_TTL_ENV: &str = "CUTOVER_LEASE_TTL_MS";

/// How long a database lease lives without a heartbeat.
pub const DEFAULT_DB_LEASE_TTL: Duration = Duration::from_secs(30);

/// Where a plan's state lives.
#[derive(Debug, Clone)]
pub enum StateLocation {
    /// A state directory on this machine.
    Dir(PathBuf),
    /// A PostgreSQL database shared by the team.
    Postgres(PgConfig),
}

impl StateLocation {
    /// The location for a plan: `url` (from `CUTOVER_STATE_URL` or `[plan]
    /// state`) when given, else the state directory `dir`.
    pub fn resolve(url: Option<&str>, dir: &Path, plan: &str) -> Result<StateLocation, DbError> {
        match url.map(str::trim).filter(|u| !u.is_empty()) {
            None => Ok(StateLocation::Dir(dir.to_path_buf())),
            Some(url) => Ok(StateLocation::Postgres(PgConfig::from_url(url, plan)?)),
        }
    }

    /// A short description for messages: the directory, or `postgres host:port/db`.
    pub fn describe(&self) -> String {
        match self {
            StateLocation::Dir(dir) => dir.display().to_string(),
            StateLocation::Postgres(cfg) => format!("postgres {}", cfg.target()),
        }
    }
}

/// An opened state: a directory or a database connection.
#[derive(Debug, Clone)]
pub enum StateBackend {
    /// The file backend over a state directory.
    Dir(PathBuf),
    /// The PostgreSQL backend.
    Postgres(PgState),
}

/// The TTL of database leases (from [`LEASE_TTL_ENV`] when set and valid).
pub fn db_lease_ttl() -> Duration {
    std::env::var(LEASE_TTL_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|ms| *ms > 0)
        .map_or(DEFAULT_DB_LEASE_TTL, Duration::from_millis)
}

impl StateBackend {
    /// Opens the state at `location` (connecting to the database; creating
    /// nothing).
    pub fn open(location: &StateLocation) -> Result<StateBackend, DbError> {
        match location {
            StateLocation::Dir(dir) => Ok(StateBackend::Dir(dir.clone())),
            StateLocation::Postgres(cfg) => {
                Ok(StateBackend::Postgres(PgState::connect(cfg.clone())?))
            }
        }
    }

    /// Makes the state writable: creates the directory, or the plan's tables.
    pub fn ensure(&self) -> Result<(), DbError> {
        match self {
            StateBackend::Dir(_) => Ok(()),
            StateBackend::Postgres(pg) => pg.ensure_schema(),
        }
    }

    /// Whether a journal exists (a run was started).
    pub fn journal_exists(&self) -> Result<bool, DbError> {
        match self {
            StateBackend::Dir(dir) => Ok(dir.join(FileJournal::FILE_NAME).exists()),
            StateBackend::Postgres(pg) => pg.exists(),
        }
    }

    /// A short description for messages.
    pub fn describe(&self) -> String {
        match self {
            StateBackend::Dir(dir) => dir.display().to_string(),
            StateBackend::Postgres(pg) => format!("postgres {}", pg.target()),
        }
    }

    /// The lease, naming what its holder does.
    pub fn lease(&self, purpose: Option<&str>) -> Result<AnyLease, LeaseError> {
        match self {
            StateBackend::Dir(dir) => {
                let lease = FileLease::new(dir)?;
                Ok(AnyLease::File(match purpose {
                    Some(p) => lease.for_purpose(p),
                    None => lease,
                }))
            }
            StateBackend::Postgres(pg) => Ok(AnyLease::Pg(
                pg.lease(purpose.map(str::to_string), db_lease_ttl()),
            )),
        }
    }

    /// The journal for writing under `lease` (a torn last line of a file
    /// journal is cut first and reported).
    pub fn journal_for_write(
        &self,
        lease: &AnyLeaseHandle,
    ) -> Result<(AnyJournal, Option<RepairReport>), JournalError> {
        match self {
            StateBackend::Dir(dir) => {
                let (j, r) = FileJournal::repair_truncated_tail(dir)?;
                Ok((AnyJournal::File(j), r))
            }
            StateBackend::Postgres(pg) => {
                pg.ensure_schema()?;
                Ok((AnyJournal::Pg(pg.journal(lease.fence())?), None))
            }
        }
    }

    /// The records after `anchor`, without reading what comes before it
    /// (see [`FileJournal::records_after_anchor`] and
    /// [`PgJournal::records_after_anchor`]); `None` when the journal
    /// no longer holds the anchor (fold from the start instead).
    pub fn records_after_anchor(
        &self,
        anchor: &Anchor,
    ) -> Result<Option<Vec<Record>>, JournalError> {
        match self {
            StateBackend::Dir(dir) => match FileJournal::records_after_anchor(dir, anchor)? {
                Some(iter) => Ok(Some(iter.collect::<Result<_, _>>()?)),
                None => Ok(None),
            },
            StateBackend::Postgres(pg) => pg.journal(None)?.records_after_anchor(anchor),
        }
    }

    /// The journal for reading only.
    pub fn journal_for_read(&self) -> Result<AnyJournal, JournalError> {
        match self {
            StateBackend::Dir(dir) => Ok(AnyJournal::File(FileJournal::open(dir)?)),
            StateBackend::Postgres(pg) => Ok(AnyJournal::Pg(pg.journal(None)?)),
        }
    }

    /// The blob store under `dir` of a state directory (`backups`), or the
    /// plan's blobs in the database, whose writes need the lease's `fence`.
    pub fn blobs(&self, dir: &str, fence: Option<Fence>) -> Result<Arc<dyn BlobStore>, BlobError> {
        match self {
            StateBackend::Dir(root) => Ok(Arc::new(FileBlobStore::open(&root.join(dir))?)),
            StateBackend::Postgres(pg) => Ok(Arc::new(pg.blobs(fence)?)),
        }
    }

    /// The documents of the state; a database's writes need the lease's `fence`.
    pub fn docs(&self, fence: Option<Fence>) -> Result<Arc<dyn DocStore>, DocError> {
        match self {
            StateBackend::Dir(root) => Ok(Arc::new(FileDocStore::new(root))),
            StateBackend::Postgres(pg) => Ok(Arc::new(pg.docs(fence)?)),
        }
    }
}

/// The journal of either backend.
#[derive(Debug)]
pub enum AnyJournal {
    /// `journal.log` in a state directory.
    File(FileJournal),
    /// The plan's journal table.
    Pg(PgJournal),
}

impl Journal for AnyJournal {
    fn append_batch(
        &mut self,
        entries: Vec<(String, serde_json::Value)>,
    ) -> Result<Vec<RecordRef>, JournalError> {
        match self {
            AnyJournal::File(j) => j.append_batch(entries),
            AnyJournal::Pg(j) => j.append_batch(entries),
        }
    }

    fn head(&self) -> Option<RecordRef> {
        match self {
            AnyJournal::File(j) => j.head(),
            AnyJournal::Pg(j) => j.head(),
        }
    }

    fn records(&self) -> Result<Records<'_>, JournalError> {
        match self {
            AnyJournal::File(j) => j.records(),
            AnyJournal::Pg(j) => j.records(),
        }
    }

    fn records_after(&self, after: u64) -> Result<Records<'_>, JournalError> {
        match self {
            AnyJournal::File(j) => j.records_after(after),
            AnyJournal::Pg(j) => j.records_after(after),
        }
    }

    fn append_batch_deferred(
        &mut self,
        entries: Vec<(String, serde_json::Value)>,
    ) -> Result<Vec<RecordRef>, JournalError> {
        match self {
            AnyJournal::File(j) => j.append_batch_deferred(entries),
            AnyJournal::Pg(j) => j.append_batch_deferred(entries),
        }
    }

    fn sync(&mut self) -> Result<(), JournalError> {
        match self {
            AnyJournal::File(j) => j.sync(),
            AnyJournal::Pg(j) => j.sync(),
        }
    }

    fn unsynced_since(&self) -> Option<std::time::Instant> {
        match self {
            AnyJournal::File(j) => j.unsynced_since(),
            AnyJournal::Pg(j) => j.unsynced_since(),
        }
    }

    fn head_anchor(&self) -> Option<Anchor> {
        match self {
            AnyJournal::File(j) => j.head_anchor(),
            AnyJournal::Pg(j) => j.head_anchor(),
        }
    }
}

/// The lease of either backend.
#[derive(Debug)]
pub enum AnyLease {
    /// `lease.json` + `flock` in a state directory.
    File(FileLease),
    /// The plan's lease row.
    Pg(PgLease),
}

/// A held lease of either backend.
#[derive(Debug)]
pub enum AnyLeaseHandle {
    /// A file lease.
    File(FileLeaseHandle),
    /// A database lease with its fencing token.
    Pg(PgLeaseHandle),
}

impl AnyLeaseHandle {
    /// The fencing token writes present (database leases only).
    pub fn fence(&self) -> Option<Fence> {
        match self {
            AnyLeaseHandle::File(_) => None,
            AnyLeaseHandle::Pg(h) => Some(h.fence()),
        }
    }
}

impl Lease for AnyLease {
    type Handle = AnyLeaseHandle;

    fn acquire(&self) -> Result<Acquired<AnyLeaseHandle>, LeaseError> {
        Ok(match self {
            AnyLease::File(l) => {
                let a = l.acquire()?;
                Acquired {
                    handle: AnyLeaseHandle::File(a.handle),
                    recovered: a.recovered,
                }
            }
            AnyLease::Pg(l) => {
                let a = l.acquire()?;
                Acquired {
                    handle: AnyLeaseHandle::Pg(a.handle),
                    recovered: a.recovered,
                }
            }
        })
    }

    fn current(&self) -> Result<Option<LeaseInfo>, LeaseError> {
        match self {
            AnyLease::File(l) => l.current(),
            AnyLease::Pg(l) => l.current(),
        }
    }

    fn force_unlock(&self, reason: &str) -> Result<Option<ForcedUnlock>, LeaseError> {
        match self {
            AnyLease::File(l) => l.force_unlock(reason),
            AnyLease::Pg(l) => l.force_unlock(reason),
        }
    }
}

impl LeaseHandle for AnyLeaseHandle {
    fn info(&self) -> &LeaseInfo {
        match self {
            AnyLeaseHandle::File(h) => h.info(),
            AnyLeaseHandle::Pg(h) => h.info(),
        }
    }

    fn heartbeat(&mut self) -> Result<(), LeaseError> {
        match self {
            AnyLeaseHandle::File(h) => h.heartbeat(),
            AnyLeaseHandle::Pg(h) => h.heartbeat(),
        }
    }

    fn release(self) -> Result<(), LeaseError> {
        match self {
            AnyLeaseHandle::File(h) => h.release(),
            AnyLeaseHandle::Pg(h) => h.release(),
        }
    }
}

//! Append-only, hash-chained journal.
//!
//! Every record carries `seq` (1-based, contiguous), `ts_ms`, `prev` (digest of
//! the previous record, 64 zeros for the first), `kind`, `payload` and its own
//! sha256. See [`codec`] for the on-disk line format of the file backend.

pub mod codec;
mod file;
mod scan;

use std::fmt;
use std::io;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;

pub use file::{FileJournal, RecordIter, RepairReport};
pub(crate) use scan::check_next;

/// Largest encoded record (one line) accepted, in bytes.
pub const MAX_RECORD_BYTES: usize = 16 * 1024 * 1024;

/// Kind of the record written by [`FileJournal::repair_truncated_tail`].
pub const REPAIRED_KIND: &str = "journal-repaired";

/// A record as stored in the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// 1-based sequence number, contiguous.
    pub seq: u64,
    /// Wall-clock time of the append, milliseconds since the Unix epoch.
    pub ts_ms: i64,
    /// Digest of the previous record (`Digest::ZERO` for seq 1).
    pub prev: Digest,
    /// Record kind, chosen by the caller (e.g. `phase-started`).
    pub kind: String,
    /// Arbitrary JSON payload.
    pub payload: serde_json::Value,
    /// Position within a multi-record batch (`None` for single appends).
    pub batch: Option<BatchPos>,
    /// Digest of this record's canonical bytes.
    pub hash: Digest,
}

/// Position of a record inside a batch written by [`Journal::append_batch`].
/// A batch is visible only if all `len` records are present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchPos {
    /// 0-based index within the batch.
    pub index: u32,
    /// Number of records in the batch (at least 2).
    pub len: u32,
}

/// Identifies a committed record: its seq and digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRef {
    /// Sequence number.
    pub seq: u64,
    /// Digest of the record's canonical bytes (the next record's `prev`).
    pub hash: Digest,
}

/// Why a journal position is considered corrupt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorruptReason {
    /// The last line has no terminating newline, or the file ends inside a
    /// batch: a torn write. Repairable by cutting `len` bytes at `offset`.
    TornTail {
        /// Number of bytes from `offset` to the end of the file.
        len: u64,
    },
    /// Batch positions are inconsistent (index out of order or lengths differ).
    BadBatch,
    /// The last line is a complete record followed by a damaged newline byte. Not repairable.
    DamagedTerminator,
    /// The line does not end with the `,"sha256":"<64 hex>"}` trailer.
    BadFraming,
    /// The stored sha256 does not match the canonical bytes.
    ChecksumMismatch,
    /// The canonical bytes are not a valid record.
    BadJson(String),
    /// The line is longer than [`MAX_RECORD_BYTES`].
    LineTooLong,
    /// The record's seq is not the expected next seq.
    SeqGap {
        /// Seq found in the record.
        found: u64,
    },
    /// `prev` does not match the previous record's digest.
    BrokenLink {
        /// Digest the record should link to.
        expected: Digest,
        /// Digest found in `prev`.
        found: Digest,
    },
}

impl fmt::Display for CorruptReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CorruptReason::TornTail { len } => write!(
                f,
                "torn tail: last {len} bytes are an incomplete line or an incomplete batch"
            ),
            CorruptReason::BadBatch => f.write_str("inconsistent batch position"),
            CorruptReason::DamagedTerminator => {
                f.write_str("complete last record followed by a damaged newline byte")
            }
            CorruptReason::BadFraming => f.write_str("line lacks the sha256 trailer"),
            CorruptReason::ChecksumMismatch => f.write_str("sha256 does not match record bytes"),
            CorruptReason::BadJson(e) => write!(f, "record is not valid: {e}"),
            CorruptReason::LineTooLong => {
                write!(f, "line longer than {MAX_RECORD_BYTES} bytes")
            }
            CorruptReason::SeqGap { found } => write!(f, "unexpected seq {found}"),
            CorruptReason::BrokenLink { expected, found } => {
                write!(f, "broken hash link: prev is {found}, expected {expected}")
            }
        }
    }
}

/// Journal errors.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The journal is damaged at `offset` (start of the bad line) where record `seq` was expected.
    #[error("{}: corrupt at byte offset {offset} (record seq {seq}): {reason}", path.display())]
    Corrupt {
        /// Journal file.
        path: PathBuf,
        /// Byte offset of the start of the bad line.
        offset: u64,
        /// The seq expected at that position.
        seq: u64,
        /// What is wrong.
        reason: CorruptReason,
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
    /// A record to append is larger than [`MAX_RECORD_BYTES`] once encoded.
    #[error("record of kind {kind:?} encodes to {len} bytes, limit is {MAX_RECORD_BYTES}")]
    RecordTooLarge {
        /// Kind of the record.
        kind: String,
        /// Encoded length.
        len: usize,
    },
    /// The file changed while it was being verified: another process is writing.
    #[error("{}: file grew from {verified} to {now} bytes while being verified; is another writer active?", path.display())]
    ConcurrentWriter {
        /// Journal file.
        path: PathBuf,
        /// Bytes verified.
        verified: u64,
        /// Size found afterwards.
        now: u64,
    },
    /// A previous write or fsync failed; the handle must be reopened.
    #[error("journal handle poisoned by an earlier failed write: reopen it")]
    Poisoned,
    /// Repair was asked for but the damage is not a torn last line.
    #[error("refusing to repair: {0}")]
    NotRepairable(Box<JournalError>),
    /// The state database failed (unreachable, refused, table missing, gone away).
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    /// A write was refused because this writer no longer holds the lease
    /// (its fencing token is stale or its lease expired): another runner
    /// may have taken over. Nothing was written.
    #[error("journal write refused: {detail}")]
    Fenced {
        /// Our token, the current holder and token, or why there is none.
        detail: String,
    },
    /// The journal of a database-backed state holds a record that does not
    /// verify (a row edited or removed in the database).
    #[error("state database {target}: journal corrupt at record seq {seq}: {reason}")]
    CorruptRow {
        /// `host:port/dbname` and table.
        target: String,
        /// The seq expected at that position.
        seq: u64,
        /// What is wrong.
        reason: CorruptReason,
    },
}

impl JournalError {
    /// True if this is a torn-tail corruption that `repair_truncated_tail` can fix.
    pub fn is_torn_tail(&self) -> bool {
        matches!(
            self,
            JournalError::Corrupt {
                reason: CorruptReason::TornTail { .. },
                ..
            }
        )
    }
}

/// A position in a journal that a reader can start from without reading
/// what comes before: a committed record (the last of its batch) and,
/// for the file backend, where its line starts and ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    /// The record.
    pub record: RecordRef,
    /// File backend: byte offset of the record's line (0 elsewhere).
    pub start: u64,
    /// File backend: byte offset just after its line (0 elsewhere).
    pub end: u64,
}

/// A boxed iterator over verified records.
pub type Records<'a> = Box<dyn Iterator<Item = Result<Record, JournalError>> + 'a>;

/// An append-only hash-chained journal. Backend-neutral: the file backend is
/// [`FileJournal`]; database or object-store backends implement the same trait.
pub trait Journal {
    /// Append one record and make it durable before returning (a batch of
    /// one).
    fn append(
        &mut self,
        kind: &str,
        payload: serde_json::Value,
    ) -> Result<RecordRef, JournalError> {
        let mut refs = self.append_batch(vec![(kind.to_string(), payload)])?;
        refs.pop().ok_or(JournalError::Poisoned)
    }

    /// Append several records with a single durable commit; all or none become
    /// visible (records carry a [`BatchPos`] and an incomplete batch at the end
    /// of the journal is treated as a torn tail).
    fn append_batch(
        &mut self,
        entries: Vec<(String, serde_json::Value)>,
    ) -> Result<Vec<RecordRef>, JournalError>;

    /// The last committed record, if any.
    fn head(&self) -> Option<RecordRef>;

    /// Iterate all records in order, verifying the chain as it goes.
    fn records(&self) -> Result<Records<'_>, JournalError>;

    /// Iterate records with `seq > after`, verifying the chain as it goes.
    fn records_after(&self, after: u64) -> Result<Records<'_>, JournalError> {
        Ok(Box::new(self.records()?.filter(
            move |r| !matches!(r, Ok(rec) if rec.seq <= after),
        )))
    }

    /// Append without waiting for durability (group commit): the record is
    /// written and visible to readers of this backend once [`Journal::sync`]
    /// or any durable append has run. A crash may lose deferred records, and
    /// only a suffix of them: the journal stays a prefix of what was
    /// appended. Backends without group commit append durably.
    fn append_deferred(
        &mut self,
        kind: &str,
        payload: serde_json::Value,
    ) -> Result<RecordRef, JournalError> {
        let mut refs = self.append_batch_deferred(vec![(kind.to_string(), payload)])?;
        refs.pop().ok_or(JournalError::Poisoned)
    }

    /// [`Journal::append_batch`] without waiting for durability.
    fn append_batch_deferred(
        &mut self,
        entries: Vec<(String, serde_json::Value)>,
    ) -> Result<Vec<RecordRef>, JournalError> {
        self.append_batch(entries)
    }

    /// Makes every deferred record durable.
    fn sync(&mut self) -> Result<(), JournalError> {
        Ok(())
    }

    /// Since when deferred records wait for [`Journal::sync`] (`None`: none).
    fn unsynced_since(&self) -> Option<std::time::Instant> {
        None
    }

    /// Where a reader can start after the last committed record.
    fn head_anchor(&self) -> Option<Anchor> {
        self.head().map(|record| Anchor {
            record,
            start: 0,
            end: 0,
        })
    }
}

//! Durable state for the cutover runner.
//!
//! A state directory holds:
//!
//! * `journal.log` — the hash-chained append-only journal ([`FileJournal`]);
//! * `lease.json` (+ `lease.guard`) — the single-writer lease ([`FileLease`]);
//! * `blobs/ab/cdef…` — content-addressed blobs ([`FileBlobStore`]);
//! * small checked JSON documents written with [`write_checked_json`], such as the
//!   snapshot of the current-state view ([`Snapshot`]).
//!
//! # File formats
//!
//! * **Journal** (`journal.log`): one JSON object per `\n`-terminated line,
//!   `{"seq":N,"ts_ms":T,"prev":"<hex>","kind":"..","payload":..[,"batch":[i,n]],"sha256":"<hex>"}`.
//!   `sha256` covers the line's bytes without the `,"sha256":".."` trailer; `prev`
//!   is the previous record's `sha256` (64 zeros for seq 1). Seqs start at 1 and
//!   are contiguous. Records of one `append_batch` carry `batch` and count only
//!   when the whole batch is present. See [`journal::codec`].
//! * **Lease** (`lease.json`): pretty JSON [`LeaseInfo`]; `lease.guard` is an
//!   empty file used only for `flock`.
//! * **Blobs**: raw content at `blobs/<first 2 hex>/<remaining 62 hex>`; temp
//!   files in `blobs/tmp/`.
//! * **Checked JSON** (snapshots, manifests): `{"sha256":"<hex>","body":<json>}`
//!   where the digest covers the exact bytes of `<json>` in the file.
//!
//! Each concern sits behind a backend-neutral trait ([`Journal`], [`Lease`],
//! [`BlobStore`], [`DocStore`]). [`StateBackend`] opens either the state
//! directory or a PostgreSQL database ([`pg`]) and hands out the four.

pub mod atomic;
pub mod backend;
pub mod db;
pub mod digest;
pub mod docs;
mod exit;
pub mod journal;
pub mod pg;

pub use atomic::{
    FileError, decode_checked_json, encode_checked_json, fsync_dir, read_checked_json,
    write_atomic, write_checked_json,
};
pub use backend::{
    AnyJournal, AnyLease, AnyLeaseHandle, Fence, LEASE_TTL_ENV, STATE_URL_ENV, StateBackend,
    StateLocation, db_lease_ttl,
};
pub use db::{DbError, DbErrorKind};
pub use digest::{Digest, DigestParseError};
pub use docs::{DocError, DocStore, FileDocStore, check_doc_name};
pub use journal::{
    Anchor, BatchPos, CorruptReason, FileJournal, Journal, JournalError, Record, RecordRef,
    Records, RepairReport,
};
pub mod blob;
pub use blob::{BLOB_BUF, BlobError, BlobRef, BlobStore, FileBlobStore, VerifyingReader};
pub mod lease;
pub use lease::{
    Acquired, FileLease, FileLeaseHandle, ForcedUnlock, Lease, LeaseError, LeaseHandle, LeaseInfo,
    StaleReason, StaleRecovery,
};
pub mod view;
pub use view::{Restored, Snapshot, SnapshotError, SnapshotSource, fold};

//! cutover-backup: backups, rollback points and verified restore.
//!
//! Data leaves a system through its adapter plugin (`export-data`,
//! `capture-state`) and is streamed straight into a content-addressed sha256
//! store; a checked JSON manifest records what was stored. Restores and
//! rollbacks verify the manifest and every blob before the adapter is called
//! (`import-data`, `restore-state`), and refuse naming the corrupt item.
//!
//! # Where things are kept
//!
//! A [`BackupStore`] holds a blob store and a document store of the plan's
//! state backend ([`BackupStore::on`]); [`BackupStore::open`] puts both under
//! a state directory, as files:
//!
//! * `backups/<id>.json` — [`BackupManifest`] as checked JSON
//!   (`{"sha256":"<hex of body bytes>","body":{..}}\n`);
//! * `backups/blobs/ab/cdef…` — data, shared by backups and points;
//! * `points/<name>.json` — [`PointManifest`];
//! * `points/<name>.rollback.json` — [`RollbackProgress`].
//!
//! On another backend (PostgreSQL) the same documents carry the same names
//! and bytes, and the blobs the same digests.
//!
//! A manifest body (`points/<name>.json` is the same shape with `name`,
//! `categories` and format `cutover-point/1`):
//!
//! ```json
//! {"format": "cutover-backup/1", "id": "b-20261127T031310Z-dcae55",
//!  "created_at": "2026-11-27T03:13:10.098Z", "created_ms": 1795749190098,
//!  "system": "old", "adapter": {"name": "file-adapter", "digest": "<sha256 of the .wasm>"},
//!  "types": ["configurations", "no_such_kind"],
//!  "results": [
//!    {"kind": "configurations", "ok": true, "error": null, "digest": "<sha256>", "size": 702,
//!     "content_type": "application/yaml", "metadata": [["file", "configurations.yml"]]},
//!    {"kind": "no_such_kind", "ok": false, "error": "plugin file-adapter returned an error: ...",
//!     "digest": null, "size": 0, "content_type": null, "metadata": []}],
//!  "lineage": {"plan_fingerprint": "sha256:...", "journal_seq": 12}}
//! ```
//!
//! Documents are read strictly: the bytes must end in `}\n`, the checksum
//! must match the body bytes and the body must have exactly these fields;
//! anything else is [`BackupError::Corrupt`] naming the document.
//!
//! Blobs are durably stored before the manifest referencing them is written
//! atomically, so a crash never leaves a manifest pointing at a missing blob
//! (at worst an unreferenced blob that [`BackupStore::prune`] removes).
//! Mutating calls (`backup`, `capture_point`, `rollback`, `prune`) run under
//! the plan's lease (the runner's, or a `cutover backup` command's); in
//! addition the store's own writer lock (`backups/.write.lock` in the local
//! work directory, see [`BackupError::InProgress`]) keeps `prune` from
//! running while a backup or point is being written or a restore reads its
//! blobs, whoever calls it on this machine.

// Without the plugins, the helpers only backups and points use are idle.
#![cfg_attr(not(feature = "plugins"), allow(dead_code, unused_imports))]

#[cfg(feature = "plugins")]
mod backup;
mod error;
mod lock;
mod manifest;
#[cfg(feature = "plugins")]
mod pipe;
#[cfg(feature = "plugins")]
mod point;
mod store;
mod time;

#[cfg(feature = "plugins")]
pub use backup::{
    OutcomeRecord, PendingBackup, PruneReport, RestoreReport, RestoreStatus, TypeRestore,
};
pub use error::BackupError;
pub use manifest::{
    AdapterRef, BACKUP_FORMAT, BackupManifest, Lineage, POINT_FORMAT, PointManifest,
    RollbackProgress, TypeResult,
};
#[cfg(feature = "plugins")]
pub use point::{DEFAULT_CATEGORIES, RollbackReport};
pub use store::{BackupStore, VerifyItem};
pub use time::rfc3339;

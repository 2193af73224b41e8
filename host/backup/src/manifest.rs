//! On-disk documents: backup manifests, rollback points and rollback progress.
//! All are checked JSON (`{"sha256":"<hex>","body":{..}}`, see `cutover_state`).

use serde::{Deserialize, Serialize};

/// Format tag of backup manifests.
pub const BACKUP_FORMAT: &str = "cutover-backup/1";
/// Format tag of rollback points.
pub const POINT_FORMAT: &str = "cutover-point/1";

/// Where a backup or point sits in the run that made it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lineage {
    /// Fingerprint of the plan (and its plugins) in force.
    pub plan_fingerprint: String,
    /// Journal sequence number at the time (0 outside a run).
    pub journal_seq: u64,
}

/// The adapter that produced the data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdapterRef {
    /// Plugin name.
    pub name: String,
    /// sha256 of the component bytes.
    pub digest: String,
}

/// Result of exporting one data type (or capturing one category).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeResult {
    /// Data type or state category.
    pub kind: String,
    /// Whether the data was stored.
    pub ok: bool,
    /// Why not, when `ok` is false.
    pub error: Option<String>,
    /// sha256 of the stored blob.
    pub digest: Option<String>,
    /// Size in bytes (0 when failed).
    pub size: u64,
    /// Media type the adapter reported.
    pub content_type: Option<String>,
    /// Adapter metadata, in order.
    pub metadata: Vec<(String, String)>,
}

impl TypeResult {
    pub(crate) fn failed(kind: &str, error: String) -> TypeResult {
        TypeResult {
            kind: kind.to_string(),
            ok: false,
            error: Some(error),
            digest: None,
            size: 0,
            content_type: None,
            metadata: Vec::new(),
        }
    }
}

/// A backup manifest, stored at `backups/<id>.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupManifest {
    /// Always [`BACKUP_FORMAT`].
    pub format: String,
    /// `b-YYYYMMDDTHHMMSSZ-<6 hex>`.
    pub id: String,
    /// RFC 3339 UTC creation time.
    pub created_at: String,
    /// Creation time in ms since the epoch (sort key).
    pub created_ms: i64,
    /// `old` or `new` (free text).
    pub system: String,
    /// Adapter that exported the data.
    pub adapter: AdapterRef,
    /// Types requested, in order.
    pub types: Vec<String>,
    /// One result per requested type, in order.
    pub results: Vec<TypeResult>,
    /// Run lineage.
    pub lineage: Lineage,
}

impl BackupManifest {
    /// Whether every type was stored.
    pub fn complete(&self) -> bool {
        self.results.iter().all(|r| r.ok)
    }

    /// Total stored bytes.
    pub fn total_size(&self) -> u64 {
        self.results.iter().map(|r| r.size).sum()
    }
}

/// A rollback point, stored at `points/<name>.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointManifest {
    /// Always [`POINT_FORMAT`].
    pub format: String,
    /// Point name.
    pub name: String,
    /// RFC 3339 UTC creation time.
    pub created_at: String,
    /// Creation time in ms since the epoch.
    pub created_ms: i64,
    /// `old` or `new` (free text).
    pub system: String,
    /// Adapter that captured the state.
    pub adapter: AdapterRef,
    /// Categories requested, in order.
    pub categories: Vec<String>,
    /// One result per category, in order (`kind` is the category).
    pub results: Vec<TypeResult>,
    /// Run lineage.
    pub lineage: Lineage,
}

/// Progress of a rollback, stored at `points/<name>.rollback.json` after each
/// category so an interrupted rollback resumes where it stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollbackProgress {
    /// Point name.
    pub point: String,
    /// `created_ms` of the point this progress belongs to (a re-captured
    /// point invalidates old progress).
    pub point_created_ms: i64,
    /// Categories selected for this rollback, in order.
    pub categories: Vec<String>,
    /// Categories applied so far.
    pub done: Vec<String>,
    /// Whether every selected category was applied.
    pub finished: bool,
}

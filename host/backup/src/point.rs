//! Rollback points: `capture-state` per category into blobs, and rollback
//! through `restore-state` with verification first and resumable progress.

use cutover_runtime::{Plugin, Runtime, Sandbox};
use std::path::Path;

use cutover_state::{FileError, decode_checked_json};
use serde::Serialize;

use crate::backup::{RestoreStatus, Source, TypeRestore, adapter_ref, export_one, select};
use crate::error::{BackupError, check_name};
use crate::manifest::{Lineage, POINT_FORMAT, PointManifest, RollbackProgress};
use crate::store::BackupStore;
use crate::time::{now_ms, rfc3339};

/// Categories captured when none are given.
pub const DEFAULT_CATEGORIES: [&str; 4] = [
    "configurations",
    "active_alerts",
    "system_metrics",
    "user_permissions",
];

/// Result of [`BackupStore::rollback`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RollbackReport {
    /// Point rolled back to.
    pub point: String,
    /// Categories already applied by an interrupted earlier attempt (not re-applied).
    pub resumed: Vec<String>,
    /// One entry per category applied in this attempt, in point order.
    pub results: Vec<TypeRestore>,
}

impl RollbackReport {
    /// Whether no category failed: each is applied, or `unsupported` (the
    /// adapter cannot restore it; reported, never counted as applied).
    pub fn ok(&self) -> bool {
        self.results
            .iter()
            .all(|r| r.status != RestoreStatus::Failed)
    }

    /// The categories that failed.
    pub fn failed(&self) -> impl Iterator<Item = &TypeRestore> {
        self.results
            .iter()
            .filter(|r| r.status == RestoreStatus::Failed)
    }

    /// The categories the adapter could not restore.
    pub fn unsupported(&self) -> impl Iterator<Item = &TypeRestore> {
        self.results
            .iter()
            .filter(|r| r.status == RestoreStatus::Unsupported)
    }
}

impl BackupStore {
    /// Captures rollback point `name` (replacing one of the same name):
    /// `capture-state` for each category (the defaults when `categories` is
    /// empty) streamed into blobs, then document `points/<name>.json` written
    /// atomically with a checksum over the whole point. Failed categories are recorded.
    #[allow(clippy::too_many_arguments)]
    pub fn capture_point(
        &self,
        rt: &Runtime,
        adapter: &Plugin,
        sb: &Sandbox,
        system: &str,
        name: &str,
        categories: &[String],
        lineage: Lineage,
    ) -> Result<PointManifest, BackupError> {
        check_name("rollback point", name)?;
        let categories: Vec<String> = if categories.is_empty() {
            DEFAULT_CATEGORIES.iter().map(|c| c.to_string()).collect()
        } else {
            categories.to_vec()
        };
        for c in &categories {
            check_name("category", c)?;
        }
        // Held until the point is committed: `prune` is refused meanwhile.
        let _lock = self.lock_shared(Some(&format!("point:{name}")))?;
        let created_ms = now_ms();
        let results = categories
            .iter()
            .map(|c| export_one(self, rt, adapter, sb, c, Source::State))
            .collect();
        let point = PointManifest {
            format: POINT_FORMAT.to_string(),
            name: name.to_string(),
            created_at: rfc3339(created_ms),
            created_ms,
            system: system.to_string(),
            adapter: adapter_ref(adapter),
            categories,
            results,
            lineage,
        };
        self.put_doc(&self.point_doc(name), &point)?;
        Ok(point)
    }

    /// Rolls the system back to point `name` (all captured categories, or
    /// `categories`). The point and every selected blob are verified before
    /// anything is applied; on mismatch [`BackupError::Corrupt`] names the bad
    /// item. Progress is saved after each category in document
    /// `points/<name>.rollback.json`; a rollback interrupted by a crash resumes
    /// and does not re-apply the categories already done. A category the
    /// adapter cannot restore is reported `unsupported` on every attempt and
    /// never recorded as done; the rollback is finished when every other
    /// category is done.
    pub fn rollback(
        &self,
        rt: &Runtime,
        adapter: &Plugin,
        sb: &Sandbox,
        name: &str,
        categories: Option<&[String]>,
    ) -> Result<RollbackReport, BackupError> {
        // Held until every blob is applied: `prune` waits for no one.
        let _lock = self.lock_shared(None)?;
        let point = self.point(name)?;
        let id = format!("point:{name}");
        let selected = select(&id, &point.results, categories)?;
        let verified = selected
            .iter()
            .map(|r| self.check_blob(&id, r).map(|d| (*r, d)))
            .collect::<Result<Vec<_>, _>>()?;
        let wanted: Vec<String> = selected.iter().map(|r| r.kind.clone()).collect();
        let mut progress = match self.progress(name)? {
            Some(p)
                if !p.finished
                    && p.point_created_ms == point.created_ms
                    && p.categories == wanted =>
            {
                p
            }
            _ => RollbackProgress {
                point: name.to_string(),
                point_created_ms: point.created_ms,
                categories: wanted,
                done: Vec::new(),
                finished: false,
            },
        };
        let resumed = progress.done.clone();
        self.put_doc(&self.progress_doc(name), &progress)?;
        let mut results = Vec::new();
        let mut unsupported = 0;
        for (r, digest) in verified {
            if progress.done.contains(&r.kind) {
                continue;
            }
            let applied = self.apply(rt, adapter, sb, r, &digest, Source::State)?;
            match applied.status {
                RestoreStatus::Ok => {
                    progress.done.push(r.kind.clone());
                    self.put_doc(&self.progress_doc(name), &progress)?;
                }
                RestoreStatus::Unsupported => unsupported += 1,
                RestoreStatus::Failed => {}
            }
            results.push(applied);
        }
        if progress.done.len() + unsupported == progress.categories.len() {
            progress.finished = true;
            self.put_doc(&self.progress_doc(name), &progress)?;
        }
        Ok(RollbackReport {
            point: name.to_string(),
            resumed,
            results,
        })
    }

    /// The stored points that `--to name` stands for: point `name` itself
    /// when it exists, else the pair `name.old` / `name.new` the runner
    /// captures at the end of a phase (whichever exist).
    /// [`BackupError::NotFound`] when there is neither.
    pub fn resolve_point(&self, name: &str) -> Result<Vec<String>, BackupError> {
        check_name("rollback point", name)?;
        if self.has_doc(&self.point_doc(name))? {
            return Ok(vec![name.to_string()]);
        }
        let mut pair = Vec::new();
        for side in ["old", "new"] {
            let n = format!("{name}.{side}");
            if self.has_doc(&self.point_doc(&n))? {
                pair.push(n);
            }
        }
        if pair.is_empty() {
            return Err(BackupError::NotFound {
                what: "rollback point",
                id: name.to_string(),
            });
        }
        Ok(pair)
    }

    /// The saved progress of a rollback to `name`, if any.
    pub fn progress(&self, name: &str) -> Result<Option<RollbackProgress>, BackupError> {
        check_name("rollback point", name)?;
        let doc = self.progress_doc(name);
        let Some(bytes) = self.docs.get(&doc)? else {
            return Ok(None);
        };
        match decode_checked_json(Path::new(&doc), &bytes) {
            Ok(p) => Ok(Some(p)),
            // Unreadable progress is only a hint lost: start over (restore-state
            // is idempotent), rather than refuse to roll back.
            Err(FileError::ChecksumMismatch { .. } | FileError::Json { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

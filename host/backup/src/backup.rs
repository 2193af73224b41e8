//! Taking backups through an adapter's `export-data` and restoring them
//! through `import-data` after verifying everything first.

use cutover_base::adapter_support::AdapterSupport;
use cutover_runtime::{CallError, Plugin, PluginError, Runtime, Sandbox, wit};
use cutover_state::Digest;
use serde::{Deserialize, Serialize};

use crate::error::{BackupError, check_name};
use crate::lock::SharedLock;
use crate::manifest::{AdapterRef, BACKUP_FORMAT, BackupManifest, Lineage, TypeResult};
use crate::pipe::stream_to_blob;
use crate::store::BackupStore;
use crate::time::{backup_id, now_ms, rfc3339};

/// What an adapter said after importing or restoring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeRecord {
    /// One-line summary.
    pub summary: String,
    /// Details, in order.
    pub details: Vec<(String, String)>,
}

impl From<wit::Outcome> for OutcomeRecord {
    fn from(o: wit::Outcome) -> Self {
        OutcomeRecord {
            summary: o.summary,
            details: o.details,
        }
    }
}

/// How restoring one type (or rolling back one category) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RestoreStatus {
    /// The adapter applied the data.
    Ok,
    /// It was not applied: the backup lacks it, or the adapter failed.
    Failed,
    /// A rollback category the adapter cannot restore (it declares it
    /// capture only, or `restore-state` answered `unsupported`): nothing
    /// was changed; what was captured is kept as evidence.
    Unsupported,
}

impl std::fmt::Display for RestoreStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RestoreStatus::Ok => "ok",
            RestoreStatus::Failed => "failed",
            RestoreStatus::Unsupported => "unsupported",
        })
    }
}

/// Result of restoring one type (or rolling back one category).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeRestore {
    /// Data type or category.
    pub kind: String,
    /// How it ended.
    pub status: RestoreStatus,
    /// Why, when not ok.
    pub reason: Option<String>,
    /// What the adapter reported, when it applied the data.
    pub outcome: Option<OutcomeRecord>,
}

impl TypeRestore {
    /// Whether the adapter applied it.
    pub fn is_ok(&self) -> bool {
        self.status == RestoreStatus::Ok
    }

    fn not_applied(kind: &str, status: RestoreStatus, reason: String) -> TypeRestore {
        TypeRestore {
            kind: kind.to_string(),
            status,
            reason: Some(reason),
            outcome: None,
        }
    }
}

/// Result of [`BackupStore::restore`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestoreReport {
    /// Backup restored from.
    pub id: String,
    /// One entry per requested type (every stored type when none were
    /// named), in request (or manifest) order.
    pub results: Vec<TypeRestore>,
}

impl RestoreReport {
    /// Whether every type was restored.
    pub fn ok(&self) -> bool {
        self.results.iter().all(TypeRestore::is_ok)
    }

    /// The types that were not restored.
    pub fn failed(&self) -> impl Iterator<Item = &TypeRestore> {
        self.results.iter().filter(|r| !r.is_ok())
    }
}

/// What [`BackupStore::prune`] removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PruneReport {
    /// Backup manifests deleted.
    pub deleted_backups: Vec<String>,
    /// Rollback points deleted.
    pub deleted_points: Vec<String>,
    /// Blobs deleted (no manifest or point referenced them).
    pub deleted_blobs: usize,
    /// Bytes freed by deleted blobs.
    pub freed_bytes: u64,
    /// Blobs kept because something references them.
    pub kept_blobs: usize,
    /// Backups (`point:NAME`: points) whose writer died before committing
    /// them: their in-progress markers were removed, their blobs pruned.
    pub abandoned: Vec<String>,
}

/// A backup that has begun ([`BackupStore::begin_backup`]): its id is
/// fixed and the store's writer lock is held until [`PendingBackup::write`]
/// has committed the manifest (or it is dropped).
#[derive(Debug)]
pub struct PendingBackup<'a> {
    store: &'a BackupStore,
    id: String,
    created_ms: i64,
    _lock: SharedLock,
}

impl PendingBackup<'_> {
    /// The id the manifest will have.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Exports each type into the blob store, then commits the manifest.
    pub fn write(
        self,
        rt: &Runtime,
        adapter: &Plugin,
        sb: &Sandbox,
        system: &str,
        types: &[String],
        lineage: Lineage,
    ) -> Result<BackupManifest, BackupError> {
        let results = types
            .iter()
            .map(|kind| export_one(self.store, rt, adapter, sb, kind, Source::Data))
            .collect();
        let manifest = BackupManifest {
            format: BACKUP_FORMAT.to_string(),
            id: self.id.clone(),
            created_at: rfc3339(self.created_ms),
            created_ms: self.created_ms,
            system: system.to_string(),
            adapter: adapter_ref(adapter),
            types: types.to_vec(),
            results,
            lineage,
        };
        self.store
            .put_doc(&self.store.manifest_doc(&self.id), &manifest)?;
        Ok(manifest)
    }
}

pub(crate) fn adapter_ref(adapter: &Plugin) -> AdapterRef {
    AdapterRef {
        name: adapter.name().to_string(),
        digest: adapter.info().sha256.clone(),
    }
}

/// Which export call to make for one item.
#[derive(Clone, Copy)]
pub(crate) enum Source {
    Data,
    State,
}

/// Exports one item into a blob; failures become a failed [`TypeResult`].
pub(crate) fn export_one(
    store: &BackupStore,
    rt: &Runtime,
    adapter: &Plugin,
    sb: &Sandbox,
    kind: &str,
    source: Source,
) -> TypeResult {
    let streamed = stream_to_blob(store.blobs(), |w| {
        let exported = match source {
            Source::Data => rt.export_data(adapter, sb, kind, w),
            Source::State => rt.capture_state(adapter, sb, kind, w),
        }?;
        Ok::<_, CallError>((exported.info, exported.writer))
    });
    let info = match streamed.produced {
        Ok(info) => info,
        Err(e) => return TypeResult::failed(kind, e.to_string()),
    };
    match streamed.blob {
        Some(Ok(blob)) => TypeResult {
            kind: kind.to_string(),
            ok: true,
            error: None,
            digest: Some(blob.digest.to_hex()),
            size: blob.size,
            content_type: Some(info.content_type),
            metadata: info.metadata,
        },
        Some(Err(e)) => TypeResult::failed(kind, format!("storing the data failed: {e}")),
        None => TypeResult::failed(kind, "the export produced no stream".into()),
    }
}

impl BackupStore {
    /// Backs up `types` of `system` through `adapter`'s `export-data`, each
    /// streamed straight into the blob store. A type that fails is recorded
    /// with its error and does not stop the others. Blobs are durable before
    /// the manifest document is written (atomically), so a crash never
    /// leaves a manifest pointing at a missing blob. [`BackupStore::begin_backup`]
    /// then [`PendingBackup::write`].
    pub fn backup(
        &self,
        rt: &Runtime,
        adapter: &Plugin,
        sb: &Sandbox,
        system: &str,
        types: &[String],
        lineage: Lineage,
    ) -> Result<BackupManifest, BackupError> {
        self.begin_backup()?
            .write(rt, adapter, sb, system, types, lineage)
    }

    /// Begins a backup: picks its id (so a caller can journal it before any
    /// data is written) and takes the store's writer lock, held until the
    /// manifest is committed or the [`PendingBackup`] is dropped; `prune`
    /// is refused meanwhile.
    pub fn begin_backup(&self) -> Result<PendingBackup<'_>, BackupError> {
        let created_ms = now_ms();
        let id = backup_id(created_ms);
        let lock = self.lock_shared(Some(&id))?;
        Ok(PendingBackup {
            store: self,
            id,
            created_ms,
            _lock: lock,
        })
    }

    /// Restores backup `id` (all stored types, or `types`) through
    /// `import-data`. A named type the backup lacks (not part of it, or
    /// not stored) fails with the reason; the others are still restored.
    /// The manifest and every selected blob are verified before the first
    /// import; on any mismatch nothing is applied and
    /// [`BackupError::Corrupt`] names the bad item.
    pub fn restore(
        &self,
        rt: &Runtime,
        adapter: &Plugin,
        sb: &Sandbox,
        id: &str,
        types: Option<&[String]>,
    ) -> Result<RestoreReport, BackupError> {
        // Held until every blob is applied: `prune` waits for no one.
        let _lock = self.lock_shared(None)?;
        let manifest = self.show(id)?;
        // Every stored blob asked for is verified before anything is applied.
        let verified = wanted(id, &manifest.results, types)?
            .into_iter()
            .map(|w| match w {
                Wanted::Stored(r) => self.check_blob(id, r).map(|d| Ok((r, d))),
                Wanted::Lacking { kind, why } => Ok(Err((kind, why))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut results = Vec::new();
        for item in verified {
            results.push(match item {
                Ok((r, digest)) => self.apply(rt, adapter, sb, r, &digest, Source::Data)?,
                Err((kind, why)) => TypeRestore::not_applied(&kind, RestoreStatus::Failed, why),
            });
        }
        Ok(RestoreReport {
            id: id.to_string(),
            results,
        })
    }

    /// Streams one verified blob into the adapter (the reader re-checks the
    /// digest as it goes, so a blob changed since verification fails the
    /// call). A rollback category the adapter declares capture only is not
    /// sent; it and one `restore-state` answers `unsupported` for are
    /// [`RestoreStatus::Unsupported`].
    pub(crate) fn apply(
        &self,
        rt: &Runtime,
        adapter: &Plugin,
        sb: &Sandbox,
        r: &TypeResult,
        digest: &Digest,
        target: Source,
    ) -> Result<TypeRestore, BackupError> {
        if matches!(target, Source::State) {
            let declared = AdapterSupport::from_description(&adapter.descriptor().description);
            if declared.capture_only.contains(&r.kind) {
                return Ok(TypeRestore::not_applied(
                    &r.kind,
                    RestoreStatus::Unsupported,
                    format!(
                        "adapter `{}` declares `{}` capture only: kept as evidence, nothing applied",
                        adapter.name(),
                        r.kind
                    ),
                ));
            }
        }
        let reader = self.blobs.open(digest)?;
        let called = match target {
            Source::Data => rt.import_data(adapter, sb, &r.kind, reader, r.size),
            Source::State => rt.restore_state(adapter, sb, &r.kind, reader, r.size),
        };
        Ok(match called {
            Ok(o) => TypeRestore {
                kind: r.kind.clone(),
                status: RestoreStatus::Ok,
                reason: None,
                outcome: Some(o.into()),
            },
            // A rollback category the adapter can capture but not apply:
            // nothing was changed; the capture is kept as evidence.
            Err(CallError::Plugin {
                error: PluginError::Unsupported(why),
                ..
            }) if matches!(target, Source::State) => TypeRestore::not_applied(
                &r.kind,
                RestoreStatus::Unsupported,
                format!(
                    "adapter `{}` cannot restore it: {why}; kept as evidence, nothing applied",
                    adapter.name()
                ),
            ),
            Err(e) => TypeRestore::not_applied(&r.kind, RestoreStatus::Failed, e.to_string()),
        })
    }

    /// Keeps the newest `keep_backups` backups and `keep_points` points,
    /// deletes the rest, then deletes blobs no remaining manifest or point
    /// references. Refuses (with the error) if any manifest or point cannot be
    /// read, since its references would be unknown, and
    /// ([`BackupError::InProgress`]) while a backup or point is being
    /// written or restored: its blobs are referenced by no manifest yet.
    pub fn prune(
        &self,
        keep_backups: usize,
        keep_points: usize,
    ) -> Result<PruneReport, BackupError> {
        let lock = self.lock_exclusive()?;
        let backups = self.list()?;
        let points = self.list_points()?;
        let mut report = PruneReport {
            abandoned: lock.abandoned.clone(),
            ..PruneReport::default()
        };
        let drop_b = backups.len().saturating_sub(keep_backups);
        let drop_p = points.len().saturating_sub(keep_points);
        for m in &backups[..drop_b] {
            self.docs.delete(&self.manifest_doc(&m.id))?;
            report.deleted_backups.push(m.id.clone());
        }
        for p in &points[..drop_p] {
            self.docs.delete(&self.point_doc(&p.name))?;
            self.docs.delete(&self.progress_doc(&p.name))?;
            report.deleted_points.push(p.name.clone());
        }
        // Re-read what remains so the referenced set reflects the store.
        let mut referenced = std::collections::BTreeSet::new();
        let kept = self.list()?.into_iter().flat_map(|m| m.results);
        let kept_points = self.list_points()?.into_iter().flat_map(|p| p.results);
        for r in kept.chain(kept_points) {
            if let Some(d) = r.digest.as_deref().and_then(|d| Digest::from_hex(d).ok()) {
                referenced.insert(d);
            }
        }
        for blob in self.blobs.list()? {
            if referenced.contains(&blob.digest) {
                report.kept_blobs += 1;
            } else if self.blobs.delete(&blob.digest)? {
                report.deleted_blobs += 1;
                report.freed_bytes += blob.size;
            }
        }
        Ok(report)
    }
}

/// One type a restore asks for.
enum Wanted<'a> {
    /// Stored in the backup.
    Stored(&'a TypeResult),
    /// Not in the backup, or not stored: fails with `why`.
    Lacking { kind: String, why: String },
}

/// The types a restore asks for: every stored one when `types` is `None`,
/// else each named one, stored or lacking.
fn wanted<'a>(
    id: &str,
    results: &'a [TypeResult],
    types: Option<&[String]>,
) -> Result<Vec<Wanted<'a>>, BackupError> {
    let Some(types) = types else {
        return Ok(results
            .iter()
            .filter(|r| r.ok)
            .map(Wanted::Stored)
            .collect());
    };
    types
        .iter()
        .map(|kind| {
            check_name("type", kind)?;
            Ok(match results.iter().find(|r| &r.kind == kind) {
                Some(r) if r.ok => Wanted::Stored(r),
                Some(r) => Wanted::Lacking {
                    kind: kind.clone(),
                    why: format!(
                        "backup {id} did not store it: {}",
                        r.error.as_deref().unwrap_or("unknown error")
                    ),
                },
                None => {
                    let held: Vec<&str> = results
                        .iter()
                        .filter(|r| r.ok)
                        .map(|r| r.kind.as_str())
                        .collect();
                    Wanted::Lacking {
                        kind: kind.clone(),
                        why: format!(
                            "backup {id} does not contain it (it holds: {})",
                            if held.is_empty() {
                                "nothing".to_string()
                            } else {
                                held.join(", ")
                            }
                        ),
                    }
                }
            })
        })
        .collect()
}

/// The stored results selected by `wanted` (all stored ones when `None`);
/// a named one that is not stored is refused.
pub(crate) fn select<'a>(
    id: &str,
    results: &'a [TypeResult],
    wanted: Option<&[String]>,
) -> Result<Vec<&'a TypeResult>, BackupError> {
    let Some(wanted) = wanted else {
        return Ok(results.iter().filter(|r| r.ok).collect());
    };
    wanted
        .iter()
        .map(|kind| {
            check_name("type", kind)?;
            match results.iter().find(|r| &r.kind == kind) {
                Some(r) if r.ok => Ok(r),
                Some(r) => Err(BackupError::NotRestorable {
                    id: id.to_string(),
                    kind: kind.clone(),
                    why: format!(
                        "was not stored: {}",
                        r.error.as_deref().unwrap_or("unknown error")
                    ),
                }),
                None => Err(BackupError::NotRestorable {
                    id: id.to_string(),
                    kind: kind.clone(),
                    why: "is not part of it".into(),
                }),
            }
        })
        .collect()
}

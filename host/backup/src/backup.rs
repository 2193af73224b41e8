//! Taking backups through an adapter's `export-data` and restoring them
//! through `import-data` after verifying everything first.

use cutover_runtime::{CallError, Plugin, Runtime, Sandbox, wit};
use cutover_state::{BlobStore, Digest, write_checked_json};
use serde::Serialize;

use crate::error::{BackupError, check_name};
use crate::manifest::{AdapterRef, BACKUP_FORMAT, BackupManifest, Lineage, TypeResult};
use crate::pipe::stream_to_blob;
use crate::store::BackupStore;
use crate::time::{backup_id, now_ms, rfc3339};

/// What an adapter said after importing or restoring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

/// Result of restoring one type (or rolling back one category).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TypeRestore {
    /// Data type or category.
    pub kind: String,
    /// Whether the adapter accepted the data.
    pub ok: bool,
    /// Why not.
    pub error: Option<String>,
    /// What the adapter reported.
    pub outcome: Option<OutcomeRecord>,
}

/// Result of [`BackupStore::restore`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestoreReport {
    /// Backup restored from.
    pub id: String,
    /// One entry per restored type, in manifest order.
    pub results: Vec<TypeRestore>,
}

impl RestoreReport {
    /// Whether every type was restored.
    pub fn ok(&self) -> bool {
        self.results.iter().all(|r| r.ok)
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
    let streamed = stream_to_blob(&store.blobs, |w| {
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
    /// the manifest is written (atomically), so a crash never leaves a
    /// manifest pointing at a missing blob.
    pub fn backup(
        &self,
        rt: &Runtime,
        adapter: &Plugin,
        sb: &Sandbox,
        system: &str,
        types: &[String],
        lineage: Lineage,
    ) -> Result<BackupManifest, BackupError> {
        let created_ms = now_ms();
        let id = backup_id(created_ms);
        let results = types
            .iter()
            .map(|kind| export_one(self, rt, adapter, sb, kind, Source::Data))
            .collect();
        let manifest = BackupManifest {
            format: BACKUP_FORMAT.to_string(),
            id: id.clone(),
            created_at: rfc3339(created_ms),
            created_ms,
            system: system.to_string(),
            adapter: adapter_ref(adapter),
            types: types.to_vec(),
            results,
            lineage,
        };
        write_checked_json(&self.manifest_path(&id), &manifest)?;
        Ok(manifest)
    }

    /// Restores backup `id` (all stored types, or `types`) through
    /// `import-data`. The manifest and every selected blob are verified
    /// before the first import; on any mismatch nothing is applied and
    /// [`BackupError::Corrupt`] names the bad item.
    pub fn restore(
        &self,
        rt: &Runtime,
        adapter: &Plugin,
        sb: &Sandbox,
        id: &str,
        types: Option<&[String]>,
    ) -> Result<RestoreReport, BackupError> {
        let manifest = self.show(id)?;
        let selected = select(id, &manifest.results, types)?;
        let verified = selected
            .iter()
            .map(|r| self.check_blob(id, r).map(|d| (*r, d)))
            .collect::<Result<Vec<_>, _>>()?;
        let results = verified
            .into_iter()
            .map(|(r, digest)| self.apply(rt, adapter, sb, r, &digest, Source::Data))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RestoreReport {
            id: id.to_string(),
            results,
        })
    }

    /// Streams one verified blob into the adapter (the reader re-checks the
    /// digest as it goes, so a blob changed since verification fails the call).
    pub(crate) fn apply(
        &self,
        rt: &Runtime,
        adapter: &Plugin,
        sb: &Sandbox,
        r: &TypeResult,
        digest: &Digest,
        target: Source,
    ) -> Result<TypeRestore, BackupError> {
        let reader = self.blobs.open(digest)?;
        let called = match target {
            Source::Data => rt.import_data(adapter, sb, &r.kind, reader, r.size),
            Source::State => rt.restore_state(adapter, sb, &r.kind, reader, r.size),
        };
        Ok(match called {
            Ok(o) => TypeRestore {
                kind: r.kind.clone(),
                ok: true,
                error: None,
                outcome: Some(o.into()),
            },
            // A rollback category the adapter can capture but not apply
            // (e.g. active_alerts: what was firing is evidence, not state to
            // push back). Nothing was changed; the category is settled.
            Err(cutover_runtime::CallError::Plugin {
                error: cutover_runtime::PluginError::Unsupported(why),
                ..
            }) if matches!(target, Source::State) => TypeRestore {
                kind: r.kind.clone(),
                ok: true,
                error: None,
                outcome: Some(OutcomeRecord {
                    summary: format!("capture only, kept as evidence: {why}"),
                    details: vec![("applied".into(), "false".into())],
                }),
            },
            Err(e) => TypeRestore {
                kind: r.kind.clone(),
                ok: false,
                error: Some(e.to_string()),
                outcome: None,
            },
        })
    }

    /// Keeps the newest `keep_backups` backups and `keep_points` points,
    /// deletes the rest, then deletes blobs no remaining manifest or point
    /// references. Refuses (with the error) if any manifest or point cannot be
    /// read, since its references would be unknown.
    pub fn prune(
        &self,
        keep_backups: usize,
        keep_points: usize,
    ) -> Result<PruneReport, BackupError> {
        let backups = self.list()?;
        let points = self.list_points()?;
        let mut report = PruneReport::default();
        let drop_b = backups.len().saturating_sub(keep_backups);
        let drop_p = points.len().saturating_sub(keep_points);
        for m in &backups[..drop_b] {
            remove(&self.manifest_path(&m.id))?;
            report.deleted_backups.push(m.id.clone());
        }
        for p in &points[..drop_p] {
            remove(&self.point_path(&p.name))?;
            remove(&self.progress_path(&p.name))?;
            report.deleted_points.push(p.name.clone());
        }
        // Re-read what remains so the referenced set reflects the disk.
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

fn remove(path: &std::path::Path) -> Result<(), BackupError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(crate::error::io_err(path, "delete")(e)),
    }
}

/// The stored results selected by `wanted` (all stored ones when `None`).
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

//! `cutover state migrate`: moves a plan's state from its state directory
//! into a PostgreSQL database, verified, and leaves a marker in the
//! directory so that no runner writes there again.
//!
//! Both leases are held throughout (no runner can be active on either
//! side). The journal moves byte for byte (the same seqs, times, links and
//! digests), every blob and document is copied and read back, and the
//! directory's journal, blobs and documents are left where they were.

use std::path::{Path, PathBuf};

use cutover_state::{
    BlobStore, DocStore, FileBlobStore, FileDocStore, FileJournal, Journal, LeaseHandle, Record,
    RecordRef, StateBackend, write_checked_json,
};
use serde::{Deserialize, Serialize};

use crate::error::EngineError;
use crate::journal::{StateAt, take_lease};

/// The marker a migrated state directory keeps (see [`moved_to`]).
pub const MOVED_FILE: &str = "moved.json";

/// What `cutover state migrate` moved.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StateMove {
    /// The plan (the database keys its state by it).
    pub plan: String,
    /// The directory moved from.
    pub from: PathBuf,
    /// `postgres host:port/db`.
    pub to: String,
    /// Journal records moved.
    pub records: u64,
    /// The last record, the same on both sides.
    pub head: Option<RecordRef>,
    /// Blobs (backups, rollback points) moved, and their bytes.
    pub blobs: usize,
    /// Bytes of those blobs.
    pub blob_bytes: u64,
    /// Documents (manifests, points, rollback progress) moved.
    pub docs: Vec<String>,
    /// When, ms since the Unix epoch.
    pub at_ms: i64,
}

/// Where the state of directory `dir` was moved, if it was.
pub fn moved_to(dir: &Path) -> Option<StateMove> {
    cutover_state::read_checked_json(&dir.join(MOVED_FILE)).ok()
}

/// The plan named by the journal's `run-started` record.
fn plan_of(records: &[Record]) -> Option<String> {
    records
        .iter()
        .find(|r| r.kind == "run-started")
        .and_then(|r| r.payload.get("plan"))
        .and_then(|p| p.as_str())
        .map(str::to_string)
}

/// The documents of a state directory that belong to the plan (not the
/// status snapshot, whose anchor is a file position: the runner writes a
/// new one).
fn doc_names(docs: &FileDocStore) -> Result<Vec<String>, EngineError> {
    let mut names = docs.list("backups", ".json")?;
    names.extend(docs.list("points", ".json")?);
    Ok(names)
}

/// Moves the state of directory `from` (plan `plan`, or the plan its
/// journal names) to the database of `url`.
pub fn migrate(from: &Path, url: &str, plan: Option<&str>) -> Result<StateMove, EngineError> {
    if moved_to(from).is_some() {
        return Err(EngineError::Operator(format!(
            "{} was already moved (see {}): nothing to do",
            from.display(),
            from.join(MOVED_FILE).display()
        )));
    }
    if !from.join(FileJournal::FILE_NAME).is_file() {
        return Err(EngineError::NoRun(from.display().to_string()));
    }
    let source = StateBackend::Dir(from.to_path_buf());
    let src_lease = take_lease(&source, Some("cutover state migrate"))?;
    let records: Vec<Record> = FileJournal::open(from)?
        .records()?
        .collect::<Result<_, _>>()?;
    let name = match (plan, plan_of(&records)) {
        (Some(p), Some(j)) if p != j => {
            return Err(EngineError::Operator(format!(
                "the journal in {} is plan {j:?}, not {p:?}",
                from.display()
            )));
        }
        (Some(p), _) => p.to_string(),
        (None, Some(j)) => j,
        (None, None) => {
            return Err(EngineError::Operator(format!(
                "the journal in {} names no plan (no run-started record): pass --plan NAME",
                from.display()
            )));
        }
    };
    let target_at = StateAt::new(from, Some(url), &name)?;
    let target = target_at.open()?;
    let StateBackend::Postgres(pg) = &target else {
        return Err(EngineError::Operator(format!(
            "--to must be a postgres:// URL, not {url}"
        )));
    };
    let dst_lease = take_lease(&target, Some("cutover state migrate"))?;
    let fence = dst_lease
        .handle
        .fence()
        .ok_or_else(|| EngineError::Operator("the database lease has no fence".into()))?;

    // The journal, in one transaction, then read back whole and compared.
    let head = pg.import_journal(fence, &records)?;
    let back: Vec<Record> = target
        .journal_for_read()?
        .records()?
        .collect::<Result<_, _>>()?;
    if back.len() != records.len() || back.iter().zip(&records).any(|(a, b)| a.hash != b.hash) {
        return Err(EngineError::Operator(format!(
            "the journal read back from {} differs from {}: the state directory stays the plan's state",
            target.describe(),
            from.display()
        )));
    }

    // Blobs, each read back and verified by digest.
    let src_blobs = FileBlobStore::open(&from.join("backups"))?;
    let dst_blobs = target.blobs("backups", Some(fence))?;
    let mut blob_bytes = 0;
    let list = src_blobs.list()?;
    for b in &list {
        let mut reader = src_blobs.open(&b.digest)?;
        let put = dst_blobs.put_stream(&mut reader)?;
        let checked = dst_blobs.verify(&b.digest)?;
        if put.digest != b.digest || checked.size != b.size {
            return Err(EngineError::Operator(format!(
                "blob {} changed on its way to {}",
                b.digest,
                target.describe()
            )));
        }
        blob_bytes += b.size;
    }

    // Documents, byte for byte.
    let src_docs = FileDocStore::new(from);
    let dst_docs = target.docs(Some(fence))?;
    let docs = doc_names(&src_docs)?;
    for name in &docs {
        let bytes = src_docs.get(name)?.unwrap_or_default();
        dst_docs.put(name, &bytes)?;
        if dst_docs.get(name)?.as_deref() != Some(bytes.as_slice()) {
            return Err(EngineError::Operator(format!(
                "document {name} changed on its way to {}",
                target.describe()
            )));
        }
    }

    let moved = StateMove {
        plan: name,
        from: from.to_path_buf(),
        to: target.describe(),
        records: records.len() as u64,
        head,
        blobs: list.len(),
        blob_bytes,
        docs,
        at_ms: crate::journal::now_ms(),
    };
    write_checked_json(&from.join(MOVED_FILE), &moved)?;
    dst_lease.handle.release()?;
    src_lease.handle.release()?;
    Ok(moved)
}

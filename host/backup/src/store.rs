//! The store: where things are kept, reading documents strictly, listing
//! and verifying.
//!
//! A [`BackupStore`] keeps its data in a [`BlobStore`] (content-addressed,
//! shared by backups and points) and its documents in a [`DocStore`]:
//! `backups/<id>.json` (manifests), `points/<name>.json` (rollback points),
//! `points/<name>.rollback.json` (rollback progress). It never names a
//! backend: [`BackupStore::open`] puts both under a state directory (today's
//! layout), [`BackupStore::on`] takes any backend's (PostgreSQL's included).
//! Only the writer lock (see `lock.rs`) stays on the local disk, in `work_dir`.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cutover_state::{
    BlobError, BlobStore, Digest, DocStore, FileBlobStore, FileDocStore, FileError,
    decode_checked_json, encode_checked_json,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{BackupError, check_name, io_err};
use crate::manifest::{BACKUP_FORMAT, BackupManifest, POINT_FORMAT, PointManifest, TypeResult};

/// One finding of [`BackupStore::verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyItem {
    /// Backup id, or `point:<name>` for a rollback point.
    pub id: String,
    /// `manifest`, `point`, or the data type / category whose blob was checked.
    pub kind: String,
    /// Whether it verified.
    pub ok: bool,
    /// What is wrong, when not ok.
    pub problem: Option<String>,
}

/// Backups and rollback points of one plan's state, on any backend.
#[derive(Clone)]
pub struct BackupStore {
    pub(crate) blobs: Arc<dyn BlobStore>,
    pub(crate) docs: Arc<dyn DocStore>,
    /// Local directory of the writer lock (`<work_dir>/backups`).
    pub(crate) lock_dir: PathBuf,
}

impl fmt::Debug for BackupStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackupStore")
            .field("lock_dir", &self.lock_dir)
            .finish_non_exhaustive()
    }
}

/// Directory of the backup manifests.
const BACKUPS: &str = "backups";
/// Directory of the rollback points and their progress.
const POINTS: &str = "points";
const SUFFIX: &str = ".json";
const PROGRESS_SUFFIX: &str = ".rollback.json";

impl BackupStore {
    /// Opens (creating if needed) the store under the state directory
    /// `state_dir`: blobs in `backups/blobs/`, documents as files under
    /// `state_dir`, the writer lock in `backups/`.
    pub fn open(state_dir: &Path) -> Result<BackupStore, BackupError> {
        let points_dir = state_dir.join(POINTS);
        fs::create_dir_all(&points_dir).map_err(io_err(&points_dir, "create directory"))?;
        let blobs = FileBlobStore::open(&state_dir.join(BACKUPS))?;
        BackupStore::on(
            Arc::new(blobs),
            Arc::new(FileDocStore::new(state_dir)),
            state_dir,
        )
    }

    /// The store over any backend's `blobs` and `docs` (for a database,
    /// both opened under the lease of the caller, whose fence they present).
    /// `work_dir` is a local directory for what stays on this machine: the
    /// writer lock and its in-progress markers (`<work_dir>/backups/`).
    pub fn on(
        blobs: Arc<dyn BlobStore>,
        docs: Arc<dyn DocStore>,
        work_dir: &Path,
    ) -> Result<BackupStore, BackupError> {
        let lock_dir = work_dir.join(BACKUPS);
        fs::create_dir_all(&lock_dir).map_err(io_err(&lock_dir, "create directory"))?;
        Ok(BackupStore {
            blobs,
            docs,
            lock_dir,
        })
    }

    /// The content-addressed store holding backup and point data.
    pub fn blobs(&self) -> &dyn BlobStore {
        self.blobs.as_ref()
    }

    /// The store holding manifests, points and rollback progress.
    pub fn docs(&self) -> &dyn DocStore {
        self.docs.as_ref()
    }

    /// Document name of the manifest of backup `id` (`backups/<id>.json`).
    pub fn manifest_doc(&self, id: &str) -> String {
        format!("{BACKUPS}/{id}{SUFFIX}")
    }

    /// Document name of rollback point `name` (`points/<name>.json`).
    pub fn point_doc(&self, name: &str) -> String {
        format!("{POINTS}/{name}{SUFFIX}")
    }

    /// Document name of the rollback progress of point `name`
    /// (`points/<name>.rollback.json`).
    pub fn progress_doc(&self, name: &str) -> String {
        format!("{POINTS}/{name}{PROGRESS_SUFFIX}")
    }

    /// Ids of all backups, oldest first.
    pub fn ids(&self) -> Result<Vec<String>, BackupError> {
        let mut ids = self.stems(BACKUPS, |n| n.strip_suffix(SUFFIX))?;
        ids.sort();
        Ok(ids)
    }

    /// Names of all rollback points, sorted.
    pub fn point_names(&self) -> Result<Vec<String>, BackupError> {
        let mut names = self.stems(POINTS, |n| {
            if n.ends_with(PROGRESS_SUFFIX) {
                None
            } else {
                n.strip_suffix(SUFFIX)
            }
        })?;
        names.sort();
        Ok(names)
    }

    /// All backup manifests, oldest first. Fails on the first corrupt manifest
    /// (use [`BackupStore::verify`] to see them all).
    pub fn list(&self) -> Result<Vec<BackupManifest>, BackupError> {
        let mut out = self
            .ids()?
            .iter()
            .map(|id| self.show(id))
            .collect::<Result<Vec<_>, _>>()?;
        out.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
        Ok(out)
    }

    /// All rollback points, oldest first. Fails on the first corrupt point.
    pub fn list_points(&self) -> Result<Vec<PointManifest>, BackupError> {
        let mut out = self
            .point_names()?
            .iter()
            .map(|n| self.point(n))
            .collect::<Result<Vec<_>, _>>()?;
        out.sort_by(|a, b| (a.created_ms, &a.name).cmp(&(b.created_ms, &b.name)));
        Ok(out)
    }

    /// The manifest of backup `id`, checksum verified.
    pub fn show(&self, id: &str) -> Result<BackupManifest, BackupError> {
        check_name("backup id", id)?;
        let m: BackupManifest = self.read_doc(&self.manifest_doc(id), id, "manifest", "backup")?;
        if m.format != BACKUP_FORMAT || m.id != id {
            return Err(corrupt(
                id,
                "manifest",
                format!("format {BACKUP_FORMAT} with id {id}"),
                format!("format {} with id {}", m.format, m.id),
            ));
        }
        Ok(m)
    }

    /// Rollback point `name`, checksum verified.
    pub fn point(&self, name: &str) -> Result<PointManifest, BackupError> {
        check_name("rollback point", name)?;
        let p: PointManifest =
            self.read_doc(&self.point_doc(name), name, "point", "rollback point")?;
        if p.format != POINT_FORMAT || p.name != name {
            return Err(corrupt(
                name,
                "point",
                format!("format {POINT_FORMAT} with name {name}"),
                format!("format {} with name {}", p.format, p.name),
            ));
        }
        Ok(p)
    }

    /// Re-hashes every blob and checks every manifest (and point) checksum;
    /// `Some(id)` limits it to one backup, or to point `name` given as
    /// `point:<name>`. Problems are reported, never returned as errors.
    pub fn verify(&self, id: Option<&str>) -> Result<Vec<VerifyItem>, BackupError> {
        let (ids, points) = match id {
            Some(p) if p.starts_with("point:") => {
                let name = &p["point:".len()..];
                check_name("rollback point", name)?;
                if !self.has_doc(&self.point_doc(name))? {
                    return Err(BackupError::NotFound {
                        what: "rollback point",
                        id: name.to_string(),
                    });
                }
                (Vec::new(), vec![name.to_string()])
            }
            Some(id) => {
                check_name("backup id", id)?;
                if !self.has_doc(&self.manifest_doc(id))? {
                    return Err(BackupError::NotFound {
                        what: "backup",
                        id: id.to_string(),
                    });
                }
                (vec![id.to_string()], Vec::new())
            }
            None => (self.ids()?, self.point_names()?),
        };
        let mut items = Vec::new();
        for id in &ids {
            match self.show(id) {
                Ok(m) => self.verify_results(id, "manifest", &m.results, &mut items),
                Err(e) => items.push(item(id, "manifest", Some(e.to_string()))),
            }
        }
        for name in &points {
            let label = format!("point:{name}");
            match self.point(name) {
                Ok(p) => self.verify_results(&label, "point", &p.results, &mut items),
                Err(e) => items.push(item(&label, "point", Some(e.to_string()))),
            }
        }
        Ok(items)
    }

    fn verify_results(
        &self,
        id: &str,
        doc: &str,
        results: &[TypeResult],
        items: &mut Vec<VerifyItem>,
    ) {
        items.push(item(id, doc, None));
        for r in results.iter().filter(|r| r.ok) {
            let problem = self.check_blob(id, r).err().map(|e| e.to_string());
            items.push(item(id, &r.kind, problem));
        }
    }

    /// Re-hashes the blob of one stored result; `Corrupt` names it on any mismatch.
    pub(crate) fn check_blob(&self, id: &str, r: &TypeResult) -> Result<Digest, BackupError> {
        let text = r.digest.as_deref().unwrap_or("");
        let digest = Digest::from_hex(text)
            .map_err(|e| corrupt(id, &r.kind, "a sha256 digest".into(), e.to_string()))?;
        match self.blobs.verify(&digest) {
            Ok(b) if b.size == r.size => Ok(digest),
            Ok(b) => Err(corrupt(
                id,
                &r.kind,
                format!("{} bytes", r.size),
                format!("{} bytes", b.size),
            )),
            Err(BlobError::NotFound { digest }) => Err(corrupt(
                id,
                &r.kind,
                format!("blob {digest}"),
                "missing blob".into(),
            )),
            Err(BlobError::DigestMismatch { expected, actual }) => {
                Err(corrupt(id, &r.kind, expected.to_hex(), actual.to_hex()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Whether document `name` exists.
    pub(crate) fn has_doc(&self, name: &str) -> Result<bool, BackupError> {
        Ok(self.docs.get(name)?.is_some())
    }

    /// Writes `body` as checked JSON to document `name` (atomically: a
    /// crash leaves the old document or the new one).
    pub(crate) fn put_doc<T: Serialize>(&self, name: &str, body: &T) -> Result<(), BackupError> {
        let bytes = encode_checked_json(Path::new(name), body)?;
        self.docs.put(name, &bytes)?;
        Ok(())
    }

    /// Reads a checked JSON document strictly: it must end with the newline
    /// the writer adds (so a truncation of the last byte is caught too), its
    /// checksum must match and its body must have the expected shape.
    pub(crate) fn read_doc<T: DeserializeOwned>(
        &self,
        name: &str,
        id: &str,
        item: &str,
        what: &'static str,
    ) -> Result<T, BackupError> {
        let Some(bytes) = self.docs.get(name)? else {
            return Err(BackupError::NotFound {
                what,
                id: id.to_string(),
            });
        };
        if !bytes.ends_with(b"}\n") {
            return Err(corrupt(
                id,
                item,
                "a complete document ending in \"}\\n\"".into(),
                format!("{} bytes without that ending (truncated?)", bytes.len()),
            ));
        }
        decode_checked_json(Path::new(name), &bytes).map_err(|e| match e {
            FileError::ChecksumMismatch {
                expected, actual, ..
            } => corrupt(id, item, expected, actual.to_hex()),
            FileError::Json { .. } => corrupt(id, item, "valid checked JSON".into(), e.to_string()),
            other => other.into(),
        })
    }

    /// The stems (`keep` of the file part) of the documents directly under `dir`.
    fn stems(
        &self,
        dir: &str,
        keep: impl Fn(&str) -> Option<&str>,
    ) -> Result<Vec<String>, BackupError> {
        let prefix = format!("{dir}/");
        let mut out = Vec::new();
        for name in self.docs.list(dir, SUFFIX)? {
            let file = name.strip_prefix(&prefix).unwrap_or(&name);
            if file.starts_with('.') {
                continue; // not a name this store writes (check_name refuses it)
            }
            if let Some(stem) = keep(file) {
                out.push(stem.to_string());
            }
        }
        Ok(out)
    }
}

fn item(id: &str, kind: &str, problem: Option<String>) -> VerifyItem {
    VerifyItem {
        id: id.to_string(),
        kind: kind.to_string(),
        ok: problem.is_none(),
        problem,
    }
}

pub(crate) fn corrupt(id: &str, item: &str, expected: String, actual: String) -> BackupError {
    BackupError::Corrupt {
        id: id.to_string(),
        item: item.to_string(),
        expected,
        actual,
    }
}

//! The store: layout, reading documents strictly, listing and verifying.
//!
//! Layout under the state directory:
//! `backups/<id>.json` (manifests), `backups/blobs/ab/cdef…` (content-addressed
//! data, shared by backups and points), `points/<name>.json` (rollback points),
//! `points/<name>.rollback.json` (rollback progress).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use cutover_state::{BlobError, BlobStore, Digest, FileBlobStore, FileError, decode_checked_json};
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

/// Backups and rollback points of one state directory.
#[derive(Debug, Clone)]
pub struct BackupStore {
    pub(crate) backups_dir: PathBuf,
    pub(crate) points_dir: PathBuf,
    pub(crate) blobs: FileBlobStore,
}

const SUFFIX: &str = ".json";
const PROGRESS_SUFFIX: &str = ".rollback.json";

impl BackupStore {
    /// Opens (creating if needed) the store under `state_dir`.
    pub fn open(state_dir: &Path) -> Result<BackupStore, BackupError> {
        let backups_dir = state_dir.join("backups");
        let points_dir = state_dir.join("points");
        fs::create_dir_all(&points_dir).map_err(io_err(&points_dir, "create directory"))?;
        let blobs = FileBlobStore::open(&backups_dir)?;
        Ok(BackupStore {
            backups_dir,
            points_dir,
            blobs,
        })
    }

    /// The content-addressed store holding backup and point data.
    pub fn blobs(&self) -> &FileBlobStore {
        &self.blobs
    }

    /// Path of the manifest of backup `id`.
    pub fn manifest_path(&self, id: &str) -> PathBuf {
        self.backups_dir.join(format!("{id}{SUFFIX}"))
    }

    /// Path of rollback point `name`.
    pub fn point_path(&self, name: &str) -> PathBuf {
        self.points_dir.join(format!("{name}{SUFFIX}"))
    }

    /// Path of the rollback progress of point `name`.
    pub fn progress_path(&self, name: &str) -> PathBuf {
        self.points_dir.join(format!("{name}{PROGRESS_SUFFIX}"))
    }

    /// Ids of all backups, oldest first.
    pub fn ids(&self) -> Result<Vec<String>, BackupError> {
        let mut ids = names_in(&self.backups_dir, |n| n.strip_suffix(SUFFIX))?;
        ids.sort();
        Ok(ids)
    }

    /// Names of all rollback points, sorted.
    pub fn point_names(&self) -> Result<Vec<String>, BackupError> {
        let mut names = names_in(&self.points_dir, |n| {
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
        let m: BackupManifest = read_doc(&self.manifest_path(id), id, "manifest", "backup")?;
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
        let p: PointManifest = read_doc(&self.point_path(name), name, "point", "rollback point")?;
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
                if !self.point_path(name).exists() {
                    return Err(BackupError::NotFound {
                        what: "rollback point",
                        id: name.to_string(),
                    });
                }
                (Vec::new(), vec![name.to_string()])
            }
            Some(id) => {
                check_name("backup id", id)?;
                if !self.manifest_path(id).exists() {
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

/// Reads a checked JSON document strictly: it must end with the newline the
/// writer adds (so a truncation of the last byte is caught too), its checksum
/// must match and its body must have the expected shape.
pub(crate) fn read_doc<T: DeserializeOwned>(
    path: &Path,
    id: &str,
    item: &str,
    what: &'static str,
) -> Result<T, BackupError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(BackupError::NotFound {
                what,
                id: id.to_string(),
            });
        }
        Err(e) => return Err(io_err(path, "read")(e)),
    };
    if !bytes.ends_with(b"}\n") {
        return Err(corrupt(
            id,
            item,
            "a complete document ending in \"}\\n\"".into(),
            format!("{} bytes without that ending (truncated?)", bytes.len()),
        ));
    }
    decode_checked_json(path, &bytes).map_err(|e| match e {
        FileError::ChecksumMismatch {
            expected, actual, ..
        } => corrupt(id, item, expected, actual.to_hex()),
        FileError::Json { .. } => corrupt(id, item, "valid checked JSON".into(), e.to_string()),
        other => other.into(),
    })
}

fn names_in(dir: &Path, keep: impl Fn(&str) -> Option<&str>) -> Result<Vec<String>, BackupError> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err(dir, "list directory"))? {
        let entry = entry.map_err(io_err(dir, "list directory"))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !entry.path().is_file() {
            continue; // temp files of atomic writes, the blobs directory
        }
        if let Some(stem) = keep(&name) {
            out.push(stem.to_string());
        }
    }
    Ok(out)
}

//! Small named documents of a plan's state (backup manifests, rollback
//! points, rollback progress, the status snapshot): the file backend keeps
//! each as a file under the state directory, a database backend as a row.
//!
//! Names are relative paths of `/`-separated segments made of ASCII letters,
//! digits, `.`, `_` and `-` (no empty, `.` or `..` segment), such as
//! `backups/20261206T120000Z.json`. The bytes are opaque to the store; callers
//! store self-checking documents (see [`crate::encode_checked_json`]).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::atomic::write_atomic;
use crate::db::DbError;

/// Document store errors.
#[derive(Debug, thiserror::Error)]
pub enum DocError {
    /// The name is not a valid document name.
    #[error("invalid document name {name:?}: {why}")]
    BadName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// An I/O operation failed (file backend).
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// File involved.
        path: PathBuf,
        /// What was being done.
        op: &'static str,
        /// Underlying error.
        source: io::Error,
    },
    /// The state database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A write was refused because this writer no longer holds the lease.
    #[error("document write refused: {detail}")]
    Fenced {
        /// Our token and the current holder, or why there is none.
        detail: String,
    },
}

/// Checks a document name (see the module documentation).
pub fn check_doc_name(name: &str) -> Result<(), DocError> {
    let bad = |why| {
        Err(DocError::BadName {
            name: name.to_string(),
            why,
        })
    };
    if name.is_empty() || name.len() > 512 {
        return bad("must be 1 to 512 bytes");
    }
    for seg in name.split('/') {
        if seg.is_empty() || seg == "." || seg == ".." {
            return bad("has an empty, `.` or `..` segment");
        }
        if !seg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return bad("may hold only ASCII letters, digits, `.`, `_`, `-` and `/`");
        }
    }
    Ok(())
}

/// A store of small named documents. Backend-neutral; the file backend is
/// [`FileDocStore`].
pub trait DocStore: Send + Sync {
    /// Writes (or replaces) `name` durably: after `Ok`, a crash leaves the new
    /// bytes; before it, the old ones.
    fn put(&self, name: &str, bytes: &[u8]) -> Result<(), DocError>;

    /// The bytes of `name`, or `None` when there is no such document.
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, DocError>;

    /// Names of the documents directly under `dir` (no `/` in the rest of
    /// the name) that end with `suffix`, sorted.
    fn list(&self, dir: &str, suffix: &str) -> Result<Vec<String>, DocError>;

    /// Removes `name`. Returns whether it existed.
    fn delete(&self, name: &str) -> Result<bool, DocError>;
}

/// Documents as files under a root directory (the state directory).
#[derive(Debug, Clone)]
pub struct FileDocStore {
    root: PathBuf,
}

impl FileDocStore {
    /// Documents under `root` (created on the first write).
    pub fn new(root: &Path) -> FileDocStore {
        FileDocStore {
            root: root.to_path_buf(),
        }
    }

    /// The file that holds document `name`.
    pub fn path_of(&self, name: &str) -> Result<PathBuf, DocError> {
        check_doc_name(name)?;
        Ok(self.root.join(name))
    }
}

fn io_err(path: &Path, op: &'static str) -> impl FnOnce(io::Error) -> DocError {
    move |source| DocError::Io {
        path: path.to_path_buf(),
        op,
        source,
    }
}

impl DocStore for FileDocStore {
    fn put(&self, name: &str, bytes: &[u8]) -> Result<(), DocError> {
        let path = self.path_of(name)?;
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io_err(dir, "create directory"))?;
        }
        write_atomic(&path, bytes).map_err(|e| match e {
            crate::FileError::Io { path, op, source } => DocError::Io { path, op, source },
            other => DocError::Io {
                path: path.clone(),
                op: "write",
                source: io::Error::other(other.to_string()),
            },
        })
    }

    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, DocError> {
        let path = self.path_of(name)?;
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(&path, "read")(e)),
        }
    }

    fn list(&self, dir: &str, suffix: &str) -> Result<Vec<String>, DocError> {
        let path = self.path_of(dir)?;
        let entries = match fs::read_dir(&path) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err(&path, "list")(e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io_err(&path, "list"))?;
            let file_name = entry.file_name();
            let Some(file_name) = file_name.to_str() else {
                continue;
            };
            let is_file = entry.file_type().map_err(io_err(&path, "stat"))?.is_file();
            if is_file && file_name.ends_with(suffix) && check_doc_name(file_name).is_ok() {
                names.push(format!("{dir}/{file_name}"));
            }
        }
        names.sort();
        Ok(names)
    }

    fn delete(&self, name: &str) -> Result<bool, DocError> {
        let path = self.path_of(name)?;
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_err(&path, "remove")(e)),
        }
    }
}

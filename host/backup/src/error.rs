//! Typed errors of the backup store.

use std::io;
use std::path::PathBuf;

use cutover_base::exit::{ExitClass, HasExitClass};
use cutover_state::{BlobError, DocError, FileError};

/// Everything that can go wrong in the backup store. Per-type adapter
/// failures are not errors: they are recorded in the manifest or report.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// A local file-system operation failed (the writer lock, its markers).
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// File or directory involved.
        path: PathBuf,
        /// What was being done.
        op: &'static str,
        /// Underlying error.
        source: io::Error,
    },
    /// Encoding a checked JSON document failed (not a checksum problem);
    /// names the document (`backups/<id>.json`).
    #[error(transparent)]
    File(#[from] FileError),
    /// The document store failed to read, write, list or delete a manifest,
    /// point or rollback progress (a file, or the state database), or
    /// refused a write made without the lease.
    #[error(transparent)]
    Doc(#[from] DocError),
    /// The blob store failed (not a digest problem).
    #[error(transparent)]
    Blob(#[from] BlobError),
    /// A manifest, point or blob does not match its checksum, or is missing.
    /// Nothing was applied to the system.
    #[error("{id}: {item} is corrupt: expected {expected}, found {actual}")]
    Corrupt {
        /// Backup id or rollback point name.
        id: String,
        /// `manifest`, `point`, or the data type / category whose blob is bad.
        item: String,
        /// What was expected (a digest, or a description).
        expected: String,
        /// What was found.
        actual: String,
    },
    /// No backup or point with this id.
    #[error("no {what} named {id:?}")]
    NotFound {
        /// `backup` or `rollback point`.
        what: &'static str,
        /// The id asked for.
        id: String,
    },
    /// A requested type or category is not (successfully) in the backup or point.
    #[error("{id}: {kind:?} {why}")]
    NotRestorable {
        /// Backup id or point name.
        id: String,
        /// Requested type or category.
        kind: String,
        /// Why it cannot be restored.
        why: String,
    },
    /// A backup or rollback point is being written to (or restored from)
    /// the store: `prune` deleted nothing.
    #[error(
        "{}: a backup or rollback point is being written or restored ({}); nothing was pruned: try again when it has finished",
        dir.display(),
        if writing.is_empty() { "a restore".to_string() } else { writing.join(", ") }
    )]
    InProgress {
        /// The directory of the store's writer lock (`<work_dir>/backups`).
        dir: PathBuf,
        /// Backup ids (`point:NAME` for points) being written.
        writing: Vec<String>,
    },
    /// An id, point name or type name that cannot be used as a file name.
    #[error("invalid {what} {name:?}: {why}")]
    InvalidName {
        /// What kind of name.
        what: &'static str,
        /// The name.
        name: String,
        /// Why it was rejected.
        why: &'static str,
    },
}

impl BackupError {
    /// A stable machine-readable kind, for JSON output and exit codes.
    pub fn kind(&self) -> &'static str {
        match self {
            BackupError::Io { .. }
            | BackupError::File(_)
            | BackupError::Doc(_)
            | BackupError::Blob(_) => "io",
            BackupError::Corrupt { .. } => "corrupt",
            BackupError::NotFound { .. } => "not-found",
            BackupError::NotRestorable { .. } => "not-restorable",
            BackupError::InvalidName { .. } => "invalid-name",
            BackupError::InProgress { .. } => "in-progress",
        }
    }
}

/// State when the store is damaged or cannot be read or written; usage when
/// the operator asked for something the store does not have or cannot name.
impl HasExitClass for BackupError {
    fn exit_class(&self) -> ExitClass {
        match self {
            BackupError::Io { .. }
            | BackupError::File(_)
            | BackupError::Doc(_)
            | BackupError::Blob(_)
            | BackupError::Corrupt { .. }
            | BackupError::InProgress { .. } => ExitClass::State,
            BackupError::NotFound { .. }
            | BackupError::NotRestorable { .. }
            | BackupError::InvalidName { .. } => ExitClass::Usage,
        }
    }
}

pub(crate) fn io_err(
    path: impl Into<PathBuf>,
    op: &'static str,
) -> impl FnOnce(io::Error) -> BackupError {
    let path = path.into();
    move |source| BackupError::Io { path, op, source }
}

/// Checks that `name` is safe as one path component.
pub(crate) fn check_name(what: &'static str, name: &str) -> Result<(), BackupError> {
    let why = if name.is_empty() {
        Some("empty")
    } else if name.len() > 128 {
        Some("longer than 128 bytes")
    } else if name.starts_with('.') {
        Some("starts with a dot")
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        Some("only ASCII letters, digits, '-', '_' and '.' are allowed")
    } else {
        None
    };
    match why {
        Some(why) => Err(BackupError::InvalidName {
            what,
            name: name.to_string(),
            why,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_store_is_a_state_problem_a_wrong_name_a_usage_error() {
        let corrupt = BackupError::Corrupt {
            id: "b1".into(),
            item: "manifest".into(),
            expected: "a".into(),
            actual: "b".into(),
        };
        assert_eq!(corrupt.exit_class(), ExitClass::State);
        let missing = BackupError::NotFound {
            what: "backup",
            id: "b2".into(),
        };
        assert_eq!(missing.exit_class(), ExitClass::Usage);
        let name = check_name("backup id", "../x").unwrap_err();
        assert_eq!(name.exit_class(), ExitClass::Usage);
    }
}

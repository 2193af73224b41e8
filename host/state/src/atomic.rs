//! Crash-safe small-file writes and self-checking JSON documents.
//!
//! `write_atomic` writes a temp file in the destination directory, fsyncs it,
//! renames it over the destination and fsyncs the directory, so a crash leaves
//! either the old or the new content, never a mix.
//!
//! Checked JSON documents have the form `{"sha256":"<hex>","body":<json>}` where
//! the digest covers the exact bytes of `<json>` as they appear in the file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::digest::Digest;

/// Errors from atomic writes and checked JSON documents. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// An I/O operation failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// File or directory involved.
        path: PathBuf,
        /// What was being done.
        op: &'static str,
        /// Underlying error.
        source: io::Error,
    },
    /// The file is not valid JSON or does not match the expected shape.
    #[error("{}: invalid JSON at line {line}, column {column}: {source}", path.display())]
    Json {
        /// File involved.
        path: PathBuf,
        /// 1-based line of the error (0 if unknown).
        line: usize,
        /// 1-based column of the error (0 if unknown).
        column: usize,
        /// Underlying error.
        source: serde_json::Error,
    },
    /// The stored checksum does not match the body bytes.
    #[error("{}: checksum mismatch: file says {expected}, body hashes to {actual}", path.display())]
    ChecksumMismatch {
        /// File involved.
        path: PathBuf,
        /// Digest stored in the file.
        expected: String,
        /// Digest of the body bytes.
        actual: Digest,
    },
    /// The body could not be serialized.
    #[error("{}: cannot serialize body: {source}", path.display())]
    Serialize {
        /// Destination file.
        path: PathBuf,
        /// Underlying error.
        source: serde_json::Error,
    },
}

pub(crate) fn io_err(path: &Path, op: &'static str) -> impl FnOnce(io::Error) -> FileError {
    move |source| FileError::Io {
        path: path.to_path_buf(),
        op,
        source,
    }
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A unique temp-file path next to `path` (same directory, so rename is atomic).
pub(crate) fn temp_path_for(path: &Path) -> PathBuf {
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".to_string());
    let tmp = format!(".{name}.tmp-{}-{n}-{nanos:08x}", std::process::id());
    match path.parent() {
        Some(dir) => dir.join(tmp),
        None => PathBuf::from(tmp),
    }
}

/// The directory containing `path` (`.` for a bare file name).
pub(crate) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// fsync a directory so that renames/creations/removals inside it are durable.
pub fn fsync_dir(dir: &Path) -> Result<(), FileError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir, "fsync directory"))
}

/// Atomically replace `path` with `bytes`: temp file in the same directory,
/// write, fsync, rename, fsync the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let tmp = temp_path_for(path);
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(io_err(&tmp, "create temp file"))?;
        f.write_all(bytes)
            .map_err(io_err(&tmp, "write temp file"))?;
        f.sync_all().map_err(io_err(&tmp, "fsync temp file"))?;
        fs::rename(&tmp, path).map_err(io_err(path, "rename temp file onto"))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    fsync_dir(parent_dir(path))
}

#[derive(Serialize)]
struct CheckedOut<'a> {
    sha256: String,
    body: &'a RawValue,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckedIn<'a> {
    sha256: String,
    #[serde(borrow)]
    body: &'a RawValue,
}

/// Encode `body` as a checked JSON document (`{"sha256":..,"body":..}` plus newline).
pub fn encode_checked_json<T: Serialize>(path: &Path, body: &T) -> Result<Vec<u8>, FileError> {
    let ser = |source| FileError::Serialize {
        path: path.to_path_buf(),
        source,
    };
    let body_text = serde_json::to_string_pretty(body).map_err(ser)?;
    let raw = RawValue::from_string(body_text).map_err(ser)?;
    let doc = CheckedOut {
        sha256: Digest::of(raw.get().as_bytes()).to_hex(),
        body: &raw,
    };
    let mut out = serde_json::to_vec(&doc).map_err(ser)?;
    out.push(b'\n');
    Ok(out)
}

/// Atomically write `body` as a checked JSON document.
pub fn write_checked_json<T: Serialize>(path: &Path, body: &T) -> Result<(), FileError> {
    let bytes = encode_checked_json(path, body)?;
    write_atomic(path, &bytes)
}

/// Decode checked JSON bytes read from `path` (used for error messages only).
pub fn decode_checked_json<T: DeserializeOwned>(path: &Path, bytes: &[u8]) -> Result<T, FileError> {
    let json_err = |source: serde_json::Error| FileError::Json {
        path: path.to_path_buf(),
        line: source.line(),
        column: source.column(),
        source,
    };
    let doc: CheckedIn<'_> = serde_json::from_slice(bytes).map_err(json_err)?;
    let actual = Digest::of(doc.body.get().as_bytes());
    let matches = doc.sha256 == actual.to_hex();
    if !matches {
        return Err(FileError::ChecksumMismatch {
            path: path.to_path_buf(),
            expected: doc.sha256.chars().take(80).collect(),
            actual,
        });
    }
    serde_json::from_str(doc.body.get()).map_err(json_err)
}

/// Read a checked JSON document, verify its sha256 and deserialize the body.
/// A missing file is reported as `FileError::Io` with `ErrorKind::NotFound`.
pub fn read_checked_json<T: DeserializeOwned>(path: &Path) -> Result<T, FileError> {
    let bytes = fs::read(path).map_err(io_err(path, "read"))?;
    decode_checked_json(path, &bytes)
}

impl FileError {
    /// True when the error is "file does not exist".
    pub fn is_not_found(&self) -> bool {
        matches!(self, FileError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checked_json_round_trip_and_tamper() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("doc.json");
        let body = serde_json::json!({"phase": "shadow", "n": 3});
        write_checked_json(&p, &body).unwrap();
        let back: serde_json::Value = read_checked_json(&p).unwrap();
        assert_eq!(back, body);

        let text = fs::read_to_string(&p).unwrap().replace("shadow", "cutovr");
        fs::write(&p, text).unwrap();
        match read_checked_json::<serde_json::Value>(&p) {
            Err(FileError::ChecksumMismatch { path, .. }) => assert_eq!(path, p),
            other => panic!("expected checksum mismatch, got {other:?}"),
        }
    }

    #[test]
    fn write_atomic_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn bad_json_reports_position() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bad.json");
        fs::write(&p, "{\"sha256\": \"00\",\n \"body\": ").unwrap();
        match read_checked_json::<serde_json::Value>(&p) {
            Err(FileError::Json { line, .. }) => assert_eq!(line, 2),
            other => panic!("expected json error, got {other:?}"),
        }
    }
}

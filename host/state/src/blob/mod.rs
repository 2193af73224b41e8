//! Content-addressed blob store (sha256).

mod file;
mod verify;

use std::io::{self, Read};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;

pub use file::FileBlobStore;
pub use verify::VerifyingReader;

/// Size of the buffers used when streaming blobs (1 MiB).
pub const BLOB_BUF: usize = 1 << 20;

/// A stored blob: its digest and size in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BlobRef {
    /// sha256 of the content.
    pub digest: Digest,
    /// Size in bytes.
    pub size: u64,
}

/// Blob store errors.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// An I/O operation failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// File involved.
        path: PathBuf,
        /// What was being done.
        op: &'static str,
        /// Underlying error.
        source: io::Error,
    },
    /// No blob with this digest.
    #[error("blob {digest} not found")]
    NotFound {
        /// Requested digest.
        digest: Digest,
    },
    /// The content read does not hash to the digest it is stored under.
    #[error("blob content does not match its digest: expected {expected}, actual {actual}")]
    DigestMismatch {
        /// Digest the blob is stored under.
        expected: Digest,
        /// Digest of the bytes actually read.
        actual: Digest,
    },
    /// The state database failed (unreachable, refused, table missing, gone away).
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    /// A write was refused because this writer no longer holds the lease.
    #[error("blob write refused: {detail}")]
    Fenced {
        /// Our token and the current holder, or why there is none.
        detail: String,
    },
    /// Reading the source stream failed during `put_stream`.
    #[error("reading source stream after {offset} bytes: {source}")]
    Source {
        /// Bytes successfully read before the error.
        offset: u64,
        /// Underlying error.
        source: io::Error,
    },
}

impl BlobError {
    /// Extract a `BlobError` carried inside an `io::Error` returned by a blob reader.
    pub fn from_io(err: &io::Error) -> Option<&BlobError> {
        err.get_ref().and_then(|e| e.downcast_ref::<BlobError>())
    }
}

/// Reads until `buf` is full or EOF; returns the bytes read (streaming
/// blobs in whole chunks, whatever sizes the reader hands out).
pub(crate) fn read_full(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Reads `r` (a verifying reader) to its end; returns the bytes read, or
/// the error and how many bytes came before it.
pub(crate) fn drain(r: &mut dyn Read) -> Result<u64, (io::Error, u64)> {
    let mut buf = vec![0u8; BLOB_BUF];
    let mut size = 0u64;
    loop {
        match r.read(&mut buf) {
            Ok(0) => return Ok(size),
            Ok(n) => size += n as u64,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err((e, size)),
        }
    }
}

/// A content-addressed blob store. Backend-neutral; the file backend is [`FileBlobStore`].
pub trait BlobStore: Send + Sync {
    /// Stream `reader` into the store; identical content is stored once.
    fn put_stream(&self, reader: &mut dyn Read) -> Result<BlobRef, BlobError>;

    /// Store a byte slice.
    fn put_bytes(&self, bytes: &[u8]) -> Result<BlobRef, BlobError> {
        let mut r = bytes;
        self.put_stream(&mut r)
    }

    /// Open a blob for reading. The reader verifies the digest as it reads and
    /// fails at EOF with an `io::Error` wrapping [`BlobError::DigestMismatch`]
    /// (see [`BlobError::from_io`]) if the content does not match.
    fn open(&self, digest: &Digest) -> Result<Box<dyn Read + Send>, BlobError>;

    /// Read the whole blob and check its digest.
    fn verify(&self, digest: &Digest) -> Result<BlobRef, BlobError>;

    /// Whether a blob is present (without verifying it).
    fn exists(&self, digest: &Digest) -> Result<bool, BlobError>;

    /// Size of a blob in bytes.
    fn size(&self, digest: &Digest) -> Result<u64, BlobError>;

    /// All blobs, sorted by digest.
    fn list(&self) -> Result<Vec<BlobRef>, BlobError>;

    /// Remove a blob. Returns whether it existed.
    fn delete(&self, digest: &Digest) -> Result<bool, BlobError>;

    /// Total size of all blobs in bytes.
    fn total_size(&self) -> Result<u64, BlobError> {
        Ok(self.list()?.iter().map(|b| b.size).sum())
    }
}

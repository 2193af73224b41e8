//! A reader that hashes what passes through and checks the digest at EOF.

use std::io::{self, Read};

use sha2::{Digest as _, Sha256};

use super::BlobError;
use crate::digest::Digest;

/// Wraps a reader; at EOF compares the sha256 of everything read with `expected`
/// and returns an `io::Error` (kind `InvalidData`, wrapping
/// [`BlobError::DigestMismatch`]) if they differ. Errors are sticky.
pub struct VerifyingReader<R> {
    inner: R,
    hasher: Sha256,
    expected: Digest,
    failed: Option<Digest>,
    finished: bool,
}

impl<R: Read> VerifyingReader<R> {
    /// Wrap `inner`, expecting its full content to hash to `expected`.
    pub fn new(inner: R, expected: Digest) -> Self {
        VerifyingReader {
            inner,
            hasher: Sha256::new(),
            expected,
            failed: None,
            finished: false,
        }
    }

    fn mismatch(&self, actual: Digest) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            BlobError::DigestMismatch {
                expected: self.expected,
                actual,
            },
        )
    }
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(actual) = self.failed {
            return Err(self.mismatch(actual));
        }
        if self.finished || buf.is_empty() {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.hasher.update(&buf[..n]);
            return Ok(n);
        }
        let actual = Digest::from(std::mem::take(&mut self.hasher));
        if actual != self.expected {
            self.failed = Some(actual);
            return Err(self.mismatch(actual));
        }
        self.finished = true;
        Ok(0)
    }
}

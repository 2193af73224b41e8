//! In-memory data streams: what a guest's native tests use in place of the
//! host's `data-source` and `data-sink` resources.

use std::cell::RefCell;

use crate::io::{ChunkSink, ChunkSource};

/// A sink collecting every chunk written to it.
#[derive(Debug, Default)]
pub struct MemorySink(pub RefCell<Vec<u8>>);

impl MemorySink {
    /// Everything written so far.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0.into_inner()
    }
}

impl ChunkSink for MemorySink {
    fn write_chunk(&self, chunk: &[u8]) -> Result<(), String> {
        self.0.borrow_mut().extend_from_slice(chunk);
        Ok(())
    }
}

/// A source handing out fixed bytes, at most `chunk` bytes a read (as the
/// host may hand out fewer than asked).
#[derive(Debug)]
pub struct MemorySource {
    bytes: Vec<u8>,
    at: RefCell<usize>,
    chunk: usize,
}

impl MemorySource {
    /// `bytes`, in chunks as large as the reader asks for.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self::chunked(bytes, usize::MAX)
    }

    /// `bytes`, at most `chunk` (at least 1) bytes a read.
    pub fn chunked(bytes: impl Into<Vec<u8>>, chunk: usize) -> Self {
        Self {
            bytes: bytes.into(),
            at: RefCell::new(0),
            chunk: chunk.max(1),
        }
    }
}

impl ChunkSource for MemorySource {
    fn read_chunk(&self, max: u32) -> Result<Vec<u8>, String> {
        let mut at = self.at.borrow_mut();
        let n = (max as usize).min(self.chunk).min(self.bytes.len() - *at);
        let out = self.bytes[*at..*at + n].to_vec();
        *at += n;
        Ok(out)
    }

    fn total_size(&self) -> u64 {
        self.bytes.len() as u64
    }
}

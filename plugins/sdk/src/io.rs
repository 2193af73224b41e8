//! `std::io` adapters over the host `data-sink` and `data-source` resources.

use std::io::{self, Read, Write};

use crate::{DataSink, DataSource};

/// Size of the chunks written to a sink and requested from a source (64 KiB).
pub const CHUNK_SIZE: usize = 64 * 1024;

/// Something that accepts chunks of bytes: the host `data-sink`, or a fake in tests.
pub trait ChunkSink {
    /// Appends one chunk; the error is the host's reason.
    fn write_chunk(&self, chunk: &[u8]) -> Result<(), String>;
}

/// Something that hands out chunks of bytes: the host `data-source`, or a fake.
pub trait ChunkSource {
    /// Up to `max` bytes; empty means the end.
    fn read_chunk(&self, max: u32) -> Result<Vec<u8>, String>;
    /// Total size in bytes.
    fn total_size(&self) -> u64;
}

impl ChunkSink for DataSink {
    fn write_chunk(&self, chunk: &[u8]) -> Result<(), String> {
        self.write(chunk)
    }
}

impl ChunkSource for DataSource {
    fn read_chunk(&self, max: u32) -> Result<Vec<u8>, String> {
        self.read(max)
    }
    fn total_size(&self) -> u64 {
        self.size()
    }
}

/// [`Write`] over a borrowed `data-sink`; writes at most [`CHUNK_SIZE`] bytes
/// per host call. A host refusal (e.g. size cap reached) is an `io::Error`.
pub struct SinkWriter<'a, S: ChunkSink + ?Sized = DataSink> {
    sink: &'a S,
    written: u64,
}

impl<'a, S: ChunkSink + ?Sized> SinkWriter<'a, S> {
    /// Wraps a sink.
    pub fn new(sink: &'a S) -> Self {
        Self { sink, written: 0 }
    }

    /// Bytes accepted by the host so far.
    pub fn written(&self) -> u64 {
        self.written
    }
}

impl<S: ChunkSink + ?Sized> Write for SinkWriter<'_, S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(CHUNK_SIZE);
        if n == 0 {
            return Ok(0);
        }
        self.sink
            .write_chunk(&buf[..n])
            .map_err(|e| io::Error::other(format!("data-sink refused write: {e}")))?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// [`Read`] over a borrowed `data-source`.
pub struct SourceReader<'a, S: ChunkSource + ?Sized = DataSource> {
    source: &'a S,
    pending: Vec<u8>,
    offset: usize,
    done: bool,
}

impl<'a, S: ChunkSource + ?Sized> SourceReader<'a, S> {
    /// Wraps a source.
    pub fn new(source: &'a S) -> Self {
        Self {
            source,
            pending: Vec::new(),
            offset: 0,
            done: false,
        }
    }

    /// Total size in bytes, as the host reports it.
    pub fn size(&self) -> u64 {
        self.source.total_size()
    }
}

impl<S: ChunkSource + ?Sized> Read for SourceReader<'_, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.offset >= self.pending.len() {
            if self.done {
                return Ok(0);
            }
            let max = u32::try_from(buf.len().min(CHUNK_SIZE)).unwrap_or(u32::MAX);
            let chunk = self
                .source
                .read_chunk(max)
                .map_err(|e| io::Error::other(format!("data-source read failed: {e}")))?;
            if chunk.is_empty() {
                self.done = true;
                return Ok(0);
            }
            self.pending = chunk;
            self.offset = 0;
        }
        let available = &self.pending[self.offset..];
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.offset += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    /// Records chunks; refuses once `cap` bytes were accepted.
    struct FakeSink {
        chunks: RefCell<Vec<Vec<u8>>>,
        cap: usize,
    }

    impl ChunkSink for FakeSink {
        fn write_chunk(&self, chunk: &[u8]) -> Result<(), String> {
            let total: usize = self.chunks.borrow().iter().map(Vec::len).sum();
            if total + chunk.len() > self.cap {
                return Err("cap reached".into());
            }
            self.chunks.borrow_mut().push(chunk.to_vec());
            Ok(())
        }
    }

    /// Serves `data`, ignoring `max` when `greedy` (a misbehaving host).
    struct FakeSource {
        data: Vec<u8>,
        pos: RefCell<usize>,
        greedy: bool,
    }

    impl ChunkSource for FakeSource {
        fn read_chunk(&self, max: u32) -> Result<Vec<u8>, String> {
            let mut pos = self.pos.borrow_mut();
            let n = if self.greedy {
                self.data.len()
            } else {
                max as usize
            };
            let end = (*pos + n).min(self.data.len());
            let out = self.data[*pos..end].to_vec();
            *pos = end;
            Ok(out)
        }
        fn total_size(&self) -> u64 {
            self.data.len() as u64
        }
    }

    #[test]
    fn sink_writer_chunks_and_reports_refusal() {
        let sink = FakeSink {
            chunks: RefCell::new(Vec::new()),
            cap: 200_000,
        };
        let mut w = SinkWriter::new(&sink);
        let data = vec![7u8; 150_000];
        w.write_all(&data).unwrap();
        assert_eq!(w.written(), 150_000);
        let sizes: Vec<usize> = sink.chunks.borrow().iter().map(Vec::len).collect();
        assert_eq!(
            sizes,
            vec![CHUNK_SIZE, CHUNK_SIZE, 150_000 - 2 * CHUNK_SIZE]
        );
        let err = w.write_all(&data).unwrap_err();
        assert!(err.to_string().contains("cap reached"), "{err}");
    }

    #[test]
    fn source_reader_reads_everything_even_from_greedy_host() {
        for greedy in [false, true] {
            let data: Vec<u8> = (0..100_000u32).map(|i| (i % 256) as u8).collect();
            let src = FakeSource {
                data: data.clone(),
                pos: RefCell::new(0),
                greedy,
            };
            let mut r = SourceReader::new(&src);
            assert_eq!(r.size(), 100_000);
            let mut small = [0u8; 10];
            r.read_exact(&mut small).unwrap();
            let mut rest = Vec::new();
            r.read_to_end(&mut rest).unwrap();
            assert_eq!([&small[..], &rest[..]].concat(), data, "greedy={greedy}");
        }
    }
}

//! Streaming an adapter export straight into the blob store.
//!
//! The adapter writes into a [`PipeWriter`] on the calling thread; a scoped
//! thread reads the other end and runs [`BlobStore::put_stream`] of whatever
//! backend holds the blobs (the trait object is `Send + Sync`, so it can be
//! lent to that thread), which hashes and stores as it reads. Memory stays
//! bounded by the channel depth whatever the export size. The stream only
//! ends cleanly when [`PipeWriter::finish`] is called; if the writer is
//! dropped without it (the call failed) the reader reports an error, so
//! `put_stream` discards what it wrote and no partial blob is ever stored.

use std::io::{self, Read, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use cutover_state::{BlobError, BlobRef, BlobStore};

/// Chunks in flight between the adapter and the blob writer.
const DEPTH: usize = 16;

enum Msg {
    Data(Vec<u8>),
    Done,
}

/// The write end handed to `export_data`.
pub struct PipeWriter {
    tx: SyncSender<Msg>,
}

impl PipeWriter {
    /// Marks the stream complete; the reader then sees EOF.
    pub fn finish(self) -> io::Result<()> {
        self.tx
            .send(Msg::Done)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "blob writer stopped"))
    }
}

impl Write for PipeWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.tx
            .send(Msg::Data(buf.to_vec()))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "blob writer stopped"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The read end fed to `put_stream`.
struct PipeReader {
    rx: Receiver<Msg>,
    chunk: Vec<u8>,
    pos: usize,
    done: bool,
}

impl Read for PipeReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.chunk.len() {
            if self.done {
                return Ok(0);
            }
            match self.rx.recv() {
                Ok(Msg::Data(c)) => {
                    self.chunk = c;
                    self.pos = 0;
                }
                Ok(Msg::Done) => self.done = true,
                Err(_) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "export ended without completing",
                    ));
                }
            }
        }
        let n = buf.len().min(self.chunk.len() - self.pos);
        buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Outcome of streaming one export into the store.
pub(crate) struct Streamed<T, E> {
    /// What the producer returned.
    pub produced: Result<T, E>,
    /// The stored blob, when the producer finished the stream and the put succeeded.
    pub blob: Option<Result<BlobRef, BlobError>>,
}

/// Runs `produce` with a [`PipeWriter`] whose bytes are stored as one blob.
/// `produce` must return the writer on success so the stream can be finished.
pub(crate) fn stream_to_blob<T, E>(
    blobs: &dyn BlobStore,
    produce: impl FnOnce(PipeWriter) -> Result<(T, PipeWriter), E>,
) -> Streamed<T, E> {
    let (tx, rx) = sync_channel(DEPTH);
    std::thread::scope(|s| {
        let putter = s.spawn(move || {
            let mut reader = PipeReader {
                rx,
                chunk: Vec::new(),
                pos: 0,
                done: false,
            };
            blobs.put_stream(&mut reader)
        });
        let produced = match produce(PipeWriter { tx }) {
            Ok((value, writer)) => {
                // A failed finish means the putter stopped; its error is reported below.
                let _ = writer.finish();
                Ok(value)
            }
            Err(e) => Err(e),
        };
        let put = putter.join().unwrap_or_else(|_| {
            Err(BlobError::Source {
                offset: 0,
                source: io::Error::other("blob writer thread panicked"),
            })
        });
        let blob = match (&produced, put) {
            (Ok(_), put) => Some(put),
            // The producer failed: the put saw a broken stream and stored nothing.
            (Err(_), _) => None,
        };
        Streamed { produced, blob }
    })
}

//! Streaming, verifying reader over the journal file's lines.
//!
//! Records of a batch are held back until the whole batch has been read, so an
//! incomplete batch at the end of the file is never yielded and is reported as
//! a torn tail starting at the batch's first line.

use std::collections::VecDeque;
use std::io::{self, BufRead};
use std::path::PathBuf;

use super::codec::decode_line;
use super::{CorruptReason, JournalError, MAX_RECORD_BYTES, Record, RecordRef};
use crate::digest::Digest;

/// Reads lines one at a time, checks each record's checksum, seq, hash link and
/// batch position. Stops at the first error.
pub(crate) struct Scanner<R> {
    reader: R,
    path: PathBuf,
    /// Offset of the next line to read.
    line_offset: u64,
    expected_seq: u64,
    prev: Digest,
    /// Records of an unfinished batch, and the offset/seq where it started.
    pending: Vec<Record>,
    pending_start: (u64, u64),
    /// Verified records ready to be yielded.
    ready: VecDeque<Record>,
    /// End offset and last record of everything released to `ready`.
    committed_offset: u64,
    committed: Option<RecordRef>,
    done: bool,
    buf: Vec<u8>,
}

impl<R: BufRead> Scanner<R> {
    pub fn new(reader: R, path: PathBuf) -> Self {
        Scanner {
            reader,
            path,
            line_offset: 0,
            expected_seq: 1,
            prev: Digest::ZERO,
            pending: Vec::new(),
            pending_start: (0, 1),
            ready: VecDeque::new(),
            committed_offset: 0,
            committed: None,
            done: false,
            buf: Vec::new(),
        }
    }

    /// Byte offset just after the last complete record or batch.
    pub fn offset(&self) -> u64 {
        self.committed_offset
    }

    /// The last complete record.
    pub fn head(&self) -> Option<RecordRef> {
        self.committed
    }

    fn corrupt_at(&self, offset: u64, seq: u64, reason: CorruptReason) -> JournalError {
        JournalError::Corrupt {
            path: self.path.clone(),
            offset,
            seq,
            reason,
        }
    }

    fn corrupt(&self, reason: CorruptReason) -> JournalError {
        self.corrupt_at(self.line_offset, self.expected_seq, reason)
    }

    /// Read one line into `self.buf` (without newline). Returns `Ok(None)` at clean EOF,
    /// `Ok(Some(true))` for a full line, `Ok(Some(false))` for a final line without newline.
    fn read_line(&mut self) -> Result<Option<bool>, JournalError> {
        self.buf.clear();
        loop {
            let chunk = match self.reader.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(JournalError::Io {
                        path: self.path.clone(),
                        op: "read journal",
                        source,
                    });
                }
            };
            if chunk.is_empty() {
                return Ok(if self.buf.is_empty() {
                    None
                } else {
                    Some(false)
                });
            }
            let (take, found) = match chunk.iter().position(|b| *b == b'\n') {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            let keep = if found { take - 1 } else { take };
            self.buf.extend_from_slice(&chunk[..keep]);
            self.reader.consume(take);
            if self.buf.len() > MAX_RECORD_BYTES {
                return Err(self.corrupt(CorruptReason::LineTooLong));
            }
            if found {
                return Ok(Some(true));
            }
        }
    }

    fn check_chain(&self, record: &Record) -> Result<(), CorruptReason> {
        if record.seq != self.expected_seq {
            return Err(CorruptReason::SeqGap { found: record.seq });
        }
        if record.prev != self.prev {
            return Err(CorruptReason::BrokenLink {
                expected: self.prev,
                found: record.prev,
            });
        }
        let expected_index = self.pending.len() as u64;
        match (&record.batch, self.pending.first().and_then(|r| r.batch)) {
            (None, None) => Ok(()),
            (Some(b), None) if b.index == 0 && b.len >= 2 => Ok(()),
            (Some(b), Some(first))
                if b.len == first.len && u64::from(b.index) == expected_index =>
            {
                Ok(())
            }
            _ => Err(CorruptReason::BadBatch),
        }
    }

    /// End of file: anything pending is an incomplete batch.
    fn at_eof(&self, partial_len: u64) -> Result<(), JournalError> {
        if self.pending.is_empty() && partial_len == 0 {
            return Ok(());
        }
        let (offset, seq) = if self.pending.is_empty() {
            (self.line_offset, self.expected_seq)
        } else {
            self.pending_start
        };
        let len = self.line_offset + partial_len - offset;
        Err(self.corrupt_at(offset, seq, CorruptReason::TornTail { len }))
    }

    /// Read lines until at least one record is ready, or EOF.
    fn fill(&mut self) -> Result<(), JournalError> {
        while self.ready.is_empty() {
            let complete = match self.read_line()? {
                None => return self.at_eof(0),
                Some(c) => c,
            };
            if !complete {
                // A final line without newline. If everything but its last byte is a valid
                // next record, the newline itself was damaged: that is not a torn write.
                let len = self.buf.len();
                let damaged_nl = len > 1
                    && decode_line(&self.buf[..len - 1])
                        .ok()
                        .is_some_and(|r| self.check_chain(&r).is_ok());
                if damaged_nl {
                    return Err(self.corrupt(CorruptReason::DamagedTerminator));
                }
                return self.at_eof(len as u64);
            }
            let record = decode_line(&self.buf).map_err(|r| self.corrupt(r))?;
            self.check_chain(&record).map_err(|r| self.corrupt(r))?;
            if self.pending.is_empty() {
                self.pending_start = (self.line_offset, self.expected_seq);
            }
            self.line_offset += self.buf.len() as u64 + 1;
            self.expected_seq += 1;
            self.prev = record.hash;
            let closes = record.batch.is_none_or(|b| b.index + 1 == b.len);
            self.pending.push(record);
            if closes {
                self.committed_offset = self.line_offset;
                self.committed = Some(RecordRef {
                    seq: self.expected_seq - 1,
                    hash: self.prev,
                });
                self.ready.extend(self.pending.drain(..));
            }
        }
        Ok(())
    }
}

impl<R: BufRead> Iterator for Scanner<R> {
    type Item = Result<Record, JournalError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(r) = self.ready.pop_front() {
            return Some(Ok(r));
        }
        if self.done {
            return None;
        }
        match self.fill() {
            Ok(()) => match self.ready.pop_front() {
                Some(r) => Some(Ok(r)),
                None => {
                    self.done = true;
                    None
                }
            },
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

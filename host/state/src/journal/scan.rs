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
    /// Offset of the line of `committed`, and of the line read last.
    committed_start: u64,
    last_start: u64,
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
            committed_start: 0,
            last_start: 0,
            done: false,
            buf: Vec::new(),
        }
    }

    /// A scanner over `reader` positioned at byte `offset` of the journal,
    /// just after record `after` (the end of a batch or a single record):
    /// the first line must be record `after.seq + 1` linking to `after.hash`.
    pub fn resume(reader: R, path: PathBuf, offset: u64, after: RecordRef) -> Self {
        let mut s = Scanner::new(reader, path);
        s.line_offset = offset;
        s.committed_offset = offset;
        s.expected_seq = after.seq + 1;
        s.prev = after.hash;
        s.pending_start = (offset, after.seq + 1);
        s.committed = Some(after);
        s
    }

    /// Byte offset just after the last complete record or batch.
    pub fn offset(&self) -> u64 {
        self.committed_offset
    }

    /// The last complete record.
    pub fn head(&self) -> Option<RecordRef> {
        self.committed
    }

    /// Byte offset of the line of [`Scanner::head`].
    pub fn head_start(&self) -> u64 {
        self.committed_start
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
        check_next(self.expected_seq, &self.prev, &self.pending, record)
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
            self.last_start = self.line_offset;
            self.line_offset += self.buf.len() as u64 + 1;
            self.expected_seq += 1;
            self.prev = record.hash;
            let closes = record.batch.is_none_or(|b| b.index + 1 == b.len);
            self.pending.push(record);
            if closes {
                self.committed_offset = self.line_offset;
                self.committed_start = self.last_start;
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

/// The chain rules every backend applies to the next record: it has the
/// expected seq, links to the previous record's digest, and continues the
/// unfinished batch `pending` (or starts a new one) at the right position.
pub(crate) fn check_next(
    expected_seq: u64,
    prev: &Digest,
    pending: &[Record],
    record: &Record,
) -> Result<(), CorruptReason> {
    if record.seq != expected_seq {
        return Err(CorruptReason::SeqGap { found: record.seq });
    }
    if record.prev != *prev {
        return Err(CorruptReason::BrokenLink {
            expected: *prev,
            found: record.prev,
        });
    }
    let expected_index = pending.len() as u64;
    match (&record.batch, pending.first().and_then(|r| r.batch)) {
        (None, None) => Ok(()),
        (Some(b), None) if b.index == 0 && b.len >= 2 => Ok(()),
        (Some(b), Some(first)) if b.len == first.len && u64::from(b.index) == expected_index => {
            Ok(())
        }
        _ => Err(CorruptReason::BadBatch),
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

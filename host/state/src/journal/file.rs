//! File backend: `journal.log` in a state directory, one record per line.

use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::codec::encode_line;
use super::scan::Scanner;
use super::{
    Anchor, BatchPos, CorruptReason, Journal, JournalError, MAX_RECORD_BYTES, REPAIRED_KIND,
    Record, RecordRef, Records,
};
use crate::atomic::{FileError, fsync_dir, parent_dir, write_atomic};
use crate::digest::Digest;

const READ_BUF: usize = 1 << 20;

/// Journal stored as `journal.log` in a state directory.
///
/// Each `append` writes its line(s) with one `write` and commits them with
/// `File::sync_data` before returning. The handle does not lock the directory:
/// hold a [`crate::Lease`] while writing.
#[derive(Debug)]
pub struct FileJournal {
    path: PathBuf,
    file: File,
    len: u64,
    head: Option<RecordRef>,
    /// Byte offset of the head record's line.
    head_start: u64,
    poisoned: bool,
    /// Since when written records wait for an fsync (group commit).
    unsynced: Option<std::time::Instant>,
}

/// What [`FileJournal::repair_truncated_tail`] removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepairReport {
    /// Byte offset where the torn line started (the new end of the old data).
    pub offset: u64,
    /// Number of bytes cut.
    pub cut_len: u64,
    /// Digest of the cut bytes.
    pub cut_sha256: Digest,
    /// Where a copy of the cut bytes was saved.
    pub saved_to: PathBuf,
    /// The `journal-repaired` record that documents the repair.
    pub record: RecordRef,
}

/// Iterator over verified records of a [`FileJournal`].
pub struct RecordIter {
    scanner: Scanner<BufReader<File>>,
}

impl Iterator for RecordIter {
    type Item = Result<Record, JournalError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.scanner.next()
    }
}

fn io(path: &Path, op: &'static str) -> impl FnOnce(std::io::Error) -> JournalError {
    move |source| JournalError::Io {
        path: path.to_path_buf(),
        op,
        source,
    }
}

fn from_file_error(e: FileError) -> JournalError {
    match e {
        FileError::Io { path, op, source } => JournalError::Io { path, op, source },
        other => JournalError::Io {
            path: PathBuf::new(),
            op: "write repair copy",
            source: std::io::Error::other(other.to_string()),
        },
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl FileJournal {
    /// Name of the journal file inside the state directory.
    pub const FILE_NAME: &'static str = "journal.log";

    /// Open (creating if needed) `dir/journal.log` and verify the whole chain.
    /// Any damage is returned as [`JournalError::Corrupt`]; nothing is skipped.
    pub fn open(dir: &Path) -> Result<FileJournal, JournalError> {
        let existed = dir.is_dir();
        fs::create_dir_all(dir).map_err(io(dir, "create state directory"))?;
        if !existed {
            fsync_dir(parent_dir(dir)).map_err(from_file_error)?;
        }
        let path = dir.join(Self::FILE_NAME);
        let file = match OpenOptions::new().read(true).append(true).open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let f = OpenOptions::new()
                    .read(true)
                    .append(true)
                    .create(true)
                    .open(&path)
                    .map_err(io(&path, "create journal"))?;
                f.sync_all().map_err(io(&path, "fsync journal"))?;
                fsync_dir(dir).map_err(from_file_error)?;
                f
            }
            Err(e) => return Err(io(&path, "open journal")(e)),
        };
        let mut scanner = Self::scanner(&path)?;
        for item in scanner.by_ref() {
            item?;
        }
        let len = file.metadata().map_err(io(&path, "stat journal"))?.len();
        if len != scanner.offset() {
            return Err(JournalError::ConcurrentWriter {
                path,
                verified: scanner.offset(),
                now: len,
            });
        }
        Ok(FileJournal {
            path,
            file,
            len,
            head: scanner.head(),
            head_start: scanner.head_start(),
            poisoned: false,
            unsynced: None,
        })
    }

    /// Records after `anchor`, read from its byte offset without reading
    /// what comes before: the line at `anchor.start..anchor.end` must still
    /// be the anchor's record (same seq and digest), and what follows must
    /// link to it. `Ok(None)`: the file no longer holds the anchor there
    /// (fold from the start instead). Does not verify the chain before the
    /// anchor: `open` and [`Journal::records`] do.
    pub fn records_after_anchor(
        dir: &Path,
        anchor: &Anchor,
    ) -> Result<Option<RecordIter>, JournalError> {
        let path = dir.join(Self::FILE_NAME);
        let mut f = File::open(&path).map_err(io(&path, "open journal for reading"))?;
        let len = f.metadata().map_err(io(&path, "stat journal"))?.len();
        let Some(line_len) = anchor.end.checked_sub(anchor.start + 1) else {
            return Ok(None);
        };
        if anchor.end > len || line_len as usize > MAX_RECORD_BYTES {
            return Ok(None);
        }
        let mut line = vec![0u8; line_len as usize + 1];
        f.seek(SeekFrom::Start(anchor.start))
            .map_err(io(&path, "seek journal"))?;
        f.read_exact(&mut line).map_err(io(&path, "read journal"))?;
        if line.pop() != Some(b'\n') {
            return Ok(None);
        }
        match super::codec::decode_line(&line) {
            Ok(r) if r.seq == anchor.record.seq && r.hash == anchor.record.hash => {}
            _ => return Ok(None),
        }
        let reader = BufReader::with_capacity(READ_BUF, f);
        Ok(Some(RecordIter {
            scanner: Scanner::resume(reader, path, anchor.end, anchor.record),
        }))
    }

    fn scanner(path: &Path) -> Result<Scanner<BufReader<File>>, JournalError> {
        let f = File::open(path).map_err(io(path, "open journal for reading"))?;
        Ok(Scanner::new(
            BufReader::with_capacity(READ_BUF, f),
            path.to_path_buf(),
        ))
    }

    /// Path of the journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Size of the journal file in bytes.
    pub fn len_bytes(&self) -> u64 {
        self.len
    }

    /// Iterate verified records (concrete type; see also [`Journal::records`]).
    pub fn iter(&self) -> Result<RecordIter, JournalError> {
        Ok(RecordIter {
            scanner: Self::scanner(&self.path)?,
        })
    }

    /// Open the journal, first removing an incomplete last line (no trailing
    /// newline: a torn write from a crash), together with the earlier lines of an
    /// unfinished batch it belongs to, if that is the only damage. The cut bytes
    /// are saved as `journal.torn-<offset>-<sha prefix>.bin` and a `journal-repaired`
    /// record describing the cut is appended. Any other corruption is refused
    /// with [`JournalError::NotRepairable`]. Returns `None` if nothing needed repair.
    pub fn repair_truncated_tail(
        dir: &Path,
    ) -> Result<(FileJournal, Option<RepairReport>), JournalError> {
        let err = match Self::open(dir) {
            Ok(j) => return Ok((j, None)),
            Err(e) => e,
        };
        let (offset, len) = match &err {
            JournalError::Corrupt {
                offset,
                reason: CorruptReason::TornTail { len },
                ..
            } => (*offset, *len),
            JournalError::Corrupt { .. } => return Err(JournalError::NotRepairable(Box::new(err))),
            _ => return Err(err),
        };
        let path = dir.join(Self::FILE_NAME);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io(&path, "open journal for repair"))?;
        let total = file.metadata().map_err(io(&path, "stat journal"))?.len();
        if total != offset + len {
            return Err(JournalError::NotRepairable(Box::new(err)));
        }
        let mut cut = Vec::new();
        file.seek(SeekFrom::Start(offset))
            .map_err(io(&path, "seek journal"))?;
        file.read_to_end(&mut cut)
            .map_err(io(&path, "read torn tail"))?;
        let cut_sha256 = Digest::of(&cut);
        let saved_to = dir.join(format!(
            "journal.torn-{offset}-{}.bin",
            &cut_sha256.to_hex()[..12]
        ));
        write_atomic(&saved_to, &cut).map_err(from_file_error)?;
        file.set_len(offset)
            .map_err(io(&path, "truncate torn tail"))?;
        file.sync_all().map_err(io(&path, "fsync journal"))?;
        drop(file);
        let mut journal = Self::open(dir)?;
        let record = journal.append(
            REPAIRED_KIND,
            serde_json::json!({
                "reason": "torn last line without newline",
                "offset": offset,
                "cut_bytes": cut.len(),
                "cut_sha256": cut_sha256,
                "saved_to": saved_to.file_name().map(|n| n.to_string_lossy().into_owned()),
            }),
        )?;
        Ok((
            journal,
            Some(RepairReport {
                offset,
                cut_len: len,
                cut_sha256,
                saved_to,
                record,
            }),
        ))
    }

    /// Writes `bytes` and, when `durable`, fsyncs them with everything
    /// written before.
    fn commit(&mut self, bytes: &[u8], durable: bool) -> Result<(), JournalError> {
        let mut result = self
            .file
            .write_all(bytes)
            .map_err(io(&self.path, "append to journal"));
        if result.is_ok() && durable {
            result = self
                .file
                .sync_data()
                .map_err(io(&self.path, "fsync journal"));
        }
        if result.is_err() {
            // Try to drop a partial write; either way this handle is no longer trusted.
            let _ = self.file.set_len(self.len);
            self.poisoned = true;
        }
        result
    }
}

impl Journal for FileJournal {
    fn append_batch(
        &mut self,
        entries: Vec<(String, serde_json::Value)>,
    ) -> Result<Vec<RecordRef>, JournalError> {
        self.write_batch(entries, true)
    }

    fn append_batch_deferred(
        &mut self,
        entries: Vec<(String, serde_json::Value)>,
    ) -> Result<Vec<RecordRef>, JournalError> {
        self.write_batch(entries, false)
    }

    fn sync(&mut self) -> Result<(), JournalError> {
        if self.poisoned {
            return Err(JournalError::Poisoned);
        }
        if self.unsynced.is_some() {
            if let Err(e) = self.file.sync_data() {
                self.poisoned = true;
                return Err(io(&self.path, "fsync journal")(e));
            }
            self.unsynced = None;
        }
        Ok(())
    }

    fn unsynced_since(&self) -> Option<std::time::Instant> {
        self.unsynced
    }

    fn head_anchor(&self) -> Option<Anchor> {
        self.head.map(|record| Anchor {
            record,
            start: self.head_start,
            end: self.len,
        })
    }

    fn head(&self) -> Option<RecordRef> {
        self.head
    }

    fn records(&self) -> Result<Records<'_>, JournalError> {
        Ok(Box::new(self.iter()?))
    }
}

impl FileJournal {
    fn write_batch(
        &mut self,
        entries: Vec<(String, serde_json::Value)>,
        durable: bool,
    ) -> Result<Vec<RecordRef>, JournalError> {
        if self.poisoned {
            return Err(JournalError::Poisoned);
        }
        let ts_ms = now_ms();
        let mut seq = self.head.map_or(0, |h| h.seq);
        let mut prev = self.head.map_or(Digest::ZERO, |h| h.hash);
        let mut bytes = Vec::new();
        let mut last_start = 0u64;
        let mut refs = Vec::with_capacity(entries.len());
        let batch_len = u32::try_from(entries.len()).map_err(|_| JournalError::RecordTooLarge {
            kind: "batch".to_string(),
            len: entries.len(),
        })?;
        for (index, (kind, payload)) in (0u32..).zip(&entries) {
            seq += 1;
            let batch = (batch_len > 1).then_some(BatchPos {
                index,
                len: batch_len,
            });
            let (line, hash) =
                encode_line(seq, ts_ms, &prev, kind, payload, batch).map_err(|e| {
                    JournalError::Io {
                        path: self.path.clone(),
                        op: "encode record",
                        source: std::io::Error::other(e),
                    }
                })?;
            if line.len() > MAX_RECORD_BYTES {
                return Err(JournalError::RecordTooLarge {
                    kind: kind.clone(),
                    len: line.len(),
                });
            }
            last_start = bytes.len() as u64;
            bytes.extend_from_slice(&line);
            refs.push(RecordRef { seq, hash });
            prev = hash;
        }
        if refs.is_empty() {
            return Ok(refs);
        }
        self.commit(&bytes, durable)?;
        self.head_start = self.len + last_start;
        self.len += bytes.len() as u64;
        self.head = refs.last().copied();
        self.unsynced = match (durable, self.unsynced) {
            (true, _) => None,
            (false, since) => Some(since.unwrap_or_else(std::time::Instant::now)),
        };
        Ok(refs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_reopen_and_chain() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = FileJournal::open(dir.path()).unwrap();
        assert_eq!(j.head(), None);
        let a = j.append("a", serde_json::json!(1)).unwrap();
        let bc = j
            .append_batch(vec![
                ("b".into(), serde_json::json!(2)),
                ("c".into(), serde_json::json!({"x": "y"})),
            ])
            .unwrap();
        assert_eq!(a.seq, 1);
        assert_eq!(bc.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![2, 3]);
        drop(j);
        let j = FileJournal::open(dir.path()).unwrap();
        assert_eq!(j.head(), Some(bc[1]));
        let recs: Vec<Record> = j.records().unwrap().collect::<Result<_, _>>().unwrap();
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[0].prev, Digest::ZERO);
        assert_eq!(recs[1].prev, recs[0].hash);
        assert_eq!(recs[2].prev, recs[1].hash);
        assert_eq!(recs[2].payload, serde_json::json!({"x": "y"}));
        let after: Vec<u64> = j
            .records_after(1)
            .unwrap()
            .map(|r| r.map(|r| r.seq))
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(after, vec![2, 3]);
    }

    #[test]
    fn inconsistent_batch_positions_are_corrupt() {
        use super::super::codec::encode_line;
        let dir = tempfile::tempdir().unwrap();
        let bad = BatchPos { index: 1, len: 3 };
        let (line, _) =
            encode_line(1, 0, &Digest::ZERO, "x", &serde_json::json!(1), Some(bad)).unwrap();
        fs::write(dir.path().join(FileJournal::FILE_NAME), &line).unwrap();
        match FileJournal::open(dir.path()) {
            Err(JournalError::Corrupt {
                seq: 1,
                offset: 0,
                reason: CorruptReason::BadBatch,
                ..
            }) => {}
            other => panic!("expected BadBatch, got {other:?}"),
        }
    }

    #[test]
    fn oversized_record_rejected_and_nothing_written() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = FileJournal::open(dir.path()).unwrap();
        let big = "x".repeat(MAX_RECORD_BYTES);
        assert!(matches!(
            j.append("big", serde_json::json!(big)),
            Err(JournalError::RecordTooLarge { .. })
        ));
        assert_eq!(j.len_bytes(), 0);
        assert_eq!(j.append("ok", serde_json::json!(null)).unwrap().seq, 1);
    }
}

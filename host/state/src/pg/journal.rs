//! The journal of a plan as rows of its own table, one record per row, each
//! row's `line` the file journal's encoded line (checksummed and chained).

use std::sync::{Arc, Mutex};
use std::time::Instant;

use postgres::error::SqlState;

mod rows;

use rows::RowScanner;

use super::{Conn, PgConfig, check_fence, db_error, lock, now_ms};
use crate::backend::Fence;
use crate::digest::Digest;
use crate::journal::codec::{decode_line, encode_line};
use crate::journal::{
    Anchor, BatchPos, CorruptReason, Journal, JournalError, MAX_RECORD_BYTES, Record, RecordRef,
    Records,
};

/// Rows read per query while streaming records.
pub const PAGE_ROWS: i64 = 5_000;

/// Deferred rows held in memory before a deferred append commits them by
/// itself (one transaction stays well below the protocol's message limit).
pub const MAX_DEFERRED_BYTES: usize = 8 * 1024 * 1024;

/// The journal table of a plan.
///
/// # Group commit
///
/// [`Journal::append_deferred`] and [`Journal::append_batch_deferred`]
/// encode and chain their records at once (the head advances) but keep the
/// rows in this handle's memory. [`Journal::sync`], or the next durable
/// [`Journal::append`] / [`Journal::append_batch`], inserts every buffered
/// row (before its own, in order) in one fenced transaction. Until then the
/// deferred rows exist only here: readers through other handles and in
/// other processes see them only after that commit, and this handle's own
/// [`Journal::records`] yields them after the committed rows. A handle
/// dropped without a sync discards them (a drop never writes, so a handle
/// abandoned after an error cannot commit behind anyone's back); a commit
/// that fails loses them and poisons the handle, as the outcome of a
/// failed commit is unknown. Either way the table keeps a prefix of what
/// was appended.
#[derive(Debug)]
pub struct PgJournal {
    cfg: Arc<PgConfig>,
    table: String,
    conn: Mutex<Conn>,
    fence: Option<Fence>,
    head: Option<RecordRef>,
    poisoned: bool,
    /// Deferred rows not yet committed, in seq order.
    deferred: Deferred,
}

/// Encoded rows waiting for a commit.
#[derive(Debug, Default)]
struct Deferred {
    seqs: Vec<i64>,
    lines: Vec<String>,
    bytes: usize,
    since: Option<Instant>,
}

impl Deferred {
    fn push(&mut self, rows: Rows) {
        self.bytes += rows.lines.iter().map(String::len).sum::<usize>();
        self.seqs.extend(rows.seqs);
        self.lines.extend(rows.lines);
        self.since.get_or_insert_with(Instant::now);
    }

    fn is_empty(&self) -> bool {
        self.seqs.is_empty()
    }

    fn take(&mut self) -> Deferred {
        std::mem::take(self)
    }
}

/// Records encoded for insertion.
struct Rows {
    seqs: Vec<i64>,
    lines: Vec<String>,
    refs: Vec<RecordRef>,
}

fn corrupt(cfg: &PgConfig, table: &str, seq: u64, reason: CorruptReason) -> JournalError {
    JournalError::CorruptRow {
        target: format!("{} table {table}", cfg.target()),
        seq,
        reason,
    }
}

/// Decodes the row `(seq, line)` and checks that the line is the record of
/// that seq.
fn decode_row(cfg: &PgConfig, table: &str, seq: i64, line: &str) -> Result<Record, JournalError> {
    let at = u64::try_from(seq).unwrap_or(0);
    let record = decode_line(line.as_bytes()).map_err(|r| corrupt(cfg, table, at, r))?;
    if record.seq != at {
        return Err(corrupt(
            cfg,
            table,
            at,
            CorruptReason::SeqGap { found: record.seq },
        ));
    }
    Ok(record)
}

impl PgJournal {
    /// Opens the plan's journal: reads and decodes its last row (the whole
    /// chain is verified by [`Journal::records`]).
    pub(crate) fn open(
        cfg: Arc<PgConfig>,
        fence: Option<Fence>,
    ) -> Result<PgJournal, JournalError> {
        const OP: &str = "opening the journal";
        let table = cfg.journal_table();
        let mut conn = Conn::open(cfg.clone(), OP)?;
        let last = {
            let (client, c) = conn.client(OP)?;
            client
                .query_opt(
                    &format!("SELECT seq, line FROM {table} ORDER BY seq DESC LIMIT 1"),
                    &[],
                )
                .map_err(|e| db_error(c, OP, &e, false))?
        };
        let head = match last {
            None => None,
            Some(row) => {
                let record = decode_row(&cfg, &table, row.get(0), row.get(1))?;
                if record.batch.is_some_and(|b| b.index + 1 != b.len) {
                    return Err(corrupt(&cfg, &table, record.seq, CorruptReason::BadBatch));
                }
                Some(RecordRef {
                    seq: record.seq,
                    hash: record.hash,
                })
            }
        };
        Ok(PgJournal {
            cfg,
            table,
            conn: Mutex::new(conn),
            fence,
            head,
            poisoned: false,
            deferred: Deferred::default(),
        })
    }

    /// The records after `anchor` (the last record of a batch or a single
    /// record, as [`Journal::head_anchor`] gives it), without reading what
    /// comes before it: the row at `anchor.record.seq` must still hold that
    /// record (same digest), and the rows after it must chain on from it
    /// (checked like [`Journal::records`], [`PAGE_ROWS`] rows per query).
    /// `Ok(None)`: the table no longer holds the anchor there (fold from
    /// the start instead, which reports what is wrong). Rows deferred in
    /// this handle and not yet committed are included, as in
    /// [`Journal::records`].
    pub fn records_after_anchor(
        &self,
        anchor: &Anchor,
    ) -> Result<Option<Vec<Record>>, JournalError> {
        const OP: &str = "reading the journal";
        let at = anchor.record.seq;
        let Ok(at_row) = i64::try_from(at) else {
            return Ok(None);
        };
        if at == 0 {
            return Ok(None);
        }
        let row = {
            let mut conn = lock(&self.conn);
            let (client, cfg) = conn.client(OP)?;
            client
                .query_opt(
                    &format!("SELECT line FROM {} WHERE seq = $1", self.table),
                    &[&at_row],
                )
                .map_err(|e| JournalError::Db(db_error(cfg, OP, &e, false)))?
        };
        let line: Option<String> = match row {
            Some(row) => Some(row.get(0)),
            // Deferred here and not committed yet.
            None => self
                .deferred
                .seqs
                .iter()
                .position(|s| *s == at_row)
                .map(|i| self.deferred.lines[i].clone()),
        };
        let Some(line) = line else {
            return Ok(None);
        };
        match decode_line(line.as_bytes()) {
            Ok(r)
                if r.seq == at
                    && r.hash == anchor.record.hash
                    && r.batch.is_none_or(|b| b.index + 1 == b.len) => {}
            _ => return Ok(None),
        }
        let scan = RowScanner::new(self, at, at + 1, anchor.record.hash, at);
        scan.collect::<Result<Vec<_>, _>>().map(Some)
    }

    /// Encodes `entries` as the records after the head (checking sizes as
    /// every append does); changes nothing.
    fn encode(&self, entries: &[(String, serde_json::Value)]) -> Result<Rows, JournalError> {
        let ts_ms = now_ms();
        let mut seq = self.head.map_or(0, |h| h.seq);
        let mut prev = self.head.map_or(Digest::ZERO, |h| h.hash);
        let batch_len = u32::try_from(entries.len()).map_err(|_| JournalError::RecordTooLarge {
            kind: "batch".to_string(),
            len: entries.len(),
        })?;
        let mut rows = Rows {
            seqs: Vec::with_capacity(entries.len()),
            lines: Vec::with_capacity(entries.len()),
            refs: Vec::with_capacity(entries.len()),
        };
        for (index, (kind, payload)) in (0u32..).zip(entries) {
            seq += 1;
            let batch = (batch_len > 1).then_some(BatchPos {
                index,
                len: batch_len,
            });
            let (mut line, hash) =
                encode_line(seq, ts_ms, &prev, kind, payload, batch).map_err(|e| {
                    JournalError::RecordTooLarge {
                        kind: format!("{kind} (cannot encode: {e})"),
                        len: 0,
                    }
                })?;
            if line.len() > MAX_RECORD_BYTES {
                return Err(JournalError::RecordTooLarge {
                    kind: kind.clone(),
                    len: line.len(),
                });
            }
            line.pop(); // the newline: rows hold the line without it
            let line = String::from_utf8(line).map_err(|e| JournalError::RecordTooLarge {
                kind: format!("{kind} (not UTF-8: {e})"),
                len: 0,
            })?;
            rows.seqs.push(i64::try_from(seq).unwrap_or(i64::MAX));
            rows.lines.push(line);
            rows.refs.push(RecordRef { seq, hash });
            prev = hash;
        }
        Ok(rows)
    }

    /// Commits the deferred rows followed by `rows` in one transaction.
    /// On failure the deferred rows are gone and, unless nothing was sent
    /// and nothing was deferred, the handle is poisoned.
    fn write(&mut self, rows: Rows) -> Result<Vec<RecordRef>, JournalError> {
        let deferred = self.deferred.take();
        let had_deferred = !deferred.is_empty();
        let (mut seqs, mut lines) = (deferred.seqs, deferred.lines);
        seqs.extend(rows.seqs);
        lines.extend(rows.lines);
        if seqs.is_empty() {
            return Ok(rows.refs);
        }
        match self.commit(&seqs, &lines) {
            Ok(()) => {
                if let Some(last) = rows.refs.last() {
                    self.head = Some(*last);
                }
                Ok(rows.refs)
            }
            Err((e, usable)) => {
                // Unless refused before anything was sent, the commit may or
                // may not have happened (or the head is stale): reopen to
                // know. Deferred rows that were not committed leave the head
                // ahead of the table: the handle cannot go on either.
                self.poisoned |= !usable || had_deferred;
                Err(e)
            }
        }
    }

    fn append_rows(
        &mut self,
        entries: Vec<(String, serde_json::Value)>,
        durable: bool,
    ) -> Result<Vec<RecordRef>, JournalError> {
        if self.poisoned {
            return Err(JournalError::Poisoned);
        }
        let rows = self.encode(&entries)?;
        if durable {
            return self.write(rows);
        }
        let refs = rows.refs.clone();
        if let Some(last) = refs.last() {
            self.head = Some(*last);
            self.deferred.push(rows);
            if self.deferred.bytes >= MAX_DEFERRED_BYTES {
                self.sync()?;
            }
        }
        Ok(refs)
    }

    /// The table holding the records.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Inserts `seqs`/`lines` in one fenced transaction. The flag of an
    /// error says whether the handle stays usable (nothing was written and
    /// its head is still right).
    fn commit(&self, seqs: &[i64], lines: &[String]) -> Result<(), (JournalError, bool)> {
        const OP: &str = "appending to the journal";
        let mut conn = lock(&self.conn);
        let (client, cfg) = conn.client(OP).map_err(|e| (e.into(), true))?;
        let q = |e: postgres::Error| (JournalError::Db(db_error(cfg, OP, &e, false)), false);
        let mut tx = client.transaction().map_err(q)?;
        if let Err(detail) = check_fence(&mut tx, cfg.plan(), self.fence).map_err(q)? {
            return Err((JournalError::Fenced { detail }, true));
        }
        let inserted = tx.execute(
            &format!(
                "INSERT INTO {} (seq, line) SELECT * FROM unnest($1::bigint[], $2::text[])",
                self.table
            ),
            &[&seqs, &lines],
        );
        match inserted {
            Ok(_) => {}
            Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                let detail = format!(
                    "record seq {} already exists in {}: another writer appended to \
                     this journal; nothing was written",
                    seqs.first().copied().unwrap_or(0),
                    self.table
                );
                return Err((JournalError::Fenced { detail }, false));
            }
            Err(e) => return Err(q(e)),
        }
        tx.commit().map_err(q)
    }

    /// Records from `after + 1` on; starts at the batch that holds `after + 1`
    /// so that batch positions are checked, and verifies the chain from the
    /// record before it.
    fn scan_from(&self, after: u64) -> Result<RowScanner<'_>, JournalError> {
        const OP: &str = "reading the journal";
        let mut start = after;
        let mut prev = Digest::ZERO;
        if after > 0 {
            let mut conn = lock(&self.conn);
            let (client, cfg) = conn.client(OP)?;
            let q = |e: postgres::Error| JournalError::Db(db_error(cfg, OP, &e, false));
            let sql = format!("SELECT seq, line FROM {} WHERE seq = $1", self.table);
            let at = i64::try_from(after).unwrap_or(i64::MAX);
            if let Some(row) = client.query_opt(&sql, &[&at]).map_err(q)? {
                let rec = decode_row(cfg, &self.table, row.get(0), row.get(1))?;
                // Inside an unfinished batch: start at its first record.
                if let Some(b) = rec.batch.filter(|b| b.index + 1 < b.len) {
                    start = after - u64::from(b.index);
                    start = start.saturating_sub(1);
                }
                if start == after {
                    prev = rec.hash;
                } else if start > 0 {
                    let at = i64::try_from(start).unwrap_or(i64::MAX);
                    let row = client.query_opt(&sql, &[&at]).map_err(q)?.ok_or_else(|| {
                        corrupt(
                            cfg,
                            &self.table,
                            start,
                            CorruptReason::SeqGap { found: start + 1 },
                        )
                    })?;
                    prev = decode_row(cfg, &self.table, row.get(0), row.get(1))?.hash;
                }
            } else {
                // No such record: read from the start, which reports the gap.
                start = 0;
            }
        }
        Ok(RowScanner::new(self, start, start + 1, prev, after))
    }
}

impl Journal for PgJournal {
    fn append_batch(
        &mut self,
        entries: Vec<(String, serde_json::Value)>,
    ) -> Result<Vec<RecordRef>, JournalError> {
        self.append_rows(entries, true)
    }

    fn append_batch_deferred(
        &mut self,
        entries: Vec<(String, serde_json::Value)>,
    ) -> Result<Vec<RecordRef>, JournalError> {
        self.append_rows(entries, false)
    }

    fn sync(&mut self) -> Result<(), JournalError> {
        if self.poisoned {
            return Err(JournalError::Poisoned);
        }
        if self.deferred.is_empty() {
            return Ok(());
        }
        self.write(Rows {
            seqs: Vec::new(),
            lines: Vec::new(),
            refs: Vec::new(),
        })
        .map(|_| ())
    }

    fn unsynced_since(&self) -> Option<Instant> {
        self.deferred.since
    }

    fn head(&self) -> Option<RecordRef> {
        self.head
    }

    fn records(&self) -> Result<Records<'_>, JournalError> {
        Ok(Box::new(self.scan_from(0)?))
    }

    fn records_after(&self, after: u64) -> Result<Records<'_>, JournalError> {
        Ok(Box::new(self.scan_from(after)?))
    }
}

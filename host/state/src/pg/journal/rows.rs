//! Reading the journal table back: rows streamed a page at a time, each
//! line decoded and checked against the chain.

use std::collections::VecDeque;

use super::{PAGE_ROWS, PgJournal, corrupt};
use crate::digest::Digest;
use crate::journal::codec::decode_line;
use crate::journal::{CorruptReason, JournalError, Record, check_next};
use crate::pg::{db_error, lock};

/// Streams rows in seq order, a page at a time, verifying each line and the
/// chain; records of a batch are yielded once the whole batch is read.
pub(super) struct RowScanner<'a> {
    journal: &'a PgJournal,
    last_fetched: i64,
    expected_seq: u64,
    prev: Digest,
    skip_upto: u64,
    page: VecDeque<(i64, String)>,
    exhausted: bool,
    pending: Vec<Record>,
    ready: VecDeque<Record>,
    done: bool,
}

impl<'a> RowScanner<'a> {
    /// A scanner of the rows after `start` (whose digest is `prev`),
    /// expecting `expected_seq` next and yielding records after `skip_upto`.
    pub(super) fn new(
        journal: &'a PgJournal,
        start: u64,
        expected_seq: u64,
        prev: Digest,
        skip_upto: u64,
    ) -> RowScanner<'a> {
        RowScanner {
            journal,
            last_fetched: i64::try_from(start).unwrap_or(i64::MAX),
            expected_seq,
            prev,
            skip_upto,
            page: VecDeque::new(),
            exhausted: false,
            pending: Vec::new(),
            ready: VecDeque::new(),
            done: false,
        }
    }

    fn corrupt(&self, seq: u64, reason: CorruptReason) -> JournalError {
        corrupt(&self.journal.cfg, &self.journal.table, seq, reason)
    }

    fn fetch(&mut self) -> Result<(), JournalError> {
        const OP: &str = "reading the journal";
        let mut conn = lock(&self.journal.conn);
        let (client, cfg) = conn.client(OP)?;
        let rows = client
            .query(
                &format!(
                    "SELECT seq, line FROM {} WHERE seq > $1 ORDER BY seq LIMIT $2",
                    self.journal.table
                ),
                &[&self.last_fetched, &PAGE_ROWS],
            )
            .map_err(|e| JournalError::Db(db_error(cfg, OP, &e, false)))?;
        self.exhausted = (rows.len() as i64) < PAGE_ROWS;
        for row in rows {
            let seq: i64 = row.get(0);
            self.last_fetched = seq;
            self.page.push_back((seq, row.get(1)));
        }
        if self.exhausted {
            // Then the rows deferred in this handle, not committed yet.
            let deferred = &self.journal.deferred;
            for (seq, line) in deferred.seqs.iter().zip(&deferred.lines) {
                if *seq > self.last_fetched {
                    self.page.push_back((*seq, line.clone()));
                }
            }
        }
        Ok(())
    }

    fn fill(&mut self) -> Result<(), JournalError> {
        while self.ready.is_empty() {
            let Some((seq, line)) = self.page.pop_front() else {
                if !self.exhausted {
                    self.fetch()?;
                    continue;
                }
                if let Some(first) = self.pending.first() {
                    return Err(self.corrupt(first.seq, CorruptReason::BadBatch));
                }
                return Ok(());
            };
            let expected = self.expected_seq;
            if u64::try_from(seq).ok() != Some(expected) {
                return Err(self.corrupt(
                    expected,
                    CorruptReason::SeqGap {
                        found: u64::try_from(seq).unwrap_or(0),
                    },
                ));
            }
            let record = decode_line(line.as_bytes()).map_err(|r| self.corrupt(expected, r))?;
            check_next(expected, &self.prev, &self.pending, &record)
                .map_err(|r| self.corrupt(expected, r))?;
            self.expected_seq += 1;
            self.prev = record.hash;
            let closes = record.batch.is_none_or(|b| b.index + 1 == b.len);
            self.pending.push(record);
            if closes {
                let skip = self.skip_upto;
                self.ready
                    .extend(self.pending.drain(..).filter(|r| r.seq > skip));
            }
        }
        Ok(())
    }
}

impl Iterator for RowScanner<'_> {
    type Item = Result<Record, JournalError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(r) = self.ready.pop_front() {
            return Some(Ok(r));
        }
        if self.done {
            return None;
        }
        match self.fill() {
            Ok(()) => {
                let r = self.ready.pop_front();
                if r.is_none() {
                    self.done = true;
                }
                r.map(Ok)
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

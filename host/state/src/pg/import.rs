//! Moving an existing journal into a plan's empty journal table, record by
//! record and byte for byte (`cutover state migrate`): each record keeps its
//! seq, time, link and digest, so the chain read back from the database is
//! the chain that was on disk.

use crate::backend::Fence;
use crate::journal::codec::encode_line;
use crate::journal::{CorruptReason, JournalError, Record, RecordRef, check_next};

use super::{Conn, PgState, check_fence, db_error};

impl PgState {
    /// Writes `records` (a verified chain from seq 1) into the plan's empty
    /// journal table in one fenced transaction: all of them or none. Each
    /// record is re-encoded and must hash to its own digest, or nothing is
    /// written. Refused when the table already holds a record.
    pub fn import_journal(
        &self,
        fence: Fence,
        records: &[Record],
    ) -> Result<Option<RecordRef>, JournalError> {
        const OP: &str = "importing the journal";
        let table = self.cfg.journal_table();
        let mut seqs = Vec::with_capacity(records.len());
        let mut lines = Vec::with_capacity(records.len());
        let mut prev = crate::digest::Digest::ZERO;
        let mut pending: Vec<Record> = Vec::new();
        for (i, r) in records.iter().enumerate() {
            let bad = |reason| JournalError::CorruptRow {
                target: format!("{} (import)", self.cfg.target()),
                seq: r.seq,
                reason,
            };
            check_next(i as u64 + 1, &prev, &pending, r).map_err(bad)?;
            let (line, hash) = encode_line(r.seq, r.ts_ms, &r.prev, &r.kind, &r.payload, r.batch)
                .map_err(|e| bad(CorruptReason::BadJson(e.to_string())))?;
            if hash != r.hash {
                return Err(bad(CorruptReason::ChecksumMismatch));
            }
            let mut line =
                String::from_utf8(line).map_err(|e| bad(CorruptReason::BadJson(e.to_string())))?;
            if line.ends_with('\n') {
                line.pop();
            }
            match r.batch {
                Some(b) if b.index + 1 < b.len => pending.push(r.clone()),
                _ => pending.clear(),
            }
            seqs.push(r.seq as i64);
            lines.push(line);
            prev = r.hash;
        }
        if !pending.is_empty() {
            return Err(JournalError::CorruptRow {
                target: format!("{} (import)", self.cfg.target()),
                seq: records.last().map_or(0, |r| r.seq),
                reason: CorruptReason::BadBatch,
            });
        }
        let mut conn = Conn::open(self.cfg.clone(), OP)?;
        let (client, cfg) = conn.client(OP)?;
        let q = |e: postgres::Error| JournalError::Db(db_error(cfg, OP, &e, false));
        let mut tx = client.transaction().map_err(q)?;
        if let Err(detail) = check_fence(&mut tx, cfg.plan(), Some(fence)).map_err(q)? {
            return Err(JournalError::Fenced { detail });
        }
        let held: i64 = tx
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .map_err(q)?
            .get(0);
        if held > 0 {
            return Err(JournalError::Fenced {
                detail: format!(
                    "{table} already holds {held} records: a journal is imported only into an empty one"
                ),
            });
        }
        for (s, l) in seqs.chunks(5_000).zip(lines.chunks(5_000)) {
            tx.execute(
                &format!(
                    "INSERT INTO {table} (seq, line) SELECT * FROM unnest($1::bigint[], $2::text[])"
                ),
                &[&s, &l],
            )
            .map_err(q)?;
        }
        tx.commit().map_err(q)?;
        Ok(records.last().map(|r| RecordRef {
            seq: r.seq,
            hash: r.hash,
        }))
    }
}

//! The database journal's counterparts of the file-only corruption tests:
//! a row edited or deleted with SQL is found at the right record, like a
//! flipped bit or a cut in `journal.log`; a dropped table is reported, never
//! silently recreated; a second writer never forks the chain.

use cutover_state::journal::codec::encode_line;
use cutover_state::{CorruptReason, DbErrorKind, Journal, JournalError, Record};
use cutover_test_kit::rng::Rng;

use super::harness::{Backend, TestState};
use super::journal::fill_journal;

fn corrupt_seq(result: Result<Vec<Record>, JournalError>) -> (u64, CorruptReason) {
    match result {
        Err(JournalError::CorruptRow { seq, reason, .. }) => (seq, reason),
        other => panic!("expected a corrupt row, got {other:?}"),
    }
}

fn read_all(ts: &TestState) -> Result<Vec<Record>, JournalError> {
    ts.state.journal_for_read()?.records()?.collect()
}

#[test]
fn rows_hold_the_file_journal_lines() {
    let ts = TestState::new(Backend::Pg);
    let (_lease, mut j) = ts.writer();
    let recs = fill_journal(&mut j, 12);
    let table = ts.pg().config().journal_table();
    let mut sql = ts.sql();
    let rows = sql
        .query(&format!("SELECT seq, line FROM {table} ORDER BY seq"), &[])
        .unwrap();
    assert_eq!(rows.len(), 12);
    for (row, rec) in rows.iter().zip(&recs) {
        let (line, hash) = encode_line(
            rec.seq,
            rec.ts_ms,
            &rec.prev,
            &rec.kind,
            &rec.payload,
            rec.batch,
        )
        .unwrap();
        assert_eq!(row.get::<_, i64>(0) as u64, rec.seq);
        assert_eq!(row.get::<_, String>(1).as_bytes(), &line[..line.len() - 1]);
        assert_eq!(hash, rec.hash);
    }
}

#[test]
fn a_row_edited_in_sql_is_corruption_at_its_seq() {
    let ts = TestState::new(Backend::Pg);
    let (_lease, mut j) = ts.writer();
    let recs = fill_journal(&mut j, 40);
    let table = ts.pg().config().journal_table();
    let mut sql = ts.sql();
    let mut rng = Rng::from_time();
    for case in 0..40 {
        let seq = 1 + rng.below(40) as i64;
        let line: String = sql
            .query_one(&format!("SELECT line FROM {table} WHERE seq = $1"), &[&seq])
            .unwrap()
            .get(0);
        // Change one character of the line to another printable one.
        let mut bytes = line.clone().into_bytes();
        let mut at = rng.below(bytes.len() as u64) as usize;
        while !bytes[at].is_ascii() {
            at = rng.below(bytes.len() as u64) as usize;
        }
        let old = bytes[at];
        bytes[at] = if old == b'a' { b'b' } else { b'a' };
        let edited = String::from_utf8(bytes).unwrap();
        sql.execute(
            &format!("UPDATE {table} SET line = $2 WHERE seq = $1"),
            &[&seq, &edited],
        )
        .unwrap();
        let (at_seq, reason) = corrupt_seq(read_all(&ts));
        assert_eq!(
            at_seq, seq as u64,
            "case {case}: edit at byte {at}: {reason}"
        );
        sql.execute(
            &format!("UPDATE {table} SET line = $2 WHERE seq = $1"),
            &[&seq, &line],
        )
        .unwrap();
    }
    assert_eq!(read_all(&ts).unwrap(), recs);

    // An edited last row fails the open itself.
    sql.execute(
        &format!(
            "UPDATE {table} SET line = replace(line, '\"seq\":40', '\"seq\":41') WHERE seq = 40"
        ),
        &[],
    )
    .unwrap();
    match ts.state.journal_for_read() {
        Err(JournalError::CorruptRow {
            seq: 40, reason, ..
        }) => {
            assert_eq!(reason, CorruptReason::ChecksumMismatch)
        }
        other => panic!("expected corrupt row 40 at open, got {other:?}"),
    }
}

#[test]
fn a_deleted_row_is_a_seq_gap_and_a_torn_batch_is_bad() {
    let ts = TestState::new(Backend::Pg);
    let (_lease, mut j) = ts.writer();
    fill_journal(&mut j, 20);
    let table = ts.pg().config().journal_table();
    let mut sql = ts.sql();
    let opened_before = ts.state.journal_for_read().unwrap();
    sql.execute(&format!("DELETE FROM {table} WHERE seq = 9"), &[])
        .unwrap();
    assert_eq!(
        corrupt_seq(read_all(&ts)),
        (9, CorruptReason::SeqGap { found: 10 })
    );
    // Renumbering the rows after it to close the gap breaks the hash links.
    sql.execute(
        &format!("UPDATE {table} SET seq = seq - 1 WHERE seq > 9"),
        &[],
    )
    .unwrap();
    // (Opening reads the last row, which now holds record 20 at seq 19;
    // a handle opened before reads the chain and stops at row 9.)
    let (seq, reason) = corrupt_seq(read_all(&ts));
    assert_eq!(
        (seq, &reason),
        (19, &CorruptReason::SeqGap { found: 20 }),
        "{reason}"
    );
    let read: Result<Vec<Record>, JournalError> = opened_before.records().unwrap().collect();
    let (seq, reason) = corrupt_seq(read);
    assert_eq!(
        (seq, &reason),
        (9, &CorruptReason::SeqGap { found: 10 }),
        "{reason}"
    );

    // Only the last record of a batch deleted: the batch is incomplete.
    let ts = TestState::new(Backend::Pg);
    let (_lease, mut j) = ts.writer();
    fill_journal(&mut j, 3);
    let batch = j
        .append_batch(vec![
            ("x".into(), serde_json::json!(1)),
            ("x".into(), serde_json::json!(2)),
        ])
        .unwrap();
    assert_eq!(batch[1].seq, 5);
    let mut sql = ts.sql();
    let table = ts.pg().config().journal_table();
    sql.execute(&format!("DELETE FROM {table} WHERE seq = 5"), &[])
        .unwrap();
    assert!(matches!(
        ts.state.journal_for_read(),
        Err(JournalError::CorruptRow {
            seq: 4,
            reason: CorruptReason::BadBatch,
            ..
        })
    ));
}

#[test]
fn a_dropped_journal_table_is_missing_and_never_recreated() {
    let ts = TestState::new(Backend::Pg);
    let (_lease, mut j) = ts.writer();
    fill_journal(&mut j, 5);
    let table = ts.pg().config().journal_table();
    ts.sql()
        .batch_execute(&format!("DROP TABLE {table}"))
        .unwrap();
    let missing = |e: &JournalError| {
        matches!(e, JournalError::Db(db) if db.kind == DbErrorKind::MissingTable
            && db.to_string().contains("127.0.0.1:"))
    };
    let err = j.append("more", serde_json::json!(1)).unwrap_err();
    assert!(missing(&err), "{err}");
    let err = ts.state.journal_for_read().unwrap_err();
    assert!(missing(&err), "{err}");
    assert!(!ts.state.journal_exists().unwrap());
    // Creating the tables again would restart the plan with an empty journal.
    let err = ts.state.ensure().unwrap_err();
    assert_eq!(err.kind, DbErrorKind::MissingTable, "{err}");
    assert!(err.to_string().contains("is gone"), "{err}");
}

#[test]
fn plans_have_tables_of_their_own() {
    let ts = TestState::new(Backend::Pg);
    let (_lease, mut j) = ts.writer();
    fill_journal(&mut j, 3);
    let db = ts.db.as_ref().unwrap();
    let other = cutover_state::StateBackend::open(&cutover_state::StateLocation::Postgres(
        super::harness::pg_config(db, "another plan"),
    ))
    .unwrap();
    assert!(!other.journal_exists().unwrap());
    other.ensure().unwrap();
    let lease = other.lease(None).unwrap();
    let held = cutover_state::Lease::acquire(&lease).unwrap().handle;
    let (mut oj, _) = other.journal_for_write(&held).unwrap();
    assert_eq!(oj.head(), None);
    let r = oj.append("first", serde_json::json!(null)).unwrap();
    assert_eq!((r.seq, oj.head().unwrap().seq), (1, 1));
    assert_eq!(j.head().unwrap().seq, 3);
    assert_eq!(read_all(&ts).unwrap().len(), 3);
}

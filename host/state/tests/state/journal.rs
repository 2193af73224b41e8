//! The hash-chained journal: links and folds, and nothing acknowledged lost
//! to SIGKILL, on both backends; for the file, every bit flip and cut
//! detected at the right record, only a torn tail repaired, snapshots that
//! catch lost records (the database's counterparts: `journal_pg.rs`).

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::Duration;

use cutover_state::{
    CorruptReason, Digest, FileJournal, Journal, JournalError, Lease, Record, Snapshot,
    SnapshotError, SnapshotSource, fold,
};
use cutover_test_kit::rng::Rng;

use super::harness::{Backend, TestState, child_state};
use super::{child_command, child_dir, spawn_with_reader};

both_backends!(
    chain_links_and_fold,
    sigkill_during_appends_loses_nothing_acknowledged
);

/// Build a journal with `n` records of varied payloads (some via batches).
fn build_journal(dir: &Path, n: u64) -> Vec<Record> {
    let mut j = FileJournal::open(dir).unwrap();
    fill_journal(&mut j, n)
}

/// Appends `n` records of varied payloads (some via batches) to `j`;
/// returns all its records.
pub(crate) fn fill_journal(j: &mut impl Journal, n: u64) -> Vec<Record> {
    let mut i = j.head().map_or(0, |h| h.seq);
    let n = n + i;
    while i < n {
        if i % 7 == 3 && i + 3 < n {
            j.append_batch(vec![
                (
                    "batch".into(),
                    serde_json::json!({"i": i, "s": "a\"b\\c\u{e9}"}),
                ),
                ("batch".into(), serde_json::json!([i, null, true, 1.5])),
                ("batch".into(), serde_json::json!(i)),
            ])
            .unwrap();
            i += 3;
        } else {
            j.append(
                "step",
                serde_json::json!({"i": i, "pad": "J*".repeat((i % 13) as usize)}),
            )
            .unwrap();
            i += 1;
        }
    }
    j.records().unwrap().collect::<Result<_, _>>().unwrap()
}

/// Start offsets of each line (record seq = index + 1) and the file bytes.
fn line_starts(bytes: &[u8]) -> Vec<u64> {
    let mut starts = vec![0u64];
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' && i + 1 < bytes.len() {
            starts.push(i as u64 + 1);
        }
    }
    starts
}

/// The line (0-based index) containing byte `pos`; a newline belongs to its line.
fn line_of(starts: &[u64], pos: u64) -> usize {
    starts.partition_point(|s| *s <= pos) - 1
}

fn copy_journal(src: &Path, dst: &Path, bytes: &[u8]) {
    fs::create_dir_all(dst).unwrap();
    let _ = src;
    fs::write(dst.join(FileJournal::FILE_NAME), bytes).unwrap();
}

fn chain_links_and_fold(backend: Backend) {
    let ts = TestState::new(backend);
    let (_lease, mut writer) = ts.writer();
    let recs = fill_journal(&mut writer, 30);
    assert_eq!(recs.len(), 30);
    for (i, r) in recs.iter().enumerate() {
        assert_eq!(r.seq, i as u64 + 1);
        let prev = if i == 0 {
            Digest::ZERO
        } else {
            recs[i - 1].hash
        };
        assert_eq!(r.prev, prev, "link of seq {}", r.seq);
    }
    let j = ts.state.journal_for_read().unwrap();
    assert_eq!(j.head().unwrap().hash, recs[29].hash);
    let batches = fold(&j, 0u32, |n, r| n + u32::from(r.kind == "batch")).unwrap();
    assert_eq!(
        batches as usize,
        recs.iter().filter(|r| r.kind == "batch").count()
    );
    assert!(batches > 0);
    // Reading from any record on, batches included, gives the same records.
    for after in 0..=30u64 {
        let got: Vec<Record> = j
            .records_after(after)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(got, recs[after as usize..], "records after {after}");
    }
}

#[test]
fn bit_flips_are_detected_with_the_right_seq() {
    let dir = tempfile::tempdir().unwrap();
    build_journal(dir.path(), 40);
    let good = fs::read(dir.path().join(FileJournal::FILE_NAME)).unwrap();
    let starts = line_starts(&good);
    assert_eq!(starts.len(), 40);
    let mut rng = Rng::from_time();
    // Sampled offsets plus every byte of the last line (the newline included).
    let mut offsets: Vec<u64> = (0..300).map(|_| rng.below(good.len() as u64)).collect();
    offsets.extend(starts[39]..good.len() as u64);
    for (k, &pos) in offsets.iter().enumerate() {
        let bit = 1u8 << rng.below(8);
        let mut bad = good.clone();
        bad[pos as usize] ^= bit;
        let case = tempfile::tempdir().unwrap();
        copy_journal(dir.path(), case.path(), &bad);
        let line = line_of(&starts, pos);
        match FileJournal::open(case.path()) {
            Err(JournalError::Corrupt {
                offset,
                seq,
                reason,
                ..
            }) => {
                assert_eq!(
                    seq,
                    line as u64 + 1,
                    "case {k}: flip {bit:#04x} at {pos}: {reason}"
                );
                assert_eq!(offset, starts[line], "case {k}: flip at {pos}");
            }
            other => panic!("case {k}: flip {bit:#04x} at {pos} not detected: {other:?}"),
        }
        // A bit flip is never a torn write: repair must refuse and leave the file alone.
        match FileJournal::repair_truncated_tail(case.path()) {
            Err(JournalError::NotRepairable(_)) => {}
            other => panic!("case {k}: repair accepted a bit flip at {pos}: {other:?}"),
        }
        assert_eq!(
            fs::read(case.path().join(FileJournal::FILE_NAME)).unwrap(),
            bad
        );
    }
}

#[test]
fn truncation_is_detected_and_only_torn_tail_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let recs = build_journal(dir.path(), 25);
    let good = fs::read(dir.path().join(FileJournal::FILE_NAME)).unwrap();
    let starts = line_starts(&good);
    let mut rng = Rng::from_time();
    let mut cuts: Vec<u64> = (0..60)
        .map(|_| 1 + rng.below(good.len() as u64 - 1))
        .collect();
    cuts.push(good.len() as u64 - 1); // only the final newline missing
    cuts.extend(&starts[1..]); // every record boundary
    let mut torn_cases = 0;
    for cut in cuts {
        let case = tempfile::tempdir().unwrap();
        copy_journal(dir.path(), case.path(), &good[..cut as usize]);
        let line = line_of(&starts, cut - 1);
        let at_boundary = starts.contains(&cut);
        let batch_index = recs[line].batch.map_or(0, |b| b.index as usize);
        let closes_batch = recs[line].batch.is_none_or(|b| b.index + 1 == b.len);
        if at_boundary && closes_batch {
            // Whole records cut: a valid, shorter journal (see `snapshot_detects_lost_records`).
            let j = FileJournal::open(case.path()).unwrap();
            assert_eq!(j.head().unwrap().seq, line as u64 + 1);
            continue;
        }
        torn_cases += 1;
        // The torn part starts at the first line of the (incomplete) batch.
        let line = line - batch_index;
        let err = FileJournal::open(case.path()).unwrap_err();
        match &err {
            JournalError::Corrupt {
                offset,
                seq,
                reason: CorruptReason::TornTail { len },
                ..
            } => {
                assert_eq!(*seq, line as u64 + 1, "cut at {cut}");
                assert_eq!(*offset, starts[line], "cut at {cut}");
                assert_eq!(*len, cut - starts[line]);
            }
            other => panic!("cut at {cut}: expected torn tail, got {other:?}"),
        }
        let (j, report) = FileJournal::repair_truncated_tail(case.path()).unwrap();
        let report = report.expect("repair should report the cut");
        assert_eq!(report.offset, starts[line]);
        assert_eq!(report.cut_len, cut - starts[line]);
        assert_eq!(
            fs::read(&report.saved_to).unwrap(),
            &good[starts[line] as usize..cut as usize]
        );
        assert_eq!(report.record.seq, line as u64 + 1);
        let after: Vec<Record> = j.records().unwrap().collect::<Result<_, _>>().unwrap();
        assert_eq!(after.len(), line + 1);
        assert_eq!(&after[..line], &recs[..line]);
        assert_eq!(after[line].kind, cutover_state::journal::REPAIRED_KIND);
        assert_eq!(after[line].payload["offset"], starts[line]);
        drop(j);
        FileJournal::open(case.path()).unwrap();
    }
    assert!(torn_cases > 20);
}

#[test]
fn snapshot_detects_lost_records_and_rebuilds_when_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    build_journal(dir.path(), 20);
    let snap = Snapshot::in_dir(dir.path());
    let count = |n: u64, _: &Record| n + 1;
    let mut j = FileJournal::open(dir.path()).unwrap();
    let r = snap.restore(&j, || 0u64, count).unwrap();
    assert!(matches!(r.source, SnapshotSource::Missing));
    assert_eq!((r.state, r.replayed), (20, 20));
    snap.save(&r.state, r.head.unwrap()).unwrap();

    j.append("more", serde_json::json!(1)).unwrap();
    j.append("more", serde_json::json!(2)).unwrap();
    let r = snap.restore(&j, || 0u64, count).unwrap();
    assert!(matches!(r.source, SnapshotSource::Loaded));
    assert_eq!((r.state, r.replayed), (22, 2));

    // Corrupt snapshot: rebuilt from scratch with the same result.
    let path = snap.path().to_path_buf();
    let text = fs::read_to_string(&path).unwrap().replace("20", "21");
    fs::write(&path, text).unwrap();
    let r = snap.restore(&j, || 0u64, count).unwrap();
    assert!(
        matches!(r.source, SnapshotSource::Corrupt(_)),
        "{:?}",
        r.source
    );
    assert_eq!((r.state, r.replayed), (22, 22));
    snap.save(&r.state, r.head.unwrap()).unwrap();
    drop(j);

    // Truncating whole records is invisible to the journal alone but the snapshot catches it.
    let jp = dir.path().join(FileJournal::FILE_NAME);
    let bytes = fs::read(&jp).unwrap();
    let starts = line_starts(&bytes);
    fs::write(&jp, &bytes[..starts[18] as usize]).unwrap();
    let j = FileJournal::open(dir.path()).unwrap();
    assert_eq!(j.head().unwrap().seq, 18);
    match snap.restore(&j, || 0u64, count) {
        Err(SnapshotError::JournalBehind {
            snapshot_seq,
            journal_head,
            ..
        }) => assert_eq!((snapshot_seq, journal_head), (22, 18)),
        other => panic!("expected JournalBehind, got {other:?}"),
    }
}

/// Helper run as a child: appends forever, printing `ACK <seq> <n>` after each
/// append returns. The parent SIGKILLs it.
#[test]
#[ignore = "child helper for sigkill_during_appends_loses_nothing_acknowledged"]
fn crash_child_writer() {
    use std::io::Write;
    let state = child_state(&child_dir());
    let lease = state.lease(None).unwrap().acquire().unwrap().handle;
    let (mut j, _) = state.journal_for_write(&lease).unwrap();
    let mut out = std::io::stdout().lock();
    let mut n: u64 = j.head().map_or(0, |h| h.seq) * 10;
    loop {
        n += 1;
        let pad = "p".repeat((n % 300) as usize);
        if n.is_multiple_of(4) {
            let refs = j
                .append_batch(
                    (0..3)
                        .map(|k| {
                            (
                                "b".to_string(),
                                serde_json::json!({"n": n * 10 + k, "pad": pad}),
                            )
                        })
                        .collect(),
                )
                .unwrap();
            for (k, r) in refs.iter().enumerate() {
                writeln!(out, "ACK {} {}", r.seq, n * 10 + k as u64).unwrap();
            }
        } else {
            let r = j
                .append("a", serde_json::json!({"n": n * 10, "pad": pad}))
                .unwrap();
            writeln!(out, "ACK {} {}", r.seq, n * 10).unwrap();
        }
        out.flush().unwrap();
    }
}

fn sigkill_during_appends_loses_nothing_acknowledged(backend: Backend) {
    let ts = TestState::new(backend);
    let mut rng = Rng::from_time();
    let mut acked: BTreeMap<u64, u64> = BTreeMap::new();
    let mut repairs = 0;
    for round in 0..25 {
        let mut cmd = child_command("journal::crash_child_writer", ts.dir.path());
        ts.child_env(&mut cmd);
        let (mut child, lines) = spawn_with_reader(cmd);
        let mut early = Vec::new();
        if round % 5 != 0 {
            // Usually wait until the child is appending, so the kill lands mid-stream.
            // (The first lines are the test harness's; a database child
            // also takes a while to connect and take the lease.)
            while let Ok(line) = lines.recv_timeout(Duration::from_secs(20)) {
                let acked = line.contains("ACK ");
                early.push(line);
                if acked {
                    break;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(rng.below(80)));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        for line in early.into_iter().chain(lines.iter()) {
            // libtest may print "test <name> ... " on the same line before our output.
            let Some(at) = line.find("ACK ") else {
                continue;
            };
            let mut parts = line[at + 4..].split_whitespace();
            let seq: u64 = parts.next().unwrap().parse().unwrap();
            let n: u64 = parts.next().unwrap().parse().unwrap();
            assert!(acked.insert(seq, n).is_none_or(|old| old == n));
        }
        // The killed holder's lease: the file lease sees its pid dead; a
        // database lease would wait for expiry, so the operator unlocks it.
        let lease = ts.state.lease(None).unwrap();
        if backend == Backend::Pg {
            lease.force_unlock("holder SIGKILLed by the test").unwrap();
        }
        let held = lease.acquire().unwrap().handle;
        let (journal, repair) = match ts.state.journal_for_write(&held) {
            Ok(j) => j,
            Err(e) => panic!("round {round}: journal not resumable: {e}"),
        };
        repairs += usize::from(repair.is_some());
        let records: Vec<Record> = journal
            .records()
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for (i, r) in records.iter().enumerate() {
            assert_eq!(r.seq, i as u64 + 1, "round {round}: seq not contiguous");
            // Batches are all-or-nothing: every visible batch is complete.
            if let Some(b) = r.batch {
                let first = i - b.index as usize;
                assert!(
                    first + (b.len as usize) <= records.len(),
                    "round {round}: partial batch at seq {}",
                    r.seq
                );
            }
        }
        for (&seq, &n) in &acked {
            let r = records
                .get(seq as usize - 1)
                .unwrap_or_else(|| panic!("round {round}: acknowledged seq {seq} lost"));
            if r.kind != cutover_state::journal::REPAIRED_KIND {
                assert_eq!(
                    r.payload["n"], n,
                    "round {round}: seq {seq} has wrong payload"
                );
            }
        }
    }
    eprintln!(
        "{backend:?}: acknowledged {} records, {repairs} torn-tail repairs",
        acked.len()
    );
    assert!(
        acked.len() >= 25,
        "children acknowledged too few records to test anything"
    );
}

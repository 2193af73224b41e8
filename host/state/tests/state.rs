//! Integration tests for cutover-state: journal integrity under bit flips,
//! truncation and SIGKILL, blob store, lease and snapshots.
//!
//! Some tests re-execute this binary as a child process running an `#[ignore]`d
//! helper test selected with `--ignored --exact <name>` and an environment variable.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use cutover_state::{
    BlobError, BlobStore, CorruptReason, Digest, FileBlobStore, FileJournal, FileLease, Journal,
    JournalError, Lease, LeaseError, LeaseHandle, LeaseInfo, Record, Snapshot, SnapshotError,
    SnapshotSource, StaleReason, fold,
};
use sha2::{Digest as _, Sha256};

const CHILD_DIR_ENV: &str = "CUTOVER_STATE_TEST_CHILD_DIR";

/// Small deterministic PRNG (xorshift64*), seeded per test and printed on failure.
struct Rng(u64);
impl Rng {
    fn from_time() -> Rng {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            | 1;
        eprintln!("rng seed {seed}");
        Rng(seed)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn child_command(test_name: &str, dir: &Path) -> Command {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = Command::new(exe);
    cmd.args([
        "--ignored",
        "--exact",
        test_name,
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD_DIR_ENV, dir)
    .stdout(Stdio::piped())
    .stderr(Stdio::null());
    cmd
}

fn child_dir() -> std::path::PathBuf {
    std::env::var_os(CHILD_DIR_ENV)
        .map(Into::into)
        .expect("helper test: run only as a child via the parent test")
}

/// Build a journal with `n` records of varied payloads (some via batches).
fn build_journal(dir: &Path, n: u64) -> Vec<Record> {
    let mut j = FileJournal::open(dir).unwrap();
    let mut i = 0;
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

#[test]
fn chain_links_and_fold() {
    let dir = tempfile::tempdir().unwrap();
    let recs = build_journal(dir.path(), 30);
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
    let j = FileJournal::open(dir.path()).unwrap();
    assert_eq!(j.head().unwrap().hash, recs[29].hash);
    let batches = fold(&j, 0u32, |n, r| n + u32::from(r.kind == "batch")).unwrap();
    assert_eq!(
        batches as usize,
        recs.iter().filter(|r| r.kind == "batch").count()
    );
    assert!(batches > 0);
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
    let dir = child_dir();
    let mut j = FileJournal::open(&dir).unwrap();
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

/// Spawn `cmd`; a thread forwards each stdout line into the returned channel.
fn spawn_with_reader(mut cmd: Command) -> (Child, mpsc::Receiver<String>) {
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

#[test]
fn sigkill_during_appends_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::from_time();
    let mut acked: BTreeMap<u64, u64> = BTreeMap::new();
    let mut repairs = 0;
    for round in 0..25 {
        let (mut child, lines) = spawn_with_reader(child_command("crash_child_writer", dir.path()));
        let mut early = Vec::new();
        if round % 5 != 0 {
            // Usually wait until the child is appending, so the kill lands mid-stream.
            early.extend(lines.recv_timeout(Duration::from_secs(20)));
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
        let journal = match FileJournal::open(dir.path()) {
            Ok(j) => j,
            Err(e) if e.is_torn_tail() => {
                repairs += 1;
                FileJournal::repair_truncated_tail(dir.path()).unwrap().0
            }
            Err(e) => panic!("round {round}: journal not resumable: {e}"),
        };
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
        "acknowledged {} records, {repairs} torn-tail repairs",
        acked.len()
    );
    assert!(
        acked.len() >= 25,
        "children acknowledged too few records to test anything"
    );
}

/// Reader yielding `len` pseudo-random bytes and hashing them independently.
struct GenReader {
    left: u64,
    rng: Rng,
    hasher: Sha256,
}
impl Read for GenReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.left as usize).min(64 * 1024);
        for chunk in buf[..n].chunks_mut(8) {
            let v = self.rng.next().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        self.hasher.update(&buf[..n]);
        self.left -= n as u64;
        Ok(n)
    }
}

fn peak_rss_kib() -> u64 {
    let status = fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Helper run as a child: puts and reads back a 64 MiB stream, prints peak RSS.
#[test]
#[ignore = "child helper for blob_64mib_stream_bounded_memory"]
fn blob_child_64mib() {
    let dir = child_dir();
    let store = FileBlobStore::open(&dir).unwrap();
    let mut gen_reader = GenReader {
        left: 64 << 20,
        rng: Rng(0x1234_5678),
        hasher: Sha256::new(),
    };
    let blob = store.put_stream(&mut gen_reader).unwrap();
    let expected = Digest::from(std::mem::take(&mut gen_reader.hasher));
    let mut reader = store.open(&blob.digest).unwrap();
    let copied = std::io::copy(&mut reader, &mut std::io::sink()).unwrap();
    println!(
        "RESULT {} {} {} {} {}",
        blob.digest,
        expected,
        blob.size,
        copied,
        peak_rss_kib()
    );
}

#[test]
fn blob_64mib_stream_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, reader) = spawn_with_reader(child_command("blob_child_64mib", dir.path()));
    assert!(child.wait().unwrap().success());
    let lines: Vec<String> = reader.iter().collect();
    let result = lines
        .iter()
        .find_map(|l| l.find("RESULT ").map(|at| &l[at + 7..]))
        .expect("child printed no result");
    let f: Vec<&str> = result.split_whitespace().collect();
    assert_eq!(
        f[0], f[1],
        "stored digest differs from the independently computed one"
    );
    assert_eq!(f[2], (64u64 << 20).to_string());
    assert_eq!(f[3], f[2], "read-back size");
    let peak_kib: u64 = f[4].parse().unwrap();
    eprintln!("64 MiB put+read peak RSS {peak_kib} KiB");
    assert!(
        peak_kib < 40 * 1024,
        "peak RSS {peak_kib} KiB: blob was buffered in memory"
    );
    let store = FileBlobStore::open(dir.path()).unwrap();
    let digest = Digest::from_hex(f[0]).unwrap();
    assert_eq!(store.verify(&digest).unwrap().size, 64 << 20);
}

#[test]
fn blob_round_trip_dedupe_corruption_delete() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileBlobStore::open(dir.path()).unwrap();
    let a = store.put_bytes(b"hello blob").unwrap();
    assert_eq!(a.digest, Digest::of(b"hello blob"));
    assert_eq!(a.size, 10);
    let hex = a.digest.to_hex();
    assert!(
        dir.path()
            .join("blobs")
            .join(&hex[..2])
            .join(&hex[2..])
            .is_file()
    );
    let mut back = Vec::new();
    store
        .open(&a.digest)
        .unwrap()
        .read_to_end(&mut back)
        .unwrap();
    assert_eq!(back, b"hello blob");

    let again = store.put_bytes(b"hello blob").unwrap();
    assert_eq!(again, a);
    let b = store.put_bytes(b"").unwrap();
    assert_eq!(store.list().unwrap().len(), 2);
    assert_eq!(store.total_size().unwrap(), 10);
    assert!(store.exists(&b.digest).unwrap());
    assert_eq!(store.size(&a.digest).unwrap(), 10);
    assert_eq!(
        fs::read_dir(dir.path().join("blobs/tmp")).unwrap().count(),
        0
    );

    // Corrupt the stored file in place.
    fs::write(store.path_of(&a.digest), b"hellO blob").unwrap();
    let mut back = Vec::new();
    let err = store
        .open(&a.digest)
        .unwrap()
        .read_to_end(&mut back)
        .unwrap_err();
    match BlobError::from_io(&err) {
        Some(BlobError::DigestMismatch { expected, actual }) => {
            assert_eq!(*expected, a.digest);
            assert_eq!(*actual, Digest::of(b"hellO blob"));
        }
        other => panic!("expected digest mismatch, got {other:?} from {err}"),
    }
    assert!(matches!(
        store.verify(&a.digest),
        Err(BlobError::DigestMismatch { .. })
    ));

    assert!(store.delete(&a.digest).unwrap());
    assert!(!store.delete(&a.digest).unwrap());
    assert!(!store.exists(&a.digest).unwrap());
    assert!(matches!(
        store.open(&a.digest),
        Err(BlobError::NotFound { .. })
    ));
    assert_eq!(store.list().unwrap(), vec![b]);
}

#[test]
fn lease_second_holder_refused_and_force_unlock() {
    let dir = tempfile::tempdir().unwrap();
    let lease = FileLease::new(dir.path()).unwrap();
    let mut first = lease.acquire().unwrap();
    assert!(first.recovered.is_none());
    match lease.acquire() {
        Err(LeaseError::Held { holder, pid, .. }) => {
            assert_eq!(holder, first.handle.info().holder);
            assert_eq!(pid, std::process::id());
        }
        other => panic!("second acquire should be refused: {other:?}"),
    }
    let before = lease.current().unwrap().unwrap().heartbeat_at;
    std::thread::sleep(Duration::from_millis(5));
    first.handle.heartbeat().unwrap();
    assert!(lease.current().unwrap().unwrap().heartbeat_at > before);

    let forced = lease.force_unlock("operator said so").unwrap().unwrap();
    assert_eq!(forced.previous.unwrap().holder, first.handle.info().holder);
    assert_eq!(forced.reason, "operator said so");
    assert!(matches!(
        first.handle.heartbeat(),
        Err(LeaseError::Lost { .. })
    ));
    let second = lease.acquire().unwrap();
    drop(first); // must not remove the new holder's lease
    assert_eq!(
        lease.current().unwrap().unwrap().holder,
        second.handle.info().holder
    );
    second.handle.release().unwrap();
    assert!(lease.current().unwrap().is_none());
    assert!(lease.force_unlock("nothing there").unwrap().is_none());
}

#[test]
fn lease_corrupt_file_requires_force_unlock() {
    let dir = tempfile::tempdir().unwrap();
    let lease = FileLease::new(dir.path()).unwrap();
    fs::write(dir.path().join(FileLease::FILE_NAME), b"{not json").unwrap();
    assert!(matches!(lease.acquire(), Err(LeaseError::Corrupt { .. })));
    let forced = lease.force_unlock("garbage").unwrap().unwrap();
    assert!(forced.previous.is_none());
    assert_eq!(forced.raw, "{not json");
    lease.acquire().unwrap();
}

#[test]
fn lease_expired_heartbeat_is_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let lease = FileLease::with_ttl(dir.path(), Duration::from_secs(60)).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let other = |heartbeat_at| LeaseInfo {
        holder: "feedface".into(),
        pid: 1,
        host: "some-other-host.invalid".into(),
        boot_id: None,
        pid_start: None,
        acquired_at: now - 7_200_000,
        heartbeat_at,
    };
    let path = dir.path().join(FileLease::FILE_NAME);
    fs::write(&path, serde_json::to_vec(&other(now - 1000)).unwrap()).unwrap();
    assert!(matches!(lease.acquire(), Err(LeaseError::Held { .. })));
    fs::write(&path, serde_json::to_vec(&other(now - 3_600_000)).unwrap()).unwrap();
    let got = lease.acquire().unwrap();
    let rec = got.recovered.unwrap();
    assert_eq!(rec.previous.holder, "feedface");
    assert!(
        matches!(rec.reason, StaleReason::HeartbeatExpired { age } if age >= Duration::from_secs(3600))
    );
}

/// Helper run as a child: takes the lease, says so, then waits to be killed.
#[test]
#[ignore = "child helper for lease_of_killed_process_is_recovered"]
fn lease_child_holder() {
    let dir = child_dir();
    let lease = FileLease::new(&dir).unwrap();
    let held = lease.acquire().unwrap();
    println!("HELD {}", held.handle.info().holder);
    std::thread::sleep(Duration::from_secs(60));
}

#[test]
fn lease_of_killed_process_is_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = child_command("lease_child_holder", dir.path())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let holder = loop {
        let line = lines.next().expect("child exited early").unwrap();
        if let Some(at) = line.find("HELD ") {
            break line[at + 5..].trim().to_string();
        }
    };
    let lease = FileLease::new(dir.path()).unwrap();
    match lease.acquire() {
        Err(LeaseError::Held { pid, .. }) => assert_eq!(pid, child.id()),
        other => panic!("live child's lease must be refused: {other:?}"),
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let start = Instant::now();
    let got = lease.acquire().unwrap();
    let rec = got.recovered.expect("stale lease should be reported");
    assert_eq!(rec.previous.holder, holder);
    assert_eq!(rec.previous.pid, child.id());
    assert_eq!(rec.reason, StaleReason::DeadPid);
    assert!(start.elapsed() < Duration::from_secs(5));
}

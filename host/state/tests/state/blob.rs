//! The content-addressed blob store, on both backends: round trip, dedupe,
//! corruption found on read (a file overwritten, a chunk edited in SQL),
//! deletion, and a 64 MiB stream in bounded memory.

use std::fs;
use std::io::Read;
use std::sync::Arc;

use cutover_state::{BlobError, BlobStore, Digest, FileBlobStore, Lease};
use cutover_test_kit::rng::Rng;
use sha2::{Digest as _, Sha256};

use super::harness::{Backend, TestState, child_state};
use super::{child_command, child_dir, spawn_with_reader};

both_backends!(
    blob_round_trip_dedupe_corruption_delete,
    blob_64mib_stream_bounded_memory
);

/// The blob store of `ts` for writing, under its lease.
fn store_of(ts: &TestState) -> (cutover_state::AnyLeaseHandle, Arc<dyn BlobStore>) {
    let held = ts.state.lease(None).unwrap().acquire().unwrap().handle;
    let store = ts.state.blobs("backups", held.fence()).unwrap();
    (held, store)
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
            let v = self.rng.next_u64().to_le_bytes();
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
    let state = child_state(&child_dir());
    let held = state.lease(None).unwrap().acquire().unwrap().handle;
    let store = state.blobs("backups", held.fence()).unwrap();
    let mut gen_reader = GenReader {
        left: 64 << 20,
        rng: Rng::seeded(0x1234_5678),
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

fn blob_64mib_stream_bounded_memory(backend: Backend) {
    let ts = TestState::new(backend);
    let mut cmd = child_command("blob::blob_child_64mib", ts.dir.path());
    ts.child_env(&mut cmd);
    let (mut child, reader) = spawn_with_reader(cmd);
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
    eprintln!("{backend:?}: 64 MiB put+read peak RSS {peak_kib} KiB");
    assert!(
        peak_kib < 40 * 1024,
        "peak RSS {peak_kib} KiB: blob was buffered in memory"
    );
    let store = ts.state.blobs("backups", None).unwrap();
    let digest = Digest::from_hex(f[0]).unwrap();
    assert_eq!(store.verify(&digest).unwrap().size, 64 << 20);
}

fn blob_round_trip_dedupe_corruption_delete(backend: Backend) {
    let ts = TestState::new(backend);
    let (_held, store) = store_of(&ts);
    let a = store.put_bytes(b"hello blob").unwrap();
    assert_eq!(a.digest, Digest::of(b"hello blob"));
    assert_eq!(a.size, 10);
    let files = FileBlobStore::open(&ts.state_dir().join("backups")).ok();
    if backend == Backend::Dir {
        assert!(files.as_ref().unwrap().path_of(&a.digest).is_file());
    }
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
    // A blob of several chunks (1 MiB each in the database) reads back whole.
    let big: Vec<u8> = (0..(2 << 20) + 12345u32).map(|i| (i % 251) as u8).collect();
    let c = store.put_bytes(&big).unwrap();
    let mut back = Vec::new();
    store
        .open(&c.digest)
        .unwrap()
        .read_to_end(&mut back)
        .unwrap();
    assert!(back == big, "multi-chunk blob differs");
    assert_eq!(store.verify(&c.digest).unwrap(), c);
    assert!(store.delete(&c.digest).unwrap());

    // Corrupt the stored content in place.
    match backend {
        Backend::Dir => {
            let files = files.unwrap();
            assert_eq!(fs::read_dir(files.root().join("tmp")).unwrap().count(), 0);
            fs::write(files.path_of(&a.digest), b"hellO blob").unwrap();
        }
        Backend::Pg => {
            let n = ts
                .sql()
                .execute(
                    "UPDATE cutover_blob_chunks SET data = $2 WHERE put_id =
                     (SELECT put_id FROM cutover_blobs WHERE digest = $1)",
                    &[&a.digest.to_hex(), &&b"hellO blob"[..]],
                )
                .unwrap();
            assert_eq!(n, 1);
            // Only the chunks of one put, and nothing left of the deleted one.
            let chunks: i64 = ts
                .sql()
                .query_one("SELECT count(*) FROM cutover_blob_chunks", &[])
                .unwrap()
                .get(0);
            assert_eq!(chunks, 1, "a blob of 10 bytes and an empty one");
        }
    }
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

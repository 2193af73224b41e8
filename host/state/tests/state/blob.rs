//! The content-addressed blob store: round trip, dedupe, corruption found
//! on read, deletion, and a 64 MiB stream in bounded memory.

use std::fs;
use std::io::Read;

use cutover_state::{BlobError, BlobStore, Digest, FileBlobStore};
use cutover_test_kit::rng::Rng;
use sha2::{Digest as _, Sha256};

use super::{child_command, child_dir, spawn_with_reader};

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
    let dir = child_dir();
    let store = FileBlobStore::open(&dir).unwrap();
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

#[test]
fn blob_64mib_stream_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, reader) =
        spawn_with_reader(child_command("blob::blob_child_64mib", dir.path()));
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

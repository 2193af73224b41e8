//! The file-identity shortcut of the compiled-component cache.
//!
//! A full cached load hashes the component (BLAKE3, the cache key) and the
//! whole entry (the keyed tag): about 50 MB for the JavaScript guest. When a
//! component *file* was loaded and its entry fully verified, a small record
//! is kept beside the entries: the identity of the component file and of
//! the entry file (device, inode, size, mtime and ctime in nanoseconds), the
//! cache key and the component's sha256, closed by a keyed BLAKE3 checksum.
//! A later load of the same file whose two identities still match takes the
//! key and sha256 from the record and deserializes the entry without hashing
//! either file.
//!
//! What is kept: every write, truncation, `chmod`, or replacement (a rename
//! over, or a delete and create) of either file gives it a new ctime, which
//! no unprivileged process can set back; any such change therefore fails the
//! identity check and the load falls back to the full verification (a
//! tampered entry is still rejected and replaced). Identities are taken
//! before the bytes are read and recorded only for files whose ctime is at
//! least [`SETTLED`] in the past, so a change made in the same timestamp tick
//! as the recorded state cannot pass unnoticed. A torn or edited record
//! fails its checksum and is ignored.
//!
//! What is not: a change that leaves all five values as they were, which
//! takes privileges (resetting the clock, writing the block device, a
//! filesystem without real ctimes) and would be caught by the full
//! verification. Setting `CUTOVER_CACHE_VERIFY=full` turns the shortcut off.

use std::fs::{self, File, Metadata};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// Files changed more recently than this are not recorded.
pub(crate) const SETTLED: Duration = Duration::from_secs(1);
/// Record magic (also its format version).
const MAGIC: &[u8; 16] = b"cutover-ident-1\n";
/// The key-derivation context of the record checksum.
const CONTEXT: &str = "cutover 2026-12 compiled-component cache identity record v1";
/// Environment switch: `full` verifies every cached load in full.
pub(crate) const VERIFY_ENV: &str = "CUTOVER_CACHE_VERIFY";
const ID_LEN: usize = 40;
const RECORD_LEN: usize = MAGIC.len() + ID_LEN + 32 + ID_LEN + 32 + 32;

/// What identifies a file's content without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileId {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i64,
    ctime_ns: i64,
}

impl FileId {
    /// The identity in `meta` (`None` where there is no inode and ctime).
    #[cfg(unix)]
    pub(crate) fn of(meta: &Metadata) -> Option<FileId> {
        use std::os::unix::fs::MetadataExt;
        let ns = |s: i64, n: i64| s.checked_mul(1_000_000_000)?.checked_add(n);
        Some(FileId {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime_ns: ns(meta.mtime(), meta.mtime_nsec())?,
            ctime_ns: ns(meta.ctime(), meta.ctime_nsec())?,
        })
    }

    #[cfg(not(unix))]
    pub(crate) fn of(_meta: &Metadata) -> Option<FileId> {
        None
    }

    /// The identity of an open file.
    pub(crate) fn of_file(file: &File) -> Option<FileId> {
        file.metadata().ok().as_ref().and_then(FileId::of)
    }

    /// Whether the file last changed at least [`SETTLED`] before `now`.
    pub(crate) fn settled(&self, now: SystemTime) -> bool {
        let Ok(now) = now.duration_since(SystemTime::UNIX_EPOCH) else {
            return false;
        };
        let limit = now.saturating_sub(SETTLED).as_nanos();
        let at = |t: i64| u128::try_from(t).is_ok_and(|t| t <= limit);
        at(self.ctime_ns) && at(self.mtime_ns)
    }

    fn bytes(&self) -> [u8; ID_LEN] {
        let mut b = [0u8; ID_LEN];
        b[..8].copy_from_slice(&self.dev.to_le_bytes());
        b[8..16].copy_from_slice(&self.ino.to_le_bytes());
        b[16..24].copy_from_slice(&self.size.to_le_bytes());
        b[24..32].copy_from_slice(&self.mtime_ns.to_le_bytes());
        b[32..].copy_from_slice(&self.ctime_ns.to_le_bytes());
        b
    }
}

/// Whether the shortcut is allowed (not turned off by [`VERIFY_ENV`]).
pub(crate) fn enabled() -> bool {
    std::env::var(VERIFY_ENV).map_or(true, |v| v != "full")
}

/// A record: the component file, its key, the entry file, the sha256.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Record {
    pub(crate) component: FileId,
    pub(crate) key: [u8; 32],
    pub(crate) entry: FileId,
    pub(crate) sha256: [u8; 32],
}

impl Record {
    /// Size of the entry file.
    pub(crate) fn entry_size(&self) -> u64 {
        self.entry.size
    }
}

/// Where records live and how they are checked.
pub(crate) struct Records<'a> {
    pub(crate) dir: &'a std::path::Path,
    pub(crate) engine_tag: &'a str,
    pub(crate) engine_id: &'a [u8; 32],
}

impl Records<'_> {
    fn path(&self, component: &FileId) -> PathBuf {
        self.dir.join(format!(
            "{:x}-{:x}-{}.ident",
            component.dev, component.ino, self.engine_tag
        ))
    }

    fn checksum(&self, body: &[u8]) -> blake3::Hash {
        let key = blake3::derive_key(CONTEXT, self.engine_id);
        blake3::keyed_hash(&key, body)
    }

    /// The record of a component file, if one exists for exactly this
    /// identity and passes its checksum.
    pub(crate) fn read(&self, component: &FileId) -> Option<Record> {
        let bytes = fs::read(self.path(component)).ok()?;
        if bytes.len() != RECORD_LEN || &bytes[..MAGIC.len()] != MAGIC {
            return None;
        }
        let (body, sum) = bytes.split_at(RECORD_LEN - 32);
        let mut want = [0u8; 32];
        want.copy_from_slice(sum);
        // `blake3::Hash` equality is constant-time.
        if self.checksum(body) != blake3::Hash::from_bytes(want) {
            return None;
        }
        let mut at = MAGIC.len();
        let mut take = |n: usize| {
            let s = &body[at..at + n];
            at += n;
            s
        };
        let recorded = take(ID_LEN).to_vec();
        let mut key = [0u8; 32];
        key.copy_from_slice(take(32));
        let entry = take(ID_LEN).to_vec();
        let mut sha256 = [0u8; 32];
        sha256.copy_from_slice(take(32));
        if recorded != component.bytes() {
            return None;
        }
        Some(Record {
            component: *component,
            key,
            entry: parse_id(&entry)?,
            sha256,
        })
    }

    /// Keep `r` (temporary file and rename; a lost record only costs a full
    /// verification). The caller checks that both files are settled.
    pub(crate) fn write(&self, r: &Record) -> std::io::Result<()> {
        let mut body = Vec::with_capacity(RECORD_LEN);
        body.extend_from_slice(MAGIC);
        body.extend_from_slice(&r.component.bytes());
        body.extend_from_slice(&r.key);
        body.extend_from_slice(&r.entry.bytes());
        body.extend_from_slice(&r.sha256);
        let sum = self.checksum(&body);
        body.extend_from_slice(sum.as_bytes());
        let path = self.path(&r.component);
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        let written = fs::File::create(&tmp).and_then(|mut f| f.write_all(&body));
        match written.and_then(|()| fs::rename(&tmp, &path)) {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                Err(e)
            }
        }
    }
}

fn parse_id(b: &[u8]) -> Option<FileId> {
    let u = |r: std::ops::Range<usize>| -> Option<[u8; 8]> { b.get(r)?.try_into().ok() };
    Some(FileId {
        dev: u64::from_le_bytes(u(0..8)?),
        ino: u64::from_le_bytes(u(8..16)?),
        size: u64::from_le_bytes(u(16..24)?),
        mtime_ns: i64::from_le_bytes(u(24..32)?),
        ctime_ns: i64::from_le_bytes(u(32..40)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ctime_s: i64) -> FileId {
        FileId {
            dev: 1,
            ino: 2,
            size: 3,
            mtime_ns: ctime_s * 1_000_000_000,
            ctime_ns: ctime_s * 1_000_000_000,
        }
    }

    #[test]
    fn records_round_trip_and_refuse_any_change() {
        let dir = tempfile::tempdir().unwrap();
        let engine_id = [7u8; 32];
        let records = Records {
            dir: dir.path(),
            engine_tag: "e",
            engine_id: &engine_id,
        };
        let r = Record {
            component: id(10),
            key: [1; 32],
            entry: id(20),
            sha256: [2; 32],
        };
        records.write(&r).unwrap();
        assert_eq!(records.read(&r.component), Some(r));
        // Another identity of the same inode: no record.
        let mut moved = r.component;
        moved.ctime_ns += 1;
        assert_eq!(records.read(&moved), None);
        // Any byte of the record changed: refused by the checksum.
        let path = records.path(&r.component);
        let good = fs::read(&path).unwrap();
        for at in [0, 20, 60, 100, 150, RECORD_LEN - 1] {
            let mut bad = good.clone();
            bad[at] ^= 1;
            fs::write(&path, &bad).unwrap();
            assert_eq!(records.read(&r.component), None, "byte {at}");
        }
        fs::write(&path, &good[..good.len() - 1]).unwrap();
        assert_eq!(records.read(&r.component), None);
        // Another engine's records are not ours.
        fs::write(&path, &good).unwrap();
        let other = [8u8; 32];
        let theirs = Records {
            engine_id: &other,
            ..records
        };
        assert_eq!(theirs.read(&r.component), None);
    }

    #[test]
    fn files_are_settled_a_second_after_their_last_change() {
        let at = |s: f64| SystemTime::UNIX_EPOCH + Duration::from_secs_f64(s);
        let f = id(20);
        assert!(!f.settled(at(20.5)));
        assert!(
            !f.settled(at(19.0)),
            "a change in the future is not settled"
        );
        assert!(f.settled(at(21.0)));
        let mut late_mtime = f;
        late_mtime.mtime_ns += 900_000_000;
        assert!(!late_mtime.settled(at(21.0)));
    }
}

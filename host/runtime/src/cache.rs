//! On-disk cache of compiled components.
//!
//! Entry file name: `<blake3 of the component bytes>-<engine tag>.cwasm`.
//! Entry layout: the payload (`Component::serialize`, an ELF image wasmtime
//! maps directly), then a trailer: the sha256 of the source component, the
//! payload length (u64 LE), a tag and a magic. The tag is a keyed BLAKE3
//! over everything before it, with a key derived from the component's
//! BLAKE3 and the engine's compatibility hash (and wasmtime version): one
//! pass over the mapped file checks both that no byte changed and that the
//! entry belongs to this component and this engine. A truncated, corrupt,
//! foreign or old-format entry is rejected (typed: [`Rejection`]) and never
//! deserialized; the component is recompiled and the entry replaced.
//!
//! The source sha256 is computed once, when the entry is stored, and bound
//! to the entry by the tag: a cached load hashes the component once with
//! BLAKE3 (the cache key) and takes its sha256 (shown by `inspect`, checked
//! against a plan's pin) from the verified entry, so no sha256 pass is made
//! on a hit. A component file loaded again unchanged skips both passes
//! through a record of file identities (`cache_ident`).

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use memmap2::{Mmap, MmapOptions};
use sha2::{Digest, Sha256};

pub(crate) use crate::cache_ident::FileId;
use crate::cache_ident::{self as ident, Record, Records};
use std::time::SystemTime;

/// Trailer magic (also the format version: entries of other formats are
/// rejected as [`Rejection::Unrecognised`] and replaced).
const MAGIC: &[u8; 16] = b"cutover-cache-2\n";
/// The wasmtime version this host is built with (pinned in Cargo.toml).
pub const WASMTIME_VERSION: &str = "48.0.8";
/// sha256 of the source, payload length, tag, magic.
const TRAILER: usize = 32 + 8 + 32 + MAGIC.len();
/// The key-derivation context of the entry tag.
const TAG_CONTEXT: &str = "cutover 2026-12 compiled-component cache entry tag v2";
/// Inputs from this size up are hashed on both cores.
const PARALLEL_FROM: usize = 1 << 20;
/// Component files from this size up are mapped rather than read.
const MAP_FROM: u64 = 1 << 20;

/// Outcome of a cache lookup, reported by `inspect` and the bench.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CacheStatus {
    /// Loaded from a verified entry.
    Hit,
    /// No entry: compiled and stored.
    Miss,
    /// An entry existed but failed verification: recompiled and replaced.
    Replaced,
    /// No cache directory configured.
    Disabled,
}

/// Why an existing entry was not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Shorter than its trailer, or its recorded payload length disagrees
    /// with its size.
    Truncated,
    /// No trailer magic: another format (or not a cache entry at all).
    Unrecognised,
    /// The tag does not match: a changed byte, or an entry of another
    /// component, engine configuration or wasmtime version.
    Mismatch,
    /// Verified, but wasmtime refused to deserialize it.
    Incompatible,
    /// The entry exists but cannot be read or mapped.
    Unreadable,
}

/// What [`ComponentCache::check`] finds for a component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryCheck {
    /// No entry.
    Absent,
    /// A verified entry; the sha256 of the component it was compiled from.
    Valid {
        /// Hex.
        sha256: String,
    },
    /// An entry that would be rejected.
    Rejected(Rejection),
}

/// A directory of compiled components owned by this runner.
#[derive(Debug, Clone)]
pub struct ComponentCache {
    dir: PathBuf,
    engine_tag: String,
    engine_id: [u8; 32],
}

/// The cache key of component bytes: their BLAKE3.
pub(crate) fn key_of(bytes: &[u8]) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    update(&mut h, bytes);
    *h.finalize().as_bytes()
}

fn update(h: &mut blake3::Hasher, bytes: &[u8]) {
    if bytes.len() >= PARALLEL_FROM {
        h.update_rayon(bytes);
    } else {
        h.update(bytes);
    }
}

/// Feeds `Hash` output (the engine's compatibility hash) into BLAKE3.
struct Feed(blake3::Hasher);

impl std::hash::Hasher for Feed {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// A verified entry, not yet deserialized.
pub(crate) struct Entry {
    file: File,
    map: Mmap,
    payload_len: usize,
    sha256: [u8; 32],
    /// The entry file's identity before it was read, and when it was taken.
    seen: Option<(FileId, SystemTime)>,
}

/// Result of [`ComponentCache::find`].
pub(crate) enum Lookup {
    Absent,
    Found(Entry),
    Rejected(Rejection),
}

impl ComponentCache {
    /// Opens (creating, mode 0700) the cache directory.
    pub fn open(dir: &Path, engine: &wasmtime::Engine) -> std::io::Result<Self> {
        fs::create_dir_all(dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
        }
        use std::hash::Hash;
        let mut feed = Feed(blake3::Hasher::new());
        engine.precompile_compatibility_hash().hash(&mut feed);
        WASMTIME_VERSION.hash(&mut feed);
        let engine_id = *feed.0.finalize().as_bytes();
        Ok(Self {
            dir: dir.to_path_buf(),
            engine_tag: hex::encode(&engine_id[..8]),
            engine_id,
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of the entry for component bytes.
    pub fn entry_path(&self, component: &[u8]) -> PathBuf {
        self.path_for(&key_of(component))
    }

    fn path_for(&self, key: &[u8; 32]) -> PathBuf {
        self.dir
            .join(format!("{}-{}.cwasm", hex::encode(key), self.engine_tag))
    }

    /// Checks the entry for component bytes as a load would, without
    /// deserializing it.
    pub fn check(&self, component: &[u8]) -> EntryCheck {
        match self.find(&key_of(component)) {
            Lookup::Absent => EntryCheck::Absent,
            Lookup::Found(e) => EntryCheck::Valid {
                sha256: hex::encode(e.sha256),
            },
            Lookup::Rejected(r) => EntryCheck::Rejected(r),
        }
    }

    fn tag_key(&self, key: &[u8; 32]) -> [u8; 32] {
        let mut material = [0u8; 64];
        material[..32].copy_from_slice(key);
        material[32..].copy_from_slice(&self.engine_id);
        blake3::derive_key(TAG_CONTEXT, &material)
    }

    /// Maps and verifies the entry for a component key (one pass).
    pub(crate) fn find(&self, key: &[u8; 32]) -> Lookup {
        let path = self.path_for(key);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Lookup::Absent,
            Err(_) => return Lookup::Rejected(Rejection::Unreadable),
        };
        let Ok(meta) = file.metadata() else {
            return Lookup::Rejected(Rejection::Unreadable);
        };
        let seen = FileId::of(&meta).map(|id| (id, SystemTime::now()));
        let len = meta.len();
        if len < TRAILER as u64 {
            return Lookup::Rejected(Rejection::Truncated);
        }
        // SAFETY: the entry lives in a directory only this user can write,
        // and is only ever replaced by rename (never modified in place), so
        // the mapping does not change under us; it is read-only.
        let Ok(map) = (unsafe { MmapOptions::new().populate().map(&file) }) else {
            return Lookup::Rejected(Rejection::Unreadable);
        };
        match verify(&map, &self.tag_key(key)) {
            Ok((payload_len, sha256)) => Lookup::Found(Entry {
                file,
                map,
                payload_len,
                sha256,
                seen,
            }),
            Err(r) => Lookup::Rejected(r),
        }
    }

    fn records(&self) -> Records<'_> {
        Records {
            dir: &self.dir,
            engine_tag: &self.engine_tag,
            engine_id: &self.engine_id,
        }
    }

    /// The entry of a component file whose identity, and that of its
    /// entry, are those recorded at a full verification (see
    /// `cache_ident`): mapped, not hashed.
    pub(crate) fn recall(&self, component: &FileId) -> Option<(Record, Entry)> {
        if !ident::enabled() {
            return None;
        }
        let r = self.records().read(component)?;
        let file = File::open(self.path_for(&r.key)).ok()?;
        if FileId::of_file(&file)? != r.entry {
            return None;
        }
        let payload_len = usize::try_from(r.entry_size()).ok()?.checked_sub(TRAILER)?;
        // SAFETY: as in `find`; the identity says the file is the one that
        // was verified in full.
        let map = unsafe { MmapOptions::new().map(&file) }.ok()?;
        if map.len() != payload_len + TRAILER {
            return None;
        }
        Some((
            r,
            Entry {
                file,
                map,
                payload_len,
                sha256: r.sha256,
                seen: None,
            },
        ))
    }

    /// Record the identities of a component file and of its entry after a
    /// full verification, when both have settled (best effort).
    pub(crate) fn remember(&self, component: (FileId, SystemTime), key: &[u8; 32], e: &Entry) {
        let Some((entry, entry_now)) = e.seen else {
            return;
        };
        if !(ident::enabled() && component.0.settled(component.1) && entry.settled(entry_now)) {
            return;
        }
        let r = Record {
            component: component.0,
            key: *key,
            entry,
            sha256: e.sha256,
        };
        if let Err(error) = self.records().write(&r) {
            tracing::debug!(%error, "cache identity record not written");
        }
    }

    /// Stores a compiled component (temp file, fsync, rename).
    pub(crate) fn store(
        &self,
        key: &[u8; 32],
        sha256: &[u8; 32],
        payload: &[u8],
    ) -> std::io::Result<()> {
        let path = self.path_for(key);
        let len = (payload.len() as u64).to_le_bytes();
        let mut h = blake3::Hasher::new_keyed(&self.tag_key(key));
        update(&mut h, payload);
        h.update(sha256);
        h.update(&len);
        let tag = h.finalize();
        let (tmp, mut f) = tempfile_in(&self.dir)?;
        let written = (|| {
            f.write_all(payload)?;
            f.write_all(sha256)?;
            f.write_all(&len)?;
            f.write_all(tag.as_bytes())?;
            f.write_all(MAGIC)?;
            f.sync_all()
        })();
        drop(f);
        match written.and_then(|()| fs::rename(&tmp, &path)) {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                Err(e)
            }
        }
    }
}

impl Entry {
    /// The sha256 of the component this entry was compiled from.
    pub(crate) fn sha256(&self) -> [u8; 32] {
        self.sha256
    }

    /// Deserializes the verified payload. On Linux wasmtime maps the very
    /// file that was verified (reopened through `/proc/self/fd`, so a
    /// rename over the entry meanwhile cannot swap it); elsewhere, or
    /// without `/proc`, the verified bytes are copied.
    pub(crate) fn deserialize(
        self,
        engine: &wasmtime::Engine,
    ) -> Result<wasmtime::component::Component, Rejection> {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            let fd_path = PathBuf::from(format!("/proc/self/fd/{}", self.file.as_raw_fd()));
            if fd_path.exists() {
                // SAFETY: the file was verified above (tag over every byte,
                // bound to this component and engine) and, as a
                // `Component::serialize` output of this engine, is also
                // checked by wasmtime for version and configuration; see
                // `find` for why it does not change while mapped.
                return unsafe {
                    wasmtime::component::Component::deserialize_file(engine, &fd_path)
                }
                .map_err(|e| {
                    tracing::warn!(error = %e, "discarding incompatible cache entry");
                    Rejection::Incompatible
                });
            }
        }
        // SAFETY: as above; these are the verified bytes themselves.
        unsafe {
            wasmtime::component::Component::deserialize(engine, &self.map[..self.payload_len])
        }
        .map_err(|e| {
            tracing::warn!(error = %e, "discarding incompatible cache entry");
            Rejection::Incompatible
        })
    }
}

/// Checks an entry's trailer and tag; returns the payload length and the
/// source sha256.
fn verify(bytes: &[u8], tag_key: &[u8; 32]) -> Result<(usize, [u8; 32]), Rejection> {
    let Some(body_len) = bytes.len().checked_sub(TRAILER) else {
        return Err(Rejection::Truncated);
    };
    let trailer = &bytes[body_len..];
    if &trailer[TRAILER - MAGIC.len()..] != MAGIC {
        return Err(Rejection::Unrecognised);
    }
    let mut sha256 = [0u8; 32];
    sha256.copy_from_slice(&trailer[..32]);
    let mut len = [0u8; 8];
    len.copy_from_slice(&trailer[32..40]);
    if u64::from_le_bytes(len) != body_len as u64 {
        return Err(Rejection::Truncated);
    }
    let mut want = [0u8; 32];
    want.copy_from_slice(&trailer[40..72]);
    let mut h = blake3::Hasher::new_keyed(tag_key);
    update(&mut h, &bytes[..body_len + 40]);
    // `blake3::Hash` equality is constant-time.
    if h.finalize() != blake3::Hash::from_bytes(want) {
        return Err(Rejection::Mismatch);
    }
    Ok((body_len, sha256))
}

/// Component bytes as loaded from a file: mapped when large (no copy, and
/// only the pages read are faulted in), read otherwise.
pub(crate) enum ComponentBytes {
    Mapped(Mmap),
    Read(Vec<u8>),
}

impl std::ops::Deref for ComponentBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Self::Mapped(m) => m,
            Self::Read(v) => v,
        }
    }
}

/// A component file's bytes, and its identity taken before they are read,
/// with the time it was taken (`None` when it already changed while opened
/// or read). A change at any later time gives the file a new ctime, so a
/// record made from this identity can no longer match it.
pub(crate) struct ComponentFile {
    pub(crate) bytes: ComponentBytes,
    pub(crate) id: Option<(FileId, SystemTime)>,
}

/// Reads (or maps) a component file.
pub(crate) fn read_component(path: &Path) -> std::io::Result<ComponentFile> {
    let mut file = File::open(path)?;
    let meta = file.metadata()?;
    let before = FileId::of(&meta).map(|id| (id, SystemTime::now()));
    let mut bytes = None;
    if meta.len() >= MAP_FROM {
        // SAFETY: read-only private mapping of a component file; like any
        // reader we assume it is not truncated while being loaded (the
        // bytes are hashed before use, and the compiled form is what runs).
        // Not populated: a load through the identity record reads only the
        // headers and the sections outside the code.
        if let Ok(m) = unsafe { MmapOptions::new().map(&file) } {
            bytes = Some(ComponentBytes::Mapped(m));
        }
    }
    let bytes = match bytes {
        Some(b) => b,
        None => {
            let mut v = Vec::new();
            std::io::Read::read_to_end(&mut file, &mut v)?;
            ComponentBytes::Read(v)
        }
    };
    let after = FileId::of_file(&file);
    let id = before.filter(|(id, _)| after == Some(*id));
    Ok(ComponentFile { bytes, id })
}

/// sha256 of component bytes.
pub(crate) fn sha256_of(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn tempfile_in(dir: &Path) -> std::io::Result<(PathBuf, File)> {
    for attempt in 0..16u32 {
        let name = format!(".tmp-{}-{}-{attempt}", std::process::id(), nanos());
        let p = dir.join(name);
        match fs::OpenOptions::new().write(true).create_new(true).open(&p) {
            Ok(f) => return Ok((p, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other(
        "could not create a temporary cache file",
    ))
}

fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// A component's identity for one load: its sha256 (checked against the
/// pin) and, with a cache, its key and what the cache holds for it.
pub(crate) struct Identified {
    pub(crate) sha256: [u8; 32],
    pub(crate) key: Option<[u8; 32]>,
    pub(crate) lookup: Lookup,
}

/// Hashes component bytes once per load and checks the pin: with a cache,
/// BLAKE3 (the key) and, on a verified entry, the sha256 recorded in it
/// (bound to the bytes by the key and the entry's tag); without a cache or
/// entry, sha256 of the bytes.
///
/// For a component file (`file`: its identity before it was read), a
/// record of a previous full verification whose identities still hold
/// replaces both hashes (see `cache_ident`); a full verification of a
/// settled file and entry writes that record.
pub(crate) fn identify(
    cache: Option<&ComponentCache>,
    bytes: &[u8],
    file: Option<(FileId, SystemTime)>,
    origin: &str,
    pin: Option<&str>,
) -> Result<Identified, crate::error::LoadError> {
    let recalled = match (cache, file) {
        (Some(c), Some((id, _))) => c.recall(&id),
        _ => None,
    };
    let (key, lookup) = match (cache, recalled) {
        (_, Some((r, entry))) => (Some(r.key), Lookup::Found(entry)),
        (Some(c), None) => {
            let key = key_of(bytes);
            let lookup = c.find(&key);
            if let (Lookup::Found(e), Some(f)) = (&lookup, file) {
                c.remember(f, &key, e);
            }
            (Some(key), lookup)
        }
        (None, None) => (None, Lookup::Absent),
    };
    let sha256 = match &lookup {
        Lookup::Found(e) => e.sha256(),
        _ => sha256_of(bytes),
    };
    if let Some(expected) = pin {
        let actual = hex::encode(sha256);
        if !expected.eq_ignore_ascii_case(&actual) {
            return Err(crate::error::LoadError::PinMismatch {
                path: origin.to_string(),
                expected: expected.to_string(),
                actual,
            });
        }
    }
    Ok(Identified {
        sha256,
        key,
        lookup,
    })
}

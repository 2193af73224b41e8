//! On-disk cache of compiled components.
//!
//! Entry file name: `<sha256 of component bytes>-<engine hash>.cwasm`. Entry
//! layout: magic, sha256 of the source component, sha256 of the payload, the
//! wasmtime version, then the payload (`Component::serialize`). A corrupt,
//! truncated or foreign entry fails verification (or wasmtime's own
//! compatibility check) and is recompiled and replaced, never trusted.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

const MAGIC: &[u8; 10] = b"CUTOVERC1\n";
/// The wasmtime version this host is built with (pinned in Cargo.toml).
pub const WASMTIME_VERSION: &str = "48.0.8";
const HEADER: usize = MAGIC.len() + 32 + 32 + 32;

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

/// A directory of compiled components owned by this runner.
#[derive(Debug, Clone)]
pub struct ComponentCache {
    dir: PathBuf,
    engine_tag: String,
}

fn version_field() -> [u8; 32] {
    let mut f = [0u8; 32];
    let v = WASMTIME_VERSION.as_bytes();
    let n = v.len().min(32);
    f[..n].copy_from_slice(&v[..n]);
    f
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
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        WASMTIME_VERSION.hash(&mut h);
        Ok(Self {
            dir: dir.to_path_buf(),
            engine_tag: format!("{:016x}", h.finish()),
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of the entry for a component digest.
    pub fn entry_path(&self, digest: &str) -> PathBuf {
        self.dir.join(format!("{digest}-{}.cwasm", self.engine_tag))
    }

    /// Returns a verified component or `None` (absent or rejected: the
    /// second value says whether an entry was rejected).
    pub(crate) fn load(
        &self,
        engine: &wasmtime::Engine,
        digest: &[u8; 32],
    ) -> (Option<wasmtime::component::Component>, bool) {
        let path = self.entry_path(&hex::encode(digest));
        let Ok(bytes) = fs::read(&path) else {
            return (None, false);
        };
        match verify(&bytes, digest) {
            Ok(payload) => {
                // SAFETY: the payload was produced by `Component::serialize`
                // in this cache (checked by the digest over it, in a
                // directory only this user can write); wasmtime additionally
                // rejects payloads from another version or configuration.
                match unsafe { wasmtime::component::Component::deserialize(engine, payload) } {
                    Ok(c) => (Some(c), false),
                    Err(e) => {
                        tracing::warn!(path = %path.display(), error = %e, "discarding foreign cache entry");
                        (None, true)
                    }
                }
            }
            Err(why) => {
                tracing::warn!(path = %path.display(), why, "discarding corrupt cache entry");
                (None, true)
            }
        }
    }

    /// Stores a compiled component (temp file, fsync, rename).
    pub(crate) fn store(&self, digest: &[u8; 32], payload: &[u8]) -> std::io::Result<()> {
        let path = self.entry_path(&hex::encode(digest));
        let mut tmp = tempfile_in(&self.dir)?;
        tmp.1.write_all(MAGIC)?;
        tmp.1.write_all(digest)?;
        tmp.1.write_all(&Sha256::digest(payload))?;
        tmp.1.write_all(&version_field())?;
        tmp.1.write_all(payload)?;
        tmp.1.sync_all()?;
        drop(tmp.1);
        fs::rename(&tmp.0, &path)
    }
}

fn tempfile_in(dir: &Path) -> std::io::Result<(PathBuf, fs::File)> {
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

fn verify<'a>(bytes: &'a [u8], digest: &[u8; 32]) -> Result<&'a [u8], &'static str> {
    if bytes.len() < HEADER {
        return Err("truncated header");
    }
    if &bytes[..MAGIC.len()] != MAGIC {
        return Err("bad magic");
    }
    let mut at = MAGIC.len();
    if &bytes[at..at + 32] != digest {
        return Err("entry is for another component");
    }
    at += 32;
    let want = &bytes[at..at + 32];
    at += 32;
    if bytes[at..at + 32] != version_field() {
        return Err("entry from another wasmtime version");
    }
    at += 32;
    let payload = &bytes[at..];
    if Sha256::digest(payload).as_slice() != want {
        return Err("payload checksum mismatch");
    }
    Ok(payload)
}

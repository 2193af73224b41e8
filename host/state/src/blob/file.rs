//! File backend: `blobs/ab/cdef…` (first two hex digits as shard directory).

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use sha2::{Digest as _, Sha256};

use super::{BLOB_BUF, BlobError, BlobRef, BlobStore, VerifyingReader, drain, read_full};
use crate::atomic::temp_path_for;
use crate::digest::Digest;

/// Number of 1 MiB buffers in flight between the hashing and writing threads.
const PIPELINE_DEPTH: usize = 4;

/// Blobs stored as files under `<state dir>/blobs`. New blobs are streamed into
/// `blobs/tmp/`, fsynced and renamed to `blobs/ab/cdef…`; the shard directory is
/// then fsynced. Memory use is bounded by a few 1 MiB buffers whatever the blob size.
#[derive(Debug, Clone)]
pub struct FileBlobStore {
    root: PathBuf,
}

fn io(path: &Path, op: &'static str) -> impl FnOnce(io::Error) -> BlobError {
    move |source| BlobError::Io {
        path: path.to_path_buf(),
        op,
        source,
    }
}

fn fsync_dir(dir: &Path) -> Result<(), BlobError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io(dir, "fsync directory"))
}

impl FileBlobStore {
    /// Open (creating if needed) the blob store under `state_dir/blobs`.
    pub fn open(state_dir: &Path) -> Result<FileBlobStore, BlobError> {
        let root = state_dir.join("blobs");
        let existed = root.join("tmp").is_dir();
        fs::create_dir_all(root.join("tmp")).map_err(io(&root, "create blob directory"))?;
        if !existed {
            fsync_dir(&root)?;
            fsync_dir(state_dir)?;
        }
        Ok(FileBlobStore { root })
    }

    /// Root directory of the store (`<state dir>/blobs`).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Path where the blob with `digest` is (or would be) stored.
    pub fn path_of(&self, digest: &Digest) -> PathBuf {
        let hex = digest.to_hex();
        self.root.join(&hex[..2]).join(&hex[2..])
    }

    /// Remove temp files left by interrupted puts. Only call while holding the lease
    /// (no concurrent `put_stream`). Returns how many files were removed.
    pub fn clean_temp(&self) -> Result<usize, BlobError> {
        let tmp = self.root.join("tmp");
        let mut n = 0;
        for entry in fs::read_dir(&tmp).map_err(io(&tmp, "list temp directory"))? {
            let entry = entry.map_err(io(&tmp, "list temp directory"))?;
            fs::remove_file(entry.path()).map_err(io(&entry.path(), "remove temp file"))?;
            n += 1;
        }
        Ok(n)
    }

    /// Stream `reader` into `file`: this thread reads and hashes, a helper thread
    /// writes, so hashing and writing overlap.
    fn stream_into(
        reader: &mut dyn Read,
        file: &mut File,
        tmp: &Path,
    ) -> Result<BlobRef, BlobError> {
        let (full_tx, full_rx) = mpsc::sync_channel::<(Vec<u8>, usize)>(PIPELINE_DEPTH);
        let (free_tx, free_rx) = mpsc::sync_channel::<Vec<u8>>(PIPELINE_DEPTH + 1);
        for _ in 0..PIPELINE_DEPTH {
            let _ = free_tx.send(vec![0u8; BLOB_BUF]);
        }
        std::thread::scope(|s| {
            let writer = s.spawn(move || -> io::Result<()> {
                for (buf, n) in full_rx {
                    file.write_all(&buf[..n])?;
                    // The reader side may have stopped; a failed send is fine.
                    let _ = free_tx.send(buf);
                }
                file.sync_all()
            });
            let mut hasher = Sha256::new();
            let mut size = 0u64;
            let read_result = loop {
                let Ok(mut buf) = free_rx.recv() else {
                    break Ok(()); // writer died; its error is reported below
                };
                let n = match read_full(reader, &mut buf) {
                    Ok(n) => n,
                    Err(source) => {
                        break Err(BlobError::Source {
                            offset: size,
                            source,
                        });
                    }
                };
                if n == 0 {
                    break Ok(());
                }
                hasher.update(&buf[..n]);
                size += n as u64;
                if full_tx.send((buf, n)).is_err() {
                    break Ok(());
                }
            };
            drop(full_tx);
            let write_result = match writer.join() {
                Ok(r) => r.map_err(io(tmp, "write/fsync blob temp file")),
                Err(_) => Err(BlobError::Io {
                    path: tmp.to_path_buf(),
                    op: "write blob temp file",
                    source: io::Error::other("writer thread panicked"),
                }),
            };
            read_result?;
            write_result?;
            Ok(BlobRef {
                digest: Digest::from(hasher),
                size,
            })
        })
    }

    fn put_inner(&self, reader: &mut dyn Read, tmp: &Path) -> Result<BlobRef, BlobError> {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(tmp)
            .map_err(io(tmp, "create blob temp file"))?;
        let blob = Self::stream_into(reader, &mut file, tmp)?;
        drop(file);
        let dest = self.path_of(&blob.digest);
        if let Ok(meta) = fs::metadata(&dest)
            && meta.len() == blob.size
        {
            fs::remove_file(tmp).map_err(io(tmp, "remove duplicate temp file"))?;
            return Ok(blob);
        }
        let shard = dest.parent().unwrap_or(&self.root).to_path_buf();
        if !shard.exists() {
            fs::create_dir_all(&shard).map_err(io(&shard, "create shard directory"))?;
            fsync_dir(&self.root)?;
        }
        fs::rename(tmp, &dest).map_err(io(&dest, "rename blob into place"))?;
        fsync_dir(&shard)?;
        Ok(blob)
    }

    fn open_file(&self, digest: &Digest) -> Result<File, BlobError> {
        let path = self.path_of(digest);
        File::open(&path).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                BlobError::NotFound { digest: *digest }
            } else {
                io(&path, "open blob")(e)
            }
        })
    }
}

impl BlobStore for FileBlobStore {
    fn put_stream(&self, reader: &mut dyn Read) -> Result<BlobRef, BlobError> {
        let tmp = temp_path_for(&self.root.join("tmp").join("put"));
        let result = self.put_inner(reader, &tmp);
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    fn open(&self, digest: &Digest) -> Result<Box<dyn Read + Send>, BlobError> {
        let f = self.open_file(digest)?;
        Ok(Box::new(VerifyingReader::new(
            BufReader::with_capacity(BLOB_BUF, f),
            *digest,
        )))
    }

    fn verify(&self, digest: &Digest) -> Result<BlobRef, BlobError> {
        let f = self.open_file(digest)?;
        let path = self.path_of(digest);
        let mut r = VerifyingReader::new(f, *digest);
        let size = drain(&mut r).map_err(|(e, _)| {
            if let Some(BlobError::DigestMismatch { expected, actual }) = BlobError::from_io(&e) {
                return BlobError::DigestMismatch {
                    expected: *expected,
                    actual: *actual,
                };
            }
            io(&path, "read blob")(e)
        })?;
        Ok(BlobRef {
            digest: *digest,
            size,
        })
    }

    fn exists(&self, digest: &Digest) -> Result<bool, BlobError> {
        let path = self.path_of(digest);
        path.try_exists().map_err(io(&path, "stat blob"))
    }

    fn size(&self, digest: &Digest) -> Result<u64, BlobError> {
        self.open_file(digest)?
            .metadata()
            .map(|m| m.len())
            .map_err(io(&self.path_of(digest), "stat blob"))
    }

    fn list(&self) -> Result<Vec<BlobRef>, BlobError> {
        let mut out = Vec::new();
        for shard in fs::read_dir(&self.root).map_err(io(&self.root, "list blobs"))? {
            let shard = shard.map_err(io(&self.root, "list blobs"))?;
            let prefix = shard.file_name().to_string_lossy().into_owned();
            if prefix.len() != 2 || !shard.path().is_dir() {
                continue; // `tmp` and anything foreign
            }
            let shard_path = shard.path();
            for entry in fs::read_dir(&shard_path).map_err(io(&shard_path, "list shard"))? {
                let entry = entry.map_err(io(&shard_path, "list shard"))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                let Ok(digest) = Digest::from_hex(&format!("{prefix}{name}")) else {
                    continue;
                };
                let size = entry
                    .metadata()
                    .map_err(io(&entry.path(), "stat blob"))?
                    .len();
                out.push(BlobRef { digest, size });
            }
        }
        out.sort_by_key(|b| b.digest);
        Ok(out)
    }

    fn delete(&self, digest: &Digest) -> Result<bool, BlobError> {
        let path = self.path_of(digest);
        match fs::remove_file(&path) {
            Ok(()) => {
                fsync_dir(path.parent().unwrap_or(&self.root))?;
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io(&path, "delete blob")(e)),
        }
    }
}

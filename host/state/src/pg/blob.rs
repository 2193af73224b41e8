//! Blobs of a plan as 1 MiB `bytea` chunks: `cutover_blob_chunks` holds the
//! chunks of one put (`put_id`), `cutover_blobs` keys a put by its digest.
//!
//! A put streams its chunks in one transaction, hashing as it goes, then
//! inserts the index row; if the digest is already stored the transaction is
//! rolled back (dedupe). Reads fetch one chunk at a time and verify the
//! digest at the end, so memory stays bounded whatever the blob size.

use std::io::{self, Read};
use std::sync::{Arc, Mutex};

use sha2::{Digest as _, Sha256};

use super::{Conn, PgConfig, check_fence, db_error, lock};
use crate::backend::Fence;
use crate::blob::{BLOB_BUF, BlobError, BlobRef, BlobStore, VerifyingReader, drain, read_full};
use crate::db::DbError;
use crate::digest::Digest;

/// Blobs of a plan in bytea chunks.
#[derive(Debug)]
pub struct PgBlobStore {
    conn: Arc<Mutex<Conn>>,
    plan: String,
    fence: Option<Fence>,
}

fn size_of(size: i64) -> u64 {
    u64::try_from(size).unwrap_or(0)
}

impl PgBlobStore {
    pub(crate) fn open(cfg: Arc<PgConfig>, fence: Option<Fence>) -> Result<PgBlobStore, DbError> {
        let plan = cfg.plan().to_string();
        let conn = Conn::open(cfg, "opening the blob store")?;
        Ok(PgBlobStore {
            conn: Arc::new(Mutex::new(conn)),
            plan,
            fence,
        })
    }

    /// `put_id` and size of a stored blob.
    fn find(&self, digest: &Digest, op: &'static str) -> Result<Option<(i64, u64)>, BlobError> {
        let mut conn = lock(&self.conn);
        let (client, cfg) = conn.client(op)?;
        let row = client
            .query_opt(
                "SELECT put_id, size FROM cutover_blobs WHERE plan = $1 AND digest = $2",
                &[&self.plan, &digest.to_hex()],
            )
            .map_err(|e| db_error(cfg, op, &e, false))?;
        Ok(row.map(|r| (r.get(0), size_of(r.get(1)))))
    }
}

impl BlobStore for PgBlobStore {
    fn put_stream(&self, reader: &mut dyn Read) -> Result<BlobRef, BlobError> {
        const OP: &str = "storing a blob";
        let mut conn = lock(&self.conn);
        let (client, cfg) = conn.client(OP)?;
        let q = |e: postgres::Error| BlobError::Db(db_error(cfg, OP, &e, false));
        let mut tx = client.transaction().map_err(q)?;
        let put_id: i64 = tx
            .query_one("SELECT nextval('cutover_blob_put_ids')", &[])
            .map_err(q)?
            .get(0);
        let insert = tx
            .prepare("INSERT INTO cutover_blob_chunks (put_id, idx, data) VALUES ($1, $2, $3)")
            .map_err(q)?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut buf = vec![0u8; BLOB_BUF];
        for idx in 0i32.. {
            let n = read_full(reader, &mut buf).map_err(|source| BlobError::Source {
                offset: size,
                source,
            })?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            size += n as u64;
            tx.execute(&insert, &[&put_id, &idx, &&buf[..n]])
                .map_err(q)?;
            if n < buf.len() {
                break;
            }
        }
        let blob = BlobRef {
            digest: Digest::from(hasher),
            size,
        };
        let size_col = i64::try_from(size).unwrap_or(i64::MAX);
        let inserted = tx
            .execute(
                "INSERT INTO cutover_blobs (plan, digest, size, put_id) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (plan, digest) DO NOTHING",
                &[&self.plan, &blob.digest.to_hex(), &size_col, &put_id],
            )
            .map_err(q)?;
        if inserted == 0 {
            // Already stored: drop the chunks of this put.
            tx.rollback().map_err(q)?;
            return Ok(blob);
        }
        if let Err(detail) = check_fence(&mut tx, &self.plan, self.fence).map_err(q)? {
            return Err(BlobError::Fenced { detail });
        }
        tx.commit().map_err(q)?;
        Ok(blob)
    }

    fn open(&self, digest: &Digest) -> Result<Box<dyn Read + Send>, BlobError> {
        let (put_id, _) = self
            .find(digest, "opening a blob")?
            .ok_or(BlobError::NotFound { digest: *digest })?;
        let chunks = ChunkReader {
            conn: self.conn.clone(),
            put_id,
            next: 0,
            buf: Vec::new(),
            pos: 0,
            done: false,
        };
        Ok(Box::new(VerifyingReader::new(chunks, *digest)))
    }

    fn verify(&self, digest: &Digest) -> Result<BlobRef, BlobError> {
        let mut r = self.open(digest)?;
        let size = drain(&mut r).map_err(|(e, size)| {
            match e.into_inner().map(|b| b.downcast::<BlobError>()) {
                Some(Ok(blob_err)) => *blob_err,
                Some(Err(other)) => BlobError::Source {
                    offset: size,
                    source: io::Error::other(other),
                },
                None => BlobError::Source {
                    offset: size,
                    source: io::Error::other("read failed"),
                },
            }
        })?;
        Ok(BlobRef {
            digest: *digest,
            size,
        })
    }

    fn exists(&self, digest: &Digest) -> Result<bool, BlobError> {
        Ok(self.find(digest, "looking for a blob")?.is_some())
    }

    fn size(&self, digest: &Digest) -> Result<u64, BlobError> {
        self.find(digest, "reading a blob's size")?
            .map(|(_, size)| size)
            .ok_or(BlobError::NotFound { digest: *digest })
    }

    fn list(&self) -> Result<Vec<BlobRef>, BlobError> {
        const OP: &str = "listing blobs";
        let mut conn = lock(&self.conn);
        let (client, cfg) = conn.client(OP)?;
        let rows = client
            .query(
                "SELECT digest, size FROM cutover_blobs WHERE plan = $1 ORDER BY digest",
                &[&self.plan],
            )
            .map_err(|e| db_error(cfg, OP, &e, false))?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let hex: String = row.get(0);
            // A row whose digest is not one (edited by hand) is skipped, as
            // the file store skips foreign file names.
            if let Ok(digest) = Digest::from_hex(&hex) {
                out.push(BlobRef {
                    digest,
                    size: size_of(row.get(1)),
                });
            }
        }
        out.sort_by_key(|b| b.digest);
        Ok(out)
    }

    fn delete(&self, digest: &Digest) -> Result<bool, BlobError> {
        const OP: &str = "deleting a blob";
        let mut conn = lock(&self.conn);
        let (client, cfg) = conn.client(OP)?;
        let q = |e: postgres::Error| BlobError::Db(db_error(cfg, OP, &e, false));
        let mut tx = client.transaction().map_err(q)?;
        if let Err(detail) = check_fence(&mut tx, &self.plan, self.fence).map_err(q)? {
            return Err(BlobError::Fenced { detail });
        }
        let row = tx
            .query_opt(
                "DELETE FROM cutover_blobs WHERE plan = $1 AND digest = $2 RETURNING put_id",
                &[&self.plan, &digest.to_hex()],
            )
            .map_err(q)?;
        let Some(row) = row else {
            return Ok(false);
        };
        let put_id: i64 = row.get(0);
        tx.execute(
            "DELETE FROM cutover_blob_chunks WHERE put_id = $1",
            &[&put_id],
        )
        .map_err(q)?;
        tx.commit().map_err(q)?;
        Ok(true)
    }
}

/// Reads the chunks of one put in order, one query per chunk.
struct ChunkReader {
    conn: Arc<Mutex<Conn>>,
    put_id: i64,
    next: i32,
    buf: Vec<u8>,
    pos: usize,
    done: bool,
}

impl Read for ChunkReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        const OP: &str = "reading a blob";
        if self.pos == self.buf.len() && !self.done {
            let mut conn = lock(&self.conn);
            let (client, cfg) = conn
                .client(OP)
                .map_err(|e| io::Error::other(BlobError::Db(e)))?;
            let row = client
                .query_opt(
                    "SELECT data FROM cutover_blob_chunks WHERE put_id = $1 AND idx = $2",
                    &[&self.put_id, &self.next],
                )
                .map_err(|e| io::Error::other(BlobError::Db(db_error(cfg, OP, &e, false))))?;
            match row {
                Some(row) => {
                    self.buf = row.get(0);
                    self.pos = 0;
                    self.next += 1;
                }
                None => self.done = true,
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

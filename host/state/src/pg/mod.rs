//! PostgreSQL backend: journal, fenced lease, blobs and documents of a plan
//! in one database.
//!
//! # Schema
//!
//! * `cutover_journal_<key>` — one table per plan ([`PgConfig::journal_table`]):
//!   `(seq bigint primary key, line text)`, where `line` is exactly the file
//!   journal's line for that record without its newline (see
//!   [`crate::journal::codec`]), so a row edited in the database fails its
//!   checksum or the chain like a flipped bit in `journal.log`.
//! * `cutover_plans` — which plans have a journal table (so a dropped table is
//!   reported as missing, never silently recreated empty).
//! * `cutover_leases` — one row per plan: holder, pid, host, purpose, the
//!   fencing `token` (grows by one at every acquisition, never reused) and
//!   `expires_at`, judged by the database clock.
//! * `cutover_blobs` (plan, digest, size, put_id) + `cutover_blob_chunks`
//!   (put_id, idx, data bytea of up to 1 MiB).
//! * `cutover_docs` (plan, name, body bytea).
//!
//! Every write runs in a transaction that also locks the plan's lease row
//! (`FOR SHARE`) and commits only if the writer's token is the current one
//! and the lease has not expired ([`check_fence`]).

mod blob;
mod config;
mod docs;
mod import;
mod journal;
mod lease;
mod tls;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use postgres::GenericClient;

use crate::backend::Fence;
use crate::blob::BlobError;
use crate::db::{DbError, DbErrorKind};
use crate::docs::DocError;
use crate::journal::JournalError;

pub use blob::PgBlobStore;
pub use config::{
    CONNECT_TIMEOUT, PASSWORD_ENV, PASSWORD_FILE_ENV, PGPASSWORD_ENV, PgConfig, password_from,
    plan_key,
};
pub use docs::PgDocStore;
pub use journal::PgJournal;
pub use lease::{PgLease, PgLeaseHandle};
pub use tls::TlsMode;

pub(crate) use config::{Conn, db_error};

/// Advisory lock key that serialises schema changes of every plan.
const SCHEMA_LOCK: i64 = 0x0063_7574_6f76_6572; // "cutover"

const SHARED_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS cutover_plans (
    plan text PRIMARY KEY,
    journal_table text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE TABLE IF NOT EXISTS cutover_leases (
    plan text PRIMARY KEY,
    holder text,
    pid bigint,
    host text,
    purpose text,
    token bigint NOT NULL DEFAULT 0,
    acquired_at timestamptz,
    heartbeat_at timestamptz,
    expires_at timestamptz);
CREATE SEQUENCE IF NOT EXISTS cutover_blob_put_ids;
CREATE TABLE IF NOT EXISTS cutover_blobs (
    plan text NOT NULL,
    digest text NOT NULL,
    size bigint NOT NULL,
    put_id bigint NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (plan, digest));
CREATE TABLE IF NOT EXISTS cutover_blob_chunks (
    put_id bigint NOT NULL,
    idx integer NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (put_id, idx));
CREATE TABLE IF NOT EXISTS cutover_docs (
    plan text NOT NULL,
    name text NOT NULL,
    body bytea NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (plan, name));
";

/// A plan's state in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgState {
    cfg: Arc<PgConfig>,
    conn: Arc<Mutex<Conn>>,
}

/// Locks a connection; a poisoned lock (a panic elsewhere) still holds a
/// usable connection object, which reconnects if needed.
pub(crate) fn lock(conn: &Mutex<Conn>) -> MutexGuard<'_, Conn> {
    conn.lock().unwrap_or_else(|p| p.into_inner())
}

/// Creates the tables every plan shares (idempotent; serialised).
pub(crate) fn ensure_shared(conn: &mut Conn, op: &'static str) -> Result<(), DbError> {
    let (client, cfg) = conn.client(op)?;
    let mut tx = client
        .transaction()
        .map_err(|e| db_error(cfg, op, &e, false))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
        .and_then(|_| tx.batch_execute(SHARED_SCHEMA))
        .map_err(|e| db_error(cfg, op, &e, false))?;
    tx.commit().map_err(|e| db_error(cfg, op, &e, false))
}

impl PgState {
    /// Connects (checks the server answers and the credentials work).
    pub fn connect(cfg: PgConfig) -> Result<PgState, DbError> {
        let cfg = Arc::new(cfg);
        let conn = Conn::open(cfg.clone(), "connecting")?;
        Ok(PgState {
            cfg,
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &PgConfig {
        &self.cfg
    }

    /// Creates the plan's tables when missing. Refuses (with
    /// [`DbErrorKind::MissingTable`]) to recreate a journal table that
    /// existed and was dropped: that would silently restart the plan.
    pub fn ensure_schema(&self) -> Result<(), DbError> {
        const OP: &str = "creating the state tables";
        let mut conn = lock(&self.conn);
        ensure_shared(&mut conn, OP)?;
        let table = self.cfg.journal_table();
        let (client, cfg) = conn.client(OP)?;
        let q = |e: postgres::Error| db_error(cfg, OP, &e, false);
        let mut tx = client.transaction().map_err(q)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
            .map_err(q)?;
        let known = tx
            .query_opt(
                "SELECT to_char(created_at, 'YYYY-MM-DD HH24:MI:SS TZ') FROM cutover_plans WHERE plan = $1",
                &[&cfg.plan()],
            )
            .map_err(q)?;
        let present: bool = tx
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
            .map_err(q)?
            .get(0);
        match (known, present) {
            (Some(row), false) => {
                let created: String = row.get(0);
                return Err(DbError {
                    target: cfg.target().to_string(),
                    op: OP,
                    kind: DbErrorKind::MissingTable,
                    detail: format!(
                        "journal table {table} of plan {:?} (created {created}) is gone; \
                         refusing to start the plan over with an empty journal",
                        cfg.plan()
                    ),
                });
            }
            (Some(_), true) => {}
            (None, _) => {
                tx.batch_execute(&format!(
                    "CREATE TABLE IF NOT EXISTS {table} (
                        seq bigint PRIMARY KEY CHECK (seq > 0),
                        line text NOT NULL)"
                ))
                .map_err(q)?;
                tx.execute(
                    "INSERT INTO cutover_plans (plan, journal_table) VALUES ($1, $2)",
                    &[&cfg.plan(), &table],
                )
                .map_err(q)?;
            }
        }
        tx.commit().map_err(q)
    }

    /// Whether the plan has state (its journal table exists).
    pub fn exists(&self) -> Result<bool, DbError> {
        const OP: &str = "looking for the journal table";
        let mut conn = lock(&self.conn);
        let table = self.cfg.journal_table();
        let (client, cfg) = conn.client(OP)?;
        client
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
            .map(|r| r.get(0))
            .map_err(|e| db_error(cfg, OP, &e, false))
    }

    /// `host:port/dbname`.
    pub fn target(&self) -> &str {
        self.cfg.target()
    }

    /// The plan's lease.
    pub fn lease(&self, purpose: Option<String>, ttl: Duration) -> PgLease {
        PgLease::new(self.cfg.clone(), purpose, ttl)
    }

    /// The plan's journal; writes need `fence`.
    pub fn journal(&self, fence: Option<Fence>) -> Result<PgJournal, JournalError> {
        PgJournal::open(self.cfg.clone(), fence)
    }

    /// The plan's blobs; writes need `fence`.
    pub fn blobs(&self, fence: Option<Fence>) -> Result<PgBlobStore, BlobError> {
        Ok(PgBlobStore::open(self.cfg.clone(), fence)?)
    }

    /// The plan's documents; writes need `fence`.
    pub fn docs(&self, fence: Option<Fence>) -> Result<PgDocStore, DocError> {
        Ok(PgDocStore::open(self.cfg.clone(), fence)?)
    }
}

/// Inside a write transaction: locks the plan's lease row (`FOR SHARE`, so
/// nobody can take the lease over until this transaction ends) and checks
/// that `fence` is the current token of an unexpired lease. `Ok(Err(why))`
/// when the write must be refused.
pub(crate) fn check_fence(
    tx: &mut impl GenericClient,
    plan: &str,
    fence: Option<Fence>,
) -> Result<Result<(), String>, postgres::Error> {
    let Some(fence) = fence else {
        return Ok(Err(
            "this handle is read-only: it was opened without holding the lease".to_string(),
        ));
    };
    let ours = fence.token;
    let row = tx.query_opt(
        "SELECT token, holder, pid, host, expires_at > clock_timestamp(),
                (extract(epoch FROM clock_timestamp() - expires_at) * 1000)::bigint
         FROM cutover_leases WHERE plan = $1 FOR SHARE",
        &[&plan],
    )?;
    let Some(row) = row else {
        return Ok(Err(format!(
            "our token {ours}: no lease was ever taken for plan {plan:?}"
        )));
    };
    let token: i64 = row.get(0);
    let holder: Option<String> = row.get(1);
    let pid: Option<i64> = row.get(2);
    let host: Option<String> = row.get(3);
    let live: Option<bool> = row.get(4);
    let late_ms: Option<i64> = row.get(5);
    let Some(holder) = holder else {
        return Ok(Err(format!(
            "our token {ours}: the lease was released or force-unlocked and nobody holds it"
        )));
    };
    if u64::try_from(token).ok() != Some(ours) {
        return Ok(Err(format!(
            "our token {ours} is stale: the lease is now token {token}, held by {holder} \
             (pid {} on {})",
            pid.unwrap_or(0),
            host.unwrap_or_default()
        )));
    }
    if live != Some(true) {
        return Ok(Err(format!(
            "our lease (token {ours}) expired {} ms ago (no heartbeat in time); \
             acquire it again",
            late_ms.unwrap_or(0).max(0)
        )));
    }
    Ok(Ok(()))
}

/// Milliseconds since the Unix epoch of this machine's clock (journal `ts_ms`).
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

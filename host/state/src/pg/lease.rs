//! The lease of a plan as a row of `cutover_leases`, with expiry judged by
//! the database clock and a fencing token that grows at every acquisition.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use postgres::Row;

use super::{Conn, PgConfig, db_error, ensure_shared, lock};
use crate::backend::Fence;
use crate::db::DbError;
use crate::lease::sys;
use crate::lease::{
    Acquired, ForcedUnlock, Lease, LeaseError, LeaseHandle, LeaseInfo, StaleReason, StaleRecovery,
};

/// The lease row of a plan.
#[derive(Debug)]
pub struct PgLease {
    cfg: Arc<PgConfig>,
    purpose: Option<String>,
    ttl: Duration,
    conn: Mutex<Conn>,
}

/// A held lease row. Dropping it releases the lease (best effort).
#[derive(Debug)]
pub struct PgLeaseHandle {
    conn: Conn,
    info: LeaseInfo,
    token: u64,
    ttl: Duration,
    released: bool,
}

/// Columns read for a [`LeaseInfo`], then the heartbeat age (ms), then
/// whether the lease is live.
const INFO_COLUMNS: &str = "holder, pid, host, purpose, token,
    (extract(epoch FROM acquired_at) * 1000)::bigint,
    (extract(epoch FROM heartbeat_at) * 1000)::bigint,
    greatest((extract(epoch FROM clock_timestamp() - heartbeat_at) * 1000)::bigint, 0),
    expires_at > clock_timestamp()";

/// A lease row read with [`INFO_COLUMNS`]: the lease (if held), its
/// heartbeat age and whether it is live.
fn info_of(row: &Row) -> Option<(LeaseInfo, Duration, bool)> {
    let holder: Option<String> = row.get(0);
    let holder = holder?;
    let pid: Option<i64> = row.get(1);
    let token: i64 = row.get(4);
    let age_ms: Option<i64> = row.get(7);
    let live: Option<bool> = row.get(8);
    let info = LeaseInfo {
        holder,
        pid: pid.and_then(|p| u32::try_from(p).ok()).unwrap_or(0),
        host: row.get::<_, Option<String>>(2).unwrap_or_default(),
        boot_id: None,
        pid_start: None,
        acquired_at: row.get::<_, Option<i64>>(5).unwrap_or(0),
        heartbeat_at: row.get::<_, Option<i64>>(6).unwrap_or(0),
        purpose: row.get(3),
        token: u64::try_from(token).ok(),
    };
    let age = Duration::from_millis(age_ms.and_then(|a| u64::try_from(a).ok()).unwrap_or(0));
    Some((info, age, live == Some(true)))
}

fn ttl_ms(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX).max(1)
}

impl PgLease {
    pub(crate) fn new(cfg: Arc<PgConfig>, purpose: Option<String>, ttl: Duration) -> PgLease {
        PgLease {
            conn: Mutex::new(Conn::lazy(cfg.clone())),
            cfg,
            purpose,
            ttl,
        }
    }

    /// How long the lease lives without a heartbeat.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    fn read(&self, op: &'static str) -> Result<Option<(LeaseInfo, Duration, bool)>, DbError> {
        let mut conn = lock(&self.conn);
        let (client, cfg) = conn.client(op)?;
        let row = client
            .query_opt(
                &format!("SELECT {INFO_COLUMNS} FROM cutover_leases WHERE plan = $1"),
                &[&cfg.plan()],
            )
            .map_err(|e| db_error(cfg, op, &e, false))?;
        Ok(row.as_ref().and_then(info_of))
    }
}

impl Lease for PgLease {
    type Handle = PgLeaseHandle;

    fn acquire(&self) -> Result<Acquired<PgLeaseHandle>, LeaseError> {
        const OP: &str = "acquiring the lease";
        let mut conn = Conn::open(self.cfg.clone(), OP)?;
        ensure_shared(&mut conn, OP)?;
        let holder = sys::random_id();
        let host = sys::hostname();
        let pid = std::process::id();
        let (client, cfg) = conn.client(OP)?;
        let q = |e: postgres::Error| LeaseError::Db(db_error(cfg, OP, &e, false));
        let mut tx = client.transaction().map_err(q)?;
        tx.execute(
            "INSERT INTO cutover_leases (plan) VALUES ($1) ON CONFLICT DO NOTHING",
            &[&cfg.plan()],
        )
        .map_err(q)?;
        let row = tx
            .query_one(
                &format!("SELECT {INFO_COLUMNS} FROM cutover_leases WHERE plan = $1 FOR UPDATE"),
                &[&cfg.plan()],
            )
            .map_err(q)?;
        let recovered = match info_of(&row) {
            None => None,
            Some((info, age, true)) => {
                return Err(LeaseError::Held {
                    purpose: info.purpose,
                    holder: info.holder,
                    pid: info.pid,
                    host: info.host,
                    heartbeat_age: age,
                });
            }
            Some((previous, age, false)) => Some(StaleRecovery {
                previous,
                reason: StaleReason::HeartbeatExpired { age },
            }),
        };
        let row = tx
            .query_one(
                "UPDATE cutover_leases SET holder = $2, pid = $3, host = $4, purpose = $5,
                     token = token + 1, acquired_at = clock_timestamp(),
                     heartbeat_at = clock_timestamp(),
                     expires_at = clock_timestamp() + $6::bigint * interval '1 millisecond'
                 WHERE plan = $1
                 RETURNING token, (extract(epoch FROM acquired_at) * 1000)::bigint",
                &[
                    &cfg.plan(),
                    &holder,
                    &i64::from(pid),
                    &host,
                    &self.purpose,
                    &ttl_ms(self.ttl),
                ],
            )
            .map_err(q)?;
        tx.commit().map_err(q)?;
        let token: i64 = row.get(0);
        let at: i64 = row.get(1);
        let token = u64::try_from(token).unwrap_or(0);
        Ok(Acquired {
            handle: PgLeaseHandle {
                conn,
                info: LeaseInfo {
                    holder,
                    pid,
                    host,
                    boot_id: None,
                    pid_start: None,
                    acquired_at: at,
                    heartbeat_at: at,
                    purpose: self.purpose.clone(),
                    token: Some(token),
                },
                token,
                ttl: self.ttl,
                released: false,
            },
            recovered,
        })
    }

    fn current(&self) -> Result<Option<LeaseInfo>, LeaseError> {
        match self.read("reading the lease") {
            Ok(found) => Ok(found.map(|(info, _, _)| info)),
            // No lease was ever taken in this database.
            Err(e) if e.kind == crate::db::DbErrorKind::MissingTable => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn force_unlock(&self, reason: &str) -> Result<Option<ForcedUnlock>, LeaseError> {
        const OP: &str = "force-unlocking the lease";
        let mut conn = lock(&self.conn);
        ensure_shared(&mut conn, OP)?;
        let (client, cfg) = conn.client(OP)?;
        let q = |e: postgres::Error| LeaseError::Db(db_error(cfg, OP, &e, false));
        let mut tx = client.transaction().map_err(q)?;
        let row = tx
            .query_opt(
                &format!("SELECT {INFO_COLUMNS} FROM cutover_leases WHERE plan = $1 FOR UPDATE"),
                &[&cfg.plan()],
            )
            .map_err(q)?;
        let Some((previous, _, _)) = row.as_ref().and_then(info_of) else {
            return Ok(None);
        };
        // The row stays, with its token, so the next holder's token is higher.
        tx.execute(
            "UPDATE cutover_leases SET holder = NULL, pid = NULL, host = NULL, purpose = NULL,
                 expires_at = NULL WHERE plan = $1",
            &[&cfg.plan()],
        )
        .map_err(q)?;
        tx.commit().map_err(q)?;
        let raw = serde_json::to_string_pretty(&previous).unwrap_or_default();
        Ok(Some(ForcedUnlock {
            previous: Some(previous),
            raw,
            reason: reason.to_string(),
        }))
    }
}

impl PgLeaseHandle {
    /// The fencing token every write checks.
    pub fn fence(&self) -> Fence {
        Fence { token: self.token }
    }

    /// How long the lease lives without a heartbeat.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    fn lost(&mut self, op: &'static str) -> LeaseError {
        let current = self.conn.client(op).ok().and_then(|(client, cfg)| {
            client
                .query_opt(
                    &format!("SELECT {INFO_COLUMNS} FROM cutover_leases WHERE plan = $1"),
                    &[&cfg.plan()],
                )
                .ok()
                .flatten()
        });
        LeaseError::Lost {
            holder: self.info.holder.clone(),
            current: current
                .as_ref()
                .and_then(info_of)
                .map(|(info, _, _)| Box::new(info)),
        }
    }

    fn release_inner(&mut self) -> Result<(), LeaseError> {
        const OP: &str = "releasing the lease";
        if self.released {
            return Ok(());
        }
        self.released = true;
        let token = i64::try_from(self.token).unwrap_or(i64::MAX);
        let (client, cfg) = self.conn.client(OP)?;
        let n = client
            .execute(
                "UPDATE cutover_leases SET holder = NULL, pid = NULL, host = NULL,
                     purpose = NULL, expires_at = NULL
                 WHERE plan = $1 AND token = $2 AND holder = $3",
                &[&cfg.plan(), &token, &self.info.holder],
            )
            .map_err(|e| db_error(cfg, OP, &e, false))?;
        if n == 0 {
            return Err(self.lost(OP));
        }
        Ok(())
    }
}

impl LeaseHandle for PgLeaseHandle {
    fn info(&self) -> &LeaseInfo {
        &self.info
    }

    fn heartbeat(&mut self) -> Result<(), LeaseError> {
        const OP: &str = "renewing the lease";
        if self.released {
            return Err(LeaseError::Lost {
                holder: self.info.holder.clone(),
                current: None,
            });
        }
        let token = i64::try_from(self.token).unwrap_or(i64::MAX);
        let (client, cfg) = self.conn.client(OP)?;
        let row = client
            .query_opt(
                "UPDATE cutover_leases SET heartbeat_at = clock_timestamp(),
                     expires_at = clock_timestamp() + $4::bigint * interval '1 millisecond'
                 WHERE plan = $1 AND token = $2 AND holder = $3
                     AND expires_at > clock_timestamp()
                 RETURNING (extract(epoch FROM heartbeat_at) * 1000)::bigint",
                &[&cfg.plan(), &token, &self.info.holder, &ttl_ms(self.ttl)],
            )
            .map_err(|e| db_error(cfg, OP, &e, false))?;
        match row {
            Some(row) => {
                self.info.heartbeat_at = row.get(0);
                Ok(())
            }
            None => Err(self.lost(OP)),
        }
    }

    fn release(mut self) -> Result<(), LeaseError> {
        self.release_inner()
    }
}

impl Drop for PgLeaseHandle {
    fn drop(&mut self) {
        let _ = self.release_inner();
    }
}

//! Documents of a plan as rows of `cutover_docs`.

use std::sync::{Arc, Mutex};

use super::{Conn, PgConfig, check_fence, db_error, lock};
use crate::backend::Fence;
use crate::db::DbError;
use crate::docs::{DocError, DocStore, check_doc_name};

/// Where operators' requests to the lease holder live (see
/// [`PgDocStore::post_request`]).
pub const REQUESTS_DIR: &str = "requests/";

/// Documents of a plan in a table.
#[derive(Debug)]
pub struct PgDocStore {
    conn: Mutex<Conn>,
    plan: String,
    fence: Option<Fence>,
}

impl PgDocStore {
    pub(crate) fn open(cfg: Arc<PgConfig>, fence: Option<Fence>) -> Result<PgDocStore, DbError> {
        let plan = cfg.plan().to_string();
        let conn = Conn::open(cfg, "opening the document store")?;
        Ok(PgDocStore {
            conn: Mutex::new(conn),
            plan,
            fence,
        })
    }

    /// Leaves an operator's request (`requests/...`) for the lease holder:
    /// the one write that needs no fence, since it changes no state, only
    /// asks the holder (which journals it under its fence, then deletes it).
    pub fn post_request(&self, name: &str, bytes: &[u8]) -> Result<(), DocError> {
        const OP: &str = "posting a request to the runner";
        check_doc_name(name)?;
        if !name.starts_with(REQUESTS_DIR) {
            return Err(DocError::BadName {
                name: name.to_string(),
                why: "only documents under requests/ are posted without the lease",
            });
        }
        let mut conn = lock(&self.conn);
        let (client, cfg) = conn.client(OP)?;
        client
            .execute(
                "INSERT INTO cutover_docs (plan, name, body) VALUES ($1, $2, $3)
                 ON CONFLICT (plan, name)
                 DO UPDATE SET body = EXCLUDED.body, updated_at = clock_timestamp()",
                &[&self.plan, &name, &bytes],
            )
            .map_err(|e| DocError::Db(db_error(cfg, OP, &e, false)))?;
        Ok(())
    }

    /// Runs `sql` (parameters: plan, name, then `extra`) in a fenced
    /// transaction; returns the rows it changed.
    fn write(
        &self,
        op: &'static str,
        sql: &str,
        name: &str,
        body: Option<&[u8]>,
    ) -> Result<u64, DocError> {
        check_doc_name(name)?;
        let mut conn = lock(&self.conn);
        let (client, cfg) = conn.client(op)?;
        let q = |e: postgres::Error| DocError::Db(db_error(cfg, op, &e, false));
        let mut tx = client.transaction().map_err(q)?;
        if let Err(detail) = check_fence(&mut tx, &self.plan, self.fence).map_err(q)? {
            return Err(DocError::Fenced { detail });
        }
        let n = match body {
            Some(body) => tx.execute(sql, &[&self.plan, &name, &body]),
            None => tx.execute(sql, &[&self.plan, &name]),
        }
        .map_err(q)?;
        tx.commit().map_err(q)?;
        Ok(n)
    }
}

impl DocStore for PgDocStore {
    fn put(&self, name: &str, bytes: &[u8]) -> Result<(), DocError> {
        self.write(
            "writing a document",
            "INSERT INTO cutover_docs (plan, name, body) VALUES ($1, $2, $3)
             ON CONFLICT (plan, name)
             DO UPDATE SET body = EXCLUDED.body, updated_at = clock_timestamp()",
            name,
            Some(bytes),
        )
        .map(|_| ())
    }

    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, DocError> {
        const OP: &str = "reading a document";
        check_doc_name(name)?;
        let mut conn = lock(&self.conn);
        let (client, cfg) = conn.client(OP)?;
        let row = client
            .query_opt(
                "SELECT body FROM cutover_docs WHERE plan = $1 AND name = $2",
                &[&self.plan, &name],
            )
            .map_err(|e| DocError::Db(db_error(cfg, OP, &e, false)))?;
        Ok(row.map(|r| r.get(0)))
    }

    fn list(&self, dir: &str, suffix: &str) -> Result<Vec<String>, DocError> {
        const OP: &str = "listing documents";
        check_doc_name(dir)?;
        let prefix = format!("{dir}/");
        let mut conn = lock(&self.conn);
        let (client, cfg) = conn.client(OP)?;
        let rows = client
            .query(
                "SELECT name FROM cutover_docs
                 WHERE plan = $1 AND left(name, length($2)) = $2 ORDER BY name",
                &[&self.plan, &prefix],
            )
            .map_err(|e| DocError::Db(db_error(cfg, OP, &e, false)))?;
        let mut names: Vec<String> = rows
            .into_iter()
            .map(|r| r.get::<_, String>(0))
            .filter(|n| {
                let rest = &n[prefix.len()..];
                !rest.contains('/') && rest.ends_with(suffix) && check_doc_name(n).is_ok()
            })
            .collect();
        names.sort();
        Ok(names)
    }

    fn delete(&self, name: &str) -> Result<bool, DocError> {
        self.write(
            "deleting a document",
            "DELETE FROM cutover_docs WHERE plan = $1 AND name = $2",
            name,
            None,
        )
        .map(|n| n > 0)
    }
}

//! Errors of a database-backed state (the PostgreSQL backend), shared by the
//! journal, lease, blob and document stores so each can say where and why.

use std::fmt;

/// What kind of database failure this is; decides what the operator is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbErrorKind {
    /// The server cannot be reached (wrong host or port, refused, gone away).
    Connect,
    /// The server refused the credentials.
    Auth,
    /// A table of the plan's state is missing (dropped, or never created here).
    MissingTable,
    /// The connection broke during a call: the database went away mid-run.
    ConnectionLost,
    /// The URL or a setting is malformed.
    Config,
    /// Any other error the server returned for a statement.
    Query,
}

impl fmt::Display for DbErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DbErrorKind::Connect => "cannot connect",
            DbErrorKind::Auth => "authentication failed",
            DbErrorKind::MissingTable => "missing table",
            DbErrorKind::ConnectionLost => "connection lost",
            DbErrorKind::Config => "bad configuration",
            DbErrorKind::Query => "query failed",
        })
    }
}

/// A failed database operation. `target` is the server and database, never
/// the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("state database {target}: {kind} while {op}: {detail}")]
pub struct DbError {
    /// `host:port/dbname` of the state database.
    pub target: String,
    /// What was being done (`appending to the journal`).
    pub op: &'static str,
    /// Classification.
    pub kind: DbErrorKind,
    /// The server's or driver's message.
    pub detail: String,
}

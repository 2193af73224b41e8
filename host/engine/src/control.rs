//! Operator requests to a live runner (`pause`, `abort`): a small checked
//! document the runner reads between steps. On the file backend it is
//! `control.json` in the state directory; on PostgreSQL it is the plan's
//! `requests/control.json` row, so an operator on another machine reaches a
//! runner anywhere (posting it is the one write that needs no lease: it only
//! asks; the runner journals it under its fence, then removes it).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use cutover_state::pg::PgDocStore;
use cutover_state::{
    DocStore, Fence, StateBackend, decode_checked_json, encode_checked_json, read_checked_json,
    write_checked_json,
};

use crate::error::EngineError;

/// File name of a pending request in the state directory.
pub const CONTROL_FILE: &str = "control.json";

/// The pending request's document on a database backend.
pub const CONTROL_DOC: &str = "requests/control.json";

/// A request for the runner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "kebab-case")]
pub enum ControlRequest {
    /// Pause at the next step boundary.
    Pause {
        /// Why.
        reason: String,
        /// Who.
        by: String,
    },
    /// Abort at the next step boundary.
    Abort {
        /// Why.
        reason: String,
        /// Who.
        by: String,
    },
}

/// Where the requests of one plan's runner are left.
pub(crate) enum Channel {
    /// `control.json` in the state directory.
    File(PathBuf),
    /// `requests/control.json` in the state database (one connection, kept).
    Db(PgDocStore),
}

impl Channel {
    /// The channel of `state`, whose local directory is `dir`; `fence` lets
    /// a runner remove what it journaled.
    pub(crate) fn open(
        state: &StateBackend,
        dir: &Path,
        fence: Option<Fence>,
    ) -> Result<Channel, EngineError> {
        Ok(match state {
            StateBackend::Dir(_) => Channel::File(dir.join(CONTROL_FILE)),
            StateBackend::Postgres(pg) => Channel::Db(pg.docs(fence)?),
        })
    }

    /// Leaves `req` for the runner (replacing an earlier request; abort
    /// wins over pause).
    pub(crate) fn post(&self, req: &ControlRequest) -> Result<(), EngineError> {
        if let (Some(ControlRequest::Abort { .. }), ControlRequest::Pause { .. }) =
            (self.peek(), req)
        {
            return Ok(());
        }
        match self {
            Channel::File(path) => Ok(write_checked_json(path, req)?),
            Channel::Db(docs) => {
                let bytes = encode_checked_json(Path::new(CONTROL_DOC), req)?;
                Ok(docs.post_request(CONTROL_DOC, &bytes)?)
            }
        }
    }

    /// The pending request, if any (an unreadable one, or a database that
    /// does not answer, counts as none: the next boundary asks again).
    pub(crate) fn peek(&self) -> Option<ControlRequest> {
        match self {
            Channel::File(path) => read_checked_json(path).ok(),
            Channel::Db(docs) => {
                let bytes = docs.get(CONTROL_DOC).ok()??;
                decode_checked_json(Path::new(CONTROL_DOC), &bytes).ok()
            }
        }
    }

    /// Removes the pending request once it is journaled.
    pub(crate) fn clear(&self) {
        match self {
            Channel::File(path) => {
                let _ = std::fs::remove_file(path);
            }
            Channel::Db(docs) => {
                let _ = docs.delete(CONTROL_DOC);
            }
        }
    }
}

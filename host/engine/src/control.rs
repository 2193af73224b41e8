//! Operator requests to a live runner (`pause`, `abort`), passed through a
//! small file in the state directory that the runner checks between steps.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use cutover_state::{FileError, read_checked_json, write_checked_json};

/// File name of a pending request in the state directory.
pub const CONTROL_FILE: &str = "control.json";

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

fn path(state_dir: &Path) -> PathBuf {
    state_dir.join(CONTROL_FILE)
}

/// Leaves `req` for the runner (replacing an earlier request; abort wins over pause).
pub fn post(state_dir: &Path, req: &ControlRequest) -> Result<(), FileError> {
    if let (Some(ControlRequest::Abort { .. }), ControlRequest::Pause { .. }) =
        (peek(state_dir), req)
    {
        return Ok(());
    }
    write_checked_json(&path(state_dir), req)
}

/// The pending request, if any (an unreadable file counts as none).
pub fn peek(state_dir: &Path) -> Option<ControlRequest> {
    read_checked_json(&path(state_dir)).ok()
}

/// Removes the pending request once it is journaled.
pub fn clear(state_dir: &Path) {
    let _ = std::fs::remove_file(path(state_dir));
}

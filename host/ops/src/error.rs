//! Errors of the operations crate.

use std::net::SocketAddr;

use cutover_base::exit::{ExitClass, HasExitClass};

/// What went wrong in an operations task.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// The metrics server may only listen on a loopback address.
    #[error(
        "refusing to serve metrics on {0}: only loopback addresses (127.0.0.0/8, ::1) are allowed; put a reverse proxy in front to expose them"
    )]
    NotLoopback(SocketAddr),
    /// Binding the metrics listener failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Requested address.
        addr: SocketAddr,
        /// Cause.
        source: std::io::Error,
    },
    /// Starting the server thread failed.
    #[error("cannot start the metrics server thread: {0}")]
    Thread(std::io::Error),
    /// A threshold is outside its allowed range.
    #[error("threshold `{name}` = {value} is invalid: {why}")]
    Threshold {
        /// Threshold name.
        name: &'static str,
        /// Given value.
        value: f64,
        /// Allowed range.
        why: &'static str,
    },
    /// A progress value is outside 0..=1 or not a number.
    #[error("progress of phase `{phase}` is {value}: must be a number between 0 and 1")]
    Progress {
        /// Phase id.
        phase: String,
        /// Given value.
        value: f64,
    },
    /// A progress value names a phase the plan does not have.
    #[error("progress given for unknown phase `{0}`")]
    UnknownPhase(String),
    /// Encoding the registry failed.
    #[error("cannot encode metrics: {0}")]
    Encode(std::fmt::Error),
    /// JSON serialization failed.
    #[error("cannot serialize to JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Usage when a value the operator gave cannot be used (an address to serve
/// on, a threshold, a progress value); internal when the server thread or
/// the encoding fails.
impl HasExitClass for OpsError {
    fn exit_class(&self) -> ExitClass {
        match self {
            OpsError::NotLoopback(_)
            | OpsError::Bind { .. }
            | OpsError::Threshold { .. }
            | OpsError::Progress { .. }
            | OpsError::UnknownPhase(_) => ExitClass::Usage,
            OpsError::Thread(_) | OpsError::Encode(_) | OpsError::Json(_) => ExitClass::Internal,
        }
    }
}

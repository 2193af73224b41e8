//! Why a notification could not be delivered.

use cutover_base::exit::{ExitClass, HasExitClass};

/// A notification that could not be delivered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// The target has no transport (a plain name such as `#ops`).
    #[error("target `{0}` is not a webhook URL: nothing to send to")]
    NoTransport(String),
    /// A CA file named for HTTPS deliveries is unusable.
    #[error("CA certificate file `{path}` for notification webhooks is unusable: {reason}")]
    CaFile {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// Every attempt failed, or the time budget ran out.
    #[error("gave up on {target} after {attempts} attempt(s): {last}")]
    GaveUp {
        /// The target URL.
        target: String,
        /// Attempts made.
        attempts: u32,
        /// The last attempt's error.
        last: String,
    },
}

impl NotifyError {
    /// Attempts made (0 when nothing was sent).
    pub fn attempts(&self) -> u32 {
        match self {
            NotifyError::NoTransport(_) | NotifyError::CaFile { .. } => 0,
            NotifyError::GaveUp { attempts, .. } => *attempts,
        }
    }
}

/// Usage when the target is not something to send to or a CA file is
/// unusable; failed when the delivery was tried and gave up.
impl HasExitClass for NotifyError {
    fn exit_class(&self) -> ExitClass {
        match self {
            NotifyError::NoTransport(_) | NotifyError::CaFile { .. } => ExitClass::Usage,
            NotifyError::GaveUp { .. } => ExitClass::Failed,
        }
    }
}

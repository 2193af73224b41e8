//! Why a notification could not be delivered.

/// A notification that could not be delivered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// The target has no transport (a plain name such as `#ops`).
    #[error("target `{0}` is not a webhook URL: nothing to send to")]
    NoTransport(String),
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
            NotifyError::NoTransport(_) => 0,
            NotifyError::GaveUp { attempts, .. } => *attempts,
        }
    }
}

//! Errors of the comparison engine.

use std::path::PathBuf;

use cutover_base::exit::{ExitClass, HasExitClass};

/// Everything that can go wrong while reading inputs or comparing.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// The input file could not be read.
    #[error("{path}: cannot read: {source}", path = path.display())]
    Io {
        /// File that failed.
        path: PathBuf,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// The input is not valid JSON or does not have the expected shape.
    #[error("{origin}:{line}:{column}: {message}")]
    Syntax {
        /// File name (or other origin label) of the input.
        origin: String,
        /// 1-based line.
        line: usize,
        /// 1-based column (0 when unknown).
        column: usize,
        /// What was expected / what went wrong.
        message: String,
    },
    /// The input is valid JSON but no known format could be recognised.
    #[error("{origin}: unrecognised alert dump: {reason}")]
    UnknownFormat {
        /// File name (or other origin label) of the input.
        origin: String,
        /// Why detection failed.
        reason: String,
    },
    /// An option value is invalid (thresholds out of range, bad rename...).
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// A report file could not be written (`--report-html PATH` and friends).
    #[error("{path}: cannot write report: {source}", path = path.display())]
    WriteReport {
        /// File that failed.
        path: PathBuf,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// Writing the report failed.
    #[error("cannot write report: {0}")]
    Output(#[from] std::io::Error),
    /// Serialising the report failed.
    #[error("cannot serialise report: {0}")]
    Serialize(#[source] serde_json::Error),
}

impl CompareError {
    /// Build a [`CompareError::Syntax`] from a serde_json error, shifting the
    /// line by `line_offset` (for JSON-lines input where each line is parsed alone).
    pub(crate) fn from_json(origin: &str, err: &serde_json::Error, line_offset: usize) -> Self {
        let mut message = err.to_string();
        // serde_json appends " at line L column C"; we print that position ourselves.
        if let Some(idx) = message.rfind(" at line ") {
            message.truncate(idx);
        }
        CompareError::Syntax {
            origin: origin.to_string(),
            line: err.line() + line_offset,
            column: err.column(),
            message,
        }
    }
}

/// Usage when an input or an option is at fault (a report path that cannot
/// be written included); internal when writing or serialising the report to
/// stdout fails.
impl HasExitClass for CompareError {
    fn exit_class(&self) -> ExitClass {
        match self {
            CompareError::Io { .. }
            | CompareError::Syntax { .. }
            | CompareError::UnknownFormat { .. }
            | CompareError::InvalidOption(_)
            | CompareError::WriteReport { .. } => ExitClass::Usage,
            CompareError::Output(_) | CompareError::Serialize(_) => ExitClass::Internal,
        }
    }
}

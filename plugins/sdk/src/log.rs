//! Logging through the host `log` import; the host tags each line with the
//! plugin name.

use crate::action::cutover::plugin::host::{self, LogLevel};

/// Logs `message` with structured `fields` at `level`.
pub fn log_with(level: LogLevel, message: impl AsRef<str>, fields: &[(&str, &str)]) {
    let fields: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    host::log(level, message.as_ref(), &fields);
}

/// Logs at `trace`.
pub fn trace(message: impl AsRef<str>) {
    log_with(LogLevel::Trace, message, &[]);
}

/// Logs at `debug`.
pub fn debug(message: impl AsRef<str>) {
    log_with(LogLevel::Debug, message, &[]);
}

/// Logs at `info`.
pub fn info(message: impl AsRef<str>) {
    log_with(LogLevel::Info, message, &[]);
}

/// Logs at `warn`.
pub fn warn(message: impl AsRef<str>) {
    log_with(LogLevel::Warn, message, &[]);
}

/// Logs at `error`.
pub fn error(message: impl AsRef<str>) {
    log_with(LogLevel::Error, message, &[]);
}

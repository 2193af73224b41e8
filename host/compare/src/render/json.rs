//! The report as pretty JSON: the documented, stable format
//! (`docs/report.md`, schema [`crate::REPORT_SCHEMA`]).

use crate::error::CompareError;
use crate::report::Report;

/// Render the report as pretty-printed JSON followed by a newline: the
/// documented, stable format (`docs/report.md`).
pub fn render_json(r: &Report) -> Result<String, CompareError> {
    let mut s = serde_json::to_string_pretty(r).map_err(CompareError::Serialize)?;
    s.push('\n');
    Ok(s)
}

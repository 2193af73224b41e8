//! A comparison of two dump files as `cutover compare` asks for it
//! ([`CompareRequest`]), and running it ([`run`]).

use crate::error::CompareError;
use crate::options::CompareOptions;
use crate::output::{OutputFormat, write_atomic_with};
use crate::parse::Format;
use crate::render::json::JsonLayout;
use crate::render::source::Source;
use crate::report::Verdict;
use crate::streaming::{Dumps, compare_files, phase};
use std::io::Write;
use std::path::PathBuf;

/// What to compare and which reports to produce.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareRequest {
    /// Dump of the old system.
    pub old: PathBuf,
    /// Format of `old` (`None`: detected).
    pub old_format: Option<Format>,
    /// Dump of the new system.
    pub new: PathBuf,
    /// Format of `new` (`None`: detected).
    pub new_format: Option<Format>,
    /// A second read of the old system (in `old_format`), to measure the
    /// noise floor.
    pub noise: Option<PathBuf>,
    /// Normalisation, matching and risk options.
    pub options: CompareOptions,
    /// Format of the report written to the output of [`run`].
    pub format: OutputFormat,
    /// Report files also written (each atomically), in this order.
    pub report_files: Vec<(OutputFormat, PathBuf)>,
    /// Layout of the JSON report, on the output and in files.
    pub json: JsonLayout,
    /// The output of [`run`] is a terminal: JSON written there is pretty
    /// even without `json.pretty`.
    pub terminal: bool,
}

impl CompareRequest {
    /// Compare `old` with `new`: formats detected, default options, a text
    /// report and no report file.
    pub fn new(old: impl Into<PathBuf>, new: impl Into<PathBuf>) -> CompareRequest {
        CompareRequest {
            old: old.into(),
            old_format: None,
            new: new.into(),
            new_format: None,
            noise: None,
            options: CompareOptions::default(),
            format: OutputFormat::Text,
            report_files: Vec::new(),
            json: JsonLayout::default(),
            terminal: false,
        }
    }
}

/// Run the comparison, write the requested report files (each atomically)
/// and write the report to `out` in [`CompareRequest::format`]. Returns the
/// verdict; the caller maps it to an exit code.
///
/// Every format is streamed: the dumps are compared on compact data and
/// each report is rendered from its summary while the alert lists are
/// walked, never held, so memory does not grow with the report. Nothing is
/// written to `out` when a report file fails.
pub fn run(req: &CompareRequest, out: &mut dyn Write) -> Result<Verdict, CompareError> {
    req.options.validate()?;
    let dumps = Dumps {
        old: (&req.old, req.old_format),
        new: (&req.new, req.new_format),
        noise: req.noise.as_deref(),
    };
    let report = compare_files(&dumps, &req.options)?;
    for (format, path) in &req.report_files {
        write_atomic_with(path, |file| format.write(&report, req.json, file))?;
    }
    let stdout = JsonLayout {
        pretty: req.json.pretty || req.terminal,
        ..req.json
    };
    req.format.write(&report, stdout, out)?;
    phase("write");
    Ok(report.report().verdict)
}

//! The report as JSON: the documented, stable format (`docs/report.md`,
//! schema [`crate::REPORT_SCHEMA`]), compact or pretty, with the matched
//! pairs listed or only summarised ([`JsonLayout`]).

use crate::backtest::prediction::Prediction;
use crate::error::CompareError;
use crate::options::CompareOptions;
use crate::report::{
    Breakdown, Inputs, MatchedAlert, NoiseFloor, Report, RiskLevel, TimeRange, UnmatchedAlert,
    Verdict,
};
use crate::stats::DelayStats;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;

/// How the JSON report is laid out. The default is what files and pipes
/// get: compact, matched pairs summarised.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JsonLayout {
    /// Indented, one field per line (for a terminal or `--pretty`); else
    /// compact, on one line.
    pub pretty: bool,
    /// List every matched pair in `matched_alerts` (`--matched`); else that
    /// field is `null` and the pairs are only summarised (`matched`,
    /// `delay_seconds`, `by_alertname`, `by_severity`).
    pub matched: bool,
}

impl JsonLayout {
    /// Pretty, matched pairs summarised.
    pub const PRETTY: JsonLayout = JsonLayout {
        pretty: true,
        matched: false,
    };
    /// Pretty, every matched pair listed.
    pub const FULL: JsonLayout = JsonLayout {
        pretty: true,
        matched: true,
    };
}

/// Render the report as JSON in `layout`, followed by a newline.
pub fn render_json_with(r: &Report, layout: JsonLayout) -> Result<String, CompareError> {
    let mut out = Vec::new();
    write_json(r, layout, &mut out)?;
    String::from_utf8(out).map_err(|e| CompareError::Output(std::io::Error::other(e)))
}

/// Render the report as pretty JSON with the matched pairs summarised
/// ([`JsonLayout::PRETTY`]), followed by a newline.
pub fn render_json(r: &Report) -> Result<String, CompareError> {
    render_json_with(r, JsonLayout::PRETTY)
}

/// Write the report as JSON in `layout`, followed by a newline.
pub(crate) fn write_json(
    r: &Report,
    layout: JsonLayout,
    out: &mut dyn Write,
) -> Result<(), CompareError> {
    let view = JsonView::new(r, layout.matched);
    if layout.pretty {
        serde_json::to_writer_pretty(&mut *out, &view).map_err(CompareError::Serialize)?;
    } else {
        serde_json::to_writer(&mut *out, &view).map_err(CompareError::Serialize)?;
    }
    out.write_all(b"\n")?;
    Ok(())
}

/// What the JSON report holds: the [`Report`]'s fields in order, with the
/// matched pairs `null` when they are only summarised.
#[derive(Serialize)]
pub(crate) struct JsonView<'a> {
    schema: &'a str,
    total_old: usize,
    total_new: usize,
    matched: usize,
    missing: usize,
    extra: usize,
    match_rate: Option<f64>,
    risk_level: RiskLevel,
    verdict: Verdict,
    delay_seconds: &'a DelayStats,
    recommendations: &'a [String],
    noise_floor: Option<&'a NoiseFloor>,
    inputs: Option<&'a Inputs>,
    missing_alerts: &'a [UnmatchedAlert],
    extra_alerts: &'a [UnmatchedAlert],
    matched_alerts: Option<&'a [MatchedAlert]>,
    by_alertname: &'a BTreeMap<String, Breakdown>,
    by_severity: &'a BTreeMap<String, Breakdown>,
    by_label: Option<&'a BTreeMap<String, Breakdown>>,
    options: &'a CompareOptions,
    time_range: Option<TimeRange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prediction: Option<&'a Prediction>,
}

impl<'a> JsonView<'a> {
    /// The JSON of `r`; `matched_alerts` is `null` unless `matched`.
    pub(crate) fn new(r: &'a Report, matched: bool) -> JsonView<'a> {
        // No `..`: a field added to `Report` must be added here too.
        let Report {
            schema,
            total_old,
            total_new,
            matched: matched_count,
            missing,
            extra,
            match_rate,
            risk_level,
            verdict,
            delay_seconds,
            recommendations,
            noise_floor,
            inputs,
            missing_alerts,
            extra_alerts,
            matched_alerts,
            by_alertname,
            by_severity,
            by_label,
            options,
            time_range,
            prediction,
        } = r;
        JsonView {
            schema,
            total_old: *total_old,
            total_new: *total_new,
            matched: *matched_count,
            missing: *missing,
            extra: *extra,
            match_rate: *match_rate,
            risk_level: *risk_level,
            verdict: *verdict,
            delay_seconds,
            recommendations,
            noise_floor: noise_floor.as_ref(),
            inputs: inputs.as_ref(),
            missing_alerts,
            extra_alerts,
            matched_alerts: matched.then_some(matched_alerts.as_slice()),
            by_alertname,
            by_severity,
            by_label: by_label.as_ref(),
            options,
            time_range: *time_range,
            prediction: prediction.as_ref(),
        }
    }
}

/// A writer that turns serde_json's pretty output into its compact output
/// on the way through: whitespace outside strings is dropped (the pretty
/// printer adds nothing else, and strings hold no raw whitespace but
/// spaces, which are kept).
pub(crate) struct Compact<'w> {
    out: &'w mut dyn Write,
    in_string: bool,
    escaped: bool,
    buf: Vec<u8>,
}

impl<'w> Compact<'w> {
    /// Compact JSON written to `out`.
    pub(crate) fn to(out: &'w mut dyn Write) -> Compact<'w> {
        Compact {
            out,
            in_string: false,
            escaped: false,
            buf: Vec::new(),
        }
    }
}

impl Write for Compact<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.clear();
        self.buf.reserve(data.len());
        for &b in data {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                }
                self.buf.push(b);
            } else if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                self.in_string = b == b'"';
                self.buf.push(b);
            }
        }
        self.out.write_all(&self.buf)?;
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_writer_gives_serde_compact_output() {
        let v = serde_json::json!({
            "a b": [1, 2.5, null, {"x": "y \" z\\", "e": {}}],
            "s": "  spaced\ttab\nline ",
            "empty": [],
        });
        let pretty = serde_json::to_vec_pretty(&v).unwrap();
        let mut out = Vec::new();
        // Written in pieces that split strings and escapes.
        let mut c = Compact::to(&mut out);
        for piece in pretty.chunks(3) {
            c.write_all(piece).unwrap();
        }
        assert_eq!(out, serde_json::to_vec(&v).unwrap());
    }
}

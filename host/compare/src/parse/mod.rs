//! Parsers for alert dumps, with format auto-detection.

mod alertmanager;
mod cutover;
mod prometheus;
mod webhook;

use crate::error::CompareError;
use crate::model::Alert;
use serde::Serialize;
use std::path::Path;

/// Input formats understood by the comparison engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Alertmanager `GET /api/v2/alerts` (a JSON array).
    AlertmanagerV2,
    /// Prometheus `GET /api/v1/alerts` (`{"status":"success","data":{"alerts":[...]}}`).
    PrometheusV1,
    /// Alertmanager webhook payloads, one JSON object per line.
    Webhook,
    /// cutover's own export, `{"format":"cutover-alerts/v1",...}`.
    Cutover,
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Format::AlertmanagerV2 => "alertmanager-v2",
            Format::PrometheusV1 => "prometheus-v1",
            Format::Webhook => "webhook",
            Format::Cutover => "cutover",
        })
    }
}

/// Counters about what a parser read and dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ParseStats {
    /// Prometheus alerts in `pending` state, which have not fired and are skipped.
    pub skipped_pending: usize,
    /// Webhook payloads (lines) read.
    pub payloads: usize,
    /// Webhook notifications merged into an existing episode.
    pub merged_notifications: usize,
}

/// Result of parsing one dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// Format used (detected or forced); `None` for an empty input.
    pub format: Option<Format>,
    /// The alert episodes, sorted by start time then labels.
    pub alerts: Vec<Alert>,
    /// What was read and skipped.
    pub stats: ParseStats,
}

/// Read and parse a file. `format` overrides auto-detection.
pub fn parse_file(path: &Path, format: Option<Format>) -> Result<Parsed, CompareError> {
    let text = std::fs::read_to_string(path).map_err(|source| CompareError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_str(&text, &path.display().to_string(), format)
}

/// Parse a dump held in memory. `origin` names the input in errors and is the
/// default `source` of the alerts; `format` overrides auto-detection.
pub fn parse_str(text: &str, origin: &str, format: Option<Format>) -> Result<Parsed, CompareError> {
    if text.trim().is_empty() {
        return Ok(Parsed {
            format,
            alerts: Vec::new(),
            stats: ParseStats::default(),
        });
    }
    let format = match format {
        Some(f) => f,
        None => detect(text, origin)?,
    };
    let mut stats = ParseStats::default();
    let mut alerts = match format {
        Format::AlertmanagerV2 => alertmanager::parse(text, origin)?,
        Format::PrometheusV1 => prometheus::parse(text, origin, &mut stats)?,
        Format::Webhook => webhook::parse(text, origin, &mut stats)?,
        Format::Cutover => cutover::parse(text, origin)?,
    };
    alerts.sort_by(|a, b| {
        (a.starts_at, &a.labels, &a.fingerprint).cmp(&(b.starts_at, &b.labels, &b.fingerprint))
    });
    Ok(Parsed {
        format: Some(format),
        alerts,
        stats,
    })
}

/// Guess the format of a non-empty dump from its first JSON value.
pub fn detect(text: &str, origin: &str) -> Result<Format, CompareError> {
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<serde_json::Value>();
    let first = match stream.next() {
        Some(Ok(v)) => v,
        Some(Err(e)) => return Err(CompareError::from_json(origin, &e, 0)),
        None => {
            return Err(CompareError::UnknownFormat {
                origin: origin.to_string(),
                reason: "no JSON value found".into(),
            });
        }
    };
    let more = stream.next().is_some();
    let unknown = |reason: &str| CompareError::UnknownFormat {
        origin: origin.to_string(),
        reason: reason.to_string(),
    };
    match &first {
        serde_json::Value::Array(items) if !more => {
            // Alertmanager says startsAt; cutover's recorded dumps say starts_at.
            let cutover = items.first().is_some_and(|i| i.get("starts_at").is_some());
            Ok(if cutover {
                Format::Cutover
            } else {
                Format::AlertmanagerV2
            })
        }
        serde_json::Value::Object(map) => {
            if more {
                return Ok(Format::Webhook);
            }
            if map.get("format").and_then(|v| v.as_str()) == Some("cutover-alerts/v1") {
                Ok(Format::Cutover)
            } else if map.contains_key("data") && map.contains_key("status") {
                Ok(Format::PrometheusV1)
            } else if map.contains_key("alerts")
                && (map.contains_key("version") || map.contains_key("receiver"))
            {
                Ok(Format::Webhook)
            } else {
                Err(unknown(
                    "expected a cutover-alerts/v1 export, a Prometheus /api/v1/alerts response \
                     or Alertmanager webhook payloads",
                ))
            }
        }
        _ => Err(unknown(
            "expected a JSON array (Alertmanager /api/v2/alerts) or JSON object(s)",
        )),
    }
}

/// Deserialize `text` as `T`, mapping errors to a positioned [`CompareError`].
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    text: &str,
    origin: &str,
) -> Result<T, CompareError> {
    serde_json::from_str(text).map_err(|e| CompareError::from_json(origin, &e, 0))
}

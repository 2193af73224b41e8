//! cutover's own export format, `cutover-alerts/v1`.

use super::from_json;
use crate::error::CompareError;
use crate::model::{Alert, AlertState, label_fingerprint};
use crate::timefmt::JsonTime;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
struct Export {
    format: String,
    #[serde(default)]
    system: Option<String>,
    alerts: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    starts_at: JsonTime,
    #[serde(default)]
    ends_at: Option<JsonTime>,
    #[serde(default)]
    state: Option<AlertState>,
    #[serde(default)]
    fingerprint: Option<String>,
}

/// Parse an export. `system` (when present) becomes each alert's source.
/// A bare JSON array of entries (the file adapter's recorded `alerts.json`)
/// is accepted too, with the file as the source.
pub(super) fn parse(text: &str, origin: &str) -> Result<Vec<Alert>, CompareError> {
    let export: Export = if text.trim_start().starts_with('[') {
        Export {
            format: "cutover-alerts/v1".into(),
            system: None,
            alerts: from_json(text, origin)?,
        }
    } else {
        from_json(text, origin)?
    };
    if export.format != "cutover-alerts/v1" {
        return Err(CompareError::UnknownFormat {
            origin: origin.to_string(),
            reason: format!(
                "format is {:?}, expected \"cutover-alerts/v1\"",
                export.format
            ),
        });
    }
    let source = export.system.unwrap_or_else(|| origin.to_string());
    Ok(export
        .alerts
        .into_iter()
        .map(|e| {
            let ends_at = e.ends_at.map(|t| t.0);
            let state = e.state.unwrap_or(if ends_at.is_some() {
                AlertState::Resolved
            } else {
                AlertState::Active
            });
            Alert {
                fingerprint: e
                    .fingerprint
                    .filter(|f| !f.is_empty())
                    .unwrap_or_else(|| label_fingerprint(&e.labels)),
                labels: e.labels,
                annotations: e.annotations,
                starts_at: e.starts_at.0,
                ends_at,
                state,
                source: source.clone(),
            }
        })
        .collect())
}

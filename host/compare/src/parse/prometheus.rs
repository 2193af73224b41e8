//! Prometheus `GET /api/v1/alerts`.

use super::{ParseStats, from_json};
use crate::error::CompareError;
use crate::model::{Alert, AlertState, label_fingerprint};
use crate::timefmt::JsonTime;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
struct Response {
    status: String,
    #[serde(default)]
    error: Option<String>,
    data: Option<Data>,
}

#[derive(Deserialize)]
struct Data {
    alerts: Vec<PromAlert>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromAlert {
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    state: PromState,
    #[serde(default)]
    active_at: Option<JsonTime>,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum PromState {
    Firing,
    Pending,
    Inactive,
}

/// Parse the response. Only `firing` alerts count; `pending` ones are counted
/// in [`ParseStats::skipped_pending`].
pub(super) fn parse(
    text: &str,
    origin: &str,
    stats: &mut ParseStats,
) -> Result<Vec<Alert>, CompareError> {
    let resp: Response = from_json(text, origin)?;
    if resp.status != "success" {
        return Err(CompareError::UnknownFormat {
            origin: origin.to_string(),
            reason: format!(
                "Prometheus response status is {:?}, expected \"success\"{}",
                resp.status,
                resp.error
                    .map(|e| format!(" (error: {e})"))
                    .unwrap_or_default()
            ),
        });
    }
    let Some(data) = resp.data else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (i, a) in data.alerts.into_iter().enumerate() {
        match a.state {
            PromState::Pending => {
                stats.skipped_pending += 1;
                continue;
            }
            PromState::Inactive => continue,
            PromState::Firing => {}
        }
        let Some(active_at) = a.active_at else {
            return Err(CompareError::UnknownFormat {
                origin: origin.to_string(),
                reason: format!("data.alerts[{i}]: firing alert without activeAt"),
            });
        };
        out.push(Alert {
            fingerprint: label_fingerprint(&a.labels),
            labels: a.labels,
            annotations: a.annotations,
            starts_at: active_at.0,
            ends_at: None,
            state: AlertState::Active,
            source: origin.to_string(),
        });
    }
    Ok(out)
}

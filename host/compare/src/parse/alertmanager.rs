//! Alertmanager `GET /api/v2/alerts`.

use super::from_json;
use crate::error::CompareError;
use crate::model::{Alert, AlertState, label_fingerprint};
use crate::timefmt::{JsonTime, is_go_zero};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AmAlert {
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    starts_at: JsonTime,
    #[serde(default)]
    ends_at: Option<JsonTime>,
    #[serde(default)]
    updated_at: Option<JsonTime>,
    #[serde(default)]
    fingerprint: Option<String>,
    status: AmStatus,
}

#[derive(Deserialize)]
struct AmStatus {
    state: AmState,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum AmState {
    Active,
    Suppressed,
    Unprocessed,
}

/// Parse the array. Alertmanager sets `endsAt` in the future (resolve timeout)
/// for active alerts, so an `endsAt` later than the newest `updatedAt` in the
/// file means "still active". Without any `updatedAt` in the file there is no
/// reference time, so `endsAt` is ignored and every alert is taken as not ended.
pub(super) fn parse(text: &str, origin: &str) -> Result<Vec<Alert>, CompareError> {
    let raw: Vec<AmAlert> = from_json(text, origin)?;
    let reference = raw.iter().filter_map(|a| a.updated_at.map(|t| t.0)).max();
    Ok(raw
        .into_iter()
        .map(|a| {
            let state = match a.status.state {
                AmState::Active | AmState::Unprocessed => AlertState::Active,
                AmState::Suppressed => AlertState::Suppressed,
            };
            let ends_at = a
                .ends_at
                .map(|t| t.0)
                .filter(|&e| !is_go_zero(e) && e >= a.starts_at.0)
                .filter(|&e| match reference {
                    Some(now) => e <= now,
                    None => false,
                });
            let state = if ends_at.is_some() {
                AlertState::Resolved
            } else {
                state
            };
            let fingerprint = a
                .fingerprint
                .filter(|f| !f.is_empty())
                .unwrap_or_else(|| label_fingerprint(&a.labels));
            Alert {
                labels: a.labels,
                annotations: a.annotations,
                starts_at: a.starts_at.0,
                ends_at,
                state,
                source: origin.to_string(),
                fingerprint,
            }
        })
        .collect())
}

//! Alertmanager webhook payloads (`version: "4"`), one JSON object per line.

use super::ParseStats;
use crate::error::CompareError;
use crate::model::{Alert, AlertState, label_fingerprint};
use crate::timefmt::{JsonTime, is_go_zero};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
struct Payload {
    alerts: Vec<WhAlert>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WhAlert {
    status: WhStatus,
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    starts_at: JsonTime,
    #[serde(default)]
    ends_at: Option<JsonTime>,
    #[serde(default)]
    fingerprint: Option<String>,
}

#[derive(Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum WhStatus {
    Firing,
    Resolved,
}

/// Parse JSON lines. Notifications of the same alert (same fingerprint and
/// `startsAt`) are merged into one episode whose `endsAt` comes from the
/// `resolved` notification. A file holding one pretty-printed payload is
/// accepted too.
pub(super) fn parse(
    text: &str,
    origin: &str,
    stats: &mut ParseStats,
) -> Result<Vec<Alert>, CompareError> {
    let payloads = read_payloads(text, origin)?;
    let mut episodes: BTreeMap<(String, i64), Alert> = BTreeMap::new();
    for payload in payloads {
        stats.payloads += 1;
        for a in payload.alerts {
            let fingerprint = a
                .fingerprint
                .filter(|f| !f.is_empty())
                .unwrap_or_else(|| label_fingerprint(&a.labels));
            let resolved = a.status == WhStatus::Resolved;
            let ends_at = a
                .ends_at
                .map(|t| t.0)
                .filter(|&e| resolved && !is_go_zero(e));
            let key = (fingerprint.clone(), a.starts_at.0);
            match episodes.get_mut(&key) {
                Some(ep) => {
                    stats.merged_notifications += 1;
                    if resolved {
                        ep.state = AlertState::Resolved;
                        ep.ends_at = ends_at.or(ep.ends_at);
                    }
                    ep.annotations.extend(a.annotations);
                }
                None => {
                    episodes.insert(
                        key,
                        Alert {
                            labels: a.labels,
                            annotations: a.annotations,
                            starts_at: a.starts_at.0,
                            ends_at,
                            state: if resolved {
                                AlertState::Resolved
                            } else {
                                AlertState::Active
                            },
                            source: origin.to_string(),
                            fingerprint,
                        },
                    );
                }
            }
        }
    }
    Ok(episodes.into_values().collect())
}

/// Split into payloads: one per non-blank line, or the whole text when it is a
/// single (possibly pretty-printed) JSON value.
fn read_payloads(text: &str, origin: &str) -> Result<Vec<Payload>, CompareError> {
    let non_blank = text.lines().filter(|l| !l.trim().is_empty()).count();
    if non_blank > 1 && serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
        // One pretty-printed payload spanning several lines.
        return Ok(vec![super::from_json(text, origin)?]);
    }
    let mut out = Vec::new();
    for (idx, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let p: Payload =
            serde_json::from_str(line).map_err(|e| CompareError::from_json(origin, &e, idx))?;
        out.push(p);
    }
    Ok(out)
}

//! The synthetic alert as Alertmanager's `/api/v2/alerts` takes it, and the
//! leftovers of earlier attempts as it answers them.

use serde::{Deserialize, Serialize};
use translate_core::time::{format_millis, parse_millis};

use crate::params::{Labels, MARKER};

/// One alert of a `POST /api/v2/alerts` body.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PostableAlert<'a> {
    labels: &'a Labels,
    annotations: &'a Labels,
    starts_at: String,
    ends_at: String,
}

/// The body that fires (or, with `ends_at` now, resolves) one alert.
pub fn post_body(labels: &Labels, annotations: &Labels, starts_at: i64, ends_at: i64) -> String {
    let alert = PostableAlert {
        labels,
        annotations,
        starts_at: format_millis(starts_at),
        ends_at: format_millis(ends_at),
    };
    // A map of strings and strings always serialises.
    serde_json::to_string(&[alert]).unwrap_or_default()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GettableAlert {
    labels: Labels,
    #[serde(default)]
    annotations: Labels,
    #[serde(default)]
    starts_at: Option<String>,
}

/// A synthetic alert still firing on an Alertmanager.
#[derive(Debug, Clone, PartialEq)]
pub struct Leftover {
    pub labels: Labels,
    pub annotations: Labels,
    /// When it started (Unix ms); resolving it keeps this start.
    pub starts_at: i64,
}

/// The alerts of a `GET /api/v2/alerts` answer that carry the run marker
/// `run` (the query filters already; this keeps only exact matches). A
/// start time that is missing or unreadable reads as `now` minus a minute
/// (resolving needs a start before the end).
pub fn leftovers(body: &str, run: &str, now: i64) -> Result<Vec<Leftover>, String> {
    let all: Vec<GettableAlert> =
        cutover_plugin_sdk::decode_json("the alert list", body).map_err(|e| e.to_string())?;
    Ok(all
        .into_iter()
        .filter(|a| a.labels.get(MARKER).is_some_and(|m| m == run))
        .map(|a| Leftover {
            starts_at: a
                .starts_at
                .as_deref()
                .and_then(|t| parse_millis(t).ok())
                .filter(|t| *t < now)
                .unwrap_or(now - 60_000),
            labels: a.labels,
            annotations: a.annotations,
        })
        .collect())
}

/// The query of the active alerts carrying run marker `run`.
pub fn leftovers_path(run: &str) -> String {
    let value = serde_json::to_string(run).unwrap_or_default();
    format!(
        "/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true&filter={}",
        percent_encode(&format!("{MARKER}={value}"))
    )
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn post_body_is_what_alertmanager_takes() {
        let labels: Labels = [("alertname".to_owned(), "C".to_owned())].into();
        let body = post_body(&labels, &Labels::new(), 0, 60_000);
        assert_eq!(
            body,
            r#"[{"labels":{"alertname":"C"},"annotations":{},"startsAt":"1970-01-01T00:00:00.000Z","endsAt":"1970-01-01T00:01:00.000Z"}]"#
        );
    }

    #[test]
    fn leftovers_keep_this_runs_marker_only() {
        let body = r#"[
            {"labels":{"alertname":"C","cutover_canary":"run-1","cutover_canary_via":"old"},
             "annotations":{"summary":"s"},"status":{"state":"active"},
             "startsAt":"1970-01-01T00:00:01.000Z"},
            {"labels":{"alertname":"C","cutover_canary":"run-2"},"annotations":{}},
            {"labels":{"alertname":"Real"}}
        ]"#;
        let l = leftovers(body, "run-1", 90_000).unwrap();
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].starts_at, 1000);
        assert_eq!(l[0].labels["cutover_canary_via"], "old");
        assert_eq!(l[0].annotations["summary"], "s");
        let l = leftovers(body, "run-2", 90_000).unwrap();
        assert_eq!(l[0].starts_at, 30_000);
        let e = leftovers("{}", "run-1", 0).unwrap_err();
        assert!(e.contains("the alert list"), "{e}");
    }

    #[test]
    fn the_leftover_query_is_encoded() {
        assert_eq!(
            leftovers_path("r 1/\"x\""),
            "/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true&filter=cutover_canary%3D%22r%201%2F%5C%22x%5C%22%22"
        );
    }
}

//! `GET /api/v1/alerts` answers to WIT alerts (firing ones only).

use std::collections::BTreeMap;

use cutover_adapter_util::labels::Tags;
use cutover_adapter_util::rfc3339::parse_millis;
use cutover_plugin_sdk::{Alert, AlertState, Window, decode_json};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Answer {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Data {
    alerts: Vec<ApiAlert>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiAlert {
    state: String,
    active_at: String,
    #[serde(flatten)]
    tags: Tags,
}

/// A stable fingerprint of a label set (FNV-1a 64 over sorted `name=value`
/// pairs), since Prometheus reports none.
pub fn fingerprint(labels: &BTreeMap<String, String>) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (k, v) in labels {
        for b in k.bytes().chain([0xff]).chain(v.bytes()).chain([0xfe]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// Parses the answer and keeps firing alerts whose `activeAt` is not after
/// the window end. `activeAt` (when the alert became pending) is reported
/// as `starts-at`; `ends-at` is empty (still firing).
pub fn parse(body: &str, window: &Window) -> Result<Vec<Alert>, String> {
    let answer: Answer = decode_json("/api/v1/alerts answer", body)?;
    if answer.status != "success" {
        return Err(format!(
            "/api/v1/alerts answered status {:?}: {}",
            answer.status,
            answer.error.unwrap_or_default()
        ));
    }
    let alerts = answer
        .data
        .ok_or("/api/v1/alerts answer: `data` is missing")?
        .alerts;
    let mut out = Vec::new();
    for (i, a) in alerts.into_iter().enumerate() {
        if a.state != "firing" {
            continue;
        }
        let starts_at = parse_millis(&a.active_at)
            .map_err(|e| format!("/api/v1/alerts answer: at `data.alerts[{i}].activeAt`: {e}"))?;
        if starts_at > window.end {
            continue;
        }
        let fingerprint = fingerprint(&a.tags.labels);
        out.push(a.tags.firing(starts_at, AlertState::Active, fingerprint));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = r#"{"status":"success","data":{"alerts":[
      {"labels":{"alertname":"Watchdog","severity":"none"},"annotations":{"summary":"always firing"},
       "state":"firing","activeAt":"1970-01-01T00:00:01.865576115Z","value":"1e+00"},
      {"labels":{"alertname":"HighQueueDepth","queue":"orders"},"annotations":{},
       "state":"pending","activeAt":"1970-01-01T00:00:02Z","value":"7.5e+01"},
      {"labels":{"alertname":"ErrorRateHigh"},"annotations":{},
       "state":"firing","activeAt":"1970-01-01T00:00:09Z","value":"2e-01"}]}}"#;

    #[test]
    fn keeps_firing_alerts_in_window() {
        let all = parse(BODY, &Window::until(i64::MAX)).unwrap();
        let names: Vec<&str> = all.iter().map(|a| a.labels[0].1.as_str()).collect();
        assert_eq!(names, ["Watchdog", "ErrorRateHigh"]);
        assert_eq!(all[0].starts_at, 1_865);
        assert_eq!(
            all[0].annotations,
            vec![("summary".into(), "always firing".into())]
        );
        let early = parse(BODY, &Window::until(5_000)).unwrap();
        assert_eq!(early.len(), 1);
    }

    #[test]
    fn fingerprint_depends_on_labels_only() {
        let a: BTreeMap<String, String> =
            [("a".into(), "1".into()), ("b".into(), "2".into())].into();
        let b: BTreeMap<String, String> = [("a".into(), "12".into())].into();
        assert_ne!(fingerprint(&a), fingerprint(&b));
        assert_eq!(fingerprint(&a), fingerprint(&a.clone()));
        assert_eq!(fingerprint(&a).len(), 16);
    }

    #[test]
    fn errors_are_reported() {
        let err = parse(r#"{"status":"error","error":"boom"}"#, &Window::until(1)).unwrap_err();
        assert!(err.contains("boom"), "{err}");
        let err = parse(
            r#"{"status":"success","data":{"alerts":[{"state":"firing","activeAt":"x"}]}}"#,
            &Window::until(1),
        )
        .unwrap_err();
        assert!(err.contains("data.alerts[0].activeAt"), "{err}");
        let err = parse("[]", &Window::until(1)).unwrap_err();
        assert!(err.contains("line 1"), "{err}");
    }
}

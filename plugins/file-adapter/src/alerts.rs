//! The recorded `alerts.json` dump: parsing and window filtering.

use std::collections::BTreeMap;

use cutover_plugin_sdk::{Alert, AlertState, Window};
use serde::Deserialize;

use cutover_adapter_util::rfc3339::parse_millis;

/// One record of `alerts.json` as written on disk.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRecord {
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    starts_at: String,
    #[serde(default)]
    ends_at: Option<String>,
    state: StateName,
    fingerprint: String,
}

#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum StateName {
    Active,
    Suppressed,
    Resolved,
}

/// Parses the dump text; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Vec<AlertRecord>, String> {
    cutover_plugin_sdk::decode_json(file, text)
}

/// Converts records to WIT alerts, keeping those whose
/// `[starts_at, ends_at or +inf]` overlaps the closed window.
pub fn in_window(
    file: &str,
    records: &[AlertRecord],
    window: &Window,
) -> Result<Vec<Alert>, String> {
    let mut out = Vec::new();
    for (i, r) in records.iter().enumerate() {
        let at = |field: &str, e: cutover_adapter_util::rfc3339::TimeError| {
            format!("{file}: at `[{i}].{field}`: {e}")
        };
        let starts = parse_millis(&r.starts_at).map_err(|e| at("starts_at", e))?;
        let ends = match &r.ends_at {
            Some(t) => Some(parse_millis(t).map_err(|e| at("ends_at", e))?),
            None => None,
        };
        let overlaps = starts <= window.end && ends.is_none_or(|e| e >= window.start);
        if overlaps {
            out.push(Alert {
                labels: pairs(&r.labels),
                annotations: pairs(&r.annotations),
                starts_at: starts,
                ends_at: ends,
                state: match r.state {
                    StateName::Active => AlertState::Active,
                    StateName::Suppressed => AlertState::Suppressed,
                    StateName::Resolved => AlertState::Resolved,
                },
                fingerprint: r.fingerprint.clone(),
            });
        }
    }
    Ok(out)
}

fn pairs(map: &BTreeMap<String, String>) -> Vec<(String, String)> {
    map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMP: &str = r#"[
      {"labels": {"alertname": "A"}, "annotations": {}, "starts_at": "1970-01-01T00:00:10Z",
       "ends_at": "1970-01-01T00:00:20Z", "state": "resolved", "fingerprint": "a"},
      {"labels": {"alertname": "B", "sev": "page"}, "annotations": {"s": "x"},
       "starts_at": "1970-01-01T00:00:30Z", "ends_at": null, "state": "active", "fingerprint": "b"}
    ]"#;

    fn names(alerts: &[Alert]) -> Vec<&str> {
        alerts.iter().map(|a| a.fingerprint.as_str()).collect()
    }

    #[test]
    fn filters_by_overlap() {
        let recs = parse("alerts.json", DUMP).unwrap();
        let w = |start, end| Window { start, end };
        assert_eq!(
            names(&in_window("f", &recs, &w(0, 5_000)).unwrap()),
            Vec::<&str>::new()
        );
        assert_eq!(names(&in_window("f", &recs, &w(0, 10_000)).unwrap()), ["a"]);
        assert_eq!(
            names(&in_window("f", &recs, &w(20_000, 29_999)).unwrap()),
            ["a"]
        );
        assert_eq!(
            names(&in_window("f", &recs, &w(20_001, 29_999)).unwrap()),
            Vec::<&str>::new()
        );
        assert_eq!(
            names(&in_window("f", &recs, &w(15_000, 1_000_000)).unwrap()),
            ["a", "b"]
        );
        let all = in_window("f", &recs, &w(i64::MIN, i64::MAX)).unwrap();
        assert_eq!(
            all[1].labels,
            vec![
                ("alertname".into(), "B".into()),
                ("sev".into(), "page".into())
            ]
        );
        assert_eq!(all[1].ends_at, None);
        assert_eq!(all[1].state, AlertState::Active);
        assert_eq!(all[0].starts_at, 10_000);
    }

    #[test]
    fn errors_name_file_and_place() {
        let err = parse(
            "alerts.json",
            r#"[{"starts_at": "x", "state": "gone", "fingerprint": "f"}]"#,
        )
        .unwrap_err();
        assert!(
            err.contains("alerts.json") && err.contains("[0].state") && err.contains("line 1"),
            "{err}"
        );
        let recs = parse(
            "alerts.json",
            r#"[{"starts_at": "yesterday", "state": "active", "fingerprint": "f"}]"#,
        )
        .unwrap();
        let err = in_window("alerts.json", &recs, &Window { start: 0, end: 1 }).unwrap_err();
        assert!(
            err.contains("[0].starts_at") && err.contains("byte 0"),
            "{err}"
        );
    }
}

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

/// The start and end of record `i`, and whether it overlaps the closed
/// `window` (`[starts_at, ends_at or +inf]`).
fn span(
    file: &str,
    i: usize,
    r: &AlertRecord,
    window: &Window,
) -> Result<(i64, Option<i64>, bool), String> {
    let at = |field: &str, e: cutover_adapter_util::rfc3339::TimeError| {
        format!("{file}: at `[{i}].{field}`: {e}")
    };
    let starts = parse_millis(&r.starts_at).map_err(|e| at("starts_at", e))?;
    let ends = match &r.ends_at {
        Some(t) => Some(parse_millis(t).map_err(|e| at("ends_at", e))?),
        None => None,
    };
    let overlaps = starts <= window.end && ends.is_none_or(|e| e >= window.start);
    Ok((starts, ends, overlaps))
}

/// Calls `each` with every record of dump `text` that overlaps `window`
/// (with its start and end), one record at a time and in order: the dump
/// is never held as records, so a dump of a million alerts needs its text
/// and one record in memory.
pub fn each_in_window(
    file: &str,
    text: &[u8],
    window: &Window,
    each: impl FnMut(&AlertRecord, i64, Option<i64>) -> Result<(), String>,
) -> Result<(), String> {
    use serde::de::{Deserializer as _, Error as _, SeqAccess, Visitor};

    struct Each<'a, F> {
        file: &'a str,
        window: &'a Window,
        each: F,
    }
    impl<'de, F> Visitor<'de> for Each<'_, F>
    where
        F: FnMut(&AlertRecord, i64, Option<i64>) -> Result<(), String>,
    {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list of alert records")
        }
        fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
            let mut i = 0usize;
            while let Some(r) = seq.next_element::<AlertRecord>()? {
                let (starts, ends, overlaps) =
                    span(self.file, i, &r, self.window).map_err(A::Error::custom)?;
                if overlaps {
                    (self.each)(&r, starts, ends).map_err(A::Error::custom)?;
                }
                i += 1;
            }
            Ok(())
        }
    }
    let mut de = serde_json::Deserializer::from_slice(text);
    de.deserialize_seq(Each { file, window, each })
        .and_then(|()| de.end())
        .map_err(|e| format!("{file}: {e}"))
}

/// Writes record `r` (starting `starts`, ending `ends`) to `out`.
pub fn push(
    out: &mut cutover_plugin_sdk::AlertWriter<'_>,
    r: &AlertRecord,
    starts: i64,
    ends: Option<i64>,
) -> Result<(), String> {
    out.push_parts(
        r.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        r.annotations.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        starts,
        ends,
        r.state.into(),
        &r.fingerprint,
    )
    .map_err(|e| format!("{e:?}"))
}

impl From<StateName> for AlertState {
    fn from(s: StateName) -> AlertState {
        match s {
            StateName::Active => AlertState::Active,
            StateName::Suppressed => AlertState::Suppressed,
            StateName::Resolved => AlertState::Resolved,
        }
    }
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
        let (starts, ends, overlaps) = span(file, i, r, window)?;
        if overlaps {
            out.push(Alert {
                labels: pairs(&r.labels),
                annotations: pairs(&r.annotations),
                starts_at: starts,
                ends_at: ends,
                state: r.state.into(),
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
    fn streams_the_records_in_the_window_in_order_and_says_where_a_dump_is_bad() {
        let seen = |start, end| {
            let mut out = Vec::new();
            each_in_window("f", DUMP.as_bytes(), &Window { start, end }, |r, s, e| {
                out.push((r.fingerprint.clone(), s, e));
                Ok(())
            })
            .map(|()| out)
        };
        assert_eq!(
            seen(0, 40_000).unwrap(),
            [
                ("a".to_string(), 10_000, Some(20_000)),
                ("b".to_string(), 30_000, None)
            ]
        );
        assert_eq!(
            seen(25_000, 40_000).unwrap(),
            [("b".to_string(), 30_000, None)]
        );
        let cut = &DUMP.as_bytes()[..DUMP.len() - 10];
        let err = each_in_window(
            "alerts.json",
            cut,
            &Window { start: 0, end: 1 },
            |_, _, _| Ok(()),
        )
        .unwrap_err();
        assert!(
            err.starts_with("alerts.json: ") && err.contains("line"),
            "{err}"
        );
        let bad_time = DUMP.replace("1970-01-01T00:00:30Z", "yesterday");
        let err = each_in_window(
            "f",
            bad_time.as_bytes(),
            &Window { start: 0, end: 1 },
            |_, _, _| Ok(()),
        )
        .unwrap_err();
        assert!(err.contains("at `[1].starts_at`"), "{err}");
        let err =
            each_in_window("f", b"{}", &Window { start: 0, end: 1 }, |_, _, _| Ok(())).unwrap_err();
        assert!(err.contains("a list of alert records"), "{err}");
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

//! Icinga 2 `/v1/objects/services` answers to WIT alerts.

use std::collections::BTreeMap;

use cutover_plugin_sdk::{Alert, AlertState, Window};
use serde::Deserialize;
use serde_json::Value;

/// The filter sent to Icinga: hard non-OK states with a check result.
pub const FILTER: &str =
    "service.state != 0 && service.state_type == 1 && service.last_check_result";

/// The request body for `POST /v1/objects/services` (with
/// `X-HTTP-Method-Override: GET`).
pub fn query_body() -> String {
    serde_json::json!({
        "filter": FILTER,
        "attrs": ["name", "host_name", "state", "state_type", "last_check_result",
                  "last_hard_state_change", "last_state_change", "vars",
                  "acknowledgement", "downtime_depth"],
    })
    .to_string()
}

/// Which custom variables become labels (config `label_vars`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelVars {
    /// Every scalar variable (the default).
    All,
    /// Only these (comma-separated in config); the rest is dropped.
    Only(Vec<String>),
}

impl LabelVars {
    /// From config `label_vars`: absent or blank means all.
    pub fn from_config(value: Option<&str>) -> Self {
        let names: Vec<String> = value
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .collect();
        if names.is_empty() {
            Self::All
        } else {
            Self::Only(names)
        }
    }

    fn keeps(&self, name: &str) -> bool {
        match self {
            Self::All => true,
            Self::Only(names) => names.iter().any(|n| n == name),
        }
    }
}

/// The Icinga version from a `/v1/status/IcingaApplication` answer.
pub fn version(body: &str) -> Option<String> {
    let v: Value = serde_json::from_str(body).ok()?;
    v["results"][0]["status"]["icingaapplication"]["app"]["version"]
        .as_str()
        .map(str::to_owned)
}

#[derive(Debug, Deserialize)]
struct Answer {
    results: Vec<Object>,
}

#[derive(Debug, Deserialize)]
struct Object {
    attrs: Attrs,
}

#[derive(Debug, Deserialize)]
struct Attrs {
    name: String,
    host_name: String,
    state: f64,
    state_type: f64,
    #[serde(default)]
    last_check_result: Option<CheckResult>,
    #[serde(default)]
    last_hard_state_change: f64,
    #[serde(default)]
    last_state_change: f64,
    #[serde(default)]
    vars: Option<BTreeMap<String, Value>>,
    #[serde(default)]
    acknowledgement: f64,
    #[serde(default)]
    downtime_depth: f64,
}

#[derive(Debug, Deserialize)]
struct CheckResult {
    #[serde(default)]
    output: String,
    #[serde(default)]
    execution_end: f64,
}

fn severity(state: f64) -> &'static str {
    match state as i64 {
        1 => "warning",
        2 => "critical",
        _ => "unknown",
    }
}

/// A variable's label text: strings as they are, whole numbers without a
/// fraction (Icinga stores every number as a double), booleans; `None` for
/// null, arrays and dictionaries.
fn scalar(v: Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => format!("{}", f as i64),
            _ => n.to_string(),
        }),
        _ => None,
    }
}

/// Labels: `alertname` = service name, `host` = host name, `severity` from
/// the state (`warning`, `critical`, `unknown`), then the scalar custom
/// `vars` that `label_vars` keeps (they never override those three). So the
/// key of a problem is `host!service` (also its fingerprint) plus its vars.
/// Annotations: `summary` = check output, `state` = numeric state.
/// Acknowledged or in-downtime problems are `suppressed`. `starts_at` is the
/// last hard state change (else the last state change, else the check's
/// end). Soft states, OK services and services never checked are dropped
/// even if the server ignored the filter.
pub fn parse(body: &str, window: &Window, label_vars: &LabelVars) -> Result<Vec<Alert>, String> {
    let answer: Answer = cutover_plugin_sdk::decode_json("/v1/objects/services answer", body)?;
    let mut out = Vec::new();
    for o in answer.results {
        let a = o.attrs;
        let Some(result) = a.last_check_result else {
            continue;
        };
        if a.state == 0.0 || a.state_type != 1.0 {
            continue;
        }
        let since = [
            a.last_hard_state_change,
            a.last_state_change,
            result.execution_end,
        ]
        .into_iter()
        .find(|t| *t > 0.0)
        .unwrap_or(0.0);
        let starts_at = (since * 1000.0) as i64;
        if starts_at > window.end {
            continue;
        }
        let mut labels: BTreeMap<String, String> = BTreeMap::new();
        for (k, v) in a.vars.unwrap_or_default() {
            if !label_vars.keeps(&k) {
                continue;
            }
            if let Some(text) = scalar(v) {
                labels.insert(k, text);
            }
        }
        labels.insert("alertname".into(), a.name.clone());
        labels.insert("host".into(), a.host_name.clone());
        labels.insert("severity".into(), severity(a.state).into());
        out.push(Alert {
            labels: labels.into_iter().collect(),
            annotations: vec![
                ("summary".into(), result.output.trim().to_owned()),
                ("state".into(), (a.state as i64).to_string()),
            ],
            starts_at,
            ends_at: None,
            state: if a.acknowledgement != 0.0 || a.downtime_depth > 0.0 {
                AlertState::Suppressed
            } else {
                AlertState::Active
            },
            fingerprint: format!("{}!{}", a.host_name, a.name),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = r#"{"results":[
      {"attrs":{"name":"queue-emails","host_name":"web01","state":2.0,"state_type":1.0,
        "last_check_result":{"output":"queue emails depth 95","exit_status":2.0},
        "last_hard_state_change":1700000000.5,"vars":{"dummy_state":2.0,"team":"payments","list":[1]},
        "acknowledgement":0.0,"downtime_depth":0.0},"name":"web01!queue-emails","type":"Service"},
      {"attrs":{"name":"disk-data","host_name":"db01","state":1.0,"state_type":1.0,
        "last_check_result":{"output":"/data 95% used"},"last_hard_state_change":1700000001.0,
        "vars":null,"acknowledgement":1.0},"name":"db01!disk-data","type":"Service"},
      {"attrs":{"name":"soft","host_name":"db01","state":2.0,"state_type":0.0,
        "last_check_result":{"output":"x"},"last_hard_state_change":1.0},"name":"db01!soft"},
      {"attrs":{"name":"never","host_name":"db01","state":3.0,"state_type":1.0,
        "last_check_result":null,"last_hard_state_change":1.0},"name":"db01!never"}
    ]}"#;

    #[test]
    fn maps_hard_problems() {
        let all = parse(BODY, &Window::until(i64::MAX), &LabelVars::All).unwrap();
        assert_eq!(all.len(), 2);
        let a = &all[0];
        assert_eq!(a.fingerprint, "web01!queue-emails");
        assert_eq!(a.starts_at, 1_700_000_000_500);
        assert_eq!(a.state, AlertState::Active);
        let labels: BTreeMap<_, _> = a.labels.iter().cloned().collect();
        assert_eq!(labels["alertname"], "queue-emails");
        assert_eq!(labels["host"], "web01");
        assert_eq!(labels["severity"], "critical");
        assert_eq!(labels["team"], "payments");
        assert_eq!(labels["dummy_state"], "2");
        assert!(!labels.contains_key("list"));
        assert_eq!(a.annotations[0].1, "queue emails depth 95");
        assert_eq!(all[1].state, AlertState::Suppressed);
        let early = parse(BODY, &Window::until(1_700_000_000_600), &LabelVars::All).unwrap();
        assert_eq!(early.len(), 1);
    }

    #[test]
    fn label_vars_choose_the_labels() {
        let all = Window::until(i64::MAX);
        let only = LabelVars::from_config(Some(" team , nope,"));
        assert_eq!(only, LabelVars::Only(vec!["team".into(), "nope".into()]));
        assert_eq!(LabelVars::from_config(Some(" ")), LabelVars::All);
        assert_eq!(LabelVars::from_config(None), LabelVars::All);
        let alerts = parse(BODY, &all, &only).unwrap();
        let labels: Vec<&str> = alerts[0].labels.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(labels, ["alertname", "host", "severity", "team"]);
        // A variable never overrides the three built-in labels.
        let body = r#"{"results":[{"attrs":{"name":"s","host_name":"h","state":3,
            "state_type":1,"last_check_result":{"output":"o","execution_end":5.5},
            "last_hard_state_change":0,"vars":{"host":"x","severity":"page","n":1.5}}}]}"#;
        let a = &parse(body, &all, &LabelVars::All).unwrap()[0];
        let labels: BTreeMap<_, _> = a.labels.iter().cloned().collect();
        assert_eq!(labels["host"], "h");
        assert_eq!(labels["severity"], "unknown");
        assert_eq!(labels["n"], "1.5");
        assert_eq!(a.starts_at, 5_500, "falls back to the check's end");
    }

    #[test]
    fn version_from_status() {
        let body = r#"{"results":[{"name":"IcingaApplication","status":{"icingaapplication":
            {"app":{"node_name":"n","version":"r2.13.6-1"}}}}]}"#;
        assert_eq!(version(body).as_deref(), Some("r2.13.6-1"));
        assert_eq!(version("{}"), None);
        assert_eq!(version("nope"), None);
    }

    #[test]
    fn bad_answer_names_the_place() {
        let err = parse(
            r#"{"results":[{"attrs":{"name":1}}]}"#,
            &Window::until(1),
            &LabelVars::All,
        )
        .unwrap_err();
        assert!(err.contains("results[0].attrs.name"), "{err}");
        let body: Value = serde_json::from_str(&query_body()).unwrap();
        assert_eq!(body["filter"], FILTER);
    }
}

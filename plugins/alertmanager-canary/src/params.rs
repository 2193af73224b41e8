//! Step parameters: the synthetic alert's labels, the receivers expected to
//! get it per Alertmanager, and how long to wait.

use std::collections::BTreeMap;

use cutover_plugin_sdk::{PluginError, invalid_input};
use serde::Deserialize;

/// Label names and values.
pub type Labels = BTreeMap<String, String>;

/// The label that marks a synthetic alert with the run that posted it.
pub const MARKER: &str = "cutover_canary";
/// The label naming the Alertmanager (`old`, `new`) an alert was posted to.
pub const VIA: &str = "cutover_canary_via";
/// The label that makes each attempt's alert a new one (its post time).
pub const ATTEMPT: &str = "cutover_canary_attempt";

/// Default wait for every receiver.
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;
/// Default pause between two reads of the webhook sink.
pub const DEFAULT_POLL_MS: u64 = 250;
/// Longest accepted wait (an hour).
pub const MAX_TIMEOUT_MS: u64 = 3_600_000;

/// One Alertmanager of the migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Side {
    Old,
    New,
}

impl Side {
    /// `old` or `new`: the value of [`VIA`] and the config key prefix.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Old => "old",
            Side::New => "new",
        }
    }
}

/// Receivers expected to get the alert, per Alertmanager.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receivers {
    #[serde(default)]
    pub old: Vec<String>,
    #[serde(default)]
    pub new: Vec<String>,
}

/// Step parameters (JSON, unknown fields rejected).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// The synthetic alert's labels (from the plan).
    pub labels: Labels,
    /// Its annotations.
    #[serde(default)]
    pub annotations: Labels,
    /// Receivers that must get it, per Alertmanager.
    pub receivers: Receivers,
    /// How long to wait for every receiver, in ms.
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// Pause between two reads of the sink, in ms.
    #[serde(default)]
    pub poll_ms: Option<u64>,
}

/// Checked parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Canary {
    pub labels: Labels,
    pub annotations: Labels,
    /// `(alertmanager, receiver)` in plan order, old first.
    pub expected: Vec<(Side, String)>,
    pub timeout_ms: u64,
    pub poll_ms: u64,
}

impl Canary {
    /// The Alertmanagers that get the alert (those with expected receivers).
    pub fn sides(&self) -> Vec<Side> {
        let mut s: Vec<Side> = self.expected.iter().map(|(s, _)| *s).collect();
        s.dedup();
        s
    }
}

fn at(path: &str, why: impl std::fmt::Display) -> PluginError {
    invalid_input(format!("params: at JSON path `{path}`: {why}"))
}

impl Params {
    /// Checks the parameters.
    pub fn check(self) -> Result<Canary, PluginError> {
        if self.labels.is_empty() {
            return Err(at(
                "labels",
                "empty: give the synthetic alert's labels, e.g. {\"alertname\": \"CutoverCanary\", \"team\": \"web\"}",
            ));
        }
        if !self.labels.contains_key("alertname") {
            return Err(at(
                "labels",
                "no `alertname`: Alertmanager routes and groups by it",
            ));
        }
        if let Some(k) = self.labels.keys().find(|k| k.starts_with(MARKER)) {
            return Err(at(
                &format!("labels.{k}"),
                format!("`{MARKER}*` labels are set by the canary itself"),
            ));
        }
        let mut expected = Vec::new();
        for (side, names) in [
            (Side::Old, &self.receivers.old),
            (Side::New, &self.receivers.new),
        ] {
            for (i, name) in names.iter().enumerate() {
                let path = format!("receivers.{}[{i}]", side.as_str());
                if name.trim().is_empty() {
                    return Err(at(&path, "empty receiver name"));
                }
                if names[..i].contains(name) {
                    return Err(at(&path, format!("receiver {name:?} is listed twice")));
                }
                expected.push((side, name.clone()));
            }
        }
        if expected.is_empty() {
            return Err(at(
                "receivers",
                "no receiver: name the receivers that must get the alert, e.g. {\"old\": [\"web-team\"], \"new\": [\"web-team\"]}",
            ));
        }
        let timeout_ms = self.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS);
        if timeout_ms == 0 || timeout_ms > MAX_TIMEOUT_MS {
            return Err(at(
                "timeout_ms",
                format!("{timeout_ms}: expected 1..={MAX_TIMEOUT_MS}"),
            ));
        }
        let poll_ms = self.poll_ms.unwrap_or(DEFAULT_POLL_MS);
        if poll_ms == 0 || poll_ms > timeout_ms {
            return Err(at(
                "poll_ms",
                format!("{poll_ms}: expected 1..=timeout_ms ({timeout_ms})"),
            ));
        }
        Ok(Canary {
            labels: self.labels,
            annotations: self.annotations,
            expected,
            timeout_ms,
            poll_ms,
        })
    }
}

/// The labels of the alert one attempt posts to Alertmanager `side`: the
/// plan's, the run marker, the Alertmanager and the attempt.
pub fn alert_labels(base: &Labels, run: &str, side: Side, attempt: i64) -> Labels {
    let mut l = base.clone();
    l.insert(MARKER.to_owned(), run.to_owned());
    l.insert(VIA.to_owned(), side.as_str().to_owned());
    l.insert(ATTEMPT.to_owned(), attempt.to_string());
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<Canary, String> {
        let ctx = cutover_plugin_sdk::Context {
            plan: String::new(),
            phase: String::new(),
            step: String::new(),
            run_id: String::new(),
            params: text.into(),
        };
        let text = |e: PluginError| match e {
            PluginError::InvalidInput(m) => format!("InvalidInput: {m}"),
            other => format!("{other:?}"),
        };
        let p: Params = cutover_plugin_sdk::params(&ctx).map_err(text)?;
        p.check().map_err(text)
    }

    #[test]
    fn receivers_in_order_old_first_with_defaults() {
        let c = check(
            r#"{"labels":{"alertname":"CutoverCanary","team":"web"},
                "receivers":{"new":["web-team","sink"],"old":["web-team"]}}"#,
        )
        .unwrap();
        assert_eq!(
            c.expected,
            vec![
                (Side::Old, "web-team".to_owned()),
                (Side::New, "web-team".to_owned()),
                (Side::New, "sink".to_owned()),
            ]
        );
        assert_eq!(c.sides(), vec![Side::Old, Side::New]);
        assert_eq!(
            (c.timeout_ms, c.poll_ms),
            (DEFAULT_TIMEOUT_MS, DEFAULT_POLL_MS)
        );
        let c = check(
            r#"{"labels":{"alertname":"C"},"receivers":{"new":["r"]},"timeout_ms":5000,"poll_ms":100}"#,
        )
        .unwrap();
        assert_eq!(c.sides(), vec![Side::New]);
        assert_eq!((c.timeout_ms, c.poll_ms), (5000, 100));
    }

    #[test]
    fn bad_params_say_where_and_why() {
        for (text, want) in [
            (r#"{"receivers":{"new":["r"]}}"#, "missing field `labels`"),
            (
                r#"{"labels":{},"receivers":{"new":["r"]}}"#,
                "`labels`: empty",
            ),
            (
                r#"{"labels":{"team":"web"},"receivers":{"new":["r"]}}"#,
                "no `alertname`",
            ),
            (
                r#"{"labels":{"alertname":"C","cutover_canary":"x"},"receivers":{"new":["r"]}}"#,
                "`labels.cutover_canary`",
            ),
            (
                r#"{"labels":{"alertname":"C"},"receivers":{}}"#,
                "`receivers`: no receiver",
            ),
            (
                r#"{"labels":{"alertname":"C"},"receivers":{"new":["r","r"]}}"#,
                "`receivers.new[1]`: receiver \"r\" is listed twice",
            ),
            (
                r#"{"labels":{"alertname":"C"},"receivers":{"new":[" "]}}"#,
                "`receivers.new[0]`",
            ),
            (
                r#"{"labels":{"alertname":"C"},"receivers":{"mid":["r"]}}"#,
                "unknown field `mid`",
            ),
            (
                r#"{"labels":{"alertname":"C"},"receivers":{"new":["r"]},"timeout_ms":0}"#,
                "`timeout_ms`: 0",
            ),
            (
                r#"{"labels":{"alertname":"C"},"receivers":{"new":["r"]},"timeout_ms":10,"poll_ms":20}"#,
                "`poll_ms`: 20",
            ),
            (
                r#"{"labels":{"alertname":1},"receivers":{"new":["r"]}}"#,
                "`labels.alertname`",
            ),
        ] {
            let e = check(text).unwrap_err();
            assert!(e.starts_with("InvalidInput"), "{text}: {e}");
            assert!(e.contains(want), "{text}: {e}");
        }
    }

    #[test]
    fn attempt_labels_carry_marker_side_and_attempt() {
        let base: Labels = [("alertname".to_owned(), "C".to_owned())].into();
        let l = alert_labels(&base, "run-1", Side::New, 42);
        assert_eq!(l[MARKER], "run-1");
        assert_eq!(l[VIA], "new");
        assert_eq!(l[ATTEMPT], "42");
        assert_eq!(l["alertname"], "C");
    }
}

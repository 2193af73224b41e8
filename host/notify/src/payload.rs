//! What is sent: one notification, rendered as Alertmanager webhook JSON or
//! Slack-compatible JSON.

use std::collections::BTreeMap;

use cutover_base::time::{now_ms, rfc3339};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NotificationKind {
    /// A gate or approval step waits for an approver.
    GateWaiting,
    /// A phase started or finished.
    PhaseTransition,
    /// A migration alert condition triggered.
    MigrationAlert,
    /// An incident was opened, changed or resolved.
    Incident,
    /// An incident was not resolved within its escalation time.
    Escalation,
    /// A plan `notify` step.
    Step,
}

impl NotificationKind {
    /// Name as used in the `alertname` label.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::GateWaiting => "gate-waiting",
            NotificationKind::PhaseTransition => "phase-transition",
            NotificationKind::MigrationAlert => "migration-alert",
            NotificationKind::Incident => "incident",
            NotificationKind::Escalation => "escalation",
            NotificationKind::Step => "step",
        }
    }
}

/// Severity label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Informational.
    Info,
    /// Needs attention soon.
    Warning,
    /// Needs attention now.
    Critical,
}

impl Severity {
    /// Name as used in the `severity` label.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// One notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// What it is about.
    pub kind: NotificationKind,
    /// Severity.
    pub severity: Severity,
    /// One line.
    pub summary: String,
    /// More detail (may be empty).
    pub description: String,
    /// Extra labels (`plan`, `phase`, `incident`, ...).
    pub labels: BTreeMap<String, String>,
    /// `true` when the condition is over (Alertmanager `resolved`).
    pub resolved: bool,
    /// When the condition began, unix ms.
    pub starts_at_ms: i64,
}

impl Notification {
    /// A firing notification starting now.
    pub fn new(kind: NotificationKind, severity: Severity, summary: impl Into<String>) -> Self {
        Notification {
            kind,
            severity,
            summary: summary.into(),
            description: String::new(),
            labels: BTreeMap::new(),
            resolved: false,
            starts_at_ms: now_ms(),
        }
    }

    /// Adds a label.
    pub fn label(mut self, k: &str, v: impl Into<String>) -> Self {
        self.labels.insert(k.to_string(), v.into());
        self
    }

    /// Sets the description.
    pub fn describe(mut self, d: impl Into<String>) -> Self {
        self.description = d.into();
        self
    }
}

fn labels_of(n: &Notification) -> BTreeMap<String, String> {
    let mut l = n.labels.clone();
    l.insert("alertname".into(), format!("cutover-{}", n.kind.as_str()));
    l.insert("severity".into(), n.severity.as_str().into());
    l.entry("source".into()).or_insert_with(|| "cutover".into());
    l
}

/// Alertmanager webhook JSON (version "4") holding one alert.
pub fn alertmanager_payload(n: &Notification, receiver: &str) -> Value {
    let labels = labels_of(n);
    let status = if n.resolved { "resolved" } else { "firing" };
    let mut annotations = BTreeMap::new();
    annotations.insert("summary".to_string(), n.summary.clone());
    if !n.description.is_empty() {
        annotations.insert("description".to_string(), n.description.clone());
    }
    let group_key = format!(
        "{{}}:{{alertname=\"{}\"}}",
        labels.get("alertname").map_or("", String::as_str)
    );
    json!({
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": 0,
        "status": status,
        "receiver": receiver,
        "groupLabels": { "alertname": labels.get("alertname") },
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "externalURL": "",
        "alerts": [{
            "status": status,
            "labels": labels,
            "annotations": annotations,
            "startsAt": rfc3339(n.starts_at_ms),
            "endsAt": if n.resolved { rfc3339(now_ms()) } else { "0001-01-01T00:00:00Z".to_string() },
            "generatorURL": "",
            "fingerprint": "",
        }],
    })
}

/// Slack-compatible JSON: `{"text": ...}`.
pub fn slack_payload(n: &Notification) -> Value {
    let mut text = format!(
        "[{}] {}{}",
        n.severity.as_str().to_uppercase(),
        if n.resolved { "RESOLVED: " } else { "" },
        n.summary
    );
    if !n.description.is_empty() {
        text.push('\n');
        text.push_str(&n.description);
    }
    let ctx: Vec<String> = n.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if !ctx.is_empty() {
        text.push_str(&format!("\n({})", ctx.join(", ")));
    }
    json!({ "text": text })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_with_milliseconds() {
        let mut n = Notification::new(NotificationKind::Incident, Severity::Critical, "x");
        n.starts_at_ms = 1_795_663_722_000;
        let am = alertmanager_payload(&n, "ops");
        assert_eq!(am["alerts"][0]["startsAt"], "2026-11-26T03:28:42.000Z");
        assert_eq!(am["alerts"][0]["endsAt"], "0001-01-01T00:00:00Z");
        n.starts_at_ms = 951_782_400_123;
        n.resolved = true;
        let am = alertmanager_payload(&n, "ops");
        assert_eq!(am["alerts"][0]["startsAt"], "2000-02-29T00:00:00.123Z");
        let ends = am["alerts"][0]["endsAt"].as_str().unwrap_or_default();
        assert!(ends.len() == 24 && ends.ends_with('Z'), "{ends}");
    }

    #[test]
    fn payload_shapes() {
        let n = Notification::new(NotificationKind::Incident, Severity::Critical, "db down")
            .label("plan", "p")
            .describe("more");
        let am = alertmanager_payload(&n, "ops");
        assert_eq!(am["version"], "4");
        assert_eq!(am["status"], "firing");
        assert_eq!(am["alerts"][0]["labels"]["alertname"], "cutover-incident");
        assert_eq!(am["alerts"][0]["labels"]["plan"], "p");
        assert_eq!(am["alerts"][0]["annotations"]["summary"], "db down");
        assert!(
            am["alerts"][0]["startsAt"]
                .as_str()
                .is_some_and(|s| s.ends_with('Z'))
        );
        let s = slack_payload(&n);
        let text = s["text"].as_str().unwrap_or_default();
        assert!(text.starts_with("[CRITICAL] db down\nmore"), "{text}");
        assert!(text.contains("plan=p"), "{text}");
    }
}

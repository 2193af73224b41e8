//! Prometheus alerting rules for the migration itself (group
//! `cutover-migration`), rendered as YAML for `rule_files`.

use cutover_plan::Plan;

use crate::error::OpsError;
use crate::schedule::schedule;
use crate::thresholds::Thresholds;

/// Name of the generated rule group.
pub const GROUP: &str = "cutover-migration";
/// Recording rule holding each phase's expected progress.
pub const EXPECTED_PROGRESS: &str = "cutover:expected_progress:phase";

/// A recording rule.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordingRule {
    /// Recorded series name.
    pub record: String,
    /// PromQL expression.
    pub expr: String,
    /// Extra labels.
    pub labels: Vec<(String, String)>,
}

/// An alerting rule.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRule {
    /// Alert name.
    pub alert: String,
    /// PromQL expression.
    pub expr: String,
    /// `for:` duration as Prometheus writes it (`15m`).
    pub for_: String,
    /// Labels (severity, plan).
    pub labels: Vec<(String, String)>,
    /// Annotations (summary, description, runbook); may use `{{ $labels.x }}`.
    pub annotations: Vec<(String, String)>,
}

/// The migration's rule group.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleGroup {
    /// Group name.
    pub name: String,
    /// Recording rules (evaluated first).
    pub records: Vec<RecordingRule>,
    /// Alerting rules.
    pub alerts: Vec<AlertRule>,
}

fn num(v: f64) -> String {
    format!("{v}")
}

fn pct(v: f64) -> String {
    format!("{}%", (v * 1000.0).round() / 10.0)
}

/// Builds the rule group for `plan` with `thresholds`.
pub fn rule_group(plan: &Plan, t: &Thresholds) -> Result<RuleGroup, OpsError> {
    t.check()?;
    let name = &plan.meta.name;
    let runbook = |section: &str| {
        format!(
            "Runbook of plan {name} (`cutover runbook <plan file>`), section \"{section}\"; current state: `cutover status <plan file>`."
        )
    };
    let labels = |severity: &str| {
        vec![
            ("severity".to_string(), severity.to_string()),
            ("plan".to_string(), name.clone()),
        ]
    };
    let ann = |summary: String, description: String, rb: String| {
        vec![
            ("summary".to_string(), summary),
            ("description".to_string(), description),
            ("runbook".to_string(), rb),
        ]
    };
    let records = schedule(plan)
        .into_iter()
        .map(|p| RecordingRule {
            record: EXPECTED_PROGRESS.to_string(),
            expr: format!(
                "clamp((time() - (cutover_migration_start_timestamp_seconds > 0) - {}) / {}, 0, 1)",
                num(p.offset_secs),
                num(p.duration_secs.max(1.0))
            ),
            labels: vec![("phase".to_string(), p.phase)],
        })
        .collect();
    let emergency: Vec<&str> = plan.emergency.keys().map(String::as_str).collect();
    let emergency_hint = if emergency.is_empty() {
        "Rollback".to_string()
    } else {
        format!("Emergency procedures ({})", emergency.join(", "))
    };
    let alerts = vec![
        AlertRule {
            alert: "MigrationBehindSchedule".into(),
            expr: format!(
                "(max by (phase) ({EXPECTED_PROGRESS}) - on (phase) avg by (phase) (migration_progress)) > {}",
                num(t.behind_schedule)
            ),
            for_: "30m".into(),
            labels: labels("warning"),
            annotations: ann(
                "Migration phase {{ $labels.phase }} is behind schedule".into(),
                format!(
                    "Phase {{{{ $labels.phase }}}} of plan {name} is more than {} behind the progress expected from the plan's phase durations.",
                    pct(t.behind_schedule)
                ),
                runbook("Phase {{ $labels.phase }}"),
            ),
        },
        AlertRule {
            alert: "AlertMatchRateLow".into(),
            expr: format!("alert_match_rate < {}", num(t.match_rate)),
            for_: "15m".into(),
            labels: labels("critical"),
            annotations: ann(
                "Alert match rate of {{ $labels.service }} is low".into(),
                format!(
                    "The old and the new system disagree on the alerts of service {{{{ $labels.service }}}}: match rate below {} during plan {name}; pages may be missed.",
                    num(t.match_rate)
                ),
                runbook(&emergency_hint),
            ),
        },
        AlertRule {
            alert: "SystemUnavailable".into(),
            expr: "system_availability == 0".into(),
            for_: "5m".into(),
            labels: labels("critical"),
            annotations: ann(
                "Alerting system {{ $labels.system }} is unavailable".into(),
                format!(
                    "The {{{{ $labels.system }}}} alerting system of plan {name} does not answer its health check."
                ),
                runbook(&emergency_hint),
            ),
        },
        AlertRule {
            alert: "DataInconsistent".into(),
            expr: format!("data_consistency < {}", num(t.consistency)),
            for_: "15m".into(),
            labels: labels("warning"),
            annotations: ann(
                "{{ $labels.data_type }} differ between the old and the new system".into(),
                format!(
                    "Consistency of {{{{ $labels.data_type }}}} is below {} during plan {name}.",
                    num(t.consistency)
                ),
                runbook("Rollback"),
            ),
        },
    ];
    Ok(RuleGroup {
        name: GROUP.to_string(),
        records,
        alerts,
    })
}

/// A YAML double-quoted scalar (JSON strings are valid YAML).
fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

/// Renders `group` as a Prometheus rule file.
pub fn render(group: &RuleGroup, plan_name: &str) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "# Generated by `cutover rules` from plan {}. Regenerate instead of editing.\n",
        q(plan_name)
    ));
    out.push_str("groups:\n");
    out.push_str(&format!("  - name: {}\n    rules:\n", q(&group.name)));
    for r in &group.records {
        out.push_str(&format!("      - record: {}\n", q(&r.record)));
        out.push_str(&format!("        expr: {}\n", q(&r.expr)));
        map(&mut out, "labels", &r.labels);
    }
    for a in &group.alerts {
        out.push_str(&format!("      - alert: {}\n", q(&a.alert)));
        out.push_str(&format!("        expr: {}\n", q(&a.expr)));
        out.push_str(&format!("        for: {}\n", a.for_));
        map(&mut out, "labels", &a.labels);
        map(&mut out, "annotations", &a.annotations);
    }
    out
}

fn map(out: &mut String, key: &str, entries: &[(String, String)]) {
    if entries.is_empty() {
        return;
    }
    out.push_str(&format!("        {key}:\n"));
    for (k, v) in entries {
        out.push_str(&format!("          {k}: {}\n", q(v)));
    }
}

/// The rule file for `plan` (what `cutover rules` prints).
pub fn rules_yaml(plan: &Plan, t: &Thresholds) -> Result<String, OpsError> {
    Ok(render(&rule_group(plan, t)?, &plan.meta.name))
}

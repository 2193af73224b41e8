//! Migration monitoring: feeds the ops metrics registry from journaled
//! events, and evaluates the migration alert conditions of a step result.

use std::path::Path;
use std::time::Duration;

use cutover_ops::{ALL_SERVICES, MigrationMetrics};
use cutover_plan::{Plan, StepAction};

use crate::error::EngineError;
use crate::event::{Event, StepStatus};
use crate::gate::{Cause, Gate, Judgement};
use crate::view::RunView;

/// Progress of every phase of `plan` in `view`: 1 when passed, else the
/// share of its steps done.
pub fn phase_progress(plan: &Plan, view: &RunView) -> Vec<(String, f64)> {
    plan.phases
        .iter()
        .map(|p| {
            let v = match view.phase_status(&p.id) {
                crate::PhaseStatus::Passed => 1.0,
                _ if p.steps.is_empty() => 0.0,
                _ => {
                    let done = p
                        .steps
                        .iter()
                        .filter(|s| view.step_status(&s.id).is_done())
                        .count();
                    done as f64 / p.steps.len() as f64
                }
            };
            (p.id.clone(), v)
        })
        .collect()
}

/// Folds one event (already applied to `view`) into `m`: gauges are set
/// from the view, counters from the event.
pub fn observe(m: &MigrationMetrics, plan: &Plan, view: &RunView, ev: &Event, at_ms: i64) {
    match ev {
        Event::RunStarted { .. } => m.set_migration_start(at_ms as f64 / 1000.0),
        Event::ParallelPoll {
            match_rate: Some(r),
            ..
        } => m.set_alert_match_rate(ALL_SERVICES, *r),
        Event::HealthChecked {
            system, available, ..
        } => m.set_system_availability(system, *available),
        Event::StepFinished {
            status,
            details,
            duration_ms,
            plugin,
            ..
        } => {
            if let Some(r) = details.get("match_rate").and_then(|v| v.as_f64()) {
                m.set_alert_match_rate(ALL_SERVICES, r);
            }
            if let Some((share, per_type)) = backup_consistency(details) {
                m.set_data_consistency(ALL_SERVICES, share);
                for (kind, ok) in per_type {
                    m.set_data_consistency(&kind, if ok { 1.0 } else { 0.0 });
                }
            }
            if let Some(p) = plugin {
                let kind = details.get("error_kind").and_then(|v| v.as_str());
                let outcome = match (status, kind) {
                    (_, Some(k)) => k,
                    (StepStatus::Failed, None) => "failed",
                    _ => "ok",
                };
                m.record_plugin_call(p, outcome, Duration::from_millis(*duration_ms));
                if let Some(limit @ ("deadline" | "limit")) = kind {
                    m.record_limit_hit(p, limit);
                }
            }
        }
        _ => {}
    }
    if matches!(
        ev,
        Event::RunStarted { .. }
            | Event::PhaseStarted { .. }
            | Event::StepFinished { .. }
            | Event::PhaseFinished { .. }
    ) {
        for (phase, v) in phase_progress(plan, view) {
            m.set_progress(&phase, ALL_SERVICES, v);
        }
    }
}

/// Share of data types a backup stored correctly, and each type's result;
/// `None` when `details` is not a backup's.
pub fn backup_consistency(details: &serde_json::Value) -> Option<(f64, Vec<(String, bool)>)> {
    let results = details.get("backup_id").and(details.get("results"))?;
    let per: Vec<(String, bool)> = results
        .as_array()?
        .iter()
        .map(|r| {
            (
                r.get("kind")
                    .and_then(|k| k.as_str())
                    .unwrap_or("")
                    .to_string(),
                r.get("ok").and_then(|o| o.as_bool()).unwrap_or(false),
            )
        })
        .collect();
    if per.is_empty() {
        return Some((1.0, per));
    }
    let ok = per.iter().filter(|(_, ok)| *ok).count();
    Some((ok as f64 / per.len() as f64, per))
}

/// A triggered migration alert condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// `alerts-missing`, `match-rate-low`, `system-unavailable`, `data-inconsistent`.
    pub alert: &'static str,
    /// Measured value.
    pub value: f64,
    /// Threshold.
    pub threshold: f64,
    /// Explanation.
    pub message: String,
}

/// Alert conditions of one finished step: a gating (non-shadow) parallel
/// run whose gate failed ([`crate::gate::judge`] decided, nothing here
/// decides again): `alerts-missing` when old alerts were missing beyond
/// `max_missing`, `match-rate-low` when the match rate was below the
/// minimum; or a backup that stored less than every type. Shadow runs never
/// gate, so they never trigger a policy (their match rate is still exported
/// as a metric).
pub fn step_alerts(
    action: &StepAction,
    gate: Option<&Judgement>,
    details: &serde_json::Value,
) -> Vec<Alert> {
    let mut out = Vec::new();
    if let (StepAction::ParallelRun { shadow: false, .. }, Some(j)) = (action, gate)
        && j.gate == Gate::Fail
    {
        out.push(match j.cause {
            Some(Cause::Missing) => Alert {
                alert: "alerts-missing",
                value: j.missing_gating as f64,
                threshold: f64::from(j.max_missing),
                message: j.reason.clone(),
            },
            _ => Alert {
                alert: "match-rate-low",
                value: j.match_rate.unwrap_or(0.0),
                threshold: j.min_match_rate.unwrap_or(1.0),
                message: format!("alert {}", j.reason),
            },
        });
    }
    if let Some((share, per)) = backup_consistency(details)
        && share < 1.0
    {
        let bad: Vec<&str> = per
            .iter()
            .filter(|(_, ok)| !*ok)
            .map(|(k, _)| k.as_str())
            .collect();
        out.push(Alert {
            alert: "data-inconsistent",
            value: share,
            threshold: 1.0,
            message: format!(
                "data consistency {:.1}% < 100%: not backed up: {}",
                share * 100.0,
                bad.join(", ")
            ),
        });
    }
    out
}

/// Metrics folded from a state directory's journal, refreshed incrementally.
#[derive(Debug, Default)]
pub struct JournalMetrics {
    view: RunView,
    last_seq: Option<u64>,
}

impl JournalMetrics {
    /// Nothing folded yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Folds the records appended since the last call into `m`; returns how
    /// many were new.
    pub fn refresh(
        &mut self,
        state_dir: &Path,
        plan: &Plan,
        m: &MigrationMetrics,
    ) -> Result<usize, EngineError> {
        let mut n = 0;
        for r in crate::ops::history(state_dir)? {
            if self.last_seq.is_some_and(|s| r.seq <= s) {
                continue;
            }
            self.view.apply_record(r.seq, &r.kind, &r.payload);
            if let Some(ev) = Event::from_record(&r.kind, &r.payload) {
                observe(m, plan, &self.view, &ev, r.ts_ms);
            }
            self.last_seq = Some(r.seq);
            n += 1;
        }
        Ok(n)
    }

    /// The view folded so far.
    pub fn view(&self) -> &RunView {
        &self.view
    }
}

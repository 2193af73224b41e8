//! Migration monitoring: feeds the ops metrics registry from journaled
//! events, and evaluates the migration alert conditions of a step result.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use cutover_ops::{ALL_SERVICES, MigrationMetrics};
use cutover_plan::{Plan, StepAction};

use crate::details::StepDetails;
use crate::error::EngineError;
use crate::event::{Event, SeenAlert, StepStatus};
use crate::gate::{Cause, Gate};
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
            step, match_rate, ..
        } => {
            if let Some(r) = match_rate {
                m.set_alert_match_rate(ALL_SERVICES, *r);
            }
            for (service, rate) in per_service_match_rates(plan, view, step) {
                m.set_alert_match_rate(&service, rate);
            }
        }
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
            if let Some(r) = details.match_rate() {
                m.set_alert_match_rate(ALL_SERVICES, r);
            }
            for c in details.consistency() {
                m.set_data_consistency(&c.data_type, c.fraction());
            }
            if let Some(p) = plugin {
                let kind = details.error_kind();
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
            for service in services_seen(plan, view, &phase) {
                m.set_progress(&phase, &service, v);
            }
        }
    }
}

/// The label that names a service in per-service metrics.
pub const SERVICE_LABEL: &str = "service";

/// The services (values of the `service` label) of the alerts the parallel
/// runs of `phase` saw, on either side (they are in the phase's scope: a
/// parallel run keeps only those).
pub fn services_seen(plan: &Plan, view: &RunView, phase: &str) -> BTreeSet<String> {
    plan.phases
        .iter()
        .filter(|p| p.id == phase)
        .flat_map(|p| &p.steps)
        .filter_map(|s| view.steps.get(&s.id))
        .flat_map(|s| s.seen_old.iter().chain(&s.seen_new))
        .filter_map(|a| a.labels.get(SERVICE_LABEL).cloned())
        .collect()
}

/// The match rate of parallel-run step `step` so far, per service: the
/// episodes of each service compared on their own.
pub fn per_service_match_rates(plan: &Plan, view: &RunView, step: &str) -> Vec<(String, f64)> {
    let Some(StepAction::ParallelRun {
        ignore_labels,
        rename,
        tolerance_ms,
        ..
    }) = plan
        .phases
        .iter()
        .flat_map(|p| &p.steps)
        .find(|s| s.id == step)
        .map(|s| &s.action)
    else {
        return Vec::new();
    };
    let Some(sv) = view.steps.get(step) else {
        return Vec::new();
    };
    let started = sv.deadline.map_or(0, |(start, _)| start);
    let opts = crate::episodes::options_of(ignore_labels, rename, *tolerance_ms);
    let mut groups: BTreeMap<String, (Vec<SeenAlert>, Vec<SeenAlert>)> = BTreeMap::new();
    for a in &sv.seen_old {
        if let Some(s) = a.labels.get(SERVICE_LABEL) {
            groups.entry(s.clone()).or_default().0.push(a.clone());
        }
    }
    for a in &sv.seen_new {
        if let Some(s) = a.labels.get(SERVICE_LABEL) {
            groups.entry(s.clone()).or_default().1.push(a.clone());
        }
    }
    groups
        .into_iter()
        .filter_map(|(service, (old, new))| {
            let r = crate::episodes::compare_seen(&old, &new, &opts, started);
            Some((service, r.match_rate?))
        })
        .collect()
}

/// A triggered migration alert condition.
#[derive(Debug, Clone, PartialEq)]
pub struct MigrationAlert {
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
pub fn step_alerts(action: &StepAction, details: &StepDetails) -> Vec<MigrationAlert> {
    let mut out = Vec::new();
    let gate = details.parallel_run().map(|p| &p.gate);
    if let (StepAction::ParallelRun { shadow: false, .. }, Some(j)) = (action, gate)
        && j.gate == Gate::Fail
    {
        out.push(match j.cause {
            Some(Cause::Missing) => MigrationAlert {
                alert: "alerts-missing",
                value: j.missing_gating as f64,
                threshold: f64::from(j.max_missing),
                message: j.reason.clone(),
            },
            _ => MigrationAlert {
                alert: "match-rate-low",
                value: j.match_rate.unwrap_or(0.0),
                threshold: j.min_match_rate.unwrap_or(1.0),
                message: format!("alert {}", j.reason),
            },
        });
    }
    for c in details.consistency().iter().filter(|c| c.fraction() < 1.0) {
        out.push(MigrationAlert {
            alert: "data-inconsistent",
            value: c.fraction(),
            threshold: 1.0,
            message: format!(
                "data consistency of {} {:.1}% < 100%: {} of {} agree between the old and the new system",
                c.data_type,
                c.fraction() * 100.0,
                c.agreeing,
                c.total
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
        state: impl Into<crate::journal::StateAt>,
        plan: &Plan,
        m: &MigrationMetrics,
    ) -> Result<usize, EngineError> {
        let mut n = 0;
        for r in crate::journal::history(state)? {
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

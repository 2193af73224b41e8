//! What the runner does when a migration alert fires or a phase carries an
//! unmitigated risk: the plan's alert policies (warn, pause, rollback,
//! incident) and the one rollback path of a running plan.

use cutover_notify::{Notification, NotificationKind, Severity};
use cutover_plan::{Phase, Step};

use crate::error::EngineError;
use crate::event::{Event, PhaseStatus, RunEnd};
use crate::monitor::MigrationAlert;
use crate::outcome::RunOutcome;
use crate::policy::AlertPolicy;
use crate::runner::Runner;

impl Runner<'_> {
    /// Journals triggered alerts, notifies, and applies the policy.
    pub(crate) fn apply_alerts(
        &mut self,
        phase: &Phase,
        step: Option<&Step>,
        alerts: Vec<MigrationAlert>,
    ) -> Result<Option<RunOutcome>, EngineError> {
        if alerts.is_empty() {
            return Ok(None);
        }
        let policy = self.opts.policy.clone();
        let message = alerts
            .iter()
            .map(|a| a.message.clone())
            .collect::<Vec<_>>()
            .join("; ");
        let evs = alerts
            .iter()
            .map(|a| Event::AlertTriggered {
                phase: phase.id.clone(),
                step: step.map(|s| s.id.clone()),
                alert: a.alert.to_string(),
                value: a.value,
                threshold: a.threshold,
                policy: policy.name(),
                message: a.message.clone(),
            })
            .collect();
        self.emit_batch(evs)?;
        let where_ = match step {
            Some(s) => format!("{}/{}", phase.id, s.id),
            None => phase.id.clone(),
        };
        let mut n = Notification::new(
            NotificationKind::MigrationAlert,
            Severity::Critical,
            format!("migration alert in {where_}: {message}"),
        )
        .describe(format!("policy: {}", policy.name()))
        .label("phase", phase.id.clone());
        for a in &alerts {
            n = n.label("alert", a.alert);
        }
        self.notify_targets(&format!("alert {where_}"), &[], n)?;
        let reason = format!("migration alert in {where_}: {message}");
        match policy {
            AlertPolicy::Pause => {
                self.emit(Event::Paused {
                    phase: Some(phase.id.clone()),
                    reason: reason.clone(),
                    by: "engine".into(),
                })?;
                Ok(Some(RunOutcome::Paused { reason }))
            }
            AlertPolicy::Rollback => self.roll_back_to(&phase.id, None, &reason).map(Some),
            AlertPolicy::Emergency(name) => self.open_incident(phase, &name, &reason),
        }
    }

    /// The latest rollback point that covers the plan's systems, skipping
    /// the `before-<step>` points migrate steps capture (one system, the
    /// step's data types only: rolling back to one would undo a part of a
    /// wave). A migrate step rolls back to its own point itself.
    pub(crate) fn latest_full_point(&self) -> Option<String> {
        let guards: Vec<String> = self
            .plan
            .plan
            .phases
            .iter()
            .flat_map(|p| &p.steps)
            .filter(|s| matches!(s.action, cutover_plan::StepAction::Migrate { .. }))
            .map(|s| format!("before-{}", s.id))
            .collect();
        self.view
            .points
            .iter()
            .rev()
            .find(|p| !guards.contains(&p.name))
            .map(|p| p.name.clone())
    }

    /// Rolls both systems back to `point` (else [`Self::latest_full_point`]);
    /// the phase and the run end rolled back (failed when impossible).
    pub(crate) fn roll_back_to(
        &mut self,
        phase: &str,
        point: Option<String>,
        reason: &str,
    ) -> Result<RunOutcome, EngineError> {
        let Some(point) = point.or_else(|| self.latest_full_point()) else {
            return self.fail_phase(
                phase,
                None,
                format!("{reason}; no rollback point has been captured to roll back to"),
            );
        };
        match self.step_ctx().rollback(&point) {
            Ok(results) => {
                self.emit_batch(vec![
                    Event::RolledBack {
                        phase: phase.to_string(),
                        point: point.clone(),
                        results,
                        by: "engine".to_string(),
                        now: false,
                    },
                    Event::PhaseFinished {
                        phase: phase.to_string(),
                        status: PhaseStatus::RolledBack,
                    },
                    Event::RunFinished {
                        status: RunEnd::RolledBack,
                    },
                ])?;
                Ok(RunOutcome::RolledBack {
                    phase: phase.to_string(),
                    point,
                })
            }
            Err(e) => self.fail_phase(phase, None, format!("{reason}; {e}")),
        }
    }

    /// Risk gating before a phase starts: paused (once per attempt) while
    /// `phase_blocked_by_risk` says so and no approval of the phase came
    /// after the block.
    pub(crate) fn risk_gate(&mut self, phase: &Phase) -> Result<Option<RunOutcome>, EngineError> {
        let Some(why) = cutover_ops::phase_blocked_by_risk(&self.plan.plan, phase) else {
            return Ok(None);
        };
        if let Some(seq) = self.view.risk_blocked.get(&phase.id)
            && self.view.approval_after(&phase.id, *seq).is_some()
        {
            return Ok(None);
        }
        let reason = format!(
            "{why}; or approve the risk with `cutover approve PLAN {}` and `cutover resume PLAN`",
            phase.id
        );
        self.emit_batch(vec![
            Event::RiskBlocked {
                phase: phase.id.clone(),
                reason: why,
            },
            Event::Paused {
                phase: Some(phase.id.clone()),
                reason: reason.clone(),
                by: "engine".into(),
            },
        ])?;
        Ok(Some(RunOutcome::Paused { reason }))
    }
}

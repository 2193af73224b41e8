//! Emergency procedures while a run goes on: an incident opened for a
//! procedure is worked through (automated steps run, manual ones wait for an
//! acknowledgement) and escalated on time, with its notifications.

use std::time::Duration;

use cutover_notify::{Notification, NotificationKind, Severity};
use cutover_plan::{Phase, Step};

use crate::error::EngineError;
use crate::event::{Event, IncidentStepKind, IncidentStepSpec, IncidentStepStatus};
use crate::journal::now_ms;
use crate::notifications::{deliver, escalations};
use crate::outcome::RunOutcome;
use crate::runner::Runner;

impl Runner<'_> {
    /// Notifies the run's targets (plus `extra`) and journals the deliveries.
    pub(crate) fn notify_targets(
        &mut self,
        subject: &str,
        extra: &[String],
        n: Notification,
    ) -> Result<(), EngineError> {
        let mut targets = self.opts.notify.clone();
        targets.extend(extra.iter().cloned());
        if targets.is_empty() {
            return Ok(());
        }
        let n = n.label("plan", self.plan.plan.meta.name.clone());
        let evs = deliver(&self.sender, subject, &targets, &n);
        if evs.is_empty() {
            return Ok(());
        }
        self.emit_batch(evs)
    }

    /// Escalates incidents past their escalation time.
    pub(crate) fn escalate_due(&mut self) -> Result<(), EngineError> {
        let now = now_ms();
        if !self.view.incidents.iter().any(|i| i.escalation_due(now)) {
            return Ok(());
        }
        let evs = escalations(
            &self.sender,
            &self.view,
            &self.plan.plan.meta.name,
            &self.opts.notify,
            "engine",
        );
        self.emit_batch(evs)
    }

    /// Opens an incident for emergency procedure `name` and works through it.
    pub(crate) fn open_incident(
        &mut self,
        phase: &Phase,
        name: &str,
        reason: &str,
    ) -> Result<Option<RunOutcome>, EngineError> {
        let plan = self.plan;
        let Some(proc_) = plan.plan.emergency.get(name) else {
            let why = format!(
                "{reason}; the alert policy names emergency procedure `{name}`, which the plan does not define"
            );
            self.emit(Event::Paused {
                phase: Some(phase.id.clone()),
                reason: why.clone(),
                by: "engine".into(),
            })?;
            return Ok(Some(RunOutcome::Paused { reason: why }));
        };
        let escalation = crate::policy::escalation(
            self.opts.escalation,
            Duration::from_millis(proc_.escalation_ms),
        )
        .map_err(EngineError::Operator)?;
        let id = format!("INC-{}", self.view.incidents.len() + 1);
        let steps: Vec<IncidentStepSpec> = proc_
            .steps
            .iter()
            .map(|t| IncidentStepSpec {
                text: t.clone(),
                kind: IncidentStepKind::of(t),
            })
            .collect();
        let notify = proc_.notify.clone();
        self.emit(Event::IncidentOpened {
            id: id.clone(),
            procedure: name.to_string(),
            phase: phase.id.clone(),
            reason: reason.to_string(),
            steps,
            escalation_ms: u64::try_from(escalation.as_millis()).unwrap_or(u64::MAX),
            notify: notify.clone(),
            rollback_to: proc_.rollback_to.clone(),
            at_ms: now_ms(),
            by: "engine".into(),
        })?;
        let n = Notification::new(
            NotificationKind::Incident,
            Severity::Critical,
            format!("incident {id} opened: emergency procedure `{name}`"),
        )
        .describe(format!("{reason}\n{}", proc_.description))
        .label("incident", id.clone())
        .label("phase", phase.id.clone());
        self.notify_targets(&format!("incident {id}"), &notify, n)?;
        self.advance_incident(&id)
    }

    /// Runs the incident's automated steps in order up to the first one an
    /// operator must acknowledge; resolves it when every step is settled.
    pub(crate) fn advance_incident(&mut self, id: &str) -> Result<Option<RunOutcome>, EngineError> {
        loop {
            let Some(inc) = self.view.incident(id).cloned() else {
                return Ok(None);
            };
            if inc.resolved_ms.is_some() {
                return Ok(None);
            }
            let Some(step) = inc.next_step().cloned() else {
                self.emit(Event::IncidentResolved {
                    id: id.to_string(),
                    at_ms: now_ms(),
                })?;
                let n = Notification::new(
                    NotificationKind::Incident,
                    Severity::Info,
                    format!(
                        "incident {id} resolved: every step of `{}` is done",
                        inc.procedure
                    ),
                )
                .label("incident", id.to_string());
                let mut n = n;
                n.resolved = true;
                self.notify_targets(&format!("incident {id}"), &inc.notify, n)?;
                return Ok(None);
            };
            let ack_hint = format!(
                "incident {id} ({}): step {} needs an operator: {}; acknowledge with `cutover incident ack PLAN {id} {}`, then `cutover resume PLAN`",
                inc.procedure, step.step, step.spec.text, step.step
            );
            if step.status == IncidentStepStatus::Failed || !step.spec.kind.is_automated() {
                if self.view.status != crate::RunStatus::Paused
                    || self.view.reason.as_deref() != Some(ack_hint.as_str())
                {
                    self.emit(Event::Paused {
                        phase: Some(inc.phase.clone()),
                        reason: ack_hint.clone(),
                        by: "engine".into(),
                    })?;
                }
                return Ok(Some(RunOutcome::Paused { reason: ack_hint }));
            }
            let mark = |status, note: String| Event::IncidentStep {
                id: id.to_string(),
                step: step.step,
                status,
                by: "engine".into(),
                note,
                at_ms: now_ms(),
            };
            match &step.spec.kind {
                IncidentStepKind::Manual => {}
                IncidentStepKind::Pause => {
                    let reason = format!(
                        "incident {id}: paused by step {} of `{}`; continue with `cutover resume PLAN`",
                        step.step, inc.procedure
                    );
                    self.emit_batch(vec![
                        mark(IncidentStepStatus::Done, "run paused".into()),
                        Event::Paused {
                            phase: Some(inc.phase.clone()),
                            reason: reason.clone(),
                            by: "engine".into(),
                        },
                    ])?;
                    return Ok(Some(RunOutcome::Paused { reason }));
                }
                IncidentStepKind::Rollback => {
                    self.emit(mark(
                        IncidentStepStatus::Done,
                        "rolling back both systems".into(),
                    ))?;
                    let out = self.roll_back_to(
                        &inc.phase,
                        inc.rollback_to.clone(),
                        &format!("incident {id}"),
                    )?;
                    // The run is over; the procedure's remaining steps are
                    // still listed for the operator, and it resolves when
                    // they are acknowledged.
                    if inc
                        .steps
                        .iter()
                        .skip(step.step)
                        .all(|s| s.status.is_settled())
                    {
                        self.emit(Event::IncidentResolved {
                            id: id.to_string(),
                            at_ms: now_ms(),
                        })?;
                    }
                    return Ok(Some(out));
                }
                IncidentStepKind::Action { plugin } => {
                    let phase = self
                        .plan
                        .plan
                        .phases
                        .iter()
                        .find(|p| p.id == inc.phase)
                        .cloned();
                    let Some(phase) = phase else {
                        self.emit(mark(
                            IncidentStepStatus::Failed,
                            format!("phase `{}` is no longer in the plan", inc.phase),
                        ))?;
                        continue;
                    };
                    let pseudo = Step {
                        id: format!("{id}-step-{}", step.step),
                        idempotent: false,
                        description: step.spec.text.clone(),
                        action: cutover_plan::StepAction::Action {
                            plugin: plugin.clone(),
                            params: serde_json::Value::Null,
                        },
                    };
                    let exec =
                        self.step_ctx()
                            .run_action(&phase, &pseudo, plugin, &serde_json::json!({}));
                    let status = if exec.status == crate::StepStatus::Failed {
                        IncidentStepStatus::Failed
                    } else {
                        IncidentStepStatus::Done
                    };
                    self.emit(mark(status, format!("{plugin}: {}", exec.summary)))?;
                }
            }
        }
    }
}

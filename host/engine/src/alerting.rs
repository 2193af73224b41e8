//! The runner's monitoring duties: health at phase start, alert policies,
//! risk gating, incidents (emergency procedures) and notifications.

use cutover_notify::{Notification, NotificationKind, Severity, Target};
use cutover_plan::{Phase, Step, SystemSide};
use std::time::Duration;

use crate::error::EngineError;
use crate::event::{
    Event, IncidentStepKind, IncidentStepSpec, IncidentStepStatus, PhaseStatus, RunEnd,
};
use crate::monitor::Alert;
use crate::outcome::RunOutcome;
use crate::policy::AlertPolicy;
use crate::runner::{Runner, now_ms};

/// Sends `n` to every target; returns the journal records of the webhook
/// deliveries (named targets are only logged).
pub(crate) fn deliver(
    sender: &cutover_notify::Sender,
    subject: &str,
    targets: &[String],
    n: &Notification,
) -> Vec<Event> {
    let mut evs = Vec::new();
    for t in targets {
        let target = Target::parse(t);
        if !target.is_webhook() {
            tracing::info!(target = %t, "notification ({subject}): {}", n.summary);
            continue;
        }
        match sender.send(&target, n) {
            Ok(d) => evs.push(Event::NotificationSent {
                subject: subject.to_string(),
                target: t.clone(),
                attempts: d.attempts,
            }),
            Err(e) => {
                tracing::warn!(target = %t, "notification ({subject}) failed: {e}");
                evs.push(Event::NotificationFailed {
                    subject: subject.to_string(),
                    target: t.clone(),
                    attempts: e.attempts(),
                    error: e.to_string(),
                });
            }
        }
    }
    evs
}

/// Escalation records (and notifications) for every incident of `view`
/// past its escalation time.
pub(crate) fn escalations(
    sender: &cutover_notify::Sender,
    view: &crate::RunView,
    plan_name: &str,
    extra: &[String],
) -> Vec<Event> {
    let now = now_ms();
    let mut evs = Vec::new();
    for inc in view.incidents.iter().filter(|i| i.escalation_due(now)) {
        let mut targets = inc.notify.clone();
        targets.extend(extra.iter().cloned());
        let pending = inc.next_step().map_or(String::new(), |s| {
            format!("; waiting on step {}: {}", s.step, s.spec.text)
        });
        let n = Notification::new(
            NotificationKind::Escalation,
            Severity::Critical,
            format!(
                "incident {} ({}) unresolved after {} s{pending}",
                inc.id,
                inc.procedure,
                inc.escalation_ms / 1000
            ),
        )
        .describe(inc.reason.clone())
        .label("plan", plan_name)
        .label("incident", inc.id.clone())
        .label("phase", inc.phase.clone());
        let subject = format!("escalation {}", inc.id);
        evs.extend(deliver(sender, &subject, &targets, &n));
        evs.push(Event::IncidentEscalated {
            id: inc.id.clone(),
            targets,
            at_ms: now,
        });
    }
    evs
}

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
        );
        self.emit_batch(evs)
    }

    /// Asks both adapters for their health; an unavailable system triggers
    /// the alert policy.
    pub(crate) fn check_health(
        &mut self,
        phase: &Phase,
    ) -> Result<Option<RunOutcome>, EngineError> {
        let mut alerts = Vec::new();
        let mut evs = Vec::new();
        for side in [SystemSide::Old, SystemSide::New] {
            let report = self.adapter(side).and_then(|(_, a)| {
                self.plugins
                    .runtime()
                    .health(&a.plugin, &a.sandbox)
                    .map_err(|e| e.to_string())
            });
            let (available, latency_ms, message) = match report {
                Ok(h) => (h.available, h.latency_ms, h.message),
                Err(e) => (false, 0, e),
            };
            if !available {
                alerts.push(Alert {
                    alert: "system-unavailable",
                    value: 0.0,
                    threshold: 1.0,
                    message: format!("the {side} system is unavailable: {message}"),
                });
            }
            evs.push(Event::HealthChecked {
                phase: phase.id.clone(),
                system: side.to_string(),
                available,
                latency_ms,
                message,
            });
        }
        self.emit_batch(evs)?;
        self.apply_alerts(phase, None, alerts)
    }

    /// Journals triggered alerts, notifies, and applies the policy.
    pub(crate) fn apply_alerts(
        &mut self,
        phase: &Phase,
        step: Option<&Step>,
        alerts: Vec<Alert>,
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
        match self.rollback(&point) {
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

    /// Opens an incident for emergency procedure `name` and works through it.
    fn open_incident(
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
                    let exec = self.run_action(&phase, &pseudo, plugin, &serde_json::json!({}));
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

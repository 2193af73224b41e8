//! One step of a phase: journaled as started, run by the executor of its
//! kind, journaled as finished, its migration alerts applied.

use std::time::Instant;

use cutover_notify::{Notification, NotificationKind, Severity};
use cutover_plan::{Phase, Step, StepAction};

use crate::details::{ApprovedDetails, MarkedDoneDetails, StepDetails};
use crate::error::EngineError;
use crate::event::{Event, StepStatus};
use crate::journal::now_ms;
use crate::outcome::RunOutcome;

use super::Runner;

/// Result of executing one step.
pub(crate) struct StepExec {
    pub status: StepStatus,
    pub summary: String,
    pub verdict: Option<String>,
    pub details: StepDetails,
    pub plugin: Option<String>,
    pub digest: Option<String>,
}

impl StepExec {
    /// A step that succeeded when `ok` and failed otherwise, with its details.
    pub(crate) fn ended(ok: bool, summary: impl Into<String>, details: StepDetails) -> Self {
        let status = if ok {
            StepStatus::Succeeded
        } else {
            StepStatus::Failed
        };
        StepExec {
            details,
            ..StepExec::new(status, summary)
        }
    }

    /// A step whose operation failed with an error of `kind`.
    pub(crate) fn error(kind: &str, summary: impl Into<String>) -> Self {
        StepExec {
            details: StepDetails::error(kind),
            ..StepExec::new(StepStatus::Failed, summary)
        }
    }

    pub(crate) fn new(status: StepStatus, summary: impl Into<String>) -> Self {
        StepExec {
            status,
            summary: summary.into(),
            verdict: None,
            details: StepDetails::None,
            plugin: None,
            digest: None,
        }
    }
}

/// A step either finished, or the run must stop here (pause/abort requested
/// during a long step).
pub(crate) enum StepRun {
    Done(StepExec),
    Stop(RunOutcome),
}

impl Runner<'_> {
    /// A gating step that could not judge: journals `step-inconclusive`
    /// with `reason` and stops the run, waiting for a person at `target`
    /// (`PHASE/STEP`).
    pub(crate) fn stop_inconclusive(
        &mut self,
        phase: &Phase,
        step: &Step,
        target: String,
        reason: String,
    ) -> Result<StepRun, EngineError> {
        self.emit(Event::StepInconclusive {
            phase: phase.id.clone(),
            step: step.id.clone(),
            reason: reason.clone(),
        })?;
        Ok(StepRun::Stop(RunOutcome::Inconclusive { target, reason }))
    }

    /// Runs one step unless it is done; `Some` when the run stops here.
    pub(super) fn run_step(
        &mut self,
        phase: &Phase,
        step: &Step,
    ) -> Result<Option<RunOutcome>, EngineError> {
        let target = format!("{}/{}", phase.id, step.id);
        let (status, started_seq) = match self.view.steps.get(&step.id) {
            Some(s) => (s.status, s.started_seq),
            None => (StepStatus::Pending, 0),
        };
        if status.is_done() {
            return Ok(None);
        }
        // An inconclusive parallel run decides its approvals itself (accept
        // or extend): it is waiting for a person, not interrupted.
        let inconclusive = self
            .view
            .steps
            .get(&step.id)
            .is_some_and(|s| s.inconclusive_seq.is_some());
        if matches!(status, StepStatus::Running | StepStatus::NeedsAttention) && !inconclusive {
            let decision = self
                .view
                .approval_after(&target, started_seq)
                .map(|a| (a.retry, a.by.clone()));
            match decision {
                Some((true, _)) => {}
                Some((false, by)) => {
                    self.emit(Event::StepFinished {
                        phase: phase.id.clone(),
                        step: step.id.clone(),
                        status: StepStatus::Skipped,
                        summary: format!(
                            "marked done by {by} after an interruption (not run again)"
                        ),
                        verdict: None,
                        details: StepDetails::MarkedDone(MarkedDoneDetails {
                            marked_done_by: by.clone(),
                        }),
                        duration_ms: 0,
                        plugin: None,
                        digest: None,
                    })?;
                    return Ok(None);
                }
                None if step.idempotent => {}
                None => {
                    let reason = format!(
                        "step {target} ({}) was interrupted before it finished and is not idempotent: it may or may not have taken effect",
                        step.action.kind().as_str()
                    );
                    // Journaled on every attempt: the resume cleared the wait.
                    self.emit(Event::NeedsAttention {
                        phase: phase.id.clone(),
                        step: step.id.clone(),
                        reason: reason.clone(),
                    })?;
                    return Ok(Some(RunOutcome::NeedsAttention { target, reason }));
                }
            }
        }
        if let Some(out) = self.check_control(Some(&phase.id))? {
            return Ok(Some(out));
        }
        let started = Event::StepStarted {
            phase: phase.id.clone(),
            step: step.id.clone(),
            step_kind: step.action.kind().as_str().to_string(),
            idempotent: step.idempotent,
        };
        // Steps without side effects are journaled start and end in one commit.
        let instant = match &step.action {
            StepAction::Notify {
                message,
                target: to,
            } => Some(self.notify(step, message, to)),
            StepAction::Wait { duration_ms: 0 } => {
                Some(StepExec::new(StepStatus::Succeeded, "waited 0 s"))
            }
            StepAction::Approval {
                message, approvers, ..
            } => match self.view.approval_after(&target, 0).map(|a| a.by.clone()) {
                None => {
                    return self
                        .await_approval(target, message.clone(), approvers.clone())
                        .map(Some);
                }
                Some(by) => {
                    let mut e = StepExec::new(StepStatus::Succeeded, format!("approved by {by}"));
                    e.details = StepDetails::Approved(ApprovedDetails {
                        approved_by: by.clone(),
                    });
                    Some(e)
                }
            },
            _ => None,
        };
        if let Some(mut exec) = instant {
            let mut evs = vec![started];
            if let StepAction::Notify {
                message,
                target: to,
            } = &step.action
            {
                evs.push(Event::Notified {
                    step: step.id.clone(),
                    target: to.clone(),
                    message: message.clone(),
                });
                let n = Notification::new(NotificationKind::Step, Severity::Info, message.clone())
                    .label("plan", self.plan.plan.meta.name.clone())
                    .label("phase", phase.id.clone())
                    .label("step", step.id.clone());
                evs.extend(crate::notifications::deliver(
                    &self.sender,
                    &format!("step {target}"),
                    std::slice::from_ref(to),
                    &n,
                ));
                if let Some(Event::NotificationFailed { error, .. }) = evs.last() {
                    exec.summary = format!("{} (delivery failed: {error})", exec.summary);
                }
            }
            evs.push(finished(phase, step, exec, 0));
            // A notification went out: its record is durable at once. The
            // other instant steps have no effect outside the journal.
            if matches!(step.action, StepAction::Notify { .. }) {
                self.emit_batch(evs)?;
            } else {
                self.emit_batch_deferred(evs)?;
            }
            return Ok(None);
        }
        // A non-idempotent step's start is durable before its effect; an
        // idempotent one is simply run again if a crash loses its records.
        if step.idempotent {
            self.emit_deferred(started)?;
        } else {
            self.emit(started)?;
        }
        let t0 = Instant::now();
        let exec = match self.exec_step(phase, step)? {
            StepRun::Done(exec) => exec,
            StepRun::Stop(out) => return Ok(Some(out)),
        };
        let ms = u64::try_from(t0.elapsed().as_millis()).unwrap_or(u64::MAX);
        let failed = exec.status == StepStatus::Failed;
        let reason = exec.summary.clone();
        let alerts = crate::monitor::step_alerts(&step.action, &exec.details);
        if step.idempotent {
            self.emit_deferred(finished(phase, step, exec, ms))?;
        } else {
            self.emit(finished(phase, step, exec, ms))?;
        }
        if let Some(out) = self.apply_alerts(phase, Some(step), alerts)? {
            return Ok(Some(out));
        }
        if failed {
            return self.fail_phase(&phase.id, Some(&step.id), reason).map(Some);
        }
        Ok(None)
    }

    fn notify(&self, step: &Step, message: &str, target: &str) -> StepExec {
        tracing::info!(step = %step.id, target, "notify: {message}");
        StepExec::new(
            StepStatus::Succeeded,
            format!("notified {target}: {message}"),
        )
    }

    fn exec_step(&mut self, phase: &Phase, step: &Step) -> Result<StepRun, EngineError> {
        let done = |e| Ok(StepRun::Done(e));
        match &step.action {
            StepAction::Action { plugin, params } => {
                done(self.step_ctx().run_action(phase, step, plugin, params))
            }
            StepAction::Check {
                plugin,
                params,
                shadow,
            } => done(
                self.step_ctx()
                    .run_check(phase, step, plugin, params, *shadow),
            ),
            StepAction::Backup { system, types } => done(self.step_ctx().backup(system, types)),
            StepAction::Restore { backup, types } => done(self.step_ctx().restore(backup, types)),
            StepAction::RollbackPoint { name, categories } => {
                done(match self.capture_point(&phase.id, name, categories)? {
                    Ok(summary) => StepExec::new(StepStatus::Succeeded, summary),
                    Err(reason) => StepExec::new(StepStatus::Failed, reason),
                })
            }
            StepAction::ParallelRun { .. } => self.parallel_run(phase, step),
            StepAction::Wait { duration_ms } => {
                let deadline = match self.view.steps.get(&step.id).and_then(|s| s.deadline) {
                    Some((_, d)) => d,
                    None => {
                        let now = now_ms();
                        let d = now.saturating_add(i64::try_from(*duration_ms).unwrap_or(i64::MAX));
                        self.emit(Event::StepDeadline {
                            step: step.id.clone(),
                            started_ms: now,
                            deadline_ms: d,
                        })?;
                        d
                    }
                };
                if let Some(out) = self.sleep_until(deadline, &phase.id, step.idempotent)? {
                    return Ok(StepRun::Stop(out));
                }
                done(StepExec::new(
                    StepStatus::Succeeded,
                    format!("waited {} ms", duration_ms),
                ))
            }
            StepAction::Notify { message, target } => done(self.notify(step, message, target)),
            StepAction::Approval { .. } => done(StepExec::new(StepStatus::Succeeded, "approved")),
            StepAction::Migrate { .. } => done(self.migrate(phase, step)?),
            StepAction::Canary {
                plugin,
                params,
                shadow,
            } => self.canary(phase, step, plugin, params, *shadow),
            StepAction::Backtest(b) => self.backtest(phase, step, b),
        }
    }
}

pub(crate) fn finished(phase: &Phase, step: &Step, e: StepExec, duration_ms: u64) -> Event {
    Event::StepFinished {
        phase: phase.id.clone(),
        step: step.id.clone(),
        status: e.status,
        summary: e.summary,
        verdict: e.verdict,
        details: e.details,
        duration_ms,
        plugin: e.plugin,
        digest: e.digest,
    }
}

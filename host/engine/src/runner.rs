//! The runner: holds the lease, binds the run to the plan's fingerprint and
//! walks phases and steps, journaling every transition before acting on it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cutover_notify::{Notification, NotificationKind, RetryPolicy, Sender, Severity};
use cutover_ops::MigrationMetrics;

use cutover_plan::{LoadedPlan, Phase, Step, StepAction};
use cutover_runtime::Runtime;
use cutover_state::{FileJournal, FileLease, FileLeaseHandle, Journal, Lease, LeaseHandle};

use crate::control::{self, ControlRequest};
use crate::error::EngineError;
use crate::event::{Event, PhaseStatus, RunEnd, StepStatus};
use crate::outcome::RunOutcome;
use crate::plugins::Plugins;
use crate::policy::AlertPolicy;
use crate::view::{RunStatus, RunView};

/// How often the lease heartbeat is refreshed while running.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(3);

/// Whether the invocation may start a new run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `cutover run`: start a run, or continue the unfinished one.
    Run,
    /// `cutover resume`: continue an existing run only.
    Resume,
}

/// Options of a run invocation.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Accept a changed plan (journaled as `replanned`).
    pub replan: bool,
    /// Print one-line parallel-run progress to stderr.
    pub progress: bool,
    /// Live metrics registry fed from every journaled event.
    pub metrics: Option<Arc<MigrationMetrics>>,
    /// What a triggered migration alert does (default: pause).
    pub policy: AlertPolicy,
    /// Notification targets for gates, phase transitions, alerts and
    /// incidents (see `cutover-notify` for the syntax).
    pub notify: Vec<String>,
    /// Webhook retries (default: `RetryPolicy::from_env()` when `None`).
    pub notify_retry: Option<RetryPolicy>,
    /// Escalation time of incidents (default: `$CUTOVER_ESCALATION`, else 15 min).
    pub escalation: Option<Duration>,
}

/// Result of executing one step.
pub(crate) struct StepExec {
    pub status: StepStatus,
    pub summary: String,
    pub verdict: Option<String>,
    pub details: serde_json::Value,
    pub plugin: Option<String>,
    pub digest: Option<String>,
    /// A gated step's judgement ([`crate::gate::judge`]).
    pub gate: Option<crate::gate::Judgement>,
}

impl StepExec {
    pub(crate) fn new(status: StepStatus, summary: impl Into<String>) -> Self {
        StepExec {
            status,
            summary: summary.into(),
            verdict: None,
            details: serde_json::Value::Null,
            plugin: None,
            digest: None,
            gate: None,
        }
    }
}

/// A step either finished, or the run must stop here (pause/abort requested
/// during a long step).
pub(crate) enum StepRun {
    Done(StepExec),
    Stop(RunOutcome),
}

/// Runs one plan against its state directory. Holds the lease until dropped.
pub struct Runner<'a> {
    pub(crate) plan: &'a LoadedPlan,
    pub(crate) plugins: Plugins<'a>,
    pub(crate) journal: FileJournal,
    pub(crate) lease: FileLeaseHandle,
    pub(crate) view: RunView,
    pub(crate) state_dir: PathBuf,
    pub(crate) opts: RunOptions,
    pub(crate) sender: Sender,
    last_heartbeat: Instant,
    notes: Vec<String>,
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Opens the journal of `state_dir` (cutting a torn last line, which was never
/// acknowledged) and folds it.
pub(crate) fn open_journal(
    state_dir: &Path,
) -> Result<(FileJournal, RunView, Option<String>), EngineError> {
    let (journal, repair) = FileJournal::repair_truncated_tail(state_dir).map_err(|e| match e {
        cutover_state::JournalError::NotRepairable(inner) => *inner,
        other => other,
    })?;
    let note = repair.map(|r| {
        format!(
            "journal: cut a torn last line of {} bytes at byte offset {} (saved to {})",
            r.cut_len,
            r.offset,
            r.saved_to.display()
        )
    });
    let view = cutover_state::fold(&journal, RunView::default(), |mut v, r| {
        v.apply_record(r.seq, &r.kind, &r.payload);
        v
    })?;
    Ok((journal, view, note))
}

impl<'a> Runner<'a> {
    /// Takes the lease of the plan's state directory, opens and verifies the
    /// journal and binds the run to the plan's fingerprint: a new run records
    /// `run-started`; an existing one must have the same fingerprint unless
    /// `opts.replan` (then `replanned` is recorded with the diff).
    pub fn open(
        runtime: &'a Runtime,
        plan: &'a LoadedPlan,
        mode: Mode,
        opts: RunOptions,
    ) -> Result<Runner<'a>, EngineError> {
        let state_dir = plan.state_dir();
        let lease = FileLease::new(&state_dir)?;
        let acquired = lease.acquire()?;
        let (journal, view, note) = open_journal(&state_dir)?;
        let sender = Sender::new(
            opts.notify_retry.unwrap_or_else(RetryPolicy::from_env),
            "cutover",
        );
        let mut runner = Runner {
            sender,
            plan,
            plugins: Plugins::new(runtime, plan),
            journal,
            lease: acquired.handle,
            view,
            state_dir,
            opts,
            last_heartbeat: Instant::now(),
            notes: note.into_iter().collect(),
        };
        if let Some(rec) = acquired.recovered {
            runner.notes.push(format!(
                "recovered a stale lease of pid {} on {} ({:?})",
                rec.previous.pid, rec.previous.host, rec.reason
            ));
            runner.emit(Event::LeaseRecovered {
                holder: rec.previous.holder,
                pid: rec.previous.pid,
                host: rec.previous.host,
                reason: format!("{:?}", rec.reason),
            })?;
        }
        runner.check_declared_support()?;
        runner.seed_metrics()?;
        runner.bind(mode)?;
        Ok(runner)
    }

    fn bind(&mut self, mode: Mode) -> Result<(), EngineError> {
        let current = self.plan.fingerprint();
        let normalized = self.plan.plan.normalized(&self.plan.digests);
        let Some(bound) = self.view.fingerprint.clone() else {
            if mode == Mode::Resume {
                return Err(EngineError::NoRun(self.state_dir.display().to_string()));
            }
            return self
                .emit(Event::RunStarted {
                    run_id: format!("run-{}-{}", now_ms(), std::process::id()),
                    plan: self.plan.plan.meta.name.clone(),
                    fingerprint: current,
                    normalized,
                })
                .map(|_| ());
        };
        if self.view.status.is_finished() {
            return Ok(());
        }
        if bound != current {
            let old = self.view.normalized.clone().unwrap_or_default();
            let mut diff = cutover_plan::fingerprint_diff(&old, &normalized);
            if diff.is_empty() {
                diff.push("the fingerprint changed".to_string());
            }
            if !self.opts.replan {
                return Err(EngineError::StalePlan {
                    bound,
                    current,
                    diff,
                });
            }
            self.emit(Event::Replanned {
                old_fingerprint: bound,
                fingerprint: current,
                diff,
                normalized,
            })?;
        }
        self.emit(Event::RunResumed {
            pid: std::process::id(),
        })?;
        Ok(())
    }

    /// Notes for the operator gathered while opening (torn tail cut, stale
    /// lease recovered).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The current state.
    pub fn view(&self) -> &RunView {
        &self.view
    }

    /// Journals `ev` durably, then folds it into the view.
    pub(crate) fn emit(&mut self, ev: Event) -> Result<u64, EngineError> {
        let (kind, payload) = ev.to_record();
        let r = self.journal.append(&kind, payload)?;
        self.view.records += 1;
        self.view.head_seq = r.seq;
        self.view.apply(r.seq, &ev);
        self.observe(&ev);
        Ok(r.seq)
    }

    fn observe(&self, ev: &Event) {
        if let Some(m) = &self.opts.metrics {
            crate::monitor::observe(m, &self.plan.plan, &self.view, ev, now_ms());
        }
    }

    /// Folds the whole journal into the metrics registry (at open).
    fn seed_metrics(&self) -> Result<(), EngineError> {
        let Some(m) = &self.opts.metrics else {
            return Ok(());
        };
        let mut jm = crate::monitor::JournalMetrics::new();
        jm.refresh(&self.state_dir, &self.plan.plan, m)?;
        Ok(())
    }

    /// Journals several events with one durable commit.
    pub(crate) fn emit_batch(&mut self, evs: Vec<Event>) -> Result<(), EngineError> {
        let entries = evs.iter().map(Event::to_record).collect();
        let refs = self.journal.append_batch(entries)?;
        for (r, ev) in refs.iter().zip(&evs) {
            self.view.records += 1;
            self.view.head_seq = r.seq;
            self.view.apply(r.seq, ev);
            self.observe(ev);
        }
        Ok(())
    }

    /// Refreshes the lease if due; losing it stops the run.
    pub(crate) fn heartbeat(&mut self) -> Result<(), EngineError> {
        if self.last_heartbeat.elapsed() >= HEARTBEAT_EVERY {
            self.lease.heartbeat()?;
            self.last_heartbeat = Instant::now();
        }
        Ok(())
    }

    /// Journals a pending pause/abort request and says how the run stops.
    pub(crate) fn check_control(
        &mut self,
        phase: Option<&str>,
    ) -> Result<Option<RunOutcome>, EngineError> {
        self.heartbeat()?;
        self.escalate_due()?;
        if let Some(p) = phase {
            self.check_schedule(p)?;
        }
        let Some(req) = control::peek(&self.state_dir) else {
            return Ok(None);
        };
        let out = match req {
            ControlRequest::Pause { reason, by } => {
                self.emit(Event::Paused {
                    phase: phase.map(str::to_string),
                    reason: reason.clone(),
                    by,
                })?;
                RunOutcome::Paused { reason }
            }
            ControlRequest::Abort { reason, by } => {
                self.finish_aborted(phase, &reason, &by)?;
                RunOutcome::Aborted { reason }
            }
        };
        control::clear(&self.state_dir);
        Ok(Some(out))
    }

    pub(crate) fn finish_aborted(
        &mut self,
        phase: Option<&str>,
        reason: &str,
        by: &str,
    ) -> Result<(), EngineError> {
        let mut evs = vec![Event::Aborted {
            reason: reason.to_string(),
            by: by.to_string(),
        }];
        if let Some(phase) = phase {
            evs.push(Event::PhaseFinished {
                phase: phase.to_string(),
                status: PhaseStatus::Aborted,
            });
        }
        evs.push(Event::RunFinished {
            status: RunEnd::Aborted,
        });
        self.emit_batch(evs)
    }

    /// Sleeps until `deadline_ms`; when `interruptible`, stops early for a
    /// pause/abort request.
    pub(crate) fn sleep_until(
        &mut self,
        deadline_ms: i64,
        phase: &str,
        interruptible: bool,
    ) -> Result<Option<RunOutcome>, EngineError> {
        loop {
            let left = deadline_ms - now_ms();
            if left <= 0 {
                return Ok(None);
            }
            if interruptible && let Some(out) = self.check_control(Some(phase))? {
                return Ok(Some(out));
            }
            self.heartbeat()?;
            std::thread::sleep(Duration::from_millis(
                u64::try_from(left.min(200)).unwrap_or(0),
            ));
        }
    }

    /// Runs (or continues) the plan until it completes, fails, pauses or
    /// needs an operator. A finished run is reported as it ended.
    pub fn execute(&mut self) -> Result<RunOutcome, EngineError> {
        self.escalate_due()?;
        if let Some(out) = self.finished_outcome() {
            return Ok(out);
        }
        if let Some(id) = self.view.open_incident().map(|i| i.id.clone())
            && let Some(out) = self.advance_incident(&id)?
        {
            return Ok(out);
        }
        // A rollback that failed half way left the systems between two
        // states: the migration must not carry on from there.
        if let Some(r) = self.view.rollbacks.last().filter(|r| !r.ok) {
            return Ok(RunOutcome::Paused {
                reason: format!(
                    "the rollback to {} failed ({}); finish it with `cutover rollback --to {}` (it resumes where it stopped) before the run can go on",
                    r.point,
                    r.error.as_deref().unwrap_or("see cutover history"),
                    r.point
                ),
            });
        }
        let plan = self.plan;
        for phase in &plan.plan.phases {
            if let Some(out) = self.run_phase(phase)? {
                return Ok(out);
            }
        }
        self.emit(Event::RunFinished {
            status: RunEnd::Completed,
        })?;
        Ok(RunOutcome::Completed)
    }

    fn finished_outcome(&self) -> Option<RunOutcome> {
        let v = &self.view;
        let reason = v.reason.clone().unwrap_or_default();
        let failed_phase = || {
            v.phases
                .iter()
                .find(|(_, p)| matches!(p.status, PhaseStatus::Failed | PhaseStatus::RolledBack))
                .map(|(id, _)| id.clone())
                .unwrap_or_default()
        };
        match v.status {
            RunStatus::Completed => Some(RunOutcome::Completed),
            RunStatus::Aborted => Some(RunOutcome::Aborted { reason }),
            RunStatus::Failed => Some(RunOutcome::Failed {
                phase: failed_phase(),
                step: None,
                reason: "the run had already failed".to_string(),
            }),
            RunStatus::RolledBack => Some(RunOutcome::RolledBack {
                phase: failed_phase(),
                point: String::new(),
            }),
            _ => None,
        }
    }

    pub(crate) fn fail_phase(
        &mut self,
        phase: &str,
        step: Option<&str>,
        reason: String,
    ) -> Result<RunOutcome, EngineError> {
        self.emit_batch(vec![
            Event::PhaseFinished {
                phase: phase.to_string(),
                status: PhaseStatus::Failed,
            },
            Event::RunFinished {
                status: RunEnd::Failed,
            },
        ])?;
        Ok(RunOutcome::Failed {
            phase: phase.to_string(),
            step: step.map(str::to_string),
            reason,
        })
    }

    fn await_approval(
        &mut self,
        target: String,
        message: String,
        approvers: Vec<String>,
    ) -> Result<RunOutcome, EngineError> {
        if self.view.waiting_for.as_deref() != Some(target.as_str())
            || self.view.status != RunStatus::Paused
        {
            let n = Notification::new(
                NotificationKind::GateWaiting,
                Severity::Warning,
                format!("{target} waits for approval: {message}"),
            )
            .describe(if approvers.is_empty() {
                "anyone may approve".to_string()
            } else {
                format!("approvers: {}", approvers.join(", "))
            })
            .label("target", target.clone());
            self.emit(Event::GateWaiting {
                target: target.clone(),
                message: message.clone(),
                approvers,
            })?;
            self.notify_targets(&format!("gate {target}"), &[], n)?;
        }
        Ok(RunOutcome::AwaitingApproval { target, message })
    }

    /// Runs one phase; `None` when it passed.
    fn run_phase(&mut self, phase: &Phase) -> Result<Option<RunOutcome>, EngineError> {
        match self.view.phase_status(&phase.id) {
            PhaseStatus::Passed => return Ok(None),
            PhaseStatus::Pending => {
                if let Some(gate) = &phase.gate
                    && self.view.approval_after(&phase.id, 0).is_none()
                {
                    return self
                        .await_approval(
                            phase.id.clone(),
                            gate.message.clone(),
                            gate.approvers.clone(),
                        )
                        .map(Some);
                }
                if let Some(out) = self.risk_gate(phase)? {
                    return Ok(Some(out));
                }
                if let Some(out) = self.check_control(None)? {
                    return Ok(Some(out));
                }
                self.emit(Event::PhaseStarted {
                    phase: phase.id.clone(),
                    at_ms: Some(now_ms()),
                })?;
                self.phase_note(phase, "started")?;
            }
            _ => {}
        }
        if let Some(out) = self.check_health(phase)? {
            return Ok(Some(out));
        }
        for step in &phase.steps {
            if let Some(out) = self.run_step(phase, step)? {
                return Ok(Some(out));
            }
        }
        if let Some(out) = self.run_checklist(phase)? {
            return Ok(Some(out));
        }
        if let Some(rp) = &phase.rollback_point
            && !self
                .view
                .points
                .iter()
                .any(|p| p.name == rp.name && p.phase == phase.id)
        {
            let name = rp.name.clone();
            let cats = rp.categories.clone();
            if let Err(reason) = self.capture_point(&phase.id, &name, &cats)? {
                return self.fail_phase(&phase.id, None, reason).map(Some);
            }
        }
        self.check_schedule(&phase.id)?;
        self.emit(Event::PhaseFinished {
            phase: phase.id.clone(),
            status: PhaseStatus::Passed,
        })?;
        self.phase_note(phase, "passed")?;
        Ok(None)
    }

    fn phase_note(&mut self, phase: &Phase, what: &str) -> Result<(), EngineError> {
        let n = Notification::new(
            NotificationKind::PhaseTransition,
            Severity::Info,
            format!("phase {} ({}) {what}", phase.id, phase.name),
        )
        .label("phase", phase.id.clone());
        self.notify_targets(&format!("phase {} {what}", phase.id), &[], n)
    }

    /// Runs one step unless it is done; `Some` when the run stops here.
    fn run_step(&mut self, phase: &Phase, step: &Step) -> Result<Option<RunOutcome>, EngineError> {
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
                        details: serde_json::json!({ "marked_done_by": by }),
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
                    e.details = serde_json::json!({ "approved_by": by });
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
                evs.extend(crate::alerting::deliver(
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
            self.emit_batch(evs)?;
            return Ok(None);
        }
        self.emit(started)?;
        let t0 = Instant::now();
        let exec = match self.exec_step(phase, step)? {
            StepRun::Done(exec) => exec,
            StepRun::Stop(out) => return Ok(Some(out)),
        };
        let ms = u64::try_from(t0.elapsed().as_millis()).unwrap_or(u64::MAX);
        let failed = exec.status == StepStatus::Failed;
        let reason = exec.summary.clone();
        let alerts = crate::monitor::step_alerts(&step.action, exec.gate.as_ref(), &exec.details);
        self.emit(finished(phase, step, exec, ms))?;
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
                done(self.run_action(phase, step, plugin, params))
            }
            StepAction::Check {
                plugin,
                params,
                shadow,
            } => done(self.run_check(phase, step, plugin, params, *shadow)),
            StepAction::Backup { system, types } => done(self.backup(system, types)),
            StepAction::Restore { backup, types } => done(self.restore(backup, types)),
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

//! The runner: holds the lease, binds the run to the plan's fingerprint and
//! walks phases and steps, journaling every transition before acting on it.

mod commit;
mod step;

pub(crate) use commit::StatusSnapshot;
pub use commit::{GROUP_COMMIT_WINDOW, SNAPSHOT_DOC, SNAPSHOT_EVERY};

pub(crate) use step::{StepExec, StepRun};

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use cutover_notify::{Notification, NotificationKind, RetryPolicy, Sender, Severity};
use cutover_ops::MigrationMetrics;

use cutover_plan::{LoadedPlan, Phase};
use cutover_runtime::Runtime;
use cutover_state::{AnyJournal, Journal, StateBackend};

use crate::bridge::PluginBridge;
use crate::control::{Channel, ControlRequest};
use crate::error::EngineError;
use crate::event::{Event, PhaseStatus, RunEnd};
use crate::journal::{StateAt, now_ms, open_journal, take_lease};
use crate::lease_keeper::LeaseKeeper;
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

/// Runs one plan against its state directory. Holds the lease until dropped.
pub struct Runner<'a> {
    pub(crate) plan: &'a LoadedPlan,
    pub(crate) plugins: Plugins<'a>,
    pub(crate) journal: AnyJournal,
    pub(crate) lease: LeaseKeeper,
    pub(crate) view: RunView,
    /// The local working directory (reports, control requests).
    pub(crate) state_dir: PathBuf,
    /// Where the journal, lease and backups live.
    pub(crate) state: StateAt,
    pub(crate) backend: StateBackend,
    /// `view.records` when the last status snapshot was saved.
    snapshot_at: u64,
    /// Where operators leave pause and abort requests.
    control: Channel,
    pub(crate) opts: RunOptions,
    pub(crate) sender: Sender,
    notes: Vec<String>,
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
        Self::open_with(PluginBridge::new(runtime), plan, mode, opts)
    }

    /// [`Runner::open`] with the bridge that validated `plan`: the plugins
    /// it loaded are used, not loaded again.
    pub fn open_with(
        bridge: PluginBridge<'a>,
        plan: &'a LoadedPlan,
        mode: Mode,
        opts: RunOptions,
    ) -> Result<Runner<'a>, EngineError> {
        let state = StateAt::of_plan(plan)?;
        let state_dir = state.dir.clone();
        let backend = state.open()?;
        // Named in the lease, so a refused backup command says who holds it.
        let purpose = match mode {
            Mode::Run => "cutover run",
            Mode::Resume => "cutover resume",
        };
        let acquired = take_lease(&backend, Some(purpose))?;
        let (journal, view, note) = open_journal(&backend, &acquired.handle)?;
        let control = Channel::open(&backend, &state_dir, acquired.handle.fence())?;
        let sender = crate::notifications::sender_for(
            plan,
            opts.notify_retry.unwrap_or_else(RetryPolicy::from_env),
        )?;
        let mut runner = Runner {
            sender,
            plan,
            plugins: Plugins::with_bridge(bridge, plan),
            journal,
            lease: LeaseKeeper::start(acquired.handle),
            view,
            state_dir,
            state,
            backend,
            snapshot_at: 0,
            control,
            opts,
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
                return Err(EngineError::NoRun(self.state.describe()));
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

    /// Journals `ev` durably (with every deferred record before it), then
    /// folds it into the view.
    pub(crate) fn emit(&mut self, ev: Event) -> Result<u64, EngineError> {
        let (kind, payload) = ev.to_record();
        let r = self.journal.append(&kind, payload)?;
        self.fold(r.seq, &ev);
        self.after_append()?;
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
        jm.refresh(&self.state, &self.plan.plan, m)?;
        Ok(())
    }

    /// Journals several events with one durable commit.
    pub(crate) fn emit_batch(&mut self, evs: Vec<Event>) -> Result<(), EngineError> {
        let entries = evs.iter().map(Event::to_record).collect();
        let refs = self.journal.append_batch(entries)?;
        for (r, ev) in refs.iter().zip(&evs) {
            self.fold(r.seq, ev);
        }
        self.after_append()
    }

    /// Whether the lease is still held (its keeper refreshes it); losing
    /// it stops the run.
    pub(crate) fn heartbeat(&mut self) -> Result<(), EngineError> {
        Ok(self.lease.check()?)
    }

    /// Journals a pending pause/abort request and says how the run stops.
    pub(crate) fn check_control(
        &mut self,
        phase: Option<&str>,
    ) -> Result<Option<RunOutcome>, EngineError> {
        self.heartbeat()?;
        self.after_append()?;
        self.escalate_due()?;
        if let Some(p) = phase {
            self.check_schedule(p)?;
        }
        let Some(req) = self.control.peek() else {
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
        self.control.clear();
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
        let out = self.execute_phases();
        // Whatever happened, what was journaled becomes durable before the
        // invocation reports it.
        let committed = self.commit_all();
        let out = out?;
        committed?;
        Ok(out)
    }

    fn execute_phases(&mut self) -> Result<RunOutcome, EngineError> {
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
}

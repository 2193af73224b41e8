//! Journal record kinds written by the engine, as one typed enum.
//!
//! Each variant is stored as a journal record whose `kind` is the variant name
//! in kebab-case (e.g. `step-finished`) and whose `payload` is the variant's
//! fields as a JSON object.

use serde::{Deserialize, Serialize};

use cutover_compare::AlertState;

use crate::details::{RollbackResults, StepDetails};
pub use crate::status::{ItemStatus, PhaseStatus, RunEnd, StepStatus};

/// One alert episode seen during a parallel run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeenAlert {
    /// Labels.
    pub labels: std::collections::BTreeMap<String, String>,
    /// Start, unix ms.
    pub starts_at: i64,
    /// End, unix ms.
    pub ends_at: Option<i64>,
    /// `active`, `suppressed` or `resolved`.
    pub state: AlertState,
    /// Fingerprint reported by the adapter.
    pub fingerprint: String,
}

impl SeenAlert {
    /// Identity of the episode: fingerprint and start.
    pub fn episode_key(&self) -> (String, i64) {
        (self.fingerprint.clone(), self.starts_at)
    }
}

/// Kind of an emergency-procedure step, from its text: `pause`,
/// `rollback`, `action:PLUGIN` (or `run:PLUGIN`) are automated; anything
/// else is a manual instruction an operator acknowledges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum IncidentStepKind {
    /// An operator does it and acknowledges it.
    Manual,
    /// The engine pauses the run.
    Pause,
    /// The engine rolls both systems back (to `rollback_to`, else the latest point).
    Rollback,
    /// The engine runs an action plugin.
    Action {
        /// Plugin id.
        plugin: String,
    },
}

impl IncidentStepKind {
    /// Classifies a procedure step's text.
    pub fn of(text: &str) -> IncidentStepKind {
        let t = text.trim();
        let lower = t.to_ascii_lowercase();
        if lower == "pause" || lower.starts_with("pause:") {
            return IncidentStepKind::Pause;
        }
        if lower == "rollback" || lower.starts_with("rollback:") {
            return IncidentStepKind::Rollback;
        }
        for prefix in ["action:", "run:"] {
            if lower.starts_with(prefix) {
                let plugin = t[prefix.len()..].split_whitespace().next().unwrap_or("");
                if !plugin.is_empty() {
                    return IncidentStepKind::Action {
                        plugin: plugin.to_string(),
                    };
                }
            }
        }
        IncidentStepKind::Manual
    }

    /// Whether the engine runs it.
    pub fn is_automated(&self) -> bool {
        !matches!(self, IncidentStepKind::Manual)
    }
}

/// One step of an incident as opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentStepSpec {
    /// Text from the plan.
    pub text: String,
    /// Classification.
    #[serde(flatten)]
    pub kind: IncidentStepKind,
}

/// Status of one incident step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IncidentStepStatus {
    /// Not done yet.
    Pending,
    /// Done by the engine.
    Done,
    /// The automated step failed: an operator acknowledges it to go on.
    Failed,
    /// Acknowledged by an operator.
    Acked,
}

impl IncidentStepStatus {
    /// Name as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStepStatus::Pending => "pending",
            IncidentStepStatus::Done => "done",
            IncidentStepStatus::Failed => "failed",
            IncidentStepStatus::Acked => "acked",
        }
    }

    /// Whether the procedure may move past it.
    pub fn is_settled(self) -> bool {
        matches!(self, IncidentStepStatus::Done | IncidentStepStatus::Acked)
    }
}

/// Every record the engine writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload", rename_all = "kebab-case")]
pub enum Event {
    /// A run began, bound to a plan fingerprint.
    RunStarted {
        /// Run id (stable across resumes).
        run_id: String,
        /// Plan name.
        plan: String,
        /// Fingerprint bound to.
        fingerprint: String,
        /// Normalized plan (for `fingerprint_diff` later).
        normalized: String,
    },
    /// A runner picked the run up again.
    RunResumed {
        /// Process id of the runner.
        pid: u32,
    },
    /// The operator accepted a changed plan (`--replan`).
    Replanned {
        /// Fingerprint before.
        old_fingerprint: String,
        /// Fingerprint now bound to.
        fingerprint: String,
        /// What changed.
        diff: Vec<String>,
        /// New normalized plan.
        normalized: String,
    },
    /// A stale lease of a dead runner was taken over.
    LeaseRecovered {
        /// Previous holder id.
        holder: String,
        /// Previous pid.
        pid: u32,
        /// Previous host.
        host: String,
        /// Why it was stale.
        reason: String,
    },
    /// An operator removed the lease by force.
    Unlocked {
        /// Reason given.
        reason: String,
        /// The removed lease file content, if any.
        previous: Option<String>,
    },
    /// A phase began.
    PhaseStarted {
        /// Phase id.
        phase: String,
        /// When, unix ms (absent in journals written before it was recorded).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at_ms: Option<i64>,
    },
    /// A phase has run longer than the longest its plan `duration` allows
    /// (the maximum of a range `MIN..MAX`, or the single value). Journaled
    /// once per phase; the run goes on.
    PhaseBehindSchedule {
        /// Phase id.
        phase: String,
        /// The plan's duration as written (`2d`, `1w..2w`).
        duration: String,
        /// The longest the phase may take, ms.
        max_ms: u64,
        /// How long it has run when this was noticed, ms.
        elapsed_ms: u64,
        /// When, unix ms.
        at_ms: i64,
    },
    /// The run waits for an approval of `target` (`PHASE` or `PHASE/STEP`).
    GateWaiting {
        /// What must be approved.
        target: String,
        /// Message shown.
        message: String,
        /// Who may approve (empty: anyone).
        approvers: Vec<String>,
    },
    /// An operator approved `target`.
    Approved {
        /// `PHASE` or `PHASE/STEP`.
        target: String,
        /// Who approved.
        by: String,
        /// For an interrupted step: run it again instead of marking it done.
        retry: bool,
    },
    /// A step began.
    StepStarted {
        /// Phase id.
        phase: String,
        /// Step id.
        step: String,
        /// Step kind.
        step_kind: String,
        /// Whether it is safe to repeat.
        idempotent: bool,
    },
    /// A timed step recorded when it ends (wait, parallel run), so a resume keeps it.
    StepDeadline {
        /// Step id.
        step: String,
        /// When the step's clock started, unix ms.
        started_ms: i64,
        /// When it ends, unix ms.
        deadline_ms: i64,
    },
    /// One poll of a parallel run: only episodes not seen before.
    ParallelPoll {
        /// Step id.
        step: String,
        /// Poll number (1-based).
        poll: u32,
        /// New episodes of the old system.
        old: Vec<SeenAlert>,
        /// New episodes of the new system.
        new: Vec<SeenAlert>,
        /// Running match rate over everything seen.
        match_rate: Option<f64>,
        /// New episodes of the step's noise source (a second read of the old
        /// system or a declared secondary); absent without one.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        noise: Vec<SeenAlert>,
        /// Why the noise source could not be read at this poll. Calibration
        /// only: the poll counts all the same.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        noise_error: Option<String>,
    },
    /// A step ended.
    StepFinished {
        /// Phase id.
        phase: String,
        /// Step id.
        step: String,
        /// Final status.
        status: StepStatus,
        /// One-line outcome.
        summary: String,
        /// Verdict for checks and parallel runs.
        verdict: Option<String>,
        /// Kind-specific details.
        details: StepDetails,
        /// Wall time of the attempt.
        duration_ms: u64,
        /// Plugin id invoked, if any.
        plugin: Option<String>,
        /// sha256 of the plugin invoked, if any.
        digest: Option<String>,
    },
    /// A step was found interrupted and is not safe to repeat.
    NeedsAttention {
        /// Phase id.
        phase: String,
        /// Step id.
        step: String,
        /// Explanation.
        reason: String,
    },
    /// One checklist item was evaluated.
    ChecklistItem {
        /// Phase id.
        phase: String,
        /// 0-based index in the checklist.
        index: usize,
        /// Item text.
        item: String,
        /// Whether it is critical.
        critical: bool,
        /// Result.
        status: ItemStatus,
        /// Verdict of the check plugin, if any.
        verdict: Option<String>,
        /// Message.
        message: String,
        /// Policy that applies on failure.
        on_failure: String,
        /// Check plugin digest, if any.
        digest: Option<String>,
    },
    /// A rollback point was captured.
    PointCaptured {
        /// Phase id.
        phase: String,
        /// Point name.
        name: String,
        /// Backup-store ids per system (`old`, `new`).
        ids: std::collections::BTreeMap<String, String>,
    },
    /// The systems were rolled back to a point (every category applied).
    RolledBack {
        /// Phase id (the phase the run was in; empty when none).
        phase: String,
        /// Point name.
        point: String,
        /// Result per system (`old`, `new`, or the point's system).
        results: RollbackResults,
        /// Who: `engine` for automatic rollbacks, else the operator.
        #[serde(default = "engine")]
        by: String,
        /// `cutover rollback --now`: the approval gate was skipped.
        #[serde(default)]
        now: bool,
    },
    /// An operator asked for a rollback that needs an approval
    /// (`[plan] rollback_approvers`); `cutover approve PLAN rollback:POINT`.
    RollbackRequested {
        /// Point name.
        point: String,
        /// Who asked.
        by: String,
        /// Why, if given.
        reason: Option<String>,
        /// Who may approve.
        approvers: Vec<String>,
    },
    /// A rollback ran but not every category was applied (the next
    /// `cutover rollback` to the same point resumes it).
    RollbackFailed {
        /// Phase id (empty when none).
        phase: String,
        /// Point name.
        point: String,
        /// Result per system, as in `rolled-back`.
        results: RollbackResults,
        /// Who.
        by: String,
        /// Whether `--now` was given.
        now: bool,
        /// What failed.
        error: String,
    },
    /// Notification (webhooks come later: journal + log only).
    Notified {
        /// Step id.
        step: String,
        /// Target.
        target: String,
        /// Message.
        message: String,
    },
    /// Health of one system, asked at the start (or resume) of a phase.
    HealthChecked {
        /// Phase id.
        phase: String,
        /// `old` or `new`.
        system: String,
        /// Whether the adapter reported the system available.
        available: bool,
        /// Latency reported by the adapter.
        latency_ms: u32,
        /// Adapter message or call error.
        message: String,
    },
    /// A migration alert condition triggered and its policy applies.
    AlertTriggered {
        /// Phase id.
        phase: String,
        /// Step whose result triggered it (none for health at phase start).
        step: Option<String>,
        /// `alerts-missing`, `match-rate-low`, `system-unavailable` or `data-inconsistent`.
        alert: String,
        /// Measured value.
        value: f64,
        /// Threshold it crossed.
        threshold: f64,
        /// Policy applied: `pause`, `rollback` or `emergency:NAME`.
        policy: String,
        /// Explanation.
        message: String,
    },
    /// A phase may not start: an unmitigated high risk (`phase_blocked_by_risk`).
    RiskBlocked {
        /// Phase id.
        phase: String,
        /// Why.
        reason: String,
    },
    /// An emergency procedure was started as an incident.
    IncidentOpened {
        /// Incident id (`INC-1`, ...).
        id: String,
        /// Emergency procedure name.
        procedure: String,
        /// Phase it happened in.
        phase: String,
        /// What triggered it.
        reason: String,
        /// The procedure's steps, classified.
        steps: Vec<IncidentStepSpec>,
        /// Escalation time, ms after opening.
        escalation_ms: u64,
        /// Escalation targets (the procedure's `notify`).
        notify: Vec<String>,
        /// Rollback point of the procedure, if any.
        rollback_to: Option<String>,
        /// When, unix ms.
        at_ms: i64,
        /// Who opened it: `engine` for an alert policy, else the operator
        /// (`cutover incident open`).
        #[serde(default = "engine")]
        by: String,
    },
    /// One step of an incident changed.
    IncidentStep {
        /// Incident id.
        id: String,
        /// 1-based step number.
        step: usize,
        /// New status.
        status: IncidentStepStatus,
        /// Who (`engine` for automated steps).
        by: String,
        /// Outcome or operator note.
        note: String,
        /// When, unix ms.
        at_ms: i64,
    },
    /// An incident was not resolved within its escalation time.
    IncidentEscalated {
        /// Incident id.
        id: String,
        /// Targets notified.
        targets: Vec<String>,
        /// When, unix ms.
        at_ms: i64,
        /// Who escalated: `engine` for a runner, `watcher` for `cutover
        /// watch`, else the operator (`cutover incident escalate|ack`).
        #[serde(default = "engine")]
        by: String,
    },
    /// Every step of an incident is done or acknowledged.
    IncidentResolved {
        /// Incident id.
        id: String,
        /// When, unix ms.
        at_ms: i64,
    },
    /// A webhook notification was delivered.
    NotificationSent {
        /// What it was about (`gate one`, `incident INC-1`, ...).
        subject: String,
        /// Target as written.
        target: String,
        /// Attempts it took.
        attempts: u32,
    },
    /// A webhook notification could not be delivered (retries used up).
    NotificationFailed {
        /// What it was about.
        subject: String,
        /// Target as written.
        target: String,
        /// Attempts made.
        attempts: u32,
        /// Last error.
        error: String,
    },
    /// A parallel run's gate could not judge (too little evidence): the
    /// step stays open and the run waits for an operator to extend the
    /// window or accept the result by name.
    StepInconclusive {
        /// Phase id.
        phase: String,
        /// Step id.
        step: String,
        /// Why the gate could not judge.
        reason: String,
    },
    /// An operator extended an inconclusive parallel run's window.
    WindowExtended {
        /// Step id.
        step: String,
        /// Who.
        by: String,
        /// The new end of the window, unix ms.
        deadline_ms: i64,
    },
    /// An operator confirmed a manual checklist item.
    ItemConfirmed {
        /// Phase id.
        phase: String,
        /// Item index in the phase's checklist.
        index: usize,
        /// Who confirmed it.
        by: String,
    },
    /// The run paused.
    Paused {
        /// Phase id, if inside one.
        phase: Option<String>,
        /// Why.
        reason: String,
        /// Who asked (`engine` for checklist pauses).
        by: String,
    },
    /// An operator aborted the run.
    Aborted {
        /// Why.
        reason: String,
        /// Who.
        by: String,
    },
    /// A phase ended.
    PhaseFinished {
        /// Phase id.
        phase: String,
        /// Final status.
        status: PhaseStatus,
    },
    /// The run ended.
    RunFinished {
        /// How.
        status: RunEnd,
    },
    /// An operator backup command began (`cutover backup create|point|restore|prune`).
    BackupStarted(crate::backup_cmd::BackupStarted),
    /// An operator backup command ended.
    BackupFinished(crate::backup_cmd::BackupFinished),
}

fn engine() -> String {
    "engine".to_string()
}

impl Event {
    /// Splits into the journal's `(kind, payload)`.
    pub fn to_record(&self) -> (String, serde_json::Value) {
        let mut v = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        let kind = v
            .get("kind")
            .and_then(|k| k.as_str())
            .unwrap_or("unknown")
            .to_string();
        let payload = v
            .get_mut("payload")
            .map(serde_json::Value::take)
            .unwrap_or(serde_json::Value::Null);
        (kind, payload)
    }

    /// Parses a journal record; `None` for kinds the engine does not write
    /// (such as `journal-repaired`) or payloads it cannot read.
    pub fn from_record(kind: &str, payload: &serde_json::Value) -> Option<Event> {
        serde_json::from_value(serde_json::json!({ "kind": kind, "payload": payload })).ok()
    }
}

#[cfg(test)]
mod tests;

//! What the fold of a run's journal holds per run, phase, step, checklist
//! item, rollback point, approval and incident.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::details::{RollbackResults, StepDetails};
use crate::event::{
    IncidentStepSpec, IncidentStepStatus, ItemStatus, PhaseStatus, RunEnd, SeenAlert, StepStatus,
};

/// Overall status of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunStatus {
    /// No run recorded.
    NotStarted,
    /// Running (or interrupted while running).
    Running,
    /// Waiting for an approval or an operator.
    Paused,
    /// A step was interrupted and needs an operator decision.
    NeedsAttention,
    /// Finished: every phase passed.
    Completed,
    /// Finished: a phase failed.
    Failed,
    /// Finished: aborted by an operator.
    Aborted,
    /// Finished: rolled back.
    RolledBack,
}

impl RunStatus {
    /// Name as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::NotStarted => "not-started",
            RunStatus::Running => "running",
            RunStatus::Paused => "paused",
            RunStatus::NeedsAttention => "needs-attention",
            RunStatus::Completed => "completed",
            RunStatus::Failed => "failed",
            RunStatus::Aborted => "aborted",
            RunStatus::RolledBack => "rolled-back",
        }
    }

    /// Whether the run has ended for good.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            RunStatus::Completed | RunStatus::Failed | RunStatus::Aborted | RunStatus::RolledBack
        )
    }
}

impl From<RunEnd> for RunStatus {
    fn from(e: RunEnd) -> Self {
        match e {
            RunEnd::Completed => RunStatus::Completed,
            RunEnd::Failed => RunStatus::Failed,
            RunEnd::Aborted => RunStatus::Aborted,
            RunEnd::RolledBack => RunStatus::RolledBack,
        }
    }
}

/// State of one step. Empty fields are left out when serialised (the
/// status snapshot holds one per step of the plan).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepView {
    /// Phase id.
    pub phase: String,
    /// Status.
    pub status: StepStatus,
    /// Number of `step-started` records.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub attempts: u32,
    /// Journal seq of the last `step-started`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub started_seq: u64,
    /// Number of `step-finished` records.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub finishes: u32,
    /// Last summary.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub summary: String,
    /// Last verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<String>,
    /// Last details.
    #[serde(default, skip_serializing_if = "StepDetails::is_none")]
    pub details: StepDetails,
    /// Journal seq of the last `needs-attention`, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attention_seq: Option<u64>,
    /// Clock of a timed step: (started, deadline) in unix ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<(i64, i64)>,
    /// Episodes seen by a parallel run, old system.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seen_old: Vec<SeenAlert>,
    /// Episodes seen by a parallel run, new system.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seen_new: Vec<SeenAlert>,
    /// Episodes seen by a parallel run from its noise source.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seen_noise: Vec<SeenAlert>,
    /// Polls of a parallel run whose noise source could not be read.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub noise_failures: u32,
    /// The last noise-source read error of a parallel run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise_error: Option<String>,
    /// Polls recorded.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub polls: u32,
    /// Running match rate of a parallel run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_rate: Option<f64>,
    /// Journal seq of the open `step-inconclusive` of a parallel run (cleared
    /// when an operator extends the window).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inconclusive_seq: Option<u64>,
}

impl StepView {
    pub(super) fn new(phase: &str) -> Self {
        StepView {
            phase: phase.to_string(),
            status: StepStatus::Pending,
            attempts: 0,
            started_seq: 0,
            finishes: 0,
            summary: String::new(),
            verdict: None,
            details: StepDetails::None,
            attention_seq: None,
            deadline: None,
            seen_old: Vec::new(),
            seen_new: Vec::new(),
            seen_noise: Vec::new(),
            noise_failures: 0,
            noise_error: None,
            polls: 0,
            match_rate: None,
            inconclusive_seq: None,
        }
    }
}

/// One recorded checklist result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ItemView {
    /// Index in the checklist.
    pub index: usize,
    /// Result.
    pub status: ItemStatus,
    /// Message.
    pub message: String,
    /// Journal seq of the record.
    pub seq: u64,
    /// A critical item.
    #[serde(default)]
    pub critical: bool,
    /// Who confirmed it, for a manual item an operator confirmed.
    #[serde(default)]
    pub confirmed_by: Option<String>,
}

/// State of one phase.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhaseView {
    /// Status.
    pub status: PhaseStatus,
    /// Checklist results recorded for the current attempt.
    pub items: Vec<ItemView>,
    /// Seq of the last pause inside this phase.
    pub paused_seq: Option<u64>,
    /// When the phase started, unix ms (unknown in older journals).
    #[serde(default)]
    pub started_ms: Option<i64>,
    /// Set when the phase ran longer than its plan `duration` allows.
    #[serde(default)]
    pub behind_schedule: Option<BehindScheduleView>,
}

impl PhaseView {
    /// The source document's rule over the recorded checklist: every item
    /// passed, or the failed ones are all non-critical.
    pub fn overall_passed(&self) -> bool {
        self.items.iter().all(|i| !i.critical || i.status.passes())
    }
}

/// An approval as recorded.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApprovalView {
    /// `PHASE` or `PHASE/STEP`.
    pub target: String,
    /// Who.
    pub by: String,
    /// Retry requested.
    pub retry: bool,
    /// Journal seq.
    pub seq: u64,
}

/// A captured rollback point.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PointView {
    /// Name.
    pub name: String,
    /// Phase it was captured in.
    pub phase: String,
    /// Backup-store ids per system.
    pub ids: BTreeMap<String, String>,
}

/// A rollback asked for with `cutover rollback` that needs an approval.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RollbackRequestView {
    /// Point name.
    pub point: String,
    /// Who asked.
    pub by: String,
    /// Why, if given.
    pub reason: Option<String>,
    /// Who may approve.
    pub approvers: Vec<String>,
    /// Journal seq of the request.
    pub seq: u64,
}

/// A rollback as journaled (`rolled-back` or `rollback-failed`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RollbackView {
    /// Point name.
    pub point: String,
    /// Phase the run was in (empty when none).
    pub phase: String,
    /// Who (`engine` for automatic rollbacks).
    pub by: String,
    /// Whether `--now` skipped the approval gate.
    pub now: bool,
    /// Whether every category was applied.
    pub ok: bool,
    /// What failed, when not ok.
    pub error: Option<String>,
    /// Result per system.
    pub results: RollbackResults,
    /// Journal seq.
    pub seq: u64,
}

/// One step of an incident as folded.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IncidentStepView {
    /// 1-based number.
    pub step: usize,
    /// Text and classification.
    #[serde(flatten)]
    pub spec: IncidentStepSpec,
    /// Status.
    pub status: IncidentStepStatus,
    /// Who changed it last.
    pub by: Option<String>,
    /// Outcome or note.
    pub note: Option<String>,
    /// When it changed last, unix ms.
    pub at_ms: Option<i64>,
}

/// An incident (an emergency procedure being worked through).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IncidentView {
    /// Id (`INC-1`, ...).
    pub id: String,
    /// Procedure name.
    pub procedure: String,
    /// Phase.
    pub phase: String,
    /// What triggered it.
    pub reason: String,
    /// Steps in order.
    pub steps: Vec<IncidentStepView>,
    /// Escalation time in ms after opening.
    pub escalation_ms: u64,
    /// Escalation targets.
    pub notify: Vec<String>,
    /// Rollback point of the procedure.
    pub rollback_to: Option<String>,
    /// Opened, unix ms.
    pub opened_ms: i64,
    /// Who opened it: `engine` (an alert policy) or the operator.
    #[serde(default)]
    pub opened_by: String,
    /// Escalated, unix ms.
    pub escalated_ms: Option<i64>,
    /// Resolved, unix ms.
    pub resolved_ms: Option<i64>,
}

impl IncidentView {
    /// `open`, `escalated` or `resolved`.
    pub fn status(&self) -> &'static str {
        match (self.resolved_ms, self.escalated_ms) {
            (Some(_), _) => "resolved",
            (None, Some(_)) => "escalated",
            (None, None) => "open",
        }
    }

    /// The first step not done or acknowledged.
    pub fn next_step(&self) -> Option<&IncidentStepView> {
        self.steps.iter().find(|s| !s.status.is_settled())
    }

    /// Whether it is unresolved and past its escalation time at `now_ms`
    /// without having been escalated.
    pub fn escalation_due(&self, now_ms: i64) -> bool {
        self.resolved_ms.is_none()
            && self.escalated_ms.is_none()
            && now_ms
                >= self
                    .opened_ms
                    .saturating_add(i64::try_from(self.escalation_ms).unwrap_or(i64::MAX))
    }
}

/// A phase found running longer than its plan `duration` allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BehindScheduleView {
    /// The plan's duration as written (`2d`, `1w..2w`).
    pub duration: String,
    /// The longest the phase may take, ms.
    pub max_ms: u64,
    /// How long it had run when this was noticed, ms.
    pub elapsed_ms: u64,
    /// When it was noticed, unix ms.
    pub at_ms: i64,
    /// Journal seq of the `phase-behind-schedule` record.
    pub seq: u64,
}

impl PhaseView {
    /// How long the phase has run at `now_ms` when that is longer than
    /// `max_ms` and it is still running or paused; `None` otherwise (also
    /// when its start is unknown). `status` uses it between runner
    /// invocations; a runner journals `phase-behind-schedule` when it notices.
    pub fn overdue_at(&self, max_ms: u64, now_ms: i64) -> Option<u64> {
        if !matches!(self.status, PhaseStatus::Running | PhaseStatus::Paused) {
            return None;
        }
        let elapsed = u64::try_from(now_ms.saturating_sub(self.started_ms?)).unwrap_or(0);
        (elapsed > max_ms).then_some(elapsed)
    }
}

fn is_zero<T: Default + PartialEq>(n: &T) -> bool {
    *n == T::default()
}

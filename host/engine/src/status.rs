//! How a step, a phase, a checklist item and a run ended, as journaled.

use serde::{Deserialize, Serialize};

/// Status of a finished step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepStatus {
    /// Not started.
    Pending,
    /// Started, not finished.
    Running,
    /// Finished successfully.
    Succeeded,
    /// Finished and failed.
    Failed,
    /// Not run (e.g. marked done by an operator without running).
    Skipped,
    /// A shadow step: its result is recorded and never gates.
    Shadow,
    /// Interrupted while running and not safe to repeat: an operator decides.
    NeedsAttention,
}

impl StepStatus {
    /// Name as printed and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Pending => "pending",
            StepStatus::Running => "running",
            StepStatus::Succeeded => "succeeded",
            StepStatus::Failed => "failed",
            StepStatus::Skipped => "skipped",
            StepStatus::Shadow => "shadow",
            StepStatus::NeedsAttention => "needs-attention",
        }
    }

    /// Whether the step is done and the run may move past it.
    pub fn is_done(self) -> bool {
        matches!(
            self,
            StepStatus::Succeeded | StepStatus::Skipped | StepStatus::Shadow
        )
    }
}

/// Status of a phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PhaseStatus {
    /// Not started.
    Pending,
    /// Started.
    Running,
    /// Every step and the checklist passed.
    Passed,
    /// A step or a critical checklist item failed.
    Failed,
    /// Waiting for an operator.
    Paused,
    /// Aborted by an operator.
    Aborted,
    /// Rolled back to a rollback point.
    RolledBack,
}

impl PhaseStatus {
    /// Name as printed and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            PhaseStatus::Pending => "pending",
            PhaseStatus::Running => "running",
            PhaseStatus::Passed => "passed",
            PhaseStatus::Failed => "failed",
            PhaseStatus::Paused => "paused",
            PhaseStatus::Aborted => "aborted",
            PhaseStatus::RolledBack => "rolled-back",
        }
    }
}

/// How a run ended (the payload of `run-finished`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunEnd {
    /// Every phase passed.
    Completed,
    /// A phase failed.
    Failed,
    /// Aborted by an operator.
    Aborted,
    /// Rolled back after a checklist failure.
    RolledBack,
}

impl RunEnd {
    /// Name as printed and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            RunEnd::Completed => "completed",
            RunEnd::Failed => "failed",
            RunEnd::Aborted => "aborted",
            RunEnd::RolledBack => "rolled-back",
        }
    }
}

/// Status of one evaluated checklist item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ItemStatus {
    /// The check passed.
    Passed,
    /// No check plugin: recorded as a manual confirmation.
    Manual,
    /// The check failed (or had no data).
    Failed,
    /// A non-critical manual item nobody confirmed: recorded, does not stop.
    Unconfirmed,
    /// A critical manual item waits for `cutover approve PLAN PHASE --item N`.
    AwaitingConfirmation,
    /// A manual item an operator confirmed by name.
    Confirmed,
    /// Shadow item: recorded, never gates.
    Shadow,
}

impl ItemStatus {
    /// Name as printed and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Passed => "passed",
            ItemStatus::Manual => "manual",
            ItemStatus::Failed => "failed",
            ItemStatus::Shadow => "shadow",
            ItemStatus::Unconfirmed => "unconfirmed",
            ItemStatus::AwaitingConfirmation => "awaiting-confirmation",
            ItemStatus::Confirmed => "confirmed",
        }
    }

    /// Whether the item counts as passed for `overall_passed` (a shadow item
    /// never gates; an unconfirmed manual item is not passed).
    pub fn passes(self) -> bool {
        matches!(
            self,
            ItemStatus::Passed | ItemStatus::Confirmed | ItemStatus::Shadow
        )
    }
}

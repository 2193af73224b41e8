//! How a `run` or `resume` invocation ended.

use serde::Serialize;

/// Where the run stands when the runner returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum RunOutcome {
    /// Every phase passed.
    Completed,
    /// A step or a critical checklist item failed; the run is over.
    Failed {
        /// Phase id.
        phase: String,
        /// Step id, when a step failed.
        step: Option<String>,
        /// Why.
        reason: String,
    },
    /// Waiting for `cutover approve PLAN TARGET`.
    AwaitingApproval {
        /// `PHASE` or `PHASE/STEP`.
        target: String,
        /// Message of the gate or approval step.
        message: String,
    },
    /// A gate could not judge (a quiet window): the run waits for an
    /// operator to extend the window or accept it by name.
    Inconclusive {
        /// `PHASE/STEP`.
        target: String,
        /// Why, and the commands that go on.
        reason: String,
    },
    /// Paused by an operator or a checklist item (`on_failure = "pause"`).
    Paused {
        /// Why.
        reason: String,
    },
    /// A non-idempotent step was interrupted: approve (mark done) or `--retry`.
    NeedsAttention {
        /// `PHASE/STEP`.
        target: String,
        /// Explanation.
        reason: String,
    },
    /// Aborted by an operator; the run is over.
    Aborted {
        /// Why.
        reason: String,
    },
    /// Rolled back after a checklist failure; the run is over.
    RolledBack {
        /// Phase id.
        phase: String,
        /// Rollback point.
        point: String,
    },
}

impl RunOutcome {
    /// A stable name: `completed`, `failed`, `awaiting-approval`, `paused`,
    /// `needs-attention`, `aborted`, `rolled-back`, `inconclusive`.
    pub fn name(&self) -> &'static str {
        match self {
            RunOutcome::Completed => "completed",
            RunOutcome::Failed { .. } => "failed",
            RunOutcome::AwaitingApproval { .. } => "awaiting-approval",
            RunOutcome::Inconclusive { .. } => "inconclusive",
            RunOutcome::Paused { .. } => "paused",
            RunOutcome::NeedsAttention { .. } => "needs-attention",
            RunOutcome::Aborted { .. } => "aborted",
            RunOutcome::RolledBack { .. } => "rolled-back",
        }
    }

    /// One line for humans.
    pub fn describe(&self) -> String {
        match self {
            RunOutcome::Completed => "run completed: every phase passed".to_string(),
            RunOutcome::Failed {
                phase,
                step: Some(step),
                reason,
            } => format!("run failed in phase {phase}, step {step}: {reason}"),
            RunOutcome::Failed {
                phase,
                step: None,
                reason,
            } => format!("run failed in phase {phase}: {reason}"),
            RunOutcome::AwaitingApproval { target, message } => format!(
                "paused: awaiting approval of {target}{}; run `cutover approve PLAN {target}` then `cutover resume PLAN`",
                if message.is_empty() {
                    String::new()
                } else {
                    format!(" ({message})")
                }
            ),
            RunOutcome::Inconclusive { reason, .. } => {
                format!("{reason}; then `cutover resume PLAN`")
            }
            // An incident's reason already names the command.
            RunOutcome::Paused { reason } if reason.contains("`cutover resume PLAN`") => {
                format!("paused: {reason}")
            }
            RunOutcome::Paused { reason } => {
                format!("paused: {reason}; continue with `cutover resume PLAN`")
            }
            RunOutcome::NeedsAttention { target, reason } => format!(
                "needs attention: {reason}; check the system, then `cutover approve PLAN {target}` to mark it done or `cutover approve PLAN {target} --retry` to run it again, and `cutover resume PLAN`"
            ),
            RunOutcome::Aborted { reason } => format!("run aborted: {reason}"),
            RunOutcome::RolledBack { phase, point } => {
                format!("run rolled back in phase {phase} to rollback point {point}")
            }
        }
    }
}

//! Behind schedule: a phase that runs longer than the longest its plan
//! `duration` allows (the maximum of a range `MIN..MAX`, or the single
//! value) is journaled `phase-behind-schedule` once and its notification
//! targets are told. It is a warning: the run goes on.

use cutover_notify::{Notification, NotificationKind, Severity};
use cutover_plan::duration::format_duration_ms;
use serde::{Deserialize, Serialize};

use crate::error::EngineError;
use crate::event::{Event, PhaseStatus};
use crate::runner::{Runner, now_ms};
use crate::view::PhaseView;

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

impl Runner<'_> {
    /// Journals (once) that phase `phase_id` is behind schedule when it has
    /// run longer than its plan allows, and notifies the run's targets.
    pub(crate) fn check_schedule(&mut self, phase_id: &str) -> Result<(), EngineError> {
        let plan = self.plan;
        let Some(phase) = plan.plan.phases.iter().find(|p| p.id == phase_id) else {
            return Ok(());
        };
        let (Some(max_ms), Some(duration)) = (phase.max_duration_ms(), phase.duration_text())
        else {
            return Ok(());
        };
        let Some(view) = self.view.phases.get(phase_id) else {
            return Ok(());
        };
        if view.behind_schedule.is_some() {
            return Ok(());
        }
        let now = now_ms();
        let Some(elapsed_ms) = view.overdue_at(max_ms, now) else {
            return Ok(());
        };
        self.emit(Event::PhaseBehindSchedule {
            phase: phase_id.to_string(),
            duration: duration.clone(),
            max_ms,
            elapsed_ms,
            at_ms: now,
        })?;
        let n = Notification::new(
            NotificationKind::MigrationAlert,
            Severity::Warning,
            format!(
                "phase {phase_id} ({}) is behind schedule: running for {}, planned {duration}",
                phase.name,
                format_duration_ms(elapsed_ms)
            ),
        )
        .label("phase", phase_id.to_string())
        .label("alert", "behind-schedule");
        self.notify_targets(&format!("schedule {phase_id}"), &[], n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phase(status: PhaseStatus, started_ms: Option<i64>) -> PhaseView {
        PhaseView {
            status,
            items: Vec::new(),
            paused_seq: None,
            started_ms,
            behind_schedule: None,
        }
    }

    #[test]
    fn overdue_only_past_the_maximum_while_running_or_paused() {
        let running = phase(PhaseStatus::Running, Some(1_000));
        assert_eq!(
            running.overdue_at(500, 1_500),
            None,
            "exactly at the maximum"
        );
        assert_eq!(running.overdue_at(500, 1_501), Some(501));
        assert_eq!(
            phase(PhaseStatus::Paused, Some(0)).overdue_at(10, 100),
            Some(100)
        );
        assert_eq!(
            phase(PhaseStatus::Passed, Some(0)).overdue_at(10, 100),
            None
        );
        assert_eq!(phase(PhaseStatus::Running, None).overdue_at(10, 100), None);
    }
}

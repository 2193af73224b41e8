//! Behind schedule: a phase that runs longer than the longest its plan
//! `duration` allows (the maximum of a range `MIN..MAX`, or the single
//! value) is journaled `phase-behind-schedule` once and its notification
//! targets are told. It is a warning: the run goes on.

use cutover_notify::{Notification, NotificationKind, Severity};
use cutover_plan::duration::format_duration_ms;

use crate::error::EngineError;
use crate::event::Event;
use crate::journal::now_ms;
use crate::runner::Runner;

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

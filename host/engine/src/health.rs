//! Health of both systems at phase start, journaled and exported.

use cutover_plan::{Phase, SystemSide};

use crate::error::EngineError;
use crate::event::Event;
use crate::monitor::MigrationAlert;
use crate::outcome::RunOutcome;
use crate::runner::Runner;

impl Runner<'_> {
    /// Asks both adapters for their health; an unavailable system triggers
    /// the alert policy.
    pub(crate) fn check_health(
        &mut self,
        phase: &Phase,
    ) -> Result<Option<RunOutcome>, EngineError> {
        let mut alerts = Vec::new();
        let mut evs = Vec::new();
        for side in [SystemSide::Old, SystemSide::New] {
            let report = self.plugins.adapter(side).and_then(|(_, a)| {
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
                alerts.push(MigrationAlert {
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
}

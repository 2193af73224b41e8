//! The plan's schedule: when each phase is expected to start and end,
//! measured from the start of the run.

use cutover_plan::Plan;

/// One scheduled phase.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledPhase {
    /// Phase id.
    pub phase: String,
    /// Expected start, seconds after the run started.
    pub offset_secs: f64,
    /// Expected duration in seconds.
    pub duration_secs: f64,
}

impl ScheduledPhase {
    /// Expected progress (0..=1) `elapsed_secs` after the run started.
    pub fn expected_progress(&self, elapsed_secs: f64) -> f64 {
        if self.duration_secs <= 0.0 {
            return if elapsed_secs >= self.offset_secs {
                1.0
            } else {
                0.0
            };
        }
        ((elapsed_secs - self.offset_secs) / self.duration_secs).clamp(0.0, 1.0)
    }
}

/// The phases that declare a duration, in plan order, each starting when the
/// previous scheduled one is expected to end. A range `MIN..MAX` is
/// scheduled at its maximum, so a phase counts as behind only against the
/// longest it may take. Phases without a duration have no schedule and are
/// left out (they never count as behind).
pub fn schedule(plan: &Plan) -> Vec<ScheduledPhase> {
    let mut offset = 0.0;
    let mut out = Vec::new();
    for phase in &plan.phases {
        if let Some(ms) = phase.max_duration_ms() {
            let duration_secs = ms as f64 / 1000.0;
            out.push(ScheduledPhase {
                phase: phase.id.clone(),
                offset_secs: offset,
                duration_secs,
            });
            offset += duration_secs;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_progress_is_linear_within_the_phase() {
        let p = ScheduledPhase {
            phase: "x".into(),
            offset_secs: 100.0,
            duration_secs: 200.0,
        };
        assert_eq!(p.expected_progress(50.0), 0.0);
        assert_eq!(p.expected_progress(200.0), 0.5);
        assert_eq!(p.expected_progress(400.0), 1.0);
    }
}

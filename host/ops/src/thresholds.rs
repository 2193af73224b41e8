//! Alert thresholds for the migration's own alerting rules.
//!
//! The plan format has no `[monitoring]` section; the thresholds default to
//! the values below, the match-rate threshold follows the plan's lowest
//! gating `min_match_rate` when it sets one, and callers may override each.

use cutover_plan::{Plan, StepAction};

use crate::error::OpsError;

/// Default: alert when a phase is more than 10 % behind schedule.
pub const DEFAULT_BEHIND_SCHEDULE: f64 = 0.1;
/// Default: alert when the match rate drops below 0.9.
pub const DEFAULT_MATCH_RATE: f64 = 0.9;
/// Default: alert when data consistency drops below 1.
pub const DEFAULT_CONSISTENCY: f64 = 1.0;

/// Thresholds of the migration alerts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Largest tolerated lag behind the expected progress (fraction of a phase).
    pub behind_schedule: f64,
    /// Lowest tolerated alert match rate.
    pub match_rate: f64,
    /// Lowest tolerated data consistency.
    pub consistency: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            behind_schedule: DEFAULT_BEHIND_SCHEDULE,
            match_rate: DEFAULT_MATCH_RATE,
            consistency: DEFAULT_CONSISTENCY,
        }
    }
}

impl Thresholds {
    /// Defaults, with the match rate taken from the lowest `min_match_rate`
    /// of the plan's gating (non-shadow) parallel runs, if any.
    pub fn for_plan(plan: &Plan) -> Thresholds {
        let lowest = plan
            .phases
            .iter()
            .flat_map(|p| &p.steps)
            .filter_map(|s| match &s.action {
                StepAction::ParallelRun {
                    min_match_rate: Some(rate),
                    shadow: false,
                    ..
                } => Some(*rate),
                _ => None,
            })
            .fold(None, |acc: Option<f64>, r| {
                Some(acc.map_or(r, |a| a.min(r)))
            });
        Thresholds {
            match_rate: lowest.unwrap_or(DEFAULT_MATCH_RATE),
            ..Thresholds::default()
        }
    }

    /// Checks every threshold is within 0..=1 (lag: 0 < x < 1).
    pub fn check(&self) -> Result<(), OpsError> {
        let fraction = |name, value: f64| {
            if (0.0..=1.0).contains(&value) {
                Ok(())
            } else {
                Err(OpsError::Threshold {
                    name,
                    value,
                    why: "must be between 0 and 1",
                })
            }
        };
        if !(self.behind_schedule > 0.0 && self.behind_schedule < 1.0) {
            return Err(OpsError::Threshold {
                name: "behind_schedule",
                value: self.behind_schedule,
                why: "must be greater than 0 and less than 1",
            });
        }
        fraction("match_rate", self.match_rate)?;
        fraction("consistency", self.consistency)
    }
}

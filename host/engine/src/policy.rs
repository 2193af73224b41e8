//! What the runner does when a migration alert condition triggers, and the
//! escalation time of incidents.

use std::time::Duration;

use cutover_base::time::parse_duration;

/// Policy applied when a migration alert triggers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AlertPolicy {
    /// Pause the run (default); `cutover resume` continues (a failed step runs again).
    #[default]
    Pause,
    /// Open an incident for the named emergency procedure of the plan.
    Emergency(String),
    /// Roll both systems back to the latest rollback point; the run ends rolled back.
    Rollback,
}

impl AlertPolicy {
    /// Parses `pause`, `rollback` or `emergency:NAME`.
    pub fn parse(text: &str) -> Result<AlertPolicy, String> {
        let t = text.trim();
        match t {
            "pause" => Ok(AlertPolicy::Pause),
            "rollback" => Ok(AlertPolicy::Rollback),
            _ => match t.strip_prefix("emergency:") {
                Some(name) if !name.trim().is_empty() => {
                    Ok(AlertPolicy::Emergency(name.trim().to_string()))
                }
                _ => Err(format!(
                    "alert policy `{t}`: expected `pause`, `rollback` or `emergency:NAME`"
                )),
            },
        }
    }

    /// Name as journaled: `pause`, `rollback`, `emergency:NAME`.
    pub fn name(&self) -> String {
        match self {
            AlertPolicy::Pause => "pause".into(),
            AlertPolicy::Rollback => "rollback".into(),
            AlertPolicy::Emergency(n) => format!("emergency:{n}"),
        }
    }
}

/// The escalation time: `given`, else `$CUTOVER_ESCALATION` (an operator
/// override, e.g. for drills), else the procedure's own `escalation` from the
/// plan (15 minutes when the plan sets none). The variable takes the duration
/// grammar of plans and flags ([`cutover_base::time::parse_duration`]).
pub fn escalation(given: Option<Duration>, plan: Duration) -> Result<Duration, String> {
    if let Some(d) = given {
        return Ok(d);
    }
    match std::env::var("CUTOVER_ESCALATION") {
        Ok(v) if !v.trim().is_empty() => {
            parse_duration(&v).map_err(|e| format!("CUTOVER_ESCALATION: {e}"))
        }
        _ => Ok(plan),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse() {
        assert_eq!(AlertPolicy::parse("pause"), Ok(AlertPolicy::Pause));
        assert_eq!(
            AlertPolicy::parse("emergency:db-down"),
            Ok(AlertPolicy::Emergency("db-down".into()))
        );
        assert!(AlertPolicy::parse("emergency:").is_err());
        assert!(AlertPolicy::parse("explode").is_err());
    }

    #[test]
    fn a_given_escalation_wins() {
        let given = Duration::from_secs(30);
        assert_eq!(escalation(Some(given), Duration::from_secs(900)), Ok(given));
    }
}

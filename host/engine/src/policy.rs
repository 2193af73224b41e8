//! What the runner does when a migration alert condition triggers, and the
//! escalation time of incidents.

use std::time::Duration;

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

/// Parses a duration such as `15m`, `30s`, `1h`, `500ms` (a bare number is seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("duration `{t}`: expected a number followed by ms, s, m or h"))?;
    let ms = match unit.trim() {
        "ms" => Some(n),
        "" | "s" => n.checked_mul(1000),
        "m" => n.checked_mul(60_000),
        "h" => n.checked_mul(3_600_000),
        other => {
            return Err(format!(
                "duration `{t}`: unknown unit `{other}` (use ms, s, m or h)"
            ));
        }
    };
    ms.map(Duration::from_millis)
        .ok_or_else(|| format!("duration `{t}` is too large"))
}

/// The escalation time: `given`, else `$CUTOVER_ESCALATION` (an operator
/// override, e.g. for drills), else the procedure's own `escalation` from the
/// plan (15 minutes when the plan sets none).
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
    fn policies_and_durations_parse() {
        assert_eq!(AlertPolicy::parse("pause"), Ok(AlertPolicy::Pause));
        assert_eq!(
            AlertPolicy::parse("emergency:db-down"),
            Ok(AlertPolicy::Emergency("db-down".into()))
        );
        assert!(AlertPolicy::parse("emergency:").is_err());
        assert!(AlertPolicy::parse("explode").is_err());
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("m").is_err());
    }
}

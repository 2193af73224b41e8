//! The one gating decision of the engine. A parallel run's step result, the
//! checklist items judged on a parallel run and the migration alerts raised
//! from one all ask [`judge`], so they cannot disagree.
//!
//! The order of the rules is the order of what an operator fears:
//! 1. too little evidence (fewer old episodes than `min_alerts`) is
//!    `inconclusive`: a quiet window proves nothing, and is no failure either;
//! 2. an alert the old system fired and the new one did not is a failure
//!    unless the plan allows it (`max_missing`; `allow_missing` label
//!    matchers for the alerts they match; or `noise_tolerant` for an alert
//!    the noise source did not reproduce either);
//! 3. then the match rate against `min_match_rate`, when the plan sets one.
//!
//! Extra alerts (only on the new system) never fail a gate: the comparison
//! report recommends looking at them.

use std::collections::{BTreeMap, BTreeSet};

use cutover_compare::Report;
use cutover_plan::Scope;
use serde::{Deserialize, Serialize};

use crate::status::{ItemStatus, StepStatus};

/// What a gate decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Gate {
    /// The evidence is enough and nothing the plan forbids happened.
    Pass,
    /// Something the plan forbids happened.
    Fail,
    /// Too little evidence to judge: a person decides.
    Inconclusive,
}

impl Gate {
    /// Name as printed and stored: `pass`, `fail`, `inconclusive`.
    pub fn as_str(self) -> &'static str {
        match self {
            Gate::Pass => "pass",
            Gate::Fail => "fail",
            Gate::Inconclusive => "inconclusive",
        }
    }
}

/// A check plugin's verdict, or `error` when the call itself failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckVerdict {
    /// The check passed.
    Pass,
    /// The check failed.
    Fail,
    /// The check could not judge.
    Inconclusive,
    /// The check had nothing to judge.
    NoData,
    /// The plugin could not be loaded or its call failed.
    Error,
}

impl CheckVerdict {
    /// Name as printed and stored: `pass`, `fail`, `inconclusive`,
    /// `no-data`, `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckVerdict::Pass => "pass",
            CheckVerdict::Fail => "fail",
            CheckVerdict::Inconclusive => "inconclusive",
            CheckVerdict::NoData => "no-data",
            CheckVerdict::Error => "error",
        }
    }

    /// What the verdict means for a gate: only `pass` passes; nothing to
    /// judge (`inconclusive`, `no-data`) is never a pass and never a
    /// failure either, a person decides; a failed call fails.
    pub fn gate(self) -> Gate {
        match self {
            CheckVerdict::Pass => Gate::Pass,
            CheckVerdict::Inconclusive | CheckVerdict::NoData => Gate::Inconclusive,
            CheckVerdict::Fail | CheckVerdict::Error => Gate::Fail,
        }
    }
}

impl From<cutover_runtime::wit::VerdictKind> for CheckVerdict {
    fn from(v: cutover_runtime::wit::VerdictKind) -> Self {
        use cutover_runtime::wit::VerdictKind;
        match v {
            VerdictKind::Pass => CheckVerdict::Pass,
            VerdictKind::Fail => CheckVerdict::Fail,
            VerdictKind::Inconclusive => CheckVerdict::Inconclusive,
            VerdictKind::NoData => CheckVerdict::NoData,
        }
    }
}

impl From<Gate> for CheckVerdict {
    fn from(g: Gate) -> Self {
        match g {
            Gate::Pass => CheckVerdict::Pass,
            Gate::Fail => CheckVerdict::Fail,
            Gate::Inconclusive => CheckVerdict::Inconclusive,
        }
    }
}

/// The one pass/fail decision of a gated step: a shadow step never gates;
/// otherwise only a pass succeeds, or an inconclusive gate a person
/// accepted. Everything else fails the step.
pub fn step_status(gate: Gate, shadow: bool, accepted: bool) -> StepStatus {
    match (shadow, gate, accepted) {
        (true, _, _) => StepStatus::Shadow,
        (false, Gate::Pass, _) | (false, Gate::Inconclusive, true) => StepStatus::Succeeded,
        (false, _, _) => StepStatus::Failed,
    }
}

/// The same decision for a checklist item: a shadow item never gates; a
/// pass passes; what nobody could judge waits for a person when the item
/// is critical and is recorded unconfirmed when it is not; a failure fails.
pub fn item_status(gate: Gate, shadow: bool, critical: bool) -> ItemStatus {
    match gate {
        _ if shadow => ItemStatus::Shadow,
        Gate::Pass => ItemStatus::Passed,
        Gate::Inconclusive if critical => ItemStatus::AwaitingConfirmation,
        Gate::Inconclusive => ItemStatus::Unconfirmed,
        Gate::Fail => ItemStatus::Failed,
    }
}

/// Which rule a failed or inconclusive gate stopped on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cause {
    /// Fewer old episodes than `min_alerts`.
    QuietWindow,
    /// More missing alerts than `max_missing`.
    Missing,
    /// The match rate below `min_match_rate`.
    MatchRate,
}

/// The plan's rules for one gate.
#[derive(Debug, Clone, PartialEq)]
pub struct GateRules {
    /// Lowest acceptable match rate, if the plan sets one.
    pub min_match_rate: Option<f64>,
    /// Missing alerts tolerated (default 0).
    pub max_missing: u32,
    /// Fewest old episodes that make the window evidence (default 1).
    pub min_alerts: u32,
    /// Noisy missing alerts do not count against `max_missing`.
    pub noise_tolerant: bool,
    /// Missing alerts whose labels match do not count against `max_missing`.
    pub allow_missing: Option<Scope>,
}

/// An episode by its labels and (window-clamped) start, as the comparison
/// reports it: how a missing alert is recognised in the noise comparison.
pub type EpisodeId = (BTreeMap<String, String>, i64);

/// A gate's decision with the figures behind it (stored in the step's
/// details, so that later readers take it instead of deciding again).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judgement {
    /// The decision.
    pub gate: Gate,
    /// The rule it stopped on (`None` when it passed).
    #[serde(default)]
    pub cause: Option<Cause>,
    /// The match rate judged.
    #[serde(default)]
    pub match_rate: Option<f64>,
    /// The rules it was judged under: lowest match rate, tolerated missing.
    #[serde(default)]
    pub min_match_rate: Option<f64>,
    /// Missing alerts tolerated.
    #[serde(default)]
    pub max_missing: u32,
    /// One line: why.
    pub reason: String,
    /// Old episodes in the window.
    pub old_episodes: usize,
    /// Missing alerts that counted against `max_missing`.
    pub missing_gating: usize,
    /// Keys of the missing alerts the noise source did not reproduce either.
    #[serde(default)]
    pub noisy_alerts: Vec<String>,
    /// Keys of the missing alerts tolerated by `allow_missing`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_missing: Vec<String>,
}

/// How many keys a reason names before "and N more".
const NAMED: usize = 5;

fn named(keys: &[&str]) -> String {
    let mut s = keys
        .iter()
        .take(NAMED)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if keys.len() > NAMED {
        s.push_str(&format!(" and {} more", keys.len() - NAMED));
    }
    s
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Judges a comparison `report` under `rules`. `noisy` holds the old
/// episodes the noise source did not reproduce (empty without a noise
/// source).
pub fn judge(report: &Report, noisy: &BTreeSet<EpisodeId>, rules: &GateRules) -> Judgement {
    let is_noisy =
        |a: &cutover_compare::UnmatchedAlert| noisy.contains(&(a.labels.clone(), a.starts_at));
    let noisy_alerts: Vec<String> = report
        .missing_alerts
        .iter()
        .filter(|a| is_noisy(a))
        .map(|a| a.key.clone())
        .collect();
    let allowed = |a: &cutover_compare::UnmatchedAlert| {
        rules
            .allow_missing
            .as_ref()
            .is_some_and(|m| m.matches(&a.labels))
    };
    let allowed_missing: Vec<String> = report
        .missing_alerts
        .iter()
        .filter(|a| allowed(a))
        .map(|a| a.key.clone())
        .collect();
    let gating: Vec<&str> = report
        .missing_alerts
        .iter()
        .filter(|a| (!rules.noise_tolerant || !is_noisy(a)) && !allowed(a))
        .map(|a| a.key.as_str())
        .collect();
    let mut j = Judgement {
        gate: Gate::Pass,
        cause: None,
        match_rate: report.match_rate,
        min_match_rate: rules.min_match_rate,
        max_missing: rules.max_missing,
        reason: String::new(),
        old_episodes: report.total_old,
        missing_gating: gating.len(),
        noisy_alerts,
        allowed_missing,
    };
    let min_alerts = usize::try_from(rules.min_alerts).unwrap_or(usize::MAX);
    if report.total_old < min_alerts {
        j.gate = Gate::Inconclusive;
        j.cause = Some(Cause::QuietWindow);
        j.reason = format!(
            "the old system fired {} in the window, fewer than min_alerts = {}: a quiet window proves nothing",
            plural(report.total_old, "alert episode", "alert episodes"),
            rules.min_alerts
        );
        return j;
    }
    let max_missing = usize::try_from(rules.max_missing).unwrap_or(usize::MAX);
    if gating.len() > max_missing {
        j.gate = Gate::Fail;
        j.cause = Some(Cause::Missing);
        j.reason = format!(
            "{} fired by the old system {} missing on the new one ({}), more than max_missing = {}",
            plural(gating.len(), "alert", "alerts"),
            if gating.len() == 1 { "is" } else { "are" },
            named(&gating),
            rules.max_missing
        );
        return j;
    }
    if let (Some(min), Some(rate)) = (rules.min_match_rate, report.match_rate)
        && rate < min
    {
        j.gate = Gate::Fail;
        j.cause = Some(Cause::MatchRate);
        j.reason = format!(
            "match rate {:.1}% < minimum {:.1}%",
            rate * 100.0,
            min * 100.0
        );
        return j;
    }
    let mut reason = match report.match_rate {
        Some(r) => format!("match rate {:.1}%", r * 100.0),
        None => "no old alerts (min_alerts = 0 allows a quiet window)".to_string(),
    };
    if let Some(min) = rules.min_match_rate {
        reason.push_str(&format!(" >= minimum {:.1}%", min * 100.0));
    }
    if !gating.is_empty() {
        reason.push_str(&format!(
            ", {} within max_missing = {}",
            plural(gating.len(), "missing alert", "missing alerts"),
            rules.max_missing
        ));
    }
    if let Some(m) = rules
        .allow_missing
        .as_ref()
        .filter(|_| !j.allowed_missing.is_empty())
    {
        reason.push_str(&format!(
            ", {} allowed by allow_missing = {m}",
            plural(j.allowed_missing.len(), "missing alert", "missing alerts")
        ));
    }
    if rules.noise_tolerant && !j.noisy_alerts.is_empty() {
        reason.push_str(&format!(
            ", {} tolerated",
            plural(j.noisy_alerts.len(), "noisy alert", "noisy alerts")
        ));
    }
    j.reason = reason;
    j
}

/// The old episodes a noise comparison (old against its noise source) did
/// not find again: the noisy ones.
pub fn noisy_episodes(noise_report: &Report) -> BTreeSet<EpisodeId> {
    noise_report
        .missing_alerts
        .iter()
        .map(|a| (a.labels.clone(), a.starts_at))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cutover_compare::{Alert, AlertState, CompareOptions, compare};

    fn alert(name: &str, severity: &str, start: i64) -> Alert {
        Alert {
            labels: [
                ("alertname".to_string(), name.to_string()),
                ("severity".to_string(), severity.to_string()),
            ]
            .into(),
            annotations: BTreeMap::new(),
            starts_at: start,
            ends_at: None,
            state: AlertState::Active,
            source: String::new(),
            fingerprint: format!("{name}-{start}"),
        }
    }

    fn rules(min: Option<f64>) -> GateRules {
        GateRules {
            min_match_rate: min,
            max_missing: 0,
            min_alerts: 1,
            noise_tolerant: false,
            allow_missing: None,
        }
    }

    fn fleet(n: usize) -> Vec<Alert> {
        (0..n)
            .map(|i| alert(&format!("A{i}"), "warning", 1_000))
            .collect()
    }

    #[test]
    fn one_missing_critical_alert_fails_whatever_the_match_rate() {
        let old = {
            let mut v = fleet(19);
            v.push(alert("PageMe", "critical", 1_000));
            v
        };
        let new = fleet(19);
        let r = compare(&old, &new, &CompareOptions::default());
        assert_eq!(r.match_rate, Some(0.95));
        let j = judge(&r, &BTreeSet::new(), &rules(Some(0.9)));
        assert_eq!(j.gate, Gate::Fail, "{j:?}");
        assert_eq!(j.missing_gating, 1);
        assert!(j.reason.contains("PageMe"), "{}", j.reason);
        // Allowed explicitly: passes on the rate.
        let mut lenient = rules(Some(0.9));
        lenient.max_missing = 1;
        assert_eq!(judge(&r, &BTreeSet::new(), &lenient).gate, Gate::Pass);
        // ...but not below the rate.
        lenient.min_match_rate = Some(0.96);
        assert_eq!(judge(&r, &BTreeSet::new(), &lenient).gate, Gate::Fail);
    }

    #[test]
    fn allow_missing_tolerates_only_the_alerts_its_matchers_select() {
        let old = {
            let mut v = fleet(18);
            v.push(alert("PageMe", "critical", 1_000));
            v.push(alert("Minor", "warning", 1_000));
            v
        };
        let r = compare(&old, &fleet(18), &CompareOptions::default());
        let mut rules = rules(Some(0.9));
        rules.allow_missing = Some(Scope::parse(r#"{severity!="critical"}"#).unwrap());
        // The warning is tolerated; the critical page still fails the gate.
        let j = judge(&r, &BTreeSet::new(), &rules);
        assert_eq!(j.gate, Gate::Fail, "{j:?}");
        assert_eq!(j.cause, Some(Cause::Missing));
        assert_eq!(j.missing_gating, 1);
        assert_eq!(
            j.allowed_missing,
            vec!["Minor{severity=\"warning\"}".to_string()]
        );
        assert!(
            j.reason.contains("PageMe") && !j.reason.contains("Minor"),
            "{}",
            j.reason
        );
        // Without the page missing, the tolerated warning lets it pass.
        let old: Vec<Alert> = old
            .into_iter()
            .filter(|a| a.labels["alertname"] != "PageMe")
            .collect();
        let r = compare(&old, &fleet(18), &CompareOptions::default());
        let j = judge(&r, &BTreeSet::new(), &rules);
        assert_eq!(j.gate, Gate::Pass, "{j:?}");
        assert!(
            j.reason.contains("allowed by allow_missing"),
            "{}",
            j.reason
        );
    }

    #[test]
    fn a_quiet_window_is_inconclusive_not_a_pass_nor_a_failure() {
        let r = compare(&[], &[], &CompareOptions::default());
        let j = judge(&r, &BTreeSet::new(), &rules(Some(0.9)));
        assert_eq!(j.gate, Gate::Inconclusive);
        // Below the evidence budget too, even with everything matched.
        let r = compare(&fleet(2), &fleet(2), &CompareOptions::default());
        let mut three = rules(None);
        three.min_alerts = 3;
        assert_eq!(judge(&r, &BTreeSet::new(), &three).gate, Gate::Inconclusive);
        three.min_alerts = 2;
        assert_eq!(judge(&r, &BTreeSet::new(), &three).gate, Gate::Pass);
        // min_alerts = 0 is the plan's explicit consent to a quiet window.
        let r = compare(&[], &[], &CompareOptions::default());
        let mut none = rules(None);
        none.min_alerts = 0;
        assert_eq!(judge(&r, &BTreeSet::new(), &none).gate, Gate::Pass);
    }

    #[test]
    fn extra_alerts_never_fail_a_gate() {
        let mut new = fleet(5);
        new.push(alert("OnlyNew", "critical", 1_000));
        let r = compare(&fleet(5), &new, &CompareOptions::default());
        assert_eq!(r.extra, 1);
        assert_eq!(
            judge(&r, &BTreeSet::new(), &rules(Some(1.0))).gate,
            Gate::Pass
        );
    }

    #[test]
    fn noisy_missing_alerts_are_reported_and_tolerated_only_when_asked() {
        let old = fleet(4);
        let new = fleet(3); // A3 missing
        let noise = fleet(3); // the noise source did not see A3 either
        let opts = CompareOptions::default();
        let r = compare(&old, &new, &opts);
        let noisy = noisy_episodes(&compare(&old, &noise, &opts));
        let strict = judge(&r, &noisy, &rules(None));
        assert_eq!(strict.gate, Gate::Fail);
        assert_eq!(strict.noisy_alerts.len(), 1);
        assert_eq!(
            strict.noisy_alerts,
            vec!["A3{severity=\"warning\"}".to_string()]
        );
        let mut tolerant = rules(None);
        tolerant.noise_tolerant = true;
        let j = judge(&r, &noisy, &tolerant);
        assert_eq!(j.gate, Gate::Pass, "{j:?}");
        assert_eq!(j.missing_gating, 0);
        // A missing alert the noise source did reproduce is never noisy.
        let noisy = noisy_episodes(&compare(&old, &old, &opts));
        assert_eq!(judge(&r, &noisy, &tolerant).gate, Gate::Fail);
    }
}

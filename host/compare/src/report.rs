//! Building the comparison report: totals, risk, verdict, breakdowns.

use crate::matching::{AlertKey, MatchOutcome, match_alerts};
use crate::model::Alert;
use crate::options::CompareOptions;
use crate::parse::{Format, ParseStats, Parsed};
use crate::recommend;
use crate::stats::DelayStats;
use crate::timefmt::{as_rfc3339, as_rfc3339_opt};
use serde::Serialize;
use std::collections::BTreeMap;

/// How risky the cutover looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RiskLevel {
    /// Everything the old system fired, the new one fired too.
    Low,
    /// Needs a look (match rate below `medium_below`, or false alerts).
    Medium,
    /// Alerts would be lost (any missing alert, or match rate below `high_below`).
    High,
}

/// Outcome of the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Safe to proceed (risk low).
    Pass,
    /// Do not proceed (risk high).
    Fail,
    /// Review needed (risk medium).
    Inconclusive,
    /// One side fired nothing: nothing can be concluded.
    NoData,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Inconclusive => "inconclusive",
            Verdict::NoData => "no-data",
        })
    }
}

impl std::fmt::Display for RiskLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RiskLevel::Low => "low",
            RiskLevel::Medium => "medium",
            RiskLevel::High => "high",
        })
    }
}

/// An alert fired by only one of the systems.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnmatchedAlert {
    /// Normalised match key, e.g. `HighQueueDepth{queue="orders"}`.
    pub key: String,
    /// Alert name (new vocabulary).
    pub alertname: String,
    /// Original labels as the system reported them.
    pub labels: BTreeMap<String, String>,
    /// Episode start.
    #[serde(serialize_with = "as_rfc3339::serialize")]
    pub starts_at: i64,
    /// Episode end, if it ended.
    #[serde(serialize_with = "as_rfc3339_opt::serialize")]
    pub ends_at: Option<i64>,
    /// Fingerprint in its system.
    pub fingerprint: String,
}

/// A pair of episodes judged to be the same alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchedAlert {
    /// Normalised match key.
    pub key: String,
    /// Alert name (new vocabulary).
    pub alertname: String,
    /// Normalised labels (new vocabulary, ignored labels dropped).
    pub labels: BTreeMap<String, String>,
    /// Start in the old system.
    #[serde(serialize_with = "as_rfc3339::serialize")]
    pub starts_at: i64,
    /// Start in the new system.
    #[serde(serialize_with = "as_rfc3339::serialize")]
    pub new_starts_at: i64,
    /// `new_starts_at - starts_at` in seconds (negative when NEW fired first).
    pub delay_seconds: f64,
    /// End in the old system; `None` (null) while still firing.
    #[serde(serialize_with = "as_rfc3339_opt::serialize")]
    pub ends_at: Option<i64>,
    /// End in the new system; `None` (null) while still firing.
    #[serde(serialize_with = "as_rfc3339_opt::serialize")]
    pub new_ends_at: Option<i64>,
}

/// Counts for one group (alertname, severity or breakdown label value).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Breakdown {
    /// Episodes in the old system.
    pub old: usize,
    /// Episodes in the new system.
    pub new: usize,
    /// Matched pairs.
    pub matched: usize,
    /// Old episodes without a partner.
    pub missing: usize,
    /// New episodes without a partner.
    pub extra: usize,
    /// `matched / old`, `None` when `old == 0`.
    pub match_rate: Option<f64>,
}

/// How much a system disagrees with a second read of itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoiseFloor {
    /// Match rate of the self-comparison (`None` when the first read was empty).
    pub match_rate: Option<f64>,
    /// Episodes of the first read missing from the second.
    pub missing: usize,
    /// Episodes only in the second read.
    pub extra: usize,
}

impl NoiseFloor {
    /// Compare a system against a second read of itself. Renames are not
    /// applied (both reads share one vocabulary); ignores and tolerance are.
    pub fn measure(first: &[Alert], second: &[Alert], opts: &CompareOptions) -> NoiseFloor {
        NoiseFloor::from_report(&compare(first, second, &opts.without_renames()))
    }

    /// Take the noise figures from a self-comparison report.
    pub fn from_report(r: &Report) -> NoiseFloor {
        NoiseFloor {
            match_rate: r.match_rate,
            missing: r.missing,
            extra: r.extra,
        }
    }
}

/// Description of one input dump.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputInfo {
    /// File (or other origin) read.
    pub origin: String,
    /// Format used; `None` for an empty input.
    pub format: Option<Format>,
    /// Alert episodes read.
    pub alerts: usize,
    /// Parser counters (pending alerts skipped, webhook payloads merged...).
    pub stats: ParseStats,
}

impl InputInfo {
    /// Describe a parsed dump.
    pub fn new(origin: &str, parsed: &Parsed) -> InputInfo {
        InputInfo {
            origin: origin.to_string(),
            format: parsed.format,
            alerts: parsed.alerts.len(),
            stats: parsed.stats.clone(),
        }
    }
}

/// The two dumps a report was built from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inputs {
    /// The old system's dump.
    pub old: InputInfo,
    /// The new system's dump.
    pub new: InputInfo,
}

/// Time range covered by the episodes of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TimeRange {
    /// Earliest episode start, old or new.
    #[serde(serialize_with = "as_rfc3339::serialize")]
    pub from: i64,
    /// Latest episode start or end, old or new.
    #[serde(serialize_with = "as_rfc3339::serialize")]
    pub to: i64,
}

impl TimeRange {
    /// The range covering every start and end of `old` and `new`; `None`
    /// when both are empty.
    pub fn of(old: &[Alert], new: &[Alert]) -> Option<TimeRange> {
        let all = || old.iter().chain(new);
        let from = all().map(|a| a.starts_at).min()?;
        let to = all()
            .flat_map(|a| [Some(a.starts_at), a.ends_at])
            .flatten()
            .max()
            .unwrap_or(from);
        Some(TimeRange { from, to })
    }
}

/// Value of [`Report::schema`]: names the JSON layout documented in
/// `docs/report.md`. Fields are only ever added under this name; a removal or
/// change of meaning would bump the version.
pub const REPORT_SCHEMA: &str = "cutover.compare.report/v1";

/// The comparison result. Field names are a stable JSON contract
/// (`docs/report.md`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Layout marker, always [`REPORT_SCHEMA`].
    pub schema: String,
    /// Episodes fired by the old system.
    pub total_old: usize,
    /// Episodes fired by the new system.
    pub total_new: usize,
    /// Matched pairs.
    pub matched: usize,
    /// Old episodes the new system did not fire.
    pub missing: usize,
    /// New episodes the old system did not fire.
    pub extra: usize,
    /// `matched / total_old`; `None` (null) when `total_old == 0`.
    pub match_rate: Option<f64>,
    /// Risk level.
    pub risk_level: RiskLevel,
    /// Verdict.
    pub verdict: Verdict,
    /// Delay statistics over matched pairs.
    pub delay_seconds: DelayStats,
    /// Human advice, most important first.
    pub recommendations: Vec<String>,
    /// Self-comparison noise, when measured (see [`Report::with_noise_floor`]).
    pub noise_floor: Option<NoiseFloor>,
    /// Where the alerts came from, when known (see [`Report::with_inputs`]).
    pub inputs: Option<Inputs>,
    /// Old episodes not fired by the new system.
    pub missing_alerts: Vec<UnmatchedAlert>,
    /// New episodes not fired by the old system.
    pub extra_alerts: Vec<UnmatchedAlert>,
    /// Matched pairs.
    pub matched_alerts: Vec<MatchedAlert>,
    /// Per alertname (new vocabulary).
    pub by_alertname: BTreeMap<String, Breakdown>,
    /// Per `severity` label value (`(none)` when absent).
    pub by_severity: BTreeMap<String, Breakdown>,
    /// Per value of `options.breakdown_label` (`(none)` when absent); null when unset.
    pub by_label: Option<BTreeMap<String, Breakdown>>,
    /// Options used.
    pub options: CompareOptions,
    /// Earliest start to latest start or end over all episodes; `None`
    /// (null) when neither system fired.
    pub time_range: Option<TimeRange>,
}

/// Label value used in breakdowns when the label is absent.
pub const NONE_GROUP: &str = "(none)";

/// Compare what the old and new systems fired.
pub fn compare(old: &[Alert], new: &[Alert], opts: &CompareOptions) -> Report {
    let outcome = match_alerts(old, new, opts);
    let total_old = old.len();
    let total_new = new.len();
    let matched = outcome.pairs.len();
    let missing = outcome.missing.len();
    let extra = outcome.extra.len();
    let match_rate = (total_old > 0).then(|| matched as f64 / total_old as f64);

    let matched_alerts: Vec<MatchedAlert> = outcome
        .pairs
        .iter()
        .map(|&(i, j)| {
            let key = &outcome.old_keys[i];
            MatchedAlert {
                key: key.to_string(),
                alertname: key.alertname.clone(),
                labels: outcome.old_labels[i].clone(),
                starts_at: old[i].starts_at,
                new_starts_at: new[j].starts_at,
                delay_seconds: (new[j].starts_at - old[i].starts_at) as f64 / 1000.0,
                ends_at: old[i].ends_at,
                new_ends_at: new[j].ends_at,
            }
        })
        .collect();
    let delays: Vec<f64> = matched_alerts.iter().map(|m| m.delay_seconds).collect();
    let delay_seconds = DelayStats::from_delays(&delays);
    let missing_alerts = unmatched(old, &outcome.missing, &outcome.old_keys);
    let extra_alerts = unmatched(new, &outcome.extra, &outcome.new_keys);

    let (risk_level, verdict) = assess(total_old, total_new, match_rate, missing, extra, opts);
    let by_alertname = breakdown(&outcome, |labels| labels.get("alertname").cloned());
    let by_severity = breakdown(&outcome, |labels| labels.get("severity").cloned());
    let by_label = opts
        .breakdown_label
        .as_ref()
        .map(|l| breakdown(&outcome, |labels| labels.get(l).cloned()));

    let mut report = Report {
        schema: REPORT_SCHEMA.to_string(),
        total_old,
        total_new,
        matched,
        missing,
        extra,
        match_rate,
        risk_level,
        verdict,
        delay_seconds,
        recommendations: Vec::new(),
        noise_floor: None,
        inputs: None,
        missing_alerts,
        extra_alerts,
        matched_alerts,
        by_alertname,
        by_severity,
        by_label,
        options: opts.clone(),
        time_range: TimeRange::of(old, new),
    };
    report.recommendations = recommend::recommendations(&report, &outcome);
    report
}

impl Report {
    /// Attach the noise floor measured by comparing the old system against a
    /// second read of itself, with a recommendation line when it is not zero.
    pub fn with_noise_floor(mut self, noise: NoiseFloor) -> Report {
        if let Some(line) = recommend::noise_line(&self, &noise) {
            self.recommendations.push(line);
        }
        self.noise_floor = Some(noise);
        self
    }

    /// Record which dumps the report was built from.
    pub fn with_inputs(mut self, inputs: Inputs) -> Report {
        self.inputs = Some(inputs);
        self
    }
}

/// Risk and verdict from the totals.
pub(crate) fn assess(
    total_old: usize,
    total_new: usize,
    match_rate: Option<f64>,
    missing: usize,
    extra: usize,
    opts: &CompareOptions,
) -> (RiskLevel, Verdict) {
    let t = &opts.thresholds;
    let risk = match match_rate {
        None => RiskLevel::High,
        Some(r) if r < t.high_below || missing > 0 => RiskLevel::High,
        Some(r) if r < t.medium_below => RiskLevel::Medium,
        Some(_) if extra > 0 && t.extra_is_medium => RiskLevel::Medium,
        Some(_) => RiskLevel::Low,
    };
    let verdict = if total_old == 0 || total_new == 0 {
        Verdict::NoData
    } else {
        match risk {
            RiskLevel::High => Verdict::Fail,
            RiskLevel::Medium => Verdict::Inconclusive,
            RiskLevel::Low => Verdict::Pass,
        }
    };
    (risk, verdict)
}

fn unmatched(alerts: &[Alert], idx: &[usize], keys: &[AlertKey]) -> Vec<UnmatchedAlert> {
    idx.iter()
        .map(|&i| UnmatchedAlert {
            key: keys[i].to_string(),
            alertname: keys[i].alertname.clone(),
            labels: alerts[i].labels.clone(),
            starts_at: alerts[i].starts_at,
            ends_at: alerts[i].ends_at,
            fingerprint: alerts[i].fingerprint.clone(),
        })
        .collect()
}

/// Group counts by a value taken from normalised labels. Matched pairs are
/// grouped by the old side's value.
fn breakdown(
    o: &MatchOutcome,
    group: impl Fn(&BTreeMap<String, String>) -> Option<String>,
) -> BTreeMap<String, Breakdown> {
    let name =
        |labels: &BTreeMap<String, String>| group(labels).unwrap_or_else(|| NONE_GROUP.to_string());
    let mut out: BTreeMap<String, Breakdown> = BTreeMap::new();
    for l in &o.old_labels {
        out.entry(name(l)).or_default().old += 1;
    }
    for l in &o.new_labels {
        out.entry(name(l)).or_default().new += 1;
    }
    for &(i, _) in &o.pairs {
        out.entry(name(&o.old_labels[i])).or_default().matched += 1;
    }
    for &i in &o.missing {
        out.entry(name(&o.old_labels[i])).or_default().missing += 1;
    }
    for &j in &o.extra {
        out.entry(name(&o.new_labels[j])).or_default().extra += 1;
    }
    for b in out.values_mut() {
        b.match_rate = (b.old > 0).then(|| b.matched as f64 / b.old as f64);
    }
    out
}

//! The comparison report: its types and their JSON layout (a stable
//! contract, `docs/report.md`). [`crate::compare`] builds one in memory;
//! `Report::summarise` decides its verdict and advice.

use crate::backtest::prediction::Prediction;
use crate::model::Alert;
use crate::options::CompareOptions;
use crate::parse::{Format, ParseStats, Parsed};
use crate::stats::DelayStats;
use crate::timefmt::{as_rfc3339, as_rfc3339_opt};
use serde::Serialize;
use std::collections::BTreeMap;

/// How risky the cutover looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
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
/// change of meaning bumps the version (v2: `matched_alerts` is `null`
/// unless the pairs are asked for, see [`crate::JsonLayout`]).
pub const REPORT_SCHEMA: &str = "cutover.compare.report/v2";

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
    /// How the alerts were predicted, when a backtest predicted them rather
    /// than systems firing them (see [`crate::backtest`]); absent from the
    /// JSON otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prediction: Option<Prediction>,
}

/// Label value used in breakdowns when the label is absent.
pub const NONE_GROUP: &str = "(none)";

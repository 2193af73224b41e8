//! The one place a report's summary is decided: from what a comparison
//! counted (however it ran: [`crate::compare`] in memory or the streaming
//! comparison behind [`crate::run`]), the missing and extra totals, match
//! rate, risk level, verdict and recommendations.

use crate::options::CompareOptions;
use crate::recommend::{self, KeyList};
use crate::report::{
    Breakdown, Inputs, NoiseFloor, REPORT_SCHEMA, Report, RiskLevel, TimeRange, Verdict,
};
use crate::stats::DelayStats;
use std::collections::BTreeMap;

/// What a comparison counted: the parts of a report that are measured
/// rather than decided.
pub(crate) struct Counts {
    /// Episodes fired by the old system.
    pub(crate) total_old: usize,
    /// Episodes fired by the new system.
    pub(crate) total_new: usize,
    /// Matched pairs.
    pub(crate) matched: usize,
    /// Delay statistics over the matched pairs.
    pub(crate) delay_seconds: DelayStats,
    /// Per alertname.
    pub(crate) by_alertname: BTreeMap<String, Breakdown>,
    /// Per `severity`.
    pub(crate) by_severity: BTreeMap<String, Breakdown>,
    /// Per value of the breakdown label, when one was asked for.
    pub(crate) by_label: Option<BTreeMap<String, Breakdown>>,
    /// Earliest start to latest start or end.
    pub(crate) time_range: Option<TimeRange>,
}

/// What the recommendations say about the unmatched alerts: their distinct
/// keys and the rename / ignore hints found by comparing them.
pub(crate) struct Unmatched<'a> {
    /// Keys of the missing alerts.
    pub(crate) missing: KeyList<'a>,
    /// Keys of the extra alerts.
    pub(crate) extra: KeyList<'a>,
    /// Hint lines (`recommend::hint_lines`).
    pub(crate) hints: Vec<String>,
}

impl Report {
    /// The report of what a comparison counted under `opts`, with empty
    /// alert lists (the caller fills or streams them): missing and extra
    /// totals, match rate, risk, verdict and recommendations are decided
    /// here and nowhere else.
    pub(crate) fn summarise(
        counts: Counts,
        unmatched: Unmatched<'_>,
        opts: &CompareOptions,
    ) -> Report {
        let Counts {
            total_old,
            total_new,
            matched,
            delay_seconds,
            by_alertname,
            by_severity,
            by_label,
            time_range,
        } = counts;
        let missing = total_old.saturating_sub(matched);
        let extra = total_new.saturating_sub(matched);
        let match_rate = (total_old > 0).then(|| matched as f64 / total_old as f64);
        let (risk_level, verdict) = assess(total_old, total_new, match_rate, missing, extra, opts);
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
            missing_alerts: Vec::new(),
            extra_alerts: Vec::new(),
            matched_alerts: Vec::new(),
            by_alertname,
            by_severity,
            by_label,
            options: opts.clone(),
            time_range,
            prediction: None,
        };
        report.recommendations = recommend::recommendations(
            &report,
            &unmatched.missing,
            &unmatched.extra,
            unmatched.hints,
        );
        report
    }

    /// Attach the noise floor measured by comparing the old system against a
    /// second read of itself, with a recommendation line when it is not zero.
    pub fn with_noise_floor(mut self, noise: NoiseFloor) -> Report {
        self.recommendations
            .push(recommend::noise_line(&self, &noise));
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
fn assess(
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

//! What the gating steps saw: parallel runs, backtests and paging
//! canaries (part of [`super::StepDetails`]).

use cutover_compare::{RiskLevel, Verdict};
use cutover_plan::Selection;
use serde::{Deserialize, Serialize};

use crate::gate::Judgement;

/// What a parallel run compared and how its gate decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParallelRunDetails {
    /// The scope the run compared in (`*` for everything).
    pub scope: Selection,
    /// The comparison's own verdict.
    pub compare_verdict: Verdict,
    /// Matched / old episodes (`None` without old alerts).
    pub match_rate: Option<f64>,
    /// The lowest match rate the plan accepts, when it sets one.
    pub min_match_rate: Option<f64>,
    /// Matched episodes.
    pub matched: usize,
    /// Old episodes the new system did not fire.
    pub missing: usize,
    /// New episodes the old system did not fire.
    pub extra: usize,
    /// Old episodes.
    pub total_old: usize,
    /// New episodes.
    pub total_new: usize,
    /// The comparison's risk level.
    pub risk_level: RiskLevel,
    /// Polls made.
    pub polls: u32,
    /// Whether the run is shadow (never gates).
    pub shadow: bool,
    /// Keys of the missing alerts.
    pub missing_alerts: Vec<String>,
    /// Keys of the extra alerts.
    pub extra_alerts: Vec<String>,
    /// The values of the step's `by` label (its services) with missing
    /// alerts. Left out when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services_missing: Vec<String>,
    /// The gate's decision (later readers take it, never decide again).
    pub gate: Judgement,
    /// Who accepted an inconclusive run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_by: Option<String>,
    /// The noise floor, when the plan names a noise source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise_floor: Option<NoiseFloorDetails>,
    /// Report files written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reports: Option<Vec<String>>,
    /// Why the report files could not be written (never fatal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_error: Option<String>,
}

/// What a backtest predicted and how its gate decided: the comparison of
/// what the old rule set and the new one (its translation) would have
/// fired over the recorded history of `system`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestDetails {
    /// Whose history was read.
    pub system: cutover_plan::SystemSide,
    /// The evaluated window, unix ms, both ends included.
    pub backtest_from_ms: i64,
    /// See [`BacktestDetails::backtest_from_ms`].
    pub backtest_to_ms: i64,
    /// The forced evaluation step in seconds (`None`: each group's own).
    pub step_seconds: Option<f64>,
    /// The alerts compared (`*` for everything).
    pub scope: Selection,
    /// The translator the new rules came from, if any.
    pub translator: Option<String>,
    /// No rule of either set got a sample: nothing can be concluded.
    pub no_data: bool,
    /// The comparison's own verdict.
    pub compare_verdict: Verdict,
    /// Predicted matched / old episodes (`None` without old episodes).
    pub match_rate: Option<f64>,
    /// The lowest predicted match rate the plan accepts.
    pub min_match_rate: Option<f64>,
    /// Matched episodes.
    pub matched: usize,
    /// Predicted old episodes the new rules would not fire.
    pub missing: usize,
    /// Predicted new episodes the old rules would not fire.
    pub extra: usize,
    /// Predicted old episodes.
    pub total_old: usize,
    /// Predicted new episodes.
    pub total_new: usize,
    /// The comparison's risk level.
    pub risk_level: RiskLevel,
    /// Alerting rules evaluated in the old set.
    pub old_rules: usize,
    /// Alerting rules evaluated in the new set.
    pub new_rules: usize,
    /// Rules that could not be evaluated (rejected by the history store,
    /// unsupported templates...), each with why.
    pub rule_errors: Vec<BacktestRuleError>,
    /// `query-range` calls made.
    pub queries: u32,
    /// Keys of the missing alerts.
    pub missing_alerts: Vec<String>,
    /// Keys of the extra alerts.
    pub extra_alerts: Vec<String>,
    /// The gate's decision.
    pub gate: Judgement,
    /// Whether the step is shadow (never gates).
    pub shadow: bool,
    /// Who accepted an inconclusive backtest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_by: Option<String>,
    /// Report files written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reports: Option<Vec<String>>,
    /// Why the report files could not be written (never fatal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_error: Option<String>,
}

/// A rule a backtest could not evaluate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BacktestRuleError {
    /// `old` or `new`.
    pub side: cutover_plan::SystemSide,
    /// The rule's group.
    pub group: String,
    /// The rule's `alert` name.
    pub rule: String,
    /// Why.
    pub error: String,
}

/// The same comparison against the noise source (the old system against
/// itself, or a replica).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoiseFloorDetails {
    /// The source, as the plan writes it.
    pub source: String,
    /// Whether the noise comparison could be made.
    pub available: bool,
    /// Its match rate.
    pub match_rate: Option<f64>,
    /// Its missing episodes.
    pub missing: Option<usize>,
    /// Its extra episodes.
    pub extra: Option<usize>,
    /// Noise episodes seen.
    pub total_noise: usize,
    /// Polls whose noise read failed.
    pub failed_reads: u32,
    /// The last noise read error.
    pub error: Option<String>,
}

/// What a paging canary saw: per expected receiver, whether and how fast
/// the synthetic alert arrived.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CanaryDetails {
    /// One entry per expected receiver, old Alertmanager first.
    pub receivers: Vec<CanaryReceipt>,
    /// Synthetic alerts of this run an interrupted attempt left firing,
    /// resolved before this attempt posted its own.
    pub leftovers_resolved: u32,
    /// Whether the step is shadow (never gates).
    pub shadow: bool,
    /// Why the plugin call failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<String>,
    /// Who accepted a canary that could not judge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_by: Option<String>,
}

/// One expected receiver of a paging canary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CanaryReceipt {
    /// `old` or `new`: the Alertmanager it was posted to.
    pub alertmanager: String,
    /// The Alertmanager receiver.
    pub receiver: String,
    /// Whether it got the synthetic alert.
    pub delivered: bool,
    /// From the post to its arrival, when it arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
}

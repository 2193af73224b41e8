//! Backtest: what two rule sets would have fired over recorded history,
//! compared like a parallel run, before any traffic moves.
//!
//! [`backtest`] evaluates the alerting rules of an old and a new set of
//! Prometheus rule files (as [`RuleFile::parse`] reads them) over a
//! [`Window`] of history held by a [`RangeSource`] (a Prometheus
//! `query_range`, through an adapter that answers with typed series),
//! then compares the two sets of predicted episodes with
//! [`crate::compare`]. The [`Report`] it returns is marked as predicted
//! ([`Report::prediction`], and a first recommendation line in every
//! rendering) and lists how each rule fared.
//!
//! Evaluation follows Prometheus's `AlertingRule.Eval` exactly (see
//! `machine` for the state rules and `eval` for the evaluation steps):
//! each group's `interval` (default 1m, or one forced step), `for`,
//! `keep_firing_for`, the group's `query_offset` and `labels`, label
//! templates (`{{ $labels.x }}`, `{{ $value }}`; a rule using any other
//! template action is reported, not evaluated), one alert per label set
//! (series labels without `__name__`, plus the rule's labels, plus
//! `alertname`; annotations play no part). A returned sample whose value
//! is NaN is present, as in Prometheus (only the stale marker, which
//! Prometheus never returns, counts as absent).
//!
//! An episode's `starts_at` is when it started **firing** (Prometheus's
//! `FiredAt`): what Prometheus sends Alertmanager as `startsAt`
//! (rules/manager.go `SendAlerts`) and the first instant of
//! `ALERTS{alertstate="firing"}`, so predictions compare with what
//! Alertmanager and the `ALERTS` series recorded. The pending phase before
//! it (`ActiveAt`, shown as `activeAt` by `/api/v1/alerts`) lasts `for`.
//! `ends_at` is the evaluation at which it resolved (`ResolvedAt`,
//! Alertmanager's `endsAt`), `None` when still firing at the window's end.
//!
//! Bad input never aborts the run: a rule whose expression the source
//! rejects, whose durations or templates cannot be read, or whose window
//! is too long ([`MAX_STEPS`]) is reported in its [`RuleOutcome`] and the
//! others go on. A window with no data for any rule is
//! [`Prediction::no_data`] and the verdict `no-data`.

mod eval;
mod machine;
mod observed;
pub mod prediction;
mod source;
mod spec;
mod template;

pub use eval::{BacktestError, Evaluation, MAX_STEPS, Window};
pub use observed::{ALERTSTATE_LABEL, firing_episodes};
pub use prediction::{Prediction, RuleOutcome};
pub use source::{
    MAX_POINTS_PER_QUERY, RangeSeries, RangeSource, STALE_NAN_BITS, SourceError, is_stale_marker,
};

use crate::in_memory::compare;
use crate::options::CompareOptions;
use crate::report::Report;
use crate::timefmt::format_millis;
use eval::Session;
use translate_core::rules::RuleFile;

/// A backtest's result: the comparison of the two predicted alert sets,
/// and each set's evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct BacktestReport {
    /// The comparison, marked as predicted: `report.prediction` is set.
    pub report: Report,
    /// What the old rule set would have fired.
    pub old: Evaluation,
    /// What the new rule set would have fired.
    pub new: Evaluation,
}

/// Evaluate the `old` and `new` rule sets over `window` of `source`'s
/// history, every group at its own interval or every `step_override_ms`,
/// and compare the alerts each would have fired under `opts`.
pub fn backtest(
    old: &[RuleFile],
    new: &[RuleFile],
    source: &mut dyn RangeSource,
    window: Window,
    step_override_ms: Option<i64>,
    opts: &CompareOptions,
) -> Result<BacktestReport, BacktestError> {
    let mut session = Session::new(source, window, step_override_ms)?;
    let old = session.evaluate(old, "backtest:old");
    let new = session.evaluate(new, "backtest:new");
    let prediction = Prediction {
        from: window.from_ms,
        to: window.to_ms,
        step_seconds: step_override_ms.map(|s| s as f64 / 1000.0),
        no_data: !old
            .rules
            .iter()
            .chain(&new.rules)
            .any(RuleOutcome::has_data),
        old_rules: old.rules.clone(),
        new_rules: new.rules.clone(),
    };
    let report = compare(&old.alerts, &new.alerts, opts).with_prediction(prediction);
    Ok(BacktestReport { report, old, new })
}

/// What one rule set would have fired over `window` (see [`backtest`]).
pub fn evaluate(
    files: &[RuleFile],
    source: &mut dyn RangeSource,
    window: Window,
    step_override_ms: Option<i64>,
) -> Result<Evaluation, BacktestError> {
    Ok(Session::new(source, window, step_override_ms)?.evaluate(files, "backtest"))
}

impl Report {
    /// Mark the report as predicted: set [`Report::prediction`] and say so
    /// first among the recommendations (with the rules that could not be
    /// evaluated, and when there was no data), so every rendering shows it.
    pub fn with_prediction(mut self, prediction: Prediction) -> Report {
        let mut lines = vec![format!(
            "Predicted, not observed: these are the alerts the rule sets would have fired from {} to {}, evaluated on recorded history.",
            format_millis(prediction.from),
            format_millis(prediction.to)
        )];
        if prediction.no_data {
            lines.push(
                "No rule of either set returned any data over the window: nothing can be concluded."
                    .to_string(),
            );
        }
        for (side, rules) in [
            ("old", &prediction.old_rules),
            ("new", &prediction.new_rules),
        ] {
            let failed: Vec<&str> = rules
                .iter()
                .filter(|r| r.error.is_some())
                .map(|r| r.rule.as_str())
                .collect();
            if !failed.is_empty() {
                lines.push(format!(
                    "{} {side} rule(s) could not be evaluated and fired nothing: {} (see prediction.{side}_rules).",
                    failed.len(),
                    failed.join(", ")
                ));
            }
        }
        self.recommendations.splice(0..0, lines);
        self.prediction = Some(prediction);
        self
    }
}

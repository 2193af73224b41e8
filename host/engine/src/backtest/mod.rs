//! Backtests run by the engine and the CLI: recorded history read through
//! an adapter plugin ([`AdapterRangeSource`], the `history-adapter` world
//! of contract 0.1.2), both rule sets evaluated by
//! [`cutover_compare::backtest`], the predicted alerts restricted to a
//! scope ([`run`]) and compared like a parallel run.

mod source;
mod step;

pub use source::{AdapterRangeSource, HistoryError, source_error};

use cutover_compare::backtest::{
    BacktestError, BacktestReport, Prediction, RangeSource, RuleOutcome, Window, evaluate,
};
use cutover_compare::{Alert, CompareOptions, compare};
use translate_core::Selection;
use translate_core::rules::RuleFile;

/// What one backtest evaluates and how it compares.
#[derive(Debug, Clone, Copy)]
pub struct BacktestRequest<'a> {
    /// The old rule set (rule files as [`RuleFile::parse`] reads them).
    pub old: &'a [RuleFile],
    /// The new rule set.
    pub new: &'a [RuleFile],
    /// The stretch of history evaluated.
    pub window: Window,
    /// One evaluation step for every group, in milliseconds; `None`: each
    /// group's own `interval`.
    pub step_ms: Option<i64>,
    /// Renames, ignored labels, tolerance, thresholds: as a parallel run.
    pub options: &'a CompareOptions,
    /// Only predicted alerts whose labels this selection covers are
    /// compared (everything for `*`), as a parallel run's scope.
    pub scope: &'a Selection,
}

/// Evaluates both rule sets of `req` over `source`'s history and compares
/// the alerts in scope; the report is marked as predicted (see
/// [`cutover_compare::backtest::backtest`], which this follows with a
/// scope). A rule the source rejects is reported in its
/// [`RuleOutcome::error`] and the others go on; a window without any data
/// is [`Prediction::no_data`] and the verdict `no-data`.
pub fn run(
    req: &BacktestRequest<'_>,
    source: &mut dyn RangeSource,
) -> Result<BacktestReport, BacktestError> {
    let mut old = evaluate(req.old, source, req.window, req.step_ms)?;
    let mut new = evaluate(req.new, source, req.window, req.step_ms)?;
    old.alerts = in_scope(std::mem::take(&mut old.alerts), req.scope);
    new.alerts = in_scope(std::mem::take(&mut new.alerts), req.scope);
    let prediction = Prediction {
        from: req.window.from_ms,
        to: req.window.to_ms,
        step_seconds: req.step_ms.map(|s| s as f64 / 1000.0),
        no_data: !old
            .rules
            .iter()
            .chain(&new.rules)
            .any(RuleOutcome::has_data),
        old_rules: old.rules.clone(),
        new_rules: new.rules.clone(),
    };
    let report = compare(&old.alerts, &new.alerts, req.options).with_prediction(prediction);
    Ok(BacktestReport { report, old, new })
}

fn in_scope(alerts: Vec<Alert>, scope: &Selection) -> Vec<Alert> {
    if scope.is_all() {
        return alerts;
    }
    alerts
        .into_iter()
        .filter(|a| scope.matches(&a.labels))
        .collect()
}

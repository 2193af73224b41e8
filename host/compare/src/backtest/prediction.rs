//! What marks a comparison [`crate::Report`] as predicted by a backtest
//! rather than observed: the [`Prediction`] in its `prediction` field, with
//! the window evaluated and how each rule of both sets fared. A leaf
//! module: the report embeds these types.

use crate::timefmt::as_rfc3339;
use serde::Serialize;

/// How the alerts of a report were predicted: by evaluating two rule sets
/// over recorded history (see [`crate::backtest::backtest`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    /// Start of the evaluated window, unix milliseconds.
    #[serde(serialize_with = "as_rfc3339::serialize")]
    pub from: i64,
    /// End of the evaluated window (inclusive), unix milliseconds.
    #[serde(serialize_with = "as_rfc3339::serialize")]
    pub to: i64,
    /// Evaluation step forced for every group, in seconds; `None` when each
    /// group used its own `interval` (default 1m).
    pub step_seconds: Option<f64>,
    /// No rule of either set got a single sample over the window: nothing
    /// can be concluded (the verdict is `no-data`, never a pass).
    pub no_data: bool,
    /// Outcome of each alerting rule of the old set, in file order.
    pub old_rules: Vec<RuleOutcome>,
    /// Outcome of each alerting rule of the new set, in file order.
    pub new_rules: Vec<RuleOutcome>,
}

/// How one alerting rule fared in a backtest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleOutcome {
    /// Name of the rule's group.
    pub group: String,
    /// The rule's `alert` name.
    pub rule: String,
    /// Seconds between evaluations; `None` when the interval is invalid.
    pub interval_seconds: Option<f64>,
    /// Evaluation steps in the window.
    pub evaluations: u32,
    /// Distinct alert label sets the expression returned.
    pub label_sets: usize,
    /// Samples the expression returned (one per label set and step).
    pub samples: usize,
    /// Alert episodes that fired (each one an alert of the report).
    pub episodes: usize,
    /// Why the rule was not evaluated (expression rejected by the source,
    /// unsupported template, invalid duration...); its episodes are then 0.
    pub error: Option<String>,
    /// Things that happened without stopping the evaluation (failed
    /// evaluation steps, samples off the step grid).
    pub warnings: Vec<String>,
}

impl RuleOutcome {
    /// Whether the rule got at least one sample.
    pub fn has_data(&self) -> bool {
        self.samples > 0
    }
}

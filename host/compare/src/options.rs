//! Options controlling normalisation, matching and risk assessment.

use crate::error::CompareError;
use serde::Serialize;
use std::time::Duration;

/// How alerts of the two systems are normalised and matched.
///
/// Renames apply to the OLD side only, so keys are expressed in the new
/// system's vocabulary. Order: alertname renames, label renames, then value
/// renames (whose label name is in the new vocabulary), then `ignore_labels`
/// are dropped from both sides.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompareOptions {
    /// Labels dropped from both sides before building keys (e.g. `instance`).
    pub ignore_labels: Vec<String>,
    /// Old alertname -> new alertname.
    pub rename_alerts: Vec<(String, String)>,
    /// Old label name -> new label name.
    pub rename_labels: Vec<(String, String)>,
    /// `(label, old value, new value)`; `label` is the (new) label name.
    pub rename_values: Vec<(String, String, String)>,
    /// Largest start-time difference for two alerts to be the same episode.
    #[serde(rename = "tolerance_seconds", serialize_with = "ser_secs")]
    pub tolerance: Duration,
    /// Label to break results down by (e.g. `service`).
    pub breakdown_label: Option<String>,
    /// Risk thresholds.
    pub thresholds: RiskThresholds,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            ignore_labels: Vec::new(),
            rename_alerts: Vec::new(),
            rename_labels: Vec::new(),
            rename_values: Vec::new(),
            tolerance: Duration::from_secs(60),
            breakdown_label: None,
            thresholds: RiskThresholds::default(),
        }
    }
}

impl CompareOptions {
    /// Check the thresholds are sane: `0 <= high_below <= medium_below <= 1`.
    pub fn validate(&self) -> Result<(), CompareError> {
        let t = &self.thresholds;
        let ok = |v: f64| v.is_finite() && (0.0..=1.0).contains(&v);
        if !ok(t.high_below) || !ok(t.medium_below) {
            return Err(CompareError::InvalidOption(format!(
                "risk thresholds must be between 0 and 1 (got high_below={}, medium_below={})",
                t.high_below, t.medium_below
            )));
        }
        if t.high_below > t.medium_below {
            return Err(CompareError::InvalidOption(format!(
                "high_below ({}) must not exceed medium_below ({})",
                t.high_below, t.medium_below
            )));
        }
        Ok(())
    }

    /// The same options without any renames: what a system compared against a
    /// second read of itself needs (see [`crate::NoiseFloor`]).
    pub fn without_renames(&self) -> CompareOptions {
        CompareOptions {
            rename_alerts: Vec::new(),
            rename_labels: Vec::new(),
            rename_values: Vec::new(),
            ..self.clone()
        }
    }
}

/// Thresholds turning a match rate into a [`crate::RiskLevel`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskThresholds {
    /// Match rate strictly below this is high risk (default 0.8).
    pub high_below: f64,
    /// Match rate strictly below this is medium risk (default 0.95).
    pub medium_below: f64,
    /// Alerts fired only by the new system (and none missing) make the risk
    /// medium rather than low (default true).
    pub extra_is_medium: bool,
    /// A p95 delay above this adds a recommendation (default 30s).
    #[serde(rename = "delay_p95_warn_seconds", serialize_with = "ser_secs")]
    pub delay_p95_warn: Duration,
}

impl Default for RiskThresholds {
    fn default() -> Self {
        RiskThresholds {
            high_below: 0.8,
            medium_below: 0.95,
            extra_is_medium: true,
            delay_p95_warn: Duration::from_secs(30),
        }
    }
}

fn ser_secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

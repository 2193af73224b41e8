//! The migration's Prometheus metrics registry.
//!
//! The engine feeds it while a plan runs; until then the setters here let a
//! caller expose what is known from the plan (every phase at its progress).

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use cutover_plan::Plan;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::error::OpsError;

/// Service label used when progress is not broken down by service.
pub const ALL_SERVICES: &str = "all";

/// Names of the metric families the registry exports, as they appear in the
/// exposition (counters with their `_total` suffix, histograms by base name).
pub const METRIC_NAMES: [&str; 8] = [
    "migration_progress",
    "alert_match_rate",
    "system_availability",
    "data_consistency",
    "cutover_migration_start_timestamp_seconds",
    "cutover_plugin_calls_total",
    "cutover_plugin_call_duration_seconds",
    "cutover_plugin_limit_hits_total",
];

type FloatGauge = Gauge<f64, AtomicU64>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PhaseService {
    phase: String,
    service: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServiceLabel {
    service: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SystemLabel {
    system: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DataTypeLabel {
    data_type: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PluginOutcome {
    plugin: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PluginLabel {
    plugin: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PluginLimit {
    plugin: String,
    limit: String,
}

fn duration_histogram() -> Histogram {
    // 1 ms .. ~65 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 17))
}

/// Metrics of one migration run. Cheap to share behind an `Arc`; every
/// setter takes `&self`.
pub struct MigrationMetrics {
    registry: Registry,
    progress: Family<PhaseService, FloatGauge>,
    match_rate: Family<ServiceLabel, FloatGauge>,
    availability: Family<SystemLabel, Gauge>,
    consistency: Family<DataTypeLabel, FloatGauge>,
    start: FloatGauge,
    calls: Family<PluginOutcome, Counter>,
    durations: Family<PluginLabel, Histogram, fn() -> Histogram>,
    limit_hits: Family<PluginLimit, Counter>,
}

impl std::fmt::Debug for MigrationMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MigrationMetrics").finish_non_exhaustive()
    }
}

impl Default for MigrationMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl MigrationMetrics {
    /// An empty registry with every metric family registered.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let progress = Family::<PhaseService, FloatGauge>::default();
        let match_rate = Family::<ServiceLabel, FloatGauge>::default();
        let availability = Family::<SystemLabel, Gauge>::default();
        let consistency = Family::<DataTypeLabel, FloatGauge>::default();
        let start = FloatGauge::default();
        let calls = Family::<PluginOutcome, Counter>::default();
        let durations: Family<PluginLabel, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(duration_histogram);
        let limit_hits = Family::<PluginLimit, Counter>::default();
        registry.register(
            "migration_progress",
            "Progress of a phase for a service, 0 (not started) to 1 (done)",
            progress.clone(),
        );
        registry.register(
            "alert_match_rate",
            "Share of alerts of a service that the old and the new system both fired, 0 to 1",
            match_rate.clone(),
        );
        registry.register(
            "system_availability",
            "1 when the alerting system answers its health check, 0 when not",
            availability.clone(),
        );
        registry.register(
            "data_consistency",
            "Share of a data type that is identical in the old and the new system, 0 to 1",
            consistency.clone(),
        );
        registry.register(
            "cutover_migration_start_timestamp_seconds",
            "Unix time the migration run started (0 before it starts)",
            start.clone(),
        );
        registry.register(
            "cutover_plugin_calls",
            "Plugin calls by outcome",
            calls.clone(),
        );
        registry.register(
            "cutover_plugin_call_duration_seconds",
            "Wall-clock duration of plugin calls",
            durations.clone(),
        );
        registry.register(
            "cutover_plugin_limit_hits",
            "Plugin calls stopped by a limit (deadline, memory, ...)",
            limit_hits.clone(),
        );
        MigrationMetrics {
            registry,
            progress,
            match_rate,
            availability,
            consistency,
            start,
            calls,
            durations,
            limit_hits,
        }
    }

    /// A registry with every phase of `plan` at the given progress (phases
    /// not listed are at 0), service [`ALL_SERVICES`].
    pub fn from_plan_progress(plan: &Plan, progress: &[(&str, f64)]) -> Result<Self, OpsError> {
        let metrics = Self::new();
        metrics.set_plan_progress(plan, progress)?;
        Ok(metrics)
    }

    /// Sets every phase of `plan` to the given progress (0 when not listed),
    /// service [`ALL_SERVICES`]. Rejects unknown phases and values outside 0..=1.
    pub fn set_plan_progress(&self, plan: &Plan, progress: &[(&str, f64)]) -> Result<(), OpsError> {
        for (phase, value) in progress {
            if !plan.phases.iter().any(|p| p.id == *phase) {
                return Err(OpsError::UnknownPhase((*phase).to_string()));
            }
            check_fraction(phase, *value)?;
        }
        for phase in &plan.phases {
            let value = progress
                .iter()
                .rev()
                .find(|(id, _)| *id == phase.id)
                .map_or(0.0, |(_, v)| *v);
            self.set_progress(&phase.id, ALL_SERVICES, value);
        }
        Ok(())
    }

    /// Sets `migration_progress{phase,service}` (clamped to 0..=1).
    pub fn set_progress(&self, phase: &str, service: &str, value: f64) {
        self.progress
            .get_or_create(&PhaseService {
                phase: phase.to_string(),
                service: service.to_string(),
            })
            .set(clamp01(value));
    }

    /// Sets `alert_match_rate{service}` (clamped to 0..=1).
    pub fn set_alert_match_rate(&self, service: &str, value: f64) {
        self.match_rate
            .get_or_create(&ServiceLabel {
                service: service.to_string(),
            })
            .set(clamp01(value));
    }

    /// Sets `system_availability{system}` to 1 or 0.
    pub fn set_system_availability(&self, system: &str, up: bool) {
        self.availability
            .get_or_create(&SystemLabel {
                system: system.to_string(),
            })
            .set(i64::from(up));
    }

    /// Sets `data_consistency{data_type}` (clamped to 0..=1).
    pub fn set_data_consistency(&self, data_type: &str, value: f64) {
        self.consistency
            .get_or_create(&DataTypeLabel {
                data_type: data_type.to_string(),
            })
            .set(clamp01(value));
    }

    /// Sets the run's start time (Unix seconds); the schedule rules measure
    /// expected progress from it.
    pub fn set_migration_start(&self, unix_seconds: f64) {
        self.start.set(unix_seconds);
    }

    /// Records one plugin call: `outcome` is e.g. `ok`, `error`, `trap`.
    pub fn record_plugin_call(&self, plugin: &str, outcome: &str, took: Duration) {
        self.calls
            .get_or_create(&PluginOutcome {
                plugin: plugin.to_string(),
                outcome: outcome.to_string(),
            })
            .inc();
        self.durations
            .get_or_create(&PluginLabel {
                plugin: plugin.to_string(),
            })
            .observe(took.as_secs_f64());
    }

    /// Records a plugin call stopped by `limit` (e.g. `deadline`, `memory`).
    pub fn record_limit_hit(&self, plugin: &str, limit: &str) {
        self.limit_hits
            .get_or_create(&PluginLimit {
                plugin: plugin.to_string(),
                limit: limit.to_string(),
            })
            .inc();
    }

    /// The registry in the OpenMetrics text format (which Prometheus scrapes
    /// like its own text format).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail; keep what was written if it did.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

fn clamp01(value: f64) -> f64 {
    if value.is_nan() {
        0.0
    } else {
        value.clamp(0.0, 1.0)
    }
}

fn check_fraction(phase: &str, value: f64) -> Result<(), OpsError> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(OpsError::Progress {
            phase: phase.to_string(),
            value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_every_family_with_labels_and_values() {
        let m = MigrationMetrics::new();
        m.set_progress("pilot", "payments", 0.25);
        m.set_alert_match_rate("payments", 0.875);
        m.set_system_availability("new", false);
        m.set_data_consistency("alert_rules", 2.0);
        m.record_plugin_call("probe", "ok", Duration::from_millis(3));
        m.record_plugin_call("probe", "ok", Duration::from_millis(5));
        m.record_limit_hit("probe", "deadline");
        let text = m.encode();
        for line in [
            "migration_progress{phase=\"pilot\",service=\"payments\"} 0.25",
            "alert_match_rate{service=\"payments\"} 0.875",
            "system_availability{system=\"new\"} 0",
            "data_consistency{data_type=\"alert_rules\"} 1.0",
            "cutover_plugin_calls_total{plugin=\"probe\",outcome=\"ok\"} 2",
            "cutover_plugin_call_duration_seconds_count{plugin=\"probe\"} 2",
            "cutover_plugin_limit_hits_total{plugin=\"probe\",limit=\"deadline\"} 1",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        for name in METRIC_NAMES {
            let family = name.trim_end_matches("_total");
            assert!(
                text.contains(&format!("# TYPE {family} ")),
                "no TYPE line for {name} in\n{text}"
            );
        }
    }
}

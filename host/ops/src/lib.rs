//! Operations around a cutover migration: the Prometheus metrics registry
//! and its loopback HTTP server, alerting rules for the migration itself,
//! the risk registry and the human runbook.

pub mod error;
pub mod metrics;

pub use error::OpsError;
pub use metrics::{ALL_SERVICES, METRIC_NAMES, MigrationMetrics};
pub mod server;
pub use server::{MetricsServer, serve};
pub mod rules;
pub mod schedule;
pub mod thresholds;
pub use rules::{AlertRule, RecordingRule, RuleGroup, rule_group, rules_yaml};
pub use schedule::{ScheduledPhase, schedule};
pub use thresholds::Thresholds;
pub mod risks;
pub use risks::{RiskEntry, phase_blocked_by_risk, registry};
pub mod runbook;
pub use runbook::runbook;

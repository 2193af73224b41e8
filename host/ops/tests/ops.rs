//! cutover-ops integration tests, one binary: metrics, rules (promtool),
//! risks, runbook and dashboard.

#[path = "ops/common.rs"]
mod common;
#[path = "ops/dashboard.rs"]
mod dashboard;
#[path = "ops/metrics.rs"]
mod metrics;
#[path = "ops/risks.rs"]
mod risks;
#[path = "ops/rules.rs"]
mod rules;
#[path = "ops/runbook.rs"]
mod runbook;

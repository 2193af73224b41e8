//! The registry initialised from a plan.

use crate::common::load_plan;
use cutover_ops::{MigrationMetrics, OpsError};

#[test]
fn from_plan_progress_sets_every_phase() {
    let plan = load_plan("alerting-migration.toml").plan;
    let m =
        MigrationMetrics::from_plan_progress(&plan, &[("preparation", 1.0), ("pilot-core", 0.25)])
            .expect("metrics");
    let text = m.encode();
    let value = |phase: &str| {
        let prefix = format!("migration_progress{{phase=\"{phase}\",service=\"all\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no progress for {phase} in\n{text}"))
            .to_string()
    };
    assert_eq!(value("preparation"), "1.0");
    assert_eq!(value("pilot-core"), "0.25");
    for id in ["pilot-noncritical", "full-migration", "decommission"] {
        assert_eq!(value(id), "0.0", "{id}");
    }
    let err = MigrationMetrics::from_plan_progress(&plan, &[("nope", 0.5)]).expect_err("unknown");
    assert!(
        matches!(err, OpsError::UnknownPhase(ref p) if p == "nope"),
        "{err}"
    );
    let err =
        MigrationMetrics::from_plan_progress(&plan, &[("preparation", 1.5)]).expect_err("range");
    assert!(err.to_string().contains("between 0 and 1"), "{err}");
}

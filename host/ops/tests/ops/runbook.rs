//! The runbook of the shipped plan matches its golden file.

use std::path::Path;

use crate::common::load_plan;
use cutover_test_kit::golden::assert_golden;

#[test]
fn alerting_migration_runbook_matches_golden() {
    let loaded = load_plan("alerting-migration.toml");
    let text = cutover_ops::runbook(&loaded.plan, "plans/alerting-migration.toml");
    let golden =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/alerting-migration.runbook.md");
    assert_golden(&golden, &text);
}

#[test]
fn runbook_covers_every_phase_step_checklist_item_and_risk() {
    let loaded = load_plan("alerting-migration.toml");
    let plan = &loaded.plan;
    let text = cutover_ops::runbook(plan, "plan.toml");
    let mut last = 0;
    for phase in &plan.phases {
        let heading = format!("(`{}`)\n", phase.id);
        let at = text
            .find(&heading)
            .unwrap_or_else(|| panic!("no section for {}", phase.id));
        assert!(at > last, "phase {} out of order", phase.id);
        last = at;
        let section = &text[at..];
        let mut prev = 0;
        for step in &phase.steps {
            let pos = section
                .find(&format!("`{}` (", step.id))
                .unwrap_or_else(|| panic!("step {} missing", step.id));
            assert!(pos > prev, "step {} out of order", step.id);
            prev = pos;
        }
        for item in &phase.checklist {
            let line = section
                .lines()
                .find(|l| l.contains(&item.item))
                .unwrap_or_else(|| panic!("checklist item {:?} missing", item.item));
            assert_eq!(line.contains("**CRITICAL**"), item.critical, "{line}");
        }
    }
    for risk in &plan.risks {
        assert!(
            text.contains(&format!("| `{}` |", risk.id)),
            "risk {}",
            risk.id
        );
    }
    for (name, e) in &plan.emergency {
        assert!(text.contains(&format!("### {name}\n")), "emergency {name}");
        for s in &e.steps {
            assert!(text.contains(s.as_str()), "emergency step {s}");
        }
    }
    // Phase 3 returns to the end point of phase 2.
    let core = &text[text.find("(`pilot-core`)").expect("core")..];
    assert!(
        core.contains("cutover rollback --plan plan.toml --to after-pilot-noncritical"),
        "{core}"
    );
}

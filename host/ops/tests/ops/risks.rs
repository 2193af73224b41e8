//! Risk registry and the phase gate on unmitigated high risks.

use crate::common::load_plan;
use cutover_ops::phase_blocked_by_risk;
use cutover_ops::risks::{registry, table};
use cutover_plan::{Plan, Risk, RiskLevel};

fn phase<'a>(plan: &'a Plan, id: &str) -> &'a cutover_plan::Phase {
    plan.phases.iter().find(|p| p.id == id).expect("phase")
}

#[test]
fn registry_is_scored_and_sorted_by_score() {
    let mut plan = load_plan("alerting-migration.toml").plan;
    plan.risks.insert(
        0,
        Risk {
            id: "typo".into(),
            name: "Typo in a label".into(),
            description: String::new(),
            probability: RiskLevel::Low,
            impact: RiskLevel::Medium,
            mitigation: String::new(),
            owner: String::new(),
        },
    );
    let rows = registry(&plan);
    let summary: Vec<(&str, u8, RiskLevel)> = rows
        .iter()
        .map(|r| (r.id.as_str(), r.score, r.level))
        .collect();
    assert_eq!(
        summary,
        [
            ("missed-page", 6, RiskLevel::High),
            ("rule-drift", 4, RiskLevel::Medium),
            ("typo", 2, RiskLevel::Low),
        ]
    );
    let text = table(&rows);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("ID "), "{text}");
    assert!(lines[1].starts_with("missed-page "), "{text}");
    assert!(lines[3].contains("(none)"), "{text}");
    let json = serde_json::to_value(&rows).expect("json");
    assert_eq!(json[0]["level"], "high");
    assert_eq!(json[0]["score"], 6);
}

#[test]
fn unmitigated_high_risk_blocks_phases_that_accept_less() {
    let mut plan = load_plan("alerting-migration.toml").plan;
    for p in &plan.phases {
        assert_eq!(phase_blocked_by_risk(&plan, p), None, "{} blocked", p.id);
    }
    // Remove the mitigation of the only high risk.
    plan.risks
        .iter_mut()
        .find(|r| r.id == "missed-page")
        .expect("risk")
        .mitigation = "  ".into();
    let msg = phase_blocked_by_risk(&plan, phase(&plan, "pilot-core")).expect("blocked");
    assert!(msg.contains("`pilot-core`"), "{msg}");
    assert!(msg.contains("at most medium"), "{msg}");
    assert!(msg.contains("`missed-page`"), "{msg}");
    assert!(msg.contains("mitigation"), "{msg}");
    assert!(phase_blocked_by_risk(&plan, phase(&plan, "preparation")).is_some());
    // max_risk = high, or no max_risk: not blocked.
    assert_eq!(
        phase_blocked_by_risk(&plan, phase(&plan, "full-migration")),
        None
    );
    assert_eq!(
        phase_blocked_by_risk(&plan, phase(&plan, "decommission")),
        None
    );
    // A medium risk without mitigation does not block.
    let drift = plan
        .risks
        .iter_mut()
        .find(|r| r.id == "missed-page")
        .expect("risk");
    drift.impact = RiskLevel::Medium;
    assert_eq!(
        phase_blocked_by_risk(&plan, phase(&plan, "pilot-core")),
        None
    );
}

//! Gates an operator can trust, through the `cutover` binary: a missing
//! critical alert never passes, a quiet window is inconclusive (exit 7) and
//! waits for a person, a critical checklist item nobody looked at pauses the
//! phase (exit 5) until someone confirms it by name.

use std::path::Path;

use cutover_base::exit::ExitClass;

use crate::{assert_has, err, fixture, out, phase, run_expect, status_json, step};

/// One file-adapter alert, ongoing since a fixed start.
fn alert(name: &str, severity: &str, i: usize) -> serde_json::Value {
    serde_json::json!({
        "labels": { "alertname": name, "severity": severity, "service": format!("svc-{i}") },
        "annotations": { "summary": format!("{name} on svc-{i}") },
        "starts_at": "2026-11-26T10:00:00Z",
        "ends_at": null,
        "state": "active",
        "fingerprint": format!("{name}-{i}"),
    })
}

fn write_alerts(dir: &Path, side: &str, alerts: &[serde_json::Value]) {
    std::fs::write(
        dir.join(side).join("alerts.json"),
        serde_json::to_string_pretty(alerts).expect("json"),
    )
    .expect("write alerts");
}

/// `n` warning alerts named `Warn0..`.
fn warnings(n: usize) -> Vec<serde_json::Value> {
    (0..n)
        .map(|i| alert(&format!("Warn{i}"), "warning", i))
        .collect()
}

/// One phase with a parallel run at min_match_rate = 0.9 and `checklist`.
fn one_phase(checklist: &str) -> String {
    let pr = step(
        "pr",
        "parallel-run",
        "window = \"2s\"\ninterval = \"1s\"\nmin_match_rate = 0.9",
    );
    phase(
        "one",
        "One",
        "rollback_point = false",
        &[pr, checklist.to_string()],
    )
}

fn step_of<'a>(status: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    status["phases"][0]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["id"] == id)
        .expect("step")
}

#[test]
fn a_missing_critical_alert_fails_even_above_the_match_rate() {
    let tmp = fixture(&one_phase(""));
    let mut old = warnings(19);
    old.push(alert("PaymentsDown", "critical", 19));
    write_alerts(tmp.path(), "old", &old);
    write_alerts(tmp.path(), "new", &warnings(19));
    // 19 of 20 matched is 95% >= 90%, and still the run stops: the failed
    // gate raises the `alerts-missing` migration alert (policy: pause).
    let o = run_expect(tmp.path(), &["run", "plan.toml"], ExitClass::Paused.into());
    assert_has(&out(&o), "missing on the new one");
    assert_has(&out(&o), "PaymentsDown");
    let s = status_json(tmp.path());
    let pr = step_of(&s, "pr");
    assert_eq!(pr["status"], "failed", "{s}");
    assert_has(
        pr["summary"].as_str().unwrap_or(""),
        "more than max_missing = 0",
    );

    // The fix on the new system, then the step runs again and passes.
    write_alerts(tmp.path(), "new", &old);
    let o = run_expect(tmp.path(), &["resume", "plan.toml"], ExitClass::Ok.into());
    assert_has(&out(&o), "run completed");
}

#[test]
fn a_quiet_window_is_inconclusive_and_waits_for_a_person() {
    let tmp = fixture(&one_phase(""));
    write_alerts(tmp.path(), "old", &[]);
    write_alerts(tmp.path(), "new", &[]);
    let o = run_expect(
        tmp.path(),
        &["run", "plan.toml"],
        ExitClass::Inconclusive.into(),
    );
    assert_has(&out(&o), "inconclusive");
    assert_has(&out(&o), "--extend 1h");
    let s = status_json(tmp.path());
    assert_eq!(s["waiting_for"], "one/pr", "{s}");
    // Resuming without a decision changes nothing.
    run_expect(
        tmp.path(),
        &["resume", "plan.toml"],
        ExitClass::Inconclusive.into(),
    );

    // Extend: the window goes on, still quiet, still inconclusive.
    let o = run_expect(
        tmp.path(),
        &[
            "approve",
            "plan.toml",
            "one/pr",
            "--extend",
            "2s",
            "--by",
            "alice",
        ],
        ExitClass::Ok.into(),
    );
    assert_has(&out(&o), "extended the window of one/pr");
    let o = run_expect(
        tmp.path(),
        &["resume", "plan.toml"],
        ExitClass::Inconclusive.into(),
    );
    assert_has(&err(&o), "pr: poll");

    // Accepted by name: the run goes on, and says who accepted what.
    run_expect(
        tmp.path(),
        &["approve", "plan.toml", "one/pr", "--by", "alice"],
        ExitClass::Ok.into(),
    );
    run_expect(tmp.path(), &["resume", "plan.toml"], ExitClass::Ok.into());
    let s = status_json(tmp.path());
    let pr = step_of(&s, "pr");
    assert_eq!(pr["status"], "succeeded");
    assert_has(pr["summary"].as_str().unwrap_or(""), "accepted by alice");
}

#[test]
fn a_critical_item_nobody_looked_at_pauses_until_confirmed_by_name() {
    let tmp = fixture(&one_phase(
        r#"
[[phases.checklist]]
item = "On-call acknowledged the pilot"
critical = true

[[phases.checklist]]
item = "Runbook links updated"
critical = false
"#,
    ));
    write_alerts(tmp.path(), "old", &warnings(5));
    write_alerts(tmp.path(), "new", &warnings(5));
    let o = run_expect(tmp.path(), &["run", "plan.toml"], ExitClass::Paused.into());
    assert_has(&out(&o), "needs a person");
    assert_has(&out(&o), "--item 0");
    let s = status_json(tmp.path());
    let phase = &s["phases"][0];
    assert_eq!(phase["overall_passed"], false, "{s}");
    assert_eq!(phase["checklist"][0]["status"], "awaiting-confirmation");
    // Resuming without the confirmation pauses again.
    run_expect(
        tmp.path(),
        &["resume", "plan.toml"],
        ExitClass::Paused.into(),
    );

    let o = run_expect(
        tmp.path(),
        &["approve", "plan.toml", "one", "--item", "0", "--by", "bob"],
        ExitClass::Ok.into(),
    );
    assert_has(&out(&o), "confirmed checklist item 0 of one by bob");
    run_expect(tmp.path(), &["resume", "plan.toml"], ExitClass::Ok.into());
    let s = status_json(tmp.path());
    let phase = &s["phases"][0];
    assert_eq!(phase["status"], "passed");
    assert_eq!(phase["overall_passed"], true, "{s}");
    let items = phase["checklist"].as_array().expect("items");
    assert_eq!(items[0]["status"], "confirmed");
    assert_eq!(items[0]["confirmed_by"], "bob");
    // The non-critical manual item is recorded unconfirmed and did not stop.
    assert_eq!(items[1]["status"], "unconfirmed");
}

//! `cutover init` (the starter plan validates as written; its output is a
//! golden), phase duration ranges and behind-schedule in `status`, and
//! `cutover incident open`.

use cutover_test_kit::golden::assert_golden;

use super::*;

/// Runs `cutover init DIR` with the built first-party plugins.
fn init(cwd: &Path, dir: &Path, extra: &[&str]) -> Output {
    let plugins = plugins_dir();
    let mut args = vec![
        "init",
        dir.to_str().expect("utf-8 path"),
        "--plugins",
        plugins.to_str().expect("utf-8 path"),
    ];
    args.extend_from_slice(extra);
    run(cwd, &args)
}

#[test]
fn init_writes_a_plan_that_validates() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("migration");
    let o = init(tmp.path(), &dir, &[]);
    expect(&o, ExitClass::Ok.into());
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/init.stdout");
    let stdout = out(&o).replace(&tmp.path().display().to_string(), "TMP");
    assert_golden(&golden, &stdout);
    let o = run(tmp.path(), &["validate", "migration/plan.toml"]);
    expect(&o, ExitClass::Ok.into());
    assert_has(&out(&o), "valid plan \"alerting-migration\": 5 phases");
    for d in [
        "plugins/alertmanager.wasm",
        "plugins/rules-diff.wasm",
        "rules/old",
        "rules/new",
        "systems/alertmanager",
        "systems/prometheus-rules",
    ] {
        assert!(dir.join(d).exists(), "{d} missing");
    }

    // The written plan, as the plan crate reads it.
    let text = std::fs::read_to_string(dir.join("plan.toml")).expect("plan");
    assert!(!text.contains(&"0".repeat(64)), "a pin was left unfilled");
    let raw: toml::Table = toml::from_str(&text).expect("toml");
    let phases = raw["phases"].as_array().expect("phases");
    let field = |p: &toml::Value, k: &str| p[k].as_str().unwrap_or("").to_string();
    let names: Vec<(String, String, String)> = phases
        .iter()
        .map(|p| (field(p, "id"), field(p, "name"), field(p, "duration")))
        .collect();
    let expected = [
        ("preparation", "Preparation", "1w..2w"),
        ("pilot-noncritical", "Non-critical pilot", "1w..2w"),
        ("pilot-core", "Core pilot", "2w..3w"),
        ("full-migration", "Full migration", "2w..4w"),
        ("decommission", "Decommission", "1w..2w"),
    ];
    assert_eq!(
        names,
        expected
            .iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .collect::<Vec<_>>()
    );
    assert!(phases.iter().all(|p| !field(p, "description").is_empty()));
    // Every checklist item of the source's checklists: checked by a
    // first-party check or the built-in match rate where cutover has one,
    // confirmed by hand elsewhere; (text, critical, how).
    let items: Vec<Vec<(String, bool, String)>> = phases
        .iter()
        .map(|p| {
            p["checklist"]
                .as_array()
                .expect("checklist")
                .iter()
                .map(|c| {
                    let how = match (c.get("check"), c.get("min_match_rate")) {
                        (Some(check), _) => check.as_str().unwrap_or("").to_string(),
                        (None, Some(_)) => "min_match_rate".to_string(),
                        (None, None) => "manual".to_string(),
                    };
                    (
                        field(c, "item"),
                        c.get("critical").and_then(|v| v.as_bool()) == Some(true),
                        how,
                    )
                })
                .collect()
        })
        .collect();
    let row = |t: &str, critical: bool, how: &str| (t.to_string(), critical, how.to_string());
    assert_eq!(
        items[0],
        vec![
            row("New system deployed and reachable", true, "http-probe"),
            row(
                "Alert rules migrated and the rules diff reviewed by the service owners",
                true,
                "rules-diff"
            ),
            row(
                "Backups of the old system taken and verified",
                true,
                "manual"
            ),
            row("Rollback procedure prepared and rehearsed", true, "manual"),
            row(
                "Team trained on the new system and the runbook (`cutover runbook plan.toml`)",
                false,
                "manual"
            ),
        ]
    );
    for (pilot, on_call_critical) in [(1, false), (2, true)] {
        let p = &items[pilot];
        assert_eq!(p.len(), 5, "{p:?}");
        assert_eq!((p[0].1, p[0].2.as_str()), (true, "min_match_rate"));
        assert_eq!(p[1], row("No missing critical alerts", true, "manual"));
        assert!(p[2].0.starts_with("Notification channels tested") && p[2].1);
        assert!(p[3].0.starts_with("New system performance normal") && !p[3].1);
        assert!(p[4].0.starts_with("On-call acknowledged") && p[4].1 == on_call_critical);
    }
    let full: Vec<(&str, bool, &str)> = items[3]
        .iter()
        .map(|(t, c, h)| (t.as_str(), *c, h.as_str()))
        .collect();
    assert_eq!(
        full,
        vec![
            ("All services migrated to the new system", true, "manual"),
            ("Match rate >= 0.95 over 14d", true, "min_match_rate"),
            (
                "Alert rules in the new system validated against the reviewed rules",
                true,
                "rules-diff"
            ),
            ("Rollback point captured", true, "manual"),
            ("Dashboards updated to the new system", false, "manual"),
            ("Documentation and runbooks updated", false, "manual"),
            (
                "Decommissioning plan of the old system confirmed",
                false,
                "manual"
            ),
        ]
    );
    assert_eq!(items[4].len(), 2);

    let risks: Vec<(String, String, String, String)> = raw["risks"]
        .as_array()
        .expect("risks")
        .iter()
        .map(|r| {
            (
                field(r, "id"),
                field(r, "name"),
                field(r, "probability"),
                field(r, "impact"),
            )
        })
        .collect();
    let risk = |a: &str, b: &str, c: &str, d: &str| {
        (a.to_string(), b.to_string(), c.to_string(), d.to_string())
    };
    assert_eq!(
        risks,
        vec![
            risk("RISK-001", "Data loss", "medium", "high"),
            risk("RISK-002", "Business interruption", "low", "high"),
            risk("RISK-003", "Configuration error", "high", "medium"),
        ]
    );
    let emergency = raw["emergency"].as_table().expect("emergency");
    for (name, escalation) in [("system_failure", "30m"), ("data_inconsistency", "1h")] {
        let e = &emergency[name];
        assert_eq!(e["steps"].as_array().map(Vec::len), Some(5), "{name}");
        assert_eq!(e["escalation"].as_str(), Some(escalation), "{name}");
    }

    // The preview shows the ranges; the risk register scores the risks.
    let o = run(tmp.path(), &["plan", "migration/plan.toml"]);
    expect(&o, ExitClass::Ok.into());
    assert_has(
        &out(&o),
        "1. preparation \"Preparation\" [risk low (max low), expected 1w..2w]",
    );
    let o = run(tmp.path(), &["risks", "migration/plan.toml", "--json"]);
    expect(&o, ExitClass::Ok.into());
    assert_has(&out(&o), "RISK-003");
}

#[test]
fn init_refuses_to_overwrite_a_plan_without_force() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("m");
    expect(&init(tmp.path(), &dir, &[]), ExitClass::Ok.into());
    std::fs::write(dir.join("plan.toml"), "# mine\n").expect("write");
    let o = init(tmp.path(), &dir, &[]);
    expect(&o, ExitClass::Usage.into());
    assert_has(&err(&o), "plan.toml exists; pass --force to overwrite it");
    assert_eq!(
        std::fs::read_to_string(dir.join("plan.toml")).expect("plan"),
        "# mine\n"
    );
    expect(&init(tmp.path(), &dir, &["--force"]), ExitClass::Ok.into());
    expect(
        &run(tmp.path(), &["validate", "m/plan.toml"]),
        ExitClass::Ok.into(),
    );
}

#[test]
fn init_without_the_plugins_names_them() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let o = run(
        tmp.path(),
        &[
            "init",
            "m",
            "--plugins",
            tmp.path().to_str().expect("utf-8"),
        ],
    );
    expect(&o, ExitClass::Usage.into());
    assert_has(&err(&o), "alertmanager.wasm");
    assert_has(&err(&o), "scripts/build-plugins.sh");
    assert!(!tmp.path().join("m/plan.toml").exists());
}

#[test]
fn phase_running_past_its_range_is_behind_schedule() {
    let tmp = fixture(&format!(
        "{}{}",
        phase(
            "slow",
            "Slow",
            "rollback_point = false\nduration = \"10ms..100ms\"",
            &[wait_step("w", "300ms")]
        ),
        phase(
            "quick",
            "Quick",
            "rollback_point = false\nduration = \"1h\"",
            &[noop_step("n")]
        ),
    ));
    expect(
        &run(tmp.path(), &["run", "plan.toml"]),
        ExitClass::Ok.into(),
    );
    let o = run(tmp.path(), &["status", "plan.toml"]);
    expect(&o, ExitClass::Ok.into());
    let text = out(&o);
    let line = |id: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("phase {id} ")))
            .unwrap_or_default()
            .to_string()
    };
    assert_has(&line("slow"), "since its start, planned 10ms..100ms");
    assert_has(&line("slow"), "passed          behind schedule: ");
    assert!(!line("quick").contains("behind"), "{text}");
    let s = status_json(tmp.path());
    let b = &s["phases"][0]["behind_schedule"];
    assert_eq!(b["duration"], "10ms..100ms", "{s}");
    assert!(b["elapsed_ms"].as_u64().is_some_and(|e| e > 100), "{s}");
    assert_eq!(s["phases"][0]["duration"], "10ms..100ms");
    assert!(s["phases"][1]["behind_schedule"].is_null(), "{s}");
    let o = run(tmp.path(), &["history", "plan.toml"]);
    assert_eq!(out(&o).matches("phase-behind-schedule").count(), 1);
}

/// `cutover incident open plan.toml PROCEDURE --details x` in `dir` is a
/// usage error saying `why`.
#[track_caller]
fn open_refused(dir: &Path, procedure: &str, why: &str) {
    let args = ["incident", "open", "plan.toml", procedure, "--details", "x"];
    let o = run(dir, &args);
    expect(&o, ExitClass::Usage.into());
    assert_has(&err(&o), why);
}

#[test]
fn incident_open_starts_a_procedure_by_hand() {
    let body = format!(
        "{}{}",
        GATED,
        r#"
[emergency.system_failure]
description = "The new system is down"
notify = ["oncall"]
escalation = "30m"
steps = ["pause: stop the migration", "Switch routing back to the old system"]

[emergency.data_inconsistency]
steps = ["Compare both systems"]
"#
    );
    let tmp = fixture(&body);
    // No run yet: nothing to open an incident in.
    open_refused(tmp.path(), "system_failure", "no run has been started");
    // The run waits at the gate of phase two.
    expect(
        &run(tmp.path(), &["run", "plan.toml"]),
        ExitClass::Paused.into(),
    );
    // An unknown procedure is a usage error naming the known ones.
    open_refused(
        tmp.path(),
        "disk_full",
        "unknown emergency procedure `disk_full`; the plan defines: data_inconsistency, system_failure",
    );
    let o = run(
        tmp.path(),
        &[
            "incident",
            "open",
            "plan.toml",
            "system_failure",
            "--details",
            "new Alertmanager down since 10:02",
            "--by",
            "alice",
        ],
    );
    expect(&o, ExitClass::Ok.into());
    assert_has(
        &out(&o),
        "opened INC-1 (system_failure) in phase two by alice",
    );
    assert_has(&out(&o), "next: step 1: pause: stop the migration");
    let o = run(
        tmp.path(),
        &["incident", "show", "plan.toml", "INC-1", "--json"],
    );
    expect(&o, ExitClass::Ok.into());
    let inc: serde_json::Value = serde_json::from_str(&out(&o)).expect("json");
    assert_eq!(inc["opened_by"], "alice");
    assert_eq!(inc["procedure"], "system_failure");
    assert_eq!(inc["phase"], "two");
    assert_eq!(inc["escalation_ms"], 1_800_000);
    assert_has(
        inc["reason"].as_str().unwrap_or(""),
        "opened by alice: new Alertmanager down since 10:02",
    );
    let o = run(tmp.path(), &["incident", "show", "plan.toml", "INC-1"]);
    assert_has(&out(&o), "opened by  alice");
    let s = status_json(tmp.path());
    assert_eq!(s["status"], "paused");
    assert_eq!(s["open_incident"], "INC-1");
    let o = run(tmp.path(), &["history", "plan.toml", "--json"]);
    let records: serde_json::Value = serde_json::from_str(&out(&o)).expect("json");
    let opened = records
        .as_array()
        .expect("records")
        .iter()
        .find(|r| r["kind"] == "incident-opened")
        .expect("incident-opened record");
    assert_eq!(opened["payload"]["by"], "alice");

    // The resume works through it: the automated pause, then the manual
    // step waits for an acknowledgement; then the run goes on to the gate.
    let o = run(tmp.path(), &["resume", "plan.toml"]);
    expect(&o, ExitClass::Paused.into());
    assert_has(&out(&o), "paused by step 1");
    let o = run(tmp.path(), &["resume", "plan.toml"]);
    expect(&o, ExitClass::Paused.into());
    assert_has(&out(&o), "cutover incident ack PLAN INC-1 2");
    expect(
        &run(
            tmp.path(),
            &["incident", "ack", "plan.toml", "INC-1", "2", "--by", "bob"],
        ),
        ExitClass::Ok.into(),
    );
    let o = run(tmp.path(), &["resume", "plan.toml"]);
    expect(&o, ExitClass::Paused.into());
    assert_has(&out(&o), "two");
    let o = run(
        tmp.path(),
        &["incident", "show", "plan.toml", "INC-1", "--json"],
    );
    let inc: serde_json::Value = serde_json::from_str(&out(&o)).expect("json");
    assert!(inc["resolved_ms"].as_i64().is_some(), "{inc}");

    // Once the run has finished, there is nothing to open an incident in.
    expect(
        &run(
            tmp.path(),
            &["approve", "plan.toml", "two", "--by", "alice"],
        ),
        ExitClass::Ok.into(),
    );
    expect(
        &run(tmp.path(), &["resume", "plan.toml"]),
        ExitClass::Ok.into(),
    );
    open_refused(
        tmp.path(),
        "system_failure",
        "the run has already finished (completed)",
    );
}

//! The reference migration (`tests/fixture/plan/migration.toml.in`) against
//! the real fixture (`FIXTURE_SCENARIO=migration`), through the `cutover`
//! binary only: no step of these tests edits either stack. Stack A starts
//! with three teams' rules, routes and silences; stack B with nothing.
//! Helpers: `e2e.rs`.

use std::time::Instant;

use cutover_base::exit::ExitClass;
use cutover_engine::StepDetails;
use serde_json::Value;

use super::e2e::{Stage, assert_no_canary_in, get, names, records, stage};
use super::{err, expect, out};

/// Alert rule names Prometheus `key` has loaded (`/api/v1/rules`).
pub(crate) fn prom_rules(st: &Stage, key: &str) -> Vec<String> {
    let body = get(st.port(key), "/api/v1/rules").unwrap_or_default();
    let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let mut names: Vec<String> = v["data"]["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
        .filter(|r| r["type"] == "alerting")
        .filter_map(|r| r["name"].as_str().map(str::to_string))
        .collect();
    names.sort();
    names
}

/// The configuration Alertmanager `key` runs (`/api/v2/status`).
pub(crate) fn am_config(st: &Stage, key: &str) -> String {
    let body = get(st.port(key), "/api/v2/status").unwrap_or_default();
    let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    v["config"]["original"].as_str().unwrap_or("").to_string()
}

/// `(createdBy, comment)` of every active silence of Alertmanager `key`.
pub(crate) fn active_silences(st: &Stage, key: &str) -> Vec<(String, String)> {
    let body = get(st.port(key), "/api/v2/silences").unwrap_or_default();
    let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let mut out: Vec<(String, String)> = v
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["status"]["state"] == "active")
        .map(|s| {
            let f = |k: &str| s[k].as_str().unwrap_or("").to_string();
            (f("createdBy"), f("comment"))
        })
        .collect();
    out.sort();
    out
}

pub(crate) fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

pub(crate) const WEB_RULES: [&str; 2] = ["WebApiDown", "WebErrorRateHigh"];
pub(crate) const ALL_RULES: [&str; 6] = [
    "DiskAlmostFull",
    "EmailsQueueDepth",
    "OrdersQueueDepth",
    "Watchdog",
    "WebApiDown",
    "WebErrorRateHigh",
];
pub(crate) const FIXTURE_SILENCES: [&str; 3] = [
    "api maintenance window",
    "disk replacement scheduled",
    "receipts backlog is known",
];

/// The typed details of the last `step-finished` record of `step`.
fn step_details(h: &[Value], step: &str) -> StepDetails {
    let r = records(h, "step-finished")
        .into_iter()
        .rev()
        .find(|r| r["payload"]["step"] == step)
        .unwrap_or_else(|| panic!("{step} never finished"));
    serde_json::from_value(r["payload"]["details"].clone())
        .unwrap_or_else(|e| panic!("{step}: details do not read as StepDetails: {e}"))
}

/// The preparation's backtest (issue 15) predicted, from Prometheus A's
/// recorded history, a match rate for the migrated rules within 0.1 of
/// what the full migration's live parallel run measured.
fn assert_backtest_predicted_the_parallel_run(h: &[Value]) {
    let d = step_details(h, "backtest-rules");
    let b = d.backtest().expect("backtest-rules has backtest details");
    assert!(!b.no_data, "{b:?}");
    assert!(b.rule_errors.is_empty(), "{:?}", b.rule_errors);
    assert_eq!((b.old_rules, b.new_rules), (6, 6), "{b:?}");
    assert!(b.total_old >= 6, "every rule fired at least once: {b:?}");
    let predicted = b.match_rate.expect("predicted match rate");
    let d = step_details(h, "parallel-full");
    let live = d
        .parallel_run()
        .and_then(|p| p.match_rate)
        .expect("parallel-full match rate");
    assert!(
        (predicted - live).abs() <= 0.1,
        "predicted {predicted} vs live {live}"
    );
}

/// Runs the plan until the non-critical pilot waits for team web, checks
/// that wave landed on stack B, and confirms it.
fn through_web_pilot(st: &Stage, plan: &str) {
    let o = st.cutover(&["run", plan]);
    expect(&o, ExitClass::Paused.into());
    assert!(out(&o).contains("Team web confirms"), "{}", out(&o));
    assert_eq!(prom_rules(st, "FIXTURE_PROM_B_PORT"), strings(&WEB_RULES));
    let cfg = am_config(st, "FIXTURE_AM_B_PORT");
    assert!(
        cfg.contains("web-team") && !cfg.contains("payments-oncall"),
        "only team web's route on Alertmanager B:\n{cfg}"
    );
    let web = st.report("state", "parallel-web");
    assert_eq!(web["matched"], 2, "{web:#}");
    assert_eq!(web["missing"], 0, "{web:#}");
    st.confirm_web_pilot(plan);
}

#[test]
fn reference_migration_moves_every_wave_and_decommissions_the_old_stack() {
    let t0 = Instant::now();
    let st = Stage::start(19600, "15s", None);
    stage(t0, "fixture up");
    let plan = "migration.toml";
    expect(&st.cutover(&["validate", plan]), ExitClass::Ok.into());
    assert!(prom_rules(&st, "FIXTURE_PROM_B_PORT").is_empty());
    assert_eq!(prom_rules(&st, "FIXTURE_PROM_A_PORT"), strings(&ALL_RULES));

    // The preview exports and translates every wave and imports nothing.
    let o = st.cutover(&["plan", plan]);
    expect(&o, ExitClass::Ok.into());
    let preview = out(&o);
    for line in [
        "pilot-noncritical/migrate-web-rules",
        "✅ alert_rule migration-old.rules.yml:web:WebApiDown#1: in scope",
        "alert_rules in scope {team=\"web\"} or {team=\"payments\"}",
        "✅ route routes[1] {team=\"payments\"} -> payments-oncall: copied",
        "{team=\"platform\", alertname=\"DiskAlmostFull\"}: written unchanged",
    ] {
        assert!(preview.contains(line), "preview lacks {line}:\n{preview}");
    }
    assert!(
        prom_rules(&st, "FIXTURE_PROM_B_PORT").is_empty(),
        "preview imported rules"
    );
    assert!(
        active_silences(&st, "FIXTURE_AM_B_PORT").is_empty(),
        "preview imported silences"
    );
    stage(t0, "previewed");

    through_web_pilot(&st, plan);
    stage(t0, "web pilot confirmed");
    let o = st.cutover(&["resume", plan]);
    expect(&o, ExitClass::Ok.into());
    assert!(out(&o).contains("run completed"), "{}", out(&o));
    stage(t0, "run completed");
    super::e2e_canary::assert_pilot_canaries(&st, plan);

    // Stack B holds what stack A had: rules, team routes, silences.
    assert_eq!(prom_rules(&st, "FIXTURE_PROM_B_PORT"), strings(&ALL_RULES));
    let cfg = am_config(&st, "FIXTURE_AM_B_PORT");
    for part in [
        "receiver: web-team",
        "receiver: payments-oncall",
        "receiver: platform-team",
        "team=\"payments\"",
        "repeat_interval: 15m",
    ] {
        assert!(
            cfg.contains(part),
            "Alertmanager B config lacks {part}:\n{cfg}"
        );
    }
    let on_b: Vec<String> = active_silences(&st, "FIXTURE_AM_B_PORT")
        .into_iter()
        .map(|(_, c)| c)
        .collect();
    assert_eq!(on_b, strings(&FIXTURE_SILENCES));
    // The old Alertmanager carries the decommission silence.
    let on_a = active_silences(&st, "FIXTURE_AM_A_PORT");
    let decommission: Vec<_> = on_a.iter().filter(|(by, _)| by == "cutover").collect();
    assert_eq!(decommission.len(), 1, "{on_a:?}");
    assert!(
        decommission[0]
            .1
            .contains("plan fixture-migration phase decommission step silence-old"),
        "{on_a:?}"
    );

    let o = st.cutover(&["status", plan, "--json"]);
    expect(&o, ExitClass::Ok.into());
    let status: Value = serde_json::from_str(&out(&o)).expect("status json");
    assert_eq!(status["status"], "completed", "{status:#}");
    for (step, matched) in [
        ("parallel-core", 4),
        ("parallel-full", 6),
        ("parallel-final", 6),
    ] {
        let r = st.report("state", step);
        assert_eq!(r["matched"], matched, "{step}: {r:#}");
        assert_eq!(r["missing"], 0, "{step}: {r:#}");
    }
    // Re-running the last wave's rules and routes would change nothing:
    // their output is in place. (Its silences would not be: stack A now
    // also holds the decommission silence.)
    let o = st.cutover(&["plan", plan, "--json"]);
    expect(&o, ExitClass::Ok.into());
    let preview: Value = serde_json::from_str(&out(&o)).expect("plan json");
    for step in ["migrate-rest-rules", "migrate-rest-routes"] {
        let s = preview["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .find(|s| s["step"] == step)
            .unwrap_or_else(|| panic!("{step} in the preview: {preview:#}"));
        assert_eq!(s["types"][0]["in_place"], true, "{s:#}");
    }
    let h = st.history(plan);
    assert_backtest_predicted_the_parallel_run(&h);
    let points: Vec<&str> = records(&h, "point-captured")
        .iter()
        .filter_map(|r| r["payload"]["name"].as_str())
        .collect();
    for p in [
        "pre-migration",
        "pilot-noncritical-done",
        "before-migrate-web-rules",
        "before-silence-old",
    ] {
        assert!(
            points.contains(&p),
            "rollback point {p} captured: {points:?}"
        );
    }
    assert_no_canary_in(&st.path().join("state"));
}

#[test]
fn broken_translation_halts_its_wave_and_rolls_back_only_that_wave() {
    let t0 = Instant::now();
    // One rule changed on the way: the core pilot's OrdersQueueDepth gets
    // `for: 1h` on stack B, so the parallel run misses it.
    let broken = r#"params = { for_overrides = { OrdersQueueDepth = "1h" } }"#;
    let st = Stage::start(19650, "15s", Some(broken));
    stage(t0, "fixture up");
    let plan = "migration.toml";
    through_web_pilot(&st, plan);
    stage(t0, "web pilot confirmed");

    // The core pilot migrates, its gating parallel run misses the alert and
    // the plan's policy rolls the wave back on its own (exit 6: rolled back).
    let o = st.cutover(&["resume", plan]);
    expect(&o, ExitClass::Aborted.into());
    assert!(
        out(&o).contains("pilot-noncritical-done") || err(&o).contains("pilot-noncritical-done"),
        "rolled back to the previous wave's point:\n{}{}",
        out(&o),
        err(&o)
    );
    let core = st.report("state", "parallel-core");
    assert_eq!(core["missing"], 1, "{core:#}");
    assert!(
        names(&core["missing_alerts"])
            .join(" ")
            .contains("OrdersQueueDepth"),
        "{core:#}"
    );
    let h = st.history(plan);
    let migrated = records(&h, "step-finished").into_iter().any(|r| {
        r["payload"]["step"] == "migrate-payments-rules" && r["payload"]["status"] == "succeeded"
    });
    assert!(
        migrated,
        "the core wave's rules landed before the parallel run"
    );
    assert!(
        records(&h, "alert-triggered")
            .iter()
            .any(|r| r["payload"]["alert"] == "alerts-missing"),
        "alerts-missing triggered"
    );
    stage(t0, "core pilot halted");

    let rolled = records(&h, "rolled-back");
    assert_eq!(rolled.len(), 1, "one automatic rollback");
    assert_eq!(rolled[0]["payload"]["point"], "pilot-noncritical-done");
    assert_eq!(prom_rules(&st, "FIXTURE_PROM_B_PORT"), strings(&WEB_RULES));
    let cfg = am_config(&st, "FIXTURE_AM_B_PORT");
    assert!(
        cfg.contains("web-team") && !cfg.contains("payments-oncall"),
        "team payments' route gone, team web's kept:\n{cfg}"
    );
    let on_b: Vec<String> = active_silences(&st, "FIXTURE_AM_B_PORT")
        .into_iter()
        .map(|(_, c)| c)
        .collect();
    assert_eq!(on_b, strings(&["api maintenance window"]));
    // The old stack is untouched: all its rules, no decommission silence.
    assert_eq!(prom_rules(&st, "FIXTURE_PROM_A_PORT"), strings(&ALL_RULES));
    let on_a: Vec<String> = active_silences(&st, "FIXTURE_AM_A_PORT")
        .into_iter()
        .map(|(_, c)| c)
        .collect();
    assert_eq!(on_a, strings(&FIXTURE_SILENCES));
    let o = st.cutover(&["status", plan, "--json"]);
    expect(&o, ExitClass::Ok.into());
    let status: Value = serde_json::from_str(&out(&o)).expect("status json");
    assert_eq!(status["status"], "rolled-back", "{status:#}");
    // The web pilot's canary resolved its synthetic alert on both stacks.
    super::e2e_canary::assert_no_synthetic_alert(&[
        st.port("FIXTURE_AM_A_PORT"),
        st.port("FIXTURE_AM_B_PORT"),
    ]);
}

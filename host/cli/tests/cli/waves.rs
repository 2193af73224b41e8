//! A phase that moves its services in waves (`[phases.waves]`, `max_parallel`)
//! through the `cutover` binary, with the real `prometheus-rules`
//! translator and file-adapter systems: the preview names each batch, each
//! batch is imported then compared on its own services, a service that lost
//! an alert stops the rollout at its batch (the later batches are not
//! moved), and after the fix a resume finishes the remaining waves.

use std::fmt::Write as _;
use std::path::Path;

use cutover_base::exit::ExitClass;

use crate::{assert_has, out, phase, run, run_expect, status_json, step};

/// Services `svc-01` .. `svc-12`; waves of 2, 2 at once: batches of 4.
const SERVICES: usize = 12;

fn name(i: usize) -> String {
    format!("svc-{i:02}")
}

/// One alerting rule per service, each labelled with its service.
fn rules() -> String {
    let mut t = String::from("groups:\n- name: services\n  rules:\n");
    for i in 1..=SERVICES {
        let _ = write!(
            t,
            "  - alert: Down{i}\n    expr: up{{job=\"{s}\"}} == 0\n    for: 1m\n    labels:\n      severity: critical\n      service: {s}\n",
            s = name(i)
        );
    }
    t
}

/// What a system fires: one alert per service except those in `without`.
fn alerts(without: &[usize]) -> String {
    let records: Vec<serde_json::Value> = (1..=SERVICES)
        .filter(|i| !without.contains(i))
        .map(|i| {
            serde_json::json!({
                "labels": {"alertname": format!("Down{i}"), "severity": "critical", "service": name(i)},
                "annotations": {"summary": format!("{} is down", name(i))},
                "starts_at": "2026-11-20T00:00:00Z",
                "ends_at": null,
                "state": "active",
                "fingerprint": format!("{i:016x}"),
            })
        })
        .collect();
    serde_json::to_string_pretty(&records).expect("json")
}

fn write(dir: &Path, side: &str, file: &str, text: &str) {
    std::fs::write(dir.join(side).join(file), text).expect("write");
}

fn bundle(dir: &Path, side: &str) -> String {
    std::fs::read_to_string(dir.join(side).join("alert_rules.json")).unwrap_or_default()
}

fn plan_body() -> String {
    let translator = format!(
        "\n[plugins.prometheus-rules]\npath = \"{}\"\nsha256 = \"{}\"\n",
        crate::plugins_dir().join("prometheus-rules.wasm").display(),
        "0".repeat(64)
    );
    let migrate = step(
        "rules",
        "migrate",
        "from = \"old\"\nto = \"new\"\ntypes = [\"alert_rules\"]\ntranslate = \"prometheus-rules\"",
    );
    let compare = step(
        "compare",
        "parallel-run",
        "window = \"300ms\"\ninterval = \"100ms\"\ntolerance = \"1s\"\nmin_match_rate = 1.0",
    );
    let keys = "rollback_point = false\nmax_parallel = 2\n[phases.waves]\nlabel = \"service\"\nsize = 2\nvalues_file = \"services.txt\"";
    format!(
        "{translator}{}",
        phase("all", "All services", keys, &[migrate, compare])
    )
}

fn services_file(dir: &Path) {
    let mut t = String::from("# the service catalogue, in the order they move\n");
    for i in 1..=SERVICES {
        let _ = writeln!(t, "{}", name(i));
    }
    std::fs::write(dir.join("services.txt"), t).expect("services");
}

#[test]
fn waves_move_batch_by_batch_and_a_service_missing_an_alert_stops_the_rollout() {
    let fx = fixture_with_services(&plan_body());
    let dir = fx.path();
    write(dir, "old", "alert_rules.json", &json_bundle(&rules()));
    write(dir, "new", "alert_rules.json", &json_bundle("groups: []\n"));
    write(dir, "old", "alerts.json", &alerts(&[]));
    // svc-07 (wave 4, second batch) lost its alert on the new system.
    write(dir, "new", "alerts.json", &alerts(&[7]));

    let preview = out(&run_expect(
        dir,
        &["plan", "plan.toml"],
        ExitClass::Ok.into(),
    ));
    assert_has(&preview, "all/rules.w1-2");
    assert_has(
        &preview,
        "waves 1-2 of 6 (4 service values: svc-01 ... svc-04), on top of the earlier waves",
    );
    assert_has(
        &preview,
        "compares waves 5-6 of 6 (4 service values: svc-09 ... svc-12) only; results per service",
    );

    let o = run(dir, &["run", "plan.toml"]);
    assert_ne!(crate::code(&o), 0, "{}", out(&o));
    let status = status_json(dir);
    let steps = &status["phases"][0]["steps"];
    let row = |i: usize| {
        (
            steps[i]["id"].as_str().unwrap_or_default().to_string(),
            steps[i]["status"].as_str().unwrap_or_default().to_string(),
        )
    };
    assert_eq!(row(0), ("rules.w1-2".into(), "succeeded".into()));
    assert_eq!(row(1), ("compare.w1-2".into(), "succeeded".into()));
    assert_eq!(row(2), ("rules.w3-4".into(), "succeeded".into()));
    assert_eq!(row(3).0, "compare.w3-4");
    assert_eq!(row(3).1, "failed", "{status:#}");
    let summary = steps[3]["summary"].as_str().unwrap_or_default();
    assert_has(summary, "in waves 3-4 of 6 (4 service values)");
    assert_has(summary, "missing alerts in 1 service value: svc-07");
    assert_eq!(row(4), ("rules.w5-6".into(), "pending".into()));
    // The first two batches are on the new system, the third is not.
    let landed = bundle(dir, "new");
    for i in 1..=8 {
        assert!(landed.contains(&format!("Down{i}\\n")), "Down{i}: {landed}");
    }
    for i in 9..=SERVICES {
        assert!(
            !landed.contains(&format!("Down{i}\\n")),
            "Down{i} moved early"
        );
    }
    // Per-service results are in the batch's report: each of its four
    // services by name, svc-07 with its missing alert.
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(".state/reports/compare.w3-4.json")).expect("report"),
    )
    .expect("report json");
    let by = report["by_label"].as_object().expect("per-service results");
    let names: Vec<&String> = by.keys().collect();
    assert_eq!(
        names,
        ["svc-05", "svc-06", "svc-07", "svc-08"],
        "{report:#}"
    );
    assert_eq!(by["svc-07"]["missing"], 1, "{report:#}");
    assert_eq!(by["svc-05"]["matched"], 1, "{report:#}");

    // The fix: the new system fires svc-07's alert; a resume compares the
    // failed batch again, then moves and compares the last one.
    write(dir, "new", "alerts.json", &alerts(&[]));
    run_expect(dir, &["resume", "plan.toml"], ExitClass::Ok.into());
    let status = status_json(dir);
    let steps = &status["phases"][0]["steps"];
    for i in 0..6 {
        assert_eq!(
            steps[i]["status"].as_str(),
            Some("succeeded"),
            "{}",
            steps[i]
        );
    }
    let landed = bundle(dir, "new");
    for i in 1..=SERVICES {
        assert!(landed.contains(&format!("Down{i}\\n")), "Down{i}: {landed}");
    }
}

/// A bundle of one rule file, as the file adapter stores `alert_rules`.
fn json_bundle(rules: &str) -> String {
    serde_json::json!({ "services.yml": rules }).to_string()
}

/// `fixture`, with the services file written beside the plan before the
/// plan is locked (locking loads it, and loading reads the file).
fn fixture_with_services(body: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    services_file(tmp.path());
    crate::system_dirs(tmp.path(), |_| "x: 1\n".into());
    crate::PlanBuilder::new("cli-test")
        .unpinned()
        .plugin("noop", "noop-action", "")
        .file_systems()
        .write(tmp.path(), body);
    run_expect(
        tmp.path(),
        &["plugin", "lock", "plan.toml"],
        ExitClass::Ok.into(),
    );
    tmp
}

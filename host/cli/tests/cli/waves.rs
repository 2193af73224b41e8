//! A phase that moves its services in waves (`[phases.waves]`, `max_parallel`)
//! through the `cutover` binary, with the real `prometheus-rules`
//! translator and file-adapter systems: the preview names each batch, each
//! batch is imported then compared on its own services, a service that lost
//! an alert stops the rollout at its batch (the later batches are not
//! moved), and after the fix a resume finishes the remaining waves.

use std::fmt::Write as _;
use std::path::Path;

use cutover_base::exit::ExitClass;

use std::process::Output;

use crate::{assert_has, out, phase, run_expect, step};

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

/// The environment of every `cutover` call: the state database, if any.
type Env = Vec<(&'static str, String)>;

fn cmd(dir: &Path, env: &Env, args: &[&str]) -> Output {
    crate::cutover(dir)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .args(args)
        .output()
        .expect("spawn cutover")
}

#[track_caller]
fn cmd_expect(dir: &Path, env: &Env, args: &[&str], want: ExitClass) -> Output {
    let o = cmd(dir, env, args);
    crate::expect(&o, want.into());
    o
}

fn status_json(dir: &Path, env: &Env) -> serde_json::Value {
    let o = cmd_expect(dir, env, &["status", "plan.toml", "--json"], ExitClass::Ok);
    serde_json::from_str(&out(&o)).expect("status json")
}

#[test]
fn waves_move_batch_by_batch_and_a_service_missing_an_alert_stops_the_rollout() {
    waves_scenario(&Env::new());
}

#[test]
fn waves_on_a_postgres_state_stop_and_resume_alike() {
    let db = cutover_test_kit::pg::PgFixture::start().fresh_db();
    let mut env: Env = db.env().into_iter().collect();
    env.push((cutover_base::STATE_URL_ENV, db.url.clone()));
    waves_scenario(&env);
}

fn waves_scenario(env: &Env) {
    let fx = fixture_with_services(&plan_body());
    let dir = fx.path();
    write(dir, "old", "alert_rules.json", &json_bundle(&rules()));
    write(dir, "new", "alert_rules.json", &json_bundle("groups: []\n"));
    write(dir, "old", "alerts.json", &alerts(&[]));
    // svc-07 (wave 4, second batch) lost its alert on the new system.
    write(dir, "new", "alerts.json", &alerts(&[7]));

    let preview = out(&cmd_expect(dir, env, &["plan", "plan.toml"], ExitClass::Ok));
    assert_has(&preview, "all/rules.w1-2");
    assert_has(
        &preview,
        "alert_rules in waves 3-4 of 6 (4 service values: svc-05 ... svc-08), on top of the earlier waves",
    );
    assert_has(
        &preview,
        "waves 1-2 of 6 (4 service values: svc-01 ... svc-04), on top of the earlier waves",
    );
    assert_has(
        &preview,
        "compares waves 5-6 of 6 (4 service values: svc-09 ... svc-12) only; results per service",
    );

    let o = cmd(dir, env, &["run", "plan.toml"]);
    assert_ne!(crate::code(&o), 0, "{}", out(&o));
    let status = status_json(dir, env);
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
    cmd_expect(dir, env, &["resume", "plan.toml"], ExitClass::Ok);
    let status = status_json(dir, env);
    let steps = &status["phases"][0]["steps"];
    for i in 0..6 {
        assert_eq!(
            steps[i]["status"].as_str(),
            Some("succeeded"),
            "{}",
            steps[i]
        );
    }
    // The journal is where the backend keeps it: the database, or the
    // directory.
    let file_journal = dir.join(".state/journal.log").exists();
    assert_eq!(file_journal, env.is_empty(), "journal in the directory?");
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

//! Restore and rollback results per type and category, and what the
//! systems' adapters declare in `describe()`, through the file adapter:
//! `cutover backup restore` of a type the backup lacks fails that type and
//! restores the others; a category the adapter cannot restore is reported
//! `unsupported`; `cutover validate` and `cutover run` refuse what an adapter
//! does not declare.

use std::path::Path;

use cutover_base::exit::ExitClass;

use super::{assert_has, err, expect, fixture, noop_step, out, phase, plugins_dir, root, run};

/// Phase `one` with a noop step and no end-of-phase rollback point.
fn plain_phase() -> String {
    phase("one", "One", "rollback_point = false", &[noop_step("s1")])
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// Backs up `types` of the old system; returns the backup id.
fn backup(dir: &Path, types: &str) -> String {
    let o = run(
        dir,
        &[
            "backup",
            "create",
            "--plan",
            "plan.toml",
            "--system",
            "old",
            "--types",
            types,
            "--json",
        ],
    );
    expect(&o, ExitClass::Ok.into());
    json(&out(&o))["id"]
        .as_str()
        .expect("backup id")
        .to_string()
}

#[test]
fn restore_of_a_type_the_backup_lacks_fails_that_type_and_restores_the_others() {
    let tmp = fixture(&plain_phase());
    let dir = tmp.path();
    let config = dir.join("old/configurations.yml");
    let id = backup(dir, "configurations");
    std::fs::write(&config, "x: 2\n").expect("change");

    let args = [
        "backup",
        "restore",
        &id,
        "--plan",
        "plan.toml",
        "--types",
        "configurations,user_data",
    ];
    let o = run(dir, &args);
    expect(&o, ExitClass::Failed.into());
    let text = out(&o);
    assert_has(&text, "ok      configurations");
    assert_has(
        &text,
        &format!(
            "FAILED  user_data            backup {id} does not contain it (it holds: configurations)"
        ),
    );
    assert_has(&text, "1 of 2 types restored");
    assert_eq!(
        err(&o),
        format!("error: restore of backup {id} incomplete: user_data not restored\n")
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), "x: 1\n");

    // JSON: the report with each type's status and reason; same exit code.
    std::fs::write(&config, "x: 3\n").expect("change");
    let mut with_json = args.to_vec();
    with_json.push("--json");
    let o = run(dir, &with_json);
    expect(&o, ExitClass::Failed.into());
    let v = json(&out(&o));
    assert_eq!(v["id"], id.as_str());
    let results = v["results"].as_array().expect("results");
    let got: Vec<(&str, &str)> = results
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap_or(""),
                r["status"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(got, [("configurations", "ok"), ("user_data", "failed")]);
    assert!(results[0]["reason"].is_null());
    assert!(
        results[1]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("does not contain it")),
        "{v}"
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), "x: 1\n");

    // Every stored type (no --types): all restored, exit 0.
    let o = run(dir, &["backup", "restore", &id, "--plan", "plan.toml"]);
    expect(&o, ExitClass::Ok.into());
    assert_has(&out(&o), "1 of 1 types restored");
}

/// `cutover rollback` to point `p`, by bob.
const ROLLBACK_TO_P: &[&str] = &[
    "rollback",
    "--plan",
    "plan.toml",
    "--to",
    "p",
    "--by",
    "bob",
];

#[test]
fn rollback_reports_a_category_the_adapter_cannot_restore_as_unsupported() {
    let tmp = fixture(&plain_phase());
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("old/state")).expect("mkdir");
    std::fs::write(dir.join("old/state/configurations.json"), r#"{"v":1}"#).expect("write");
    let point = [
        "backup",
        "point",
        "--plan",
        "plan.toml",
        "--system",
        "old",
        "--name",
        "p",
        "--categories",
        "configurations,active_alerts",
    ];
    expect(&run(dir, &point), ExitClass::Ok.into());
    std::fs::write(dir.join("old/state/configurations.json"), r#"{"v":2}"#).expect("write");

    let o = run(dir, ROLLBACK_TO_P);
    expect(&o, ExitClass::Ok.into());
    let text = out(&o);
    assert_has(&text, "ok      configurations");
    assert_has(
        &text,
        "unsupported active_alerts        adapter `file-adapter` declares `active_alerts` capture only",
    );
    assert_has(
        &text,
        "not restored, the adapter cannot (kept as evidence): old: active_alerts",
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("old/state/configurations.json")).unwrap(),
        r#"{"v":1}"#
    );
    assert!(!dir.join("old/state/active_alerts.json").exists());

    // The journal and history say unsupported, never ok.
    let o = run(dir, &["history", "plan.toml", "--json"]);
    expect(&o, ExitClass::Ok.into());
    let records = json(&out(&o));
    let rolled = records
        .as_array()
        .expect("records")
        .iter()
        .rev()
        .find(|r| r["kind"] == "rolled-back")
        .expect("rolled-back")["payload"]["results"]["old"]
        .clone();
    assert_eq!(rolled["applied"], serde_json::json!(["configurations"]));
    assert_eq!(rolled["unsupported"], serde_json::json!(["active_alerts"]));
    let active = &rolled["categories"][1];
    assert_eq!(active["category"], "active_alerts");
    assert_eq!(active["status"], "unsupported");
    assert_eq!(active["ok"], false);
    assert_has(
        &out(&run(dir, &["history", "plan.toml"])),
        "old: [configurations ok, active_alerts unsupported]",
    );

    // JSON output of the rollback carries the status too.
    let o = run(dir, &[ROLLBACK_TO_P, &["--json"]].concat());
    expect(&o, ExitClass::Ok.into());
    let v = json(&out(&o));
    let results = &v["systems"][0]["report"]["results"];
    assert_eq!(results[1]["kind"], "active_alerts");
    assert_eq!(results[1]["status"], "unsupported");
}

#[test]
fn validate_and_run_refuse_types_the_adapter_does_not_declare() {
    let body = phase(
        "one",
        "One",
        "rollback_point = { categories = [\"configurations\"] }",
        &["[[phases.steps]]\nid = \"b\"\nkind = \"backup\"\nsystem = \"old\"\ntypes = [\"configurations\"]\n".to_string()],
    );
    let tmp = fixture(&body);
    let dir = tmp.path();
    let plan = dir.join("plan.toml");
    let text = std::fs::read_to_string(&plan).expect("plan");
    let asked = "types = [\"configurations\", \"audit_logs\"]";
    std::fs::write(&plan, text.replace("types = [\"configurations\"]", asked)).expect("write");
    let line = std::fs::read_to_string(&plan)
        .expect("plan")
        .lines()
        .position(|l| l == asked)
        .expect("types line")
        + 1;

    let o = run(dir, &["validate", "plan.toml"]);
    expect(&o, ExitClass::Usage.into());
    let e = err(&o);
    assert_has(
        &e,
        "error: system `old` adapter `file-old` does not declare backup type `audit_logs` (it declares: configurations, alert_rules, user_data, historical_alerts",
    );
    assert_has(&e, &format!("--> plan.toml:{line}:9"));
    assert_has(&e, "has 1 problem");

    // `run` validates the same way: nothing starts, nothing is journaled.
    let o = run(dir, &["run", "plan.toml"]);
    expect(&o, ExitClass::Usage.into());
    assert_has(&err(&o), "does not declare backup type `audit_logs`");
    assert!(!dir.join(".state/journal.log").exists());
}

/// The adapter descriptors the plan crate's tests validate the shipped plans
/// with agree with what the built adapters declare in `describe()`.
#[test]
fn shipped_descriptors_declare_what_the_built_adapters_declare() {
    let fixtures = root().join("host/plan/tests/ui/plugins");
    for (wasm, fixture) in [
        ("alertmanager", "shipped-alertmanager"),
        ("prometheus", "shipped-prometheus"),
        ("file-adapter", "shipped-file-old"),
        ("file-adapter", "shipped-file-new"),
    ] {
        let path = plugins_dir().join(format!("{wasm}.wasm"));
        let tmp = tempfile::tempdir().expect("tmp");
        let o = run(
            tmp.path(),
            &["plugin", "inspect", &path.display().to_string(), "--json"],
        );
        expect(&o, ExitClass::Ok.into());
        let description = json(&out(&o))["descriptor"]["description"]
            .as_str()
            .expect("description")
            .to_string();
        let built = cutover_plan::AdapterSupport::from_description(&description);
        let text = std::fs::read_to_string(fixtures.join(format!("{fixture}.describe.json")))
            .expect("fixture");
        let info: cutover_plan::PluginInfo = serde_json::from_str(&text).expect("fixture json");
        assert_eq!(info.support, built, "{fixture} vs {wasm}");
        assert!(
            !built.backup_types.is_empty(),
            "{wasm} declares backup types"
        );
    }
}

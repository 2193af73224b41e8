//! `cutover plugin inspect | run | lock`, `validate`, `plan` and `compare`:
//! exit codes, stdout and stderr.

use super::*;

#[path = "fake_am.rs"]
mod fake_am;
use fake_am::fake_alertmanager;

use cutover_test_kit::http::CannedServer;
use cutover_test_kit::plan::with_built_plugins;
use cutover_test_kit::{plugin_path, wat};

fn wasm(name: &str) -> String {
    plugin_path(name).display().to_string()
}

#[test]
fn inspect_lists_a_built_plugin() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run(
        tmp.path(),
        &["plugin", "inspect", &wasm("file-adapter"), "--json"],
    );
    expect(&o, ExitClass::Ok.into());
    let v: serde_json::Value = serde_json::from_str(&out(&o)).expect("json");
    assert_eq!(v["world"], "adapter");
    assert_eq!(v["contract_version"], "0.1.3");
    assert_eq!(v["descriptor"]["name"], "file-adapter");
    let bytes = std::fs::read(plugins_dir().join("file-adapter.wasm")).unwrap();
    assert_eq!(v["sha256"], cutover_runtime::sha256_hex(&bytes));
    assert!(
        v["imports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i == "cutover:plugin/host@0.1.3")
    );
    let exports: Vec<&str> = v["exports"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e.as_str())
        .collect();
    for e in [
        "describe",
        "health",
        "collect-alerts",
        "export-data",
        "import-data",
        "capture-state",
        "restore-state",
    ] {
        assert!(exports.contains(&e), "missing export {e}: {exports:?}");
    }
    let o = run(tmp.path(), &["plugin", "inspect", &wasm("noop-action")]);
    expect(&o, ExitClass::Ok.into());
    assert!(
        out(&o).contains("world:       cutover:plugin/action"),
        "{}",
        out(&o)
    );
    assert!(err(&o).is_empty(), "{}", err(&o));
}

#[test]
fn inspect_refuses_a_malformed_file_with_exit_3() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("bad.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let o = run(tmp.path(), &["plugin", "inspect", "bad.wasm"]);
    expect(&o, ExitClass::PluginLoad.into());
    assert!(out(&o).is_empty());
    assert!(
        err(&o).contains("bad.wasm is not a valid WebAssembly component"),
        "{}",
        err(&o)
    );
    assert!(err(&o).contains("core wasm module"), "{}", err(&o));
}

#[test]
fn run_invokes_an_action_with_json_params() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run(
        tmp.path(),
        &[
            "plugin",
            "run",
            &wasm("noop-action"),
            "--params",
            r#"{"ticket":"CHG-1"}"#,
        ],
    );
    expect(&o, ExitClass::Ok.into());
    let v: serde_json::Value = serde_json::from_str(&out(&o)).expect("json");
    assert_eq!(v["summary"], "noop");
    assert_eq!(v["details"], serde_json::json!([["ticket", "CHG-1"]]));
}

#[test]
fn run_rejects_bad_params_with_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run(
        tmp.path(),
        &["plugin", "run", &wasm("noop-action"), "--params", "[1,"],
    );
    expect(&o, ExitClass::Usage.into());
    assert!(err(&o).contains("--params: invalid JSON"), "{}", err(&o));
    let o = run(
        tmp.path(),
        &[
            "plugin",
            "run",
            &wasm("noop-action"),
            "--allow-host",
            "127.0.0.1:80",
        ],
    );
    expect(&o, ExitClass::Usage.into());
    assert!(err(&o).contains("invalid host grant"), "{}", err(&o));
    // A CA file that is not a certificate is refused, naming the file.
    let not_pem = tmp.path().join("ca.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    let o = run(
        tmp.path(),
        &[
            "plugin",
            "run",
            &wasm("noop-action"),
            "--tls-ca",
            &not_pem.display().to_string(),
        ],
    );
    expect(&o, ExitClass::Usage.into());
    assert!(
        err(&o).contains("--tls-ca") && err(&o).contains(&not_pem.display().to_string()),
        "{}",
        err(&o)
    );
}

#[test]
fn run_denies_an_ungranted_host_with_exit_4_and_allows_a_granted_one() {
    let tmp = tempfile::tempdir().unwrap();
    let server = CannedServer::always(200, "ok");
    let port = server.port();
    let url = format!(r#"{{"url":"http://127.0.0.1:{port}/-/ready"}}"#);
    let o = run(
        tmp.path(),
        &["plugin", "run", &wasm("http-probe"), "--params", &url],
    );
    expect(&o, ExitClass::PluginCall.into());
    assert!(
        err(&o).contains(&format!("was denied HTTP to http://127.0.0.1:{port}")),
        "{}",
        err(&o)
    );
    let grant = format!("http://127.0.0.1:{port}");
    let o = run(
        tmp.path(),
        &[
            "plugin",
            "run",
            &wasm("http-probe"),
            "--params",
            &url,
            "--allow-host",
            &grant,
        ],
    );
    expect(&o, ExitClass::Ok.into());
    let v: serde_json::Value = serde_json::from_str(&out(&o)).expect("json");
    assert_eq!(v["verdict"], "Pass");
}

#[test]
fn run_ends_a_runaway_plugin_with_exit_4() {
    let tmp = tempfile::tempdir().unwrap();
    let wat = wat::check_fixture("spin", "infinite-loop.body.wat");
    std::fs::write(tmp.path().join("spin.wat"), wat).unwrap();
    let o = run(
        tmp.path(),
        &["plugin", "run", "spin.wat", "--deadline", "200ms"],
    );
    expect(&o, ExitClass::PluginCall.into());
    assert!(
        err(&o).contains("plugin spin exceeded its deadline of 200 ms"),
        "{}",
        err(&o)
    );
}

#[test]
fn lock_pins_plugins_and_check_detects_drift() {
    let tmp = fixture(
        "\n[[phases]]\nid = \"one\"\nname = \"One\"\nrisk = \"low\"\n[[phases.steps]]\nid = \"s1\"\nkind = \"action\"\nplugin = \"noop\"\n",
    );
    let plan = std::fs::read_to_string(tmp.path().join("plan.toml")).unwrap();
    let digest = cutover_runtime::sha256_hex(
        &std::fs::read(plugins_dir().join("noop-action.wasm")).unwrap(),
    );
    assert!(plan.contains(&format!("sha256 = \"{digest}\"")), "{plan}");
    let lock = std::fs::read_to_string(tmp.path().join("plan.toml.lock")).unwrap();
    assert!(
        lock.contains("name = \"noop-action\"") && lock.contains("world = \"action\""),
        "{lock}"
    );
    expect(
        &run(tmp.path(), &["plugin", "lock", "plan.toml", "--check"]),
        ExitClass::Ok.into(),
    );
    std::fs::write(
        tmp.path().join("plan.toml"),
        plan.replace(&digest, &"1".repeat(64)),
    )
    .unwrap();
    let o = run(tmp.path(), &["plugin", "lock", "plan.toml", "--check"]);
    expect(&o, ExitClass::Failed.into());
    assert!(out(&o).contains("stale: plugins.noop"), "{}", out(&o));
    // And the runner refuses the drifted pin with both digests.
    let o = run(tmp.path(), &["validate", "plan.toml"]);
    expect(&o, ExitClass::Usage.into());
    assert!(
        err(&o).contains(&digest) && err(&o).contains(&"1".repeat(64)),
        "{}",
        err(&o)
    );
}

#[test]
fn validate_and_plan_on_a_pinned_plan() {
    let tmp = fixture(
        "\n[[phases]]\nid = \"one\"\nname = \"One\"\nrisk = \"low\"\n[[phases.steps]]\nid = \"s1\"\nkind = \"backup\"\nsystem = \"old\"\ntypes = [\"configurations\"]\n",
    );
    let o = run(tmp.path(), &["validate", "plan.toml"]);
    expect(&o, ExitClass::Ok.into());
    assert!(
        out(&o).contains("valid plan \"cli-test\": 1 phases, 1 steps, 3 plugins"),
        "{}",
        out(&o)
    );
    let fp = out(&o)
        .lines()
        .find_map(|l| l.strip_prefix("fingerprint "))
        .expect("fingerprint")
        .to_string();
    let o = run(tmp.path(), &["plan", "plan.toml"]);
    expect(&o, ExitClass::Ok.into());
    assert!(
        out(&o).contains(&fp),
        "preview shows the fingerprint\n{}",
        out(&o)
    );
    assert!(out(&o).contains("configurations"), "{}", out(&o));
}

#[test]
fn validate_reports_location_of_errors() {
    let tmp = fixture(
        "\n[[phases]]\nid = \"one\"\nname = \"One\"\nrisk = \"extreme\"\n[[phases.steps]]\nid = \"s1\"\nkind = \"action\"\nplugin = \"nope\"\n",
    );
    let o = run(tmp.path(), &["validate", "plan.toml"]);
    expect(&o, ExitClass::Usage.into());
    let e = err(&o);
    assert!(e.contains("plan.toml:"), "{e}");
    assert!(
        e.contains("extreme") && e.contains("nope"),
        "both errors reported: {e}"
    );
}

#[test]
fn compare_maps_verdicts_to_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let demo = root().join("plans/demo-data");
    let old = demo.join("old/alerts.json").display().to_string();
    let new = demo.join("new/alerts.json").display().to_string();
    let o = run(
        tmp.path(),
        &[
            "compare",
            &old,
            &new,
            "--ignore-label",
            "instance",
            "--json",
        ],
    );
    expect(&o, ExitClass::Failed.into());
    let v: serde_json::Value = serde_json::from_str(&out(&o)).expect("json");
    for k in [
        "total_old",
        "total_new",
        "matched",
        "missing",
        "extra",
        "match_rate",
        "risk_level",
        "verdict",
        "delay_seconds",
        "recommendations",
    ] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    assert_eq!(v["risk_level"], "high");
    std::fs::write(tmp.path().join("empty.json"), "[]").unwrap();
    let o = run(tmp.path(), &["compare", &old, "empty.json"]);
    expect(&o, ExitClass::Inconclusive.into());
    std::fs::write(tmp.path().join("broken.json"), "[{\"labels\": }]").unwrap();
    let o = run(tmp.path(), &["compare", &old, "broken.json"]);
    expect(&o, ExitClass::Usage.into());
    assert!(err(&o).contains("broken.json:1:"), "{}", err(&o));
}

#[test]
fn shipped_plans_validate_against_the_real_plugins() {
    for name in ["alerting-migration.toml", "offline-demo.toml"] {
        let tmp = tempfile::tempdir().unwrap();
        let src = std::fs::read_to_string(root().join("plans").join(name)).unwrap();
        std::fs::write(tmp.path().join(name), with_built_plugins(&src)).unwrap();
        expect(
            &run(tmp.path(), &["plugin", "lock", name]),
            ExitClass::Ok.into(),
        );
        let o = run(tmp.path(), &["validate", name]);
        expect(&o, ExitClass::Ok.into());
        assert!(out(&o).contains("5 phases"), "{}", out(&o));
    }
}

#[test]
fn plugin_test_runs_fixtures_with_recorded_http() {
    let fx = root().join("host/cli/tests/fixtures/plugin-test");
    let tmp = tempfile::tempdir().unwrap();
    let f = |n: &str| fx.join(n).display().to_string();
    let o = run(
        tmp.path(),
        &[
            "plugin",
            "test",
            &wasm("http-probe"),
            &f("probe-ready.json"),
            &f("probe-down.json"),
        ],
    );
    expect(&o, ExitClass::Ok.into());
    assert!(out(&o).contains("2 passed, 0 failed"), "{}", out(&o));
    let o = run(
        tmp.path(),
        &["plugin", "test", &wasm("noop-action"), &f("noop.json")],
    );
    expect(&o, ExitClass::Ok.into());
    // A wrong expectation fails with the reason; an unrecorded URL never
    // reaches the network (nothing listens on 127.0.0.1:9 here either).
    std::fs::write(
        tmp.path().join("wrong.json"),
        r#"{"params": {"url": "http://127.0.0.1:9/x"}, "http": [{"url": "http://127.0.0.1:9/y"}],
            "expect": {"verdict": "pass"}}"#,
    )
    .unwrap();
    let o = run(
        tmp.path(),
        &["plugin", "test", &wasm("http-probe"), "wrong.json"],
    );
    expect(&o, ExitClass::Failed.into());
    assert!(out(&o).contains("FAIL wrong.json"), "{}", out(&o));
    assert!(
        out(&o).contains("expected verdict pass, got Some(\"fail\")"),
        "{}",
        out(&o)
    );
    std::fs::write(
        tmp.path().join("bad.json"),
        r#"{"expect": {"verdikt": "pass"}}"#,
    )
    .unwrap();
    let o = run(
        tmp.path(),
        &["plugin", "test", &wasm("http-probe"), "bad.json"],
    );
    expect(&o, ExitClass::Usage.into());
    assert!(err(&o).contains("bad.json:1:"), "{}", err(&o));
}

/// The decommission plugins against a fake Alertmanager: the check fails
/// before the silence, `alertmanager-silence` POSTs the scope's matchers
/// with the plan/phase/step/run comment once per run, the check passes
/// naming it, and the undo expires exactly that silence.
#[test]
fn decommission_silence_and_check_against_a_fake_alertmanager() {
    let tmp = tempfile::tempdir().unwrap();
    let ops = serde_json::json!({
        "id": "ops-1", "status": {"state": "active"}, "createdBy": "ops", "comment": "maintenance",
        "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2099-01-01T00:00:00Z",
        "matchers": [{"name": "alertname", "value": "Watchdog", "isRegex": false, "isEqual": true}],
    });
    let (server, am) = fake_alertmanager(vec![ops]);
    let origin = server.origin();
    let config = format!("url={origin}");
    let call = |plugin: &str, params: serde_json::Value, want: i32| {
        let params = params.to_string();
        let args = [
            "plugin",
            "run",
            &wasm(plugin),
            "--params",
            &params,
            "--allow-host",
            &origin,
            "--config",
            &config,
        ];
        let o = run(tmp.path(), &args);
        expect(&o, want);
        serde_json::from_str::<serde_json::Value>(&out(&o)).expect("json")
    };
    let detail = |v: &serde_json::Value, key: &str| {
        v["details"].as_array().and_then(|d| {
            d.iter()
                .find(|p| p[0] == key)
                .and_then(|p| p[1].as_str().map(str::to_owned))
        })
    };
    let scope = r#"{team="core", service=~"checkout|cart"}"#;
    let muted = serde_json::json!({ "scope": scope });

    let v = call(
        "notifications-muted",
        muted.clone(),
        ExitClass::Failed.into(),
    );
    assert_eq!(v["verdict"], "Fail");
    assert!(
        v["message"].as_str().unwrap().starts_with(
            "not silenced: {alertname=\"CutoverProbe\", service=\"checkout\", team=\"core\"}"
        ),
        "{v}"
    );
    assert_eq!(v["measurements"][0]["value"], 1.0, "{v}");

    let silence = serde_json::json!({ "scope": scope, "duration": "30d", "comment": "pilot wave" });
    let v = call(
        "alertmanager-silence",
        silence.clone(),
        ExitClass::Ok.into(),
    );
    assert_eq!(detail(&v, "silence_id").as_deref(), Some("fake-1"), "{v}");
    assert_eq!(detail(&v, "created").as_deref(), Some("true"), "{v}");
    {
        let am = am.lock().unwrap();
        assert_eq!(am.posts.len(), 1);
        let post = &am.posts[0];
        assert_eq!(
            post["matchers"],
            serde_json::json!([
                {"name": "team", "value": "core", "isRegex": false, "isEqual": true},
                {"name": "service", "value": "checkout|cart", "isRegex": true, "isEqual": true},
            ])
        );
        assert_eq!(post["createdBy"], "cutover");
        // `plugin run` calls outside a plan: empty plan, phase and step.
        assert_eq!(
            post["comment"],
            "cutover plan  phase  step  run adhoc: pilot wave"
        );
        assert_eq!(post["endsAt"].as_str().map(str::len), Some(24), "{post}");
        assert!(
            post["endsAt"].as_str() > post["startsAt"].as_str(),
            "{post}"
        );
        assert_eq!(
            detail(&v, "ends_at").as_ref(),
            post["endsAt"].as_str().map(str::to_owned).as_ref()
        );
    }
    // The same run again creates nothing.
    let v = call(
        "alertmanager-silence",
        silence.clone(),
        ExitClass::Ok.into(),
    );
    assert_eq!(detail(&v, "created").as_deref(), Some("false"), "{v}");
    assert!(
        v["summary"].as_str().unwrap().contains("nothing created"),
        "{v}"
    );
    assert_eq!(am.lock().unwrap().posts.len(), 1);

    let v = call("notifications-muted", muted.clone(), ExitClass::Ok.into());
    assert_eq!(v["verdict"], "Pass");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("team=\"core\"} by fake-1"),
        "{v}"
    );
    assert_eq!(v["measurements"][1]["value"], 1.0, "{v}");
    let v = call(
        "notifications-muted",
        serde_json::json!({"labels": {"alertname": "X", "team": "infra"}}),
        ExitClass::Failed.into(),
    );
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("not silenced: {alertname=\"X\", team=\"infra\"}"),
        "{v}"
    );

    // Undo for another plan expires nothing; for this one, exactly fake-1.
    let mut undo = silence.clone();
    undo["undo"] = true.into();
    let mut other = undo.clone();
    other["plan"] = "other".into();
    let v = call("alertmanager-silence", other, ExitClass::Ok.into());
    assert_eq!(detail(&v, "expired").as_deref(), Some("0"), "{v}");
    let v = call("alertmanager-silence", undo, ExitClass::Ok.into());
    assert_eq!(detail(&v, "silence_ids").as_deref(), Some("fake-1"), "{v}");
    assert_eq!(am.lock().unwrap().deletes, ["fake-1"]);
    call("notifications-muted", muted, ExitClass::Failed.into());
}

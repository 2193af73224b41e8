//! Real-systems integration test: starts Prometheus A/B + Alertmanager A/B
//! (tests/fixture/start.sh), then drives the first-party adapters through
//! the real sandboxed runtime against them.
//!
//! Needs `scripts/build-plugins.sh` first, and the Debian packages
//! prometheus, prometheus-alertmanager, prometheus-node-exporter (installed
//! by scripts/system-deps.sh): without them the test FAILS (it never
//! skips). Ports 19090/19091/19093/19094/19100 must be free.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use cutover_runtime::{CallError, Denied, DirGrant, Grants, PluginError, Runtime, Sandbox, wit};
use cutover_systest::{Fixture, http};
use cutover_test_kit::plugin_path;
use tracing_subscriber::util::SubscriberInitExt;

#[path = "systems/backtest.rs"]
mod backtest;
#[path = "systems/backup_roundtrip.rs"]
mod backup_roundtrip;
#[path = "systems/icinga2.rs"]
mod icinga2;
#[path = "systems/support.rs"]
mod support;

pub(crate) use cutover_test_kit::repo_root as root;
use support::{
    AM_PASSWORD, AM_USER, Env, LogBuf, Watchdog, am_status_config, base64, detail, eventually,
    keys, label, load_plugin, log_into, now_ms, plugin_error, set, window,
};

#[test]
fn real_prometheus_and_alertmanager_through_the_runtime() {
    let started = Instant::now();
    let logs = LogBuf::default();
    log_into(&logs).init();

    for name in ["alertmanager", "prometheus", "rules-diff"] {
        plugin_path(name);
    }

    let run = tempfile::tempdir().expect("run dir");
    let fx = match Fixture::start(&root().join("tests/fixture"), run.path()) {
        Ok(f) => f,
        Err(e) => panic!(
            "the real-systems fixture did not start (this test needs prometheus, \
             prometheus-alertmanager and prometheus-node-exporter, installed \
             by scripts/system-deps.sh): {e}"
        ),
    };
    let _watchdog = Watchdog::arm(&fx);
    eprintln!("fixture up after {:?}", started.elapsed());

    let cache = tempfile::tempdir().expect("cache dir");
    let rt = Runtime::new(Some(cache.path())).expect("runtime");
    let am_p = load_plugin(&rt, "alertmanager");
    let prom_p = load_plugin(&rt, "prometheus");
    let mut env = Env {
        rt,
        fx: &fx,
        errors: Vec::new(),
    };
    let am_a = env.am_sandbox("a");
    let am_b = env.am_sandbox("b");
    let port_am_a = env.port("FIXTURE_AM_A_PORT");
    let port_am_b = env.port("FIXTURE_AM_B_PORT");

    // --- describe: capabilities are honest --------------------------------
    let d = env.rt.describe(&am_p, &am_a).expect("describe");
    assert_eq!(d.capabilities.hosts, vec!["config:url".to_owned()]);
    assert!(
        d.capabilities
            .directories
            .iter()
            .any(|r| r.name == "config" && r.writable)
    );

    // --- collect-alerts on both stacks ------------------------------------
    let old = env.alerts(&am_p, &am_a);
    let new = env.alerts(&am_p, &am_b);
    assert_eq!(
        keys(&old),
        set(&[
            "DiskAlmostFull",
            "ErrorRateHigh",
            "HighQueueDepth{emails}",
            "HighQueueDepth{orders}",
            "ServiceDown",
            "Watchdog"
        ]),
        "old stack alerts: {old:#?}"
    );
    assert_eq!(
        keys(&new),
        set(&[
            "ErrorRateHigh",
            "HighQueueDepth{emails}",
            "InstanceDown",
            "Watchdog"
        ]),
        "new stack alerts: {new:#?}"
    );
    let t0 = now_ms();
    for a in old.iter().chain(&new) {
        assert_eq!(a.state, wit::AlertState::Active, "{a:?}");
        assert!(a.fingerprint.len() >= 8, "{a:?}");
        assert!(
            a.starts_at <= t0 && a.starts_at > t0 - 600_000,
            "startsAt {} not within the last 10 minutes of {t0}",
            a.starts_at
        );
        assert_eq!(a.ends_at, None);
    }
    // A window that ended before the fixture started holds nothing.
    let past = wit::Window {
        start: 0,
        end: 1_000_000,
    };
    let r = env.rt.collect_alerts(&am_p, &am_a, past);
    assert!(env.record(r).expect("past window").is_empty());

    // --- health ------------------------------------------------------------
    let h = env.rt.health(&am_p, &am_a).expect("health");
    assert!(h.available, "{h:?}");
    assert_eq!(h.message, "ready");

    // --- silences: export from A, import into B, idempotent -----------------
    let silence = format!(
        r#"{{"matchers":[{{"name":"alertname","value":"Watchdog","isRegex":false,"isEqual":true}}],
            "startsAt":"2020-01-01T00:00:00Z","endsAt":"2099-01-01T00:00:00Z",
            "createdBy":"systest","comment":"maintenance {}"}}"#,
        std::process::id()
    );
    let (st, body) =
        http::request("POST", port_am_a, "/api/v2/silences", Some(&silence)).expect("silence");
    assert_eq!(st, 200, "{body}");
    let (info, bytes) = env.export(&am_p, &am_a, "silences");
    assert_eq!(info.content_type, "application/json");
    let exported: serde_json::Value = serde_json::from_slice(&bytes).expect("silences JSON");
    assert_eq!(exported.as_array().map(Vec::len), Some(1), "{exported}");
    assert!(exported[0]["id"].is_string());
    let out = env
        .import(&am_p, &am_b, "silences", &bytes)
        .expect("import silences");
    assert_eq!(detail(&out, "created"), "1", "{out:?}");
    let again = env
        .import(&am_p, &am_b, "silences", &bytes)
        .expect("import silences twice");
    assert_eq!(detail(&again, "created"), "0", "{again:?}");
    assert_eq!(detail(&again, "already_present"), "1", "{again:?}");
    let (_, b_sil) = http::request("GET", port_am_b, "/api/v2/silences", None).expect("get");
    let b_sil: serde_json::Value = serde_json::from_str(&b_sil).expect("json");
    let b_sil = b_sil.as_array().expect("array");
    assert_eq!(b_sil.len(), 1, "{b_sil:?}");
    assert_ne!(b_sil[0]["id"], exported[0]["id"], "ids must not be reused");
    assert_eq!(b_sil[0]["matchers"], exported[0]["matchers"]);
    let watchdog_b = eventually(10, || {
        let w: Vec<wit::AlertState> = env
            .alerts(&am_p, &am_b)
            .into_iter()
            .filter(|a| label(a, "alertname") == Some("Watchdog"))
            .map(|a| a.state)
            .collect();
        (w == [wit::AlertState::Suppressed], w)
    });
    assert_eq!(watchdog_b, [wit::AlertState::Suppressed]);

    // --- configuration backup, restore + reload ------------------------------
    let cfg_dir = env.dir("FIXTURE_AM_A_CONFIG_DIR");
    let on_disk = std::fs::read(cfg_dir.join("alertmanager.yml")).expect("config");
    let (info, backup) = env.export(&am_p, &am_a, "configurations");
    assert_eq!(backup, on_disk, "the backup is the file, byte for byte");
    assert_eq!(info.content_type, "application/yaml");
    let changed = String::from_utf8(backup.clone())
        .expect("utf8")
        .replace("group_wait: 1s", "group_wait: 3s");
    assert_ne!(changed.as_bytes(), &backup[..]);
    let out = env
        .import(&am_p, &am_a, "configurations", changed.as_bytes())
        .expect("restore a valid config");
    assert!(out.summary.contains("reloaded"), "{out:?}");
    assert!(am_status_config(port_am_a).contains("group_wait: 3s"));
    assert_eq!(
        std::fs::read_to_string(cfg_dir.join("alertmanager.yml")).expect("read"),
        changed
    );
    env.import(&am_p, &am_a, "configurations", &backup)
        .expect("restore the backup");
    assert!(am_status_config(port_am_a).contains("group_wait: 1s"));

    // --- an invalid configuration is refused and the old one kept ------------
    let bad = b"route:\n  receiver: nope\nreceivers:\n  - name: sink\n";
    match plugin_error(env.import(&am_p, &am_a, "configurations", bad)) {
        PluginError::Failed(m) => {
            assert!(m.contains("Alertmanager rejected the configuration"), "{m}");
            assert!(m.contains("nope"), "{m}");
        }
        other => panic!("an invalid config must fail, got {other:?}"),
    }
    assert_eq!(
        std::fs::read(cfg_dir.join("alertmanager.yml")).expect("read"),
        backup,
        "previous file restored"
    );
    let leftovers: Vec<_> = std::fs::read_dir(&cfg_dir)
        .expect("ls")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(leftovers, vec!["alertmanager.yml".to_owned()]);
    assert!(am_status_config(port_am_a).contains("receiver: sink"));
    assert_eq!(
        keys(&env.alerts(&am_p, &am_a)).len(),
        6,
        "Alertmanager A still serves"
    );
    let (st, _) = http::request("POST", port_am_a, "/-/reload", None).expect("reload");
    assert_eq!(st, 200, "the file on disk is valid again");

    // --- unsupported kinds ---------------------------------------------------
    let r = env
        .rt
        .capture_state(&am_p, &am_a, "user_permissions", Vec::new());
    assert!(matches!(
        plugin_error(env.record(r)),
        PluginError::Unsupported(_)
    ));
    let r = env
        .rt
        .capture_state(&am_p, &am_a, "active_alerts", Vec::new());
    let cap = env.record(r).expect("capture active_alerts");
    assert!(
        cap.info.metadata.contains(&("count".into(), "6".into())),
        "{:?}",
        cap.info
    );

    // --- Prometheus rules: export, invalid import, import + reload ----------
    let prom_a = env.prom_sandbox("a");
    let prom_b = env.prom_sandbox("b");
    let h = env.rt.health(&prom_p, &prom_a).expect("prom health");
    assert!(h.available, "{h:?}");
    let firing = env.alerts(&prom_p, &prom_a);
    assert_eq!(
        keys(&firing),
        keys(&old),
        "Prometheus A fires what AM A shows"
    );
    let (_, bundle_a) = env.export(&prom_p, &prom_a, "alert_rules");
    let (_, bundle_b) = env.export(&prom_p, &prom_b, "alert_rules");
    let parsed: BTreeMap<String, String> = serde_json::from_slice(&bundle_a).expect("bundle");
    assert_eq!(
        parsed.keys().collect::<Vec<_>>(),
        vec!["v1-old.rules.yml"],
        "{parsed:?}"
    );
    assert_eq!(
        parsed["v1-old.rules.yml"],
        std::fs::read_to_string(root().join("tests/fixture/rules/v1-old.rules.yml")).expect("v1")
    );
    let rules_b = env.dir("FIXTURE_PROM_B_RULES_DIR");
    let broken = r#"{"v2-new.rules.yml": "groups:\n- name: x\n  rules:\n  - alert: Broken\n    expr: up ==\n"}"#;
    match plugin_error(env.import(&prom_p, &prom_b, "alert_rules", broken.as_bytes())) {
        PluginError::Failed(m) => assert!(m.contains("Prometheus rejected"), "{m}"),
        other => panic!("invalid rules must fail, got {other:?}"),
    }
    assert_eq!(
        std::fs::read_to_string(rules_b.join("v2-new.rules.yml")).expect("v2"),
        std::fs::read_to_string(root().join("tests/fixture/rules/v2-new.rules.yml"))
            .expect("v2 src"),
        "old rules put back"
    );
    // Give B the old stack's rules: DiskAlmostFull must start firing there.
    let out = env
        .import(&prom_p, &prom_b, "alert_rules", &bundle_a)
        .expect("import v1 rules into B");
    assert_eq!(detail(&out, "removed"), "v2-new.rules.yml");
    let fired = eventually(20, || {
        let k = keys(&env.alerts(&prom_p, &prom_b));
        (k.contains("DiskAlmostFull"), k)
    });
    assert!(
        fired.contains("DiskAlmostFull"),
        "after reload B fires {fired:?}"
    );
    env.import(&prom_p, &prom_b, "alert_rules", &bundle_b)
        .expect("restore B's rules");
    assert!(rules_b.join("v2-new.rules.yml").exists());
    assert!(!rules_b.join("v1-old.rules.yml").exists());

    // --- rules-diff over the fixture's rule files ----------------------------
    let diff = load_plugin(&env.rt, "rules-diff");
    let diff_sb = Sandbox::with_grants(Grants {
        dirs: vec![
            DirGrant {
                name: "old".into(),
                path: env.dir("FIXTURE_PROM_A_RULES_DIR"),
                write: false,
            },
            DirGrant {
                name: "new".into(),
                path: rules_b.clone(),
                write: false,
            },
        ],
        ..Grants::default()
    });
    let ctx = wit::Context {
        plan: "systest".into(),
        phase: "validate".into(),
        step: "rules-diff".into(),
        run_id: "r1".into(),
        params: r#"{"old": "v1-old.rules.yml", "new": "v2-new.rules.yml"}"#.into(),
    };
    let v = env.rt.evaluate(&diff, &diff_sb, &ctx).expect("rules-diff");
    assert_eq!(v.verdict, wit::VerdictKind::Fail, "{}", v.message);
    assert!(
        v.message.contains("renamed: ServiceDown -> InstanceDown"),
        "{}",
        v.message
    );
    assert!(
        v.message.contains("removed: DiskAlmostFull"),
        "{}",
        v.message
    );

    // --- a host that is not granted is denied, typed -------------------------
    let mut sneaky = env.am_sandbox("a");
    let mut grants = (*sneaky.grants).clone();
    grants
        .config
        .insert("url".into(), format!("http://127.0.0.1:{port_am_b}"));
    sneaky.grants = Arc::new(grants);
    let r = env.rt.collect_alerts(
        &am_p,
        &sneaky,
        wit::Window {
            start: 0,
            end: i64::MAX,
        },
    );
    match env.record(r) {
        Err(CallError::Denied {
            denied: Denied::Http(target),
            ..
        }) => assert!(target.contains(&port_am_b.to_string()), "{target}"),
        other => panic!("expected a typed HTTP denial, got {other:?}"),
    }

    // --- secrets never leak ----------------------------------------------------
    let log_text = logs.text();
    assert!(
        log_text.contains("collected 6 alerts"),
        "plugin log lines are captured: {log_text}"
    );
    let encoded = format!("{AM_USER}:{AM_PASSWORD}");
    let b64 = base64(encoded.as_bytes());
    let all_errors = env.errors.join("\n");
    assert!(!env.errors.is_empty(), "errors were recorded");
    for (what, text) in [("logs", &log_text), ("errors", &all_errors)] {
        assert!(!text.contains(AM_PASSWORD), "password in {what}");
        assert!(!text.contains(&b64), "basic-auth header in {what}");
    }

    drop(_watchdog);
    drop(env);
    let mut fx = fx;
    let stopped = fx.stop();
    // Two Prometheus, two Alertmanager, node-exporter and the webhook sink.
    assert_eq!(stopped.matches("stopped").count(), 6, "{stopped}");
    eprintln!("systems test wall time: {:?}", started.elapsed());
}

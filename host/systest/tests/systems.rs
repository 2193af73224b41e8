//! Real-systems integration test: starts Prometheus A/B + Alertmanager A/B
//! (tests/fixture/start.sh), then drives the first-party adapters through
//! the real sandboxed runtime against them.
//!
//! Needs `scripts/build-plugins.sh` first, and the Debian packages
//! prometheus, prometheus-alertmanager, prometheus-node-exporter (installed
//! by scripts/system-deps.sh): without them the test FAILS (it never
//! skips). Ports 19090/19091/19093/19094/19100 must be free.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cutover_runtime::{
    CallError, Denied, DirGrant, Grants, Origin, Plugin, PluginError, Runtime, Sandbox,
    StaticSecrets, wit,
};
use cutover_systest::{Fixture, http};
use tracing_subscriber::util::SubscriberInitExt;

#[path = "systems/backup_roundtrip.rs"]
mod backup_roundtrip;
#[path = "systems/icinga2.rs"]
mod icinga2;

/// The whole test is aborted (fixture stopped first) after this long.
const TEST_TIMEOUT: Duration = Duration::from_secs(300);
const AM_USER: &str = "cutover-ops";
const AM_PASSWORD: &str = "Am-pass-9f3c2e71-not-for-logs";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Collects everything the runtime logs (plugin log lines included).
#[derive(Clone, Default)]
struct LogBuf(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogBuf {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }
}

/// A subscriber writing everything cutover logs (plugin lines included) to
/// `logs`; only warnings from wasmtime/cranelift, whose trace output would
/// slow compilation 100x.
fn log_into(logs: &LogBuf) -> impl tracing::Subscriber + Send + Sync + 'static {
    let sink = logs.clone();
    tracing_subscriber::fmt()
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .with_env_filter(tracing_subscriber::EnvFilter::new("warn,cutover=trace"))
        .finish()
}

/// Aborts the process (after stopping the fixture) if the test hangs.
struct Watchdog(Arc<AtomicBool>);

impl Watchdog {
    fn arm(fixture: &Fixture) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        let flag = done.clone();
        let mut stop = fixture.stop_command();
        std::thread::spawn(move || {
            let started = Instant::now();
            while started.elapsed() < TEST_TIMEOUT {
                if flag.load(Ordering::SeqCst) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            eprintln!("systems test: timed out after {TEST_TIMEOUT:?}; stopping the fixture");
            let _ = stop.output();
            // abort, not exit: exit runs handlers that may wait on the hung test.
            std::process::abort();
        });
        Self(done)
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

struct Env<'a> {
    rt: Runtime,
    fx: &'a Fixture,
    errors: Vec<String>,
}

impl Env<'_> {
    fn port(&self, key: &str) -> u16 {
        self.fx
            .var(key)
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("fixture.env lacks {key}"))
    }

    fn dir(&self, key: &str) -> PathBuf {
        PathBuf::from(
            self.fx
                .var(key)
                .unwrap_or_else(|| panic!("fixture.env lacks {key}")),
        )
    }

    /// Alertmanager sandbox for stack `a`/`b`; basic auth through secrets.
    fn am_sandbox(&self, stack: &str) -> Sandbox {
        let port = self.port(&format!("FIXTURE_AM_{}_PORT", stack.to_uppercase()));
        let url = format!("http://127.0.0.1:{port}");
        let mut sb = Sandbox::with_grants(Grants {
            hosts: vec![Origin::parse_grant(&url).expect("grant")],
            dirs: vec![DirGrant {
                name: "config".into(),
                path: self.dir(&format!("FIXTURE_AM_{}_CONFIG_DIR", stack.to_uppercase())),
                write: true,
            }],
            secrets: vec!["alertmanager_user".into(), "alertmanager_password".into()],
            config: BTreeMap::from([
                ("url".into(), url),
                ("auth".into(), "basic".into()),
                ("config_file".into(), "alertmanager.yml".into()),
            ]),
        });
        sb.secrets = Arc::new(StaticSecrets(BTreeMap::from([
            ("alertmanager_user".into(), AM_USER.into()),
            ("alertmanager_password".into(), AM_PASSWORD.into()),
        ])));
        sb
    }

    fn prom_sandbox(&self, stack: &str) -> Sandbox {
        let port = self.port(&format!("FIXTURE_PROM_{}_PORT", stack.to_uppercase()));
        let url = format!("http://127.0.0.1:{port}");
        Sandbox::with_grants(Grants {
            hosts: vec![Origin::parse_grant(&url).expect("grant")],
            dirs: vec![DirGrant {
                name: "rules".into(),
                path: self.dir(&format!("FIXTURE_PROM_{}_RULES_DIR", stack.to_uppercase())),
                write: true,
            }],
            secrets: vec![],
            config: BTreeMap::from([("url".into(), url)]),
        })
    }

    fn record<T>(&mut self, r: Result<T, CallError>) -> Result<T, CallError> {
        if let Err(e) = &r {
            self.errors.push(format!("{e} / {e:?}"));
        }
        r
    }

    fn alerts(&mut self, p: &Plugin, sb: &Sandbox) -> Vec<wit::Alert> {
        let r = self.rt.collect_alerts(p, sb, window());
        self.record(r).expect("collect-alerts")
    }

    fn export(&mut self, p: &Plugin, sb: &Sandbox, kind: &str) -> (wit::ExportInfo, Vec<u8>) {
        let r = self.rt.export_data(p, sb, kind, Vec::new());
        let e = self
            .record(r)
            .unwrap_or_else(|e| panic!("export {kind}: {e}"));
        assert_eq!(e.bytes as usize, e.writer.len());
        (e.info, e.writer)
    }

    fn import(
        &mut self,
        p: &Plugin,
        sb: &Sandbox,
        kind: &str,
        data: &[u8],
    ) -> Result<wit::Outcome, CallError> {
        let r = self.rt.import_data(
            p,
            sb,
            kind,
            std::io::Cursor::new(data.to_vec()),
            data.len() as u64,
        );
        self.record(r)
    }
}

/// The error a failed plugin call reported; panics on success or on an
/// error of the runtime rather than the plugin.
#[track_caller]
fn plugin_error<T: std::fmt::Debug>(r: Result<T, CallError>) -> PluginError {
    match r {
        Err(CallError::Plugin { error, .. }) => error,
        other => panic!("expected the plugin to report an error, got {other:?}"),
    }
}

/// The last hour and the next minute.
fn window() -> wit::Window {
    wit::Window {
        start: now_ms() - 3_600_000,
        end: now_ms() + 60_000,
    }
}

fn label<'a>(a: &'a wit::Alert, key: &str) -> Option<&'a str> {
    a.labels
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// `alertname` plus `{queue}` where present: the identity the fixture varies.
fn keys(alerts: &[wit::Alert]) -> BTreeSet<String> {
    alerts
        .iter()
        .map(|a| {
            let name = label(a, "alertname").unwrap_or("?");
            match label(a, "queue") {
                Some(q) => format!("{name}{{{q}}}"),
                None => name.to_owned(),
            }
        })
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn detail<'a>(o: &'a wit::Outcome, key: &str) -> &'a str {
    o.details
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("outcome {o:?} lacks {key}"))
}

/// Polls `f` every 250 ms for up to `secs`; returns its last value.
fn eventually<T>(secs: u64, mut f: impl FnMut() -> (bool, T)) -> T {
    let until = Instant::now() + Duration::from_secs(secs);
    loop {
        let (ok, v) = f();
        if ok || Instant::now() > until {
            return v;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn am_status_config(port: u16) -> String {
    let (status, body) = http::request("GET", port, "/api/v2/status", None).expect("status");
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("status JSON");
    v["config"]["original"]
        .as_str()
        .expect("config.original")
        .to_owned()
}

#[test]
fn real_prometheus_and_alertmanager_through_the_runtime() {
    let started = Instant::now();
    let logs = LogBuf::default();
    log_into(&logs).init();

    let plugins = root().join("target/plugins");
    for name in ["alertmanager", "prometheus", "rules-diff"] {
        assert!(
            plugins.join(format!("{name}.wasm")).exists(),
            "{name}.wasm missing in {}: run scripts/build-plugins.sh first",
            plugins.display()
        );
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
    let am_p = rt
        .load_file(&plugins.join("alertmanager.wasm"), None)
        .expect("load alertmanager");
    let prom_p = rt
        .load_file(&plugins.join("prometheus.wasm"), None)
        .expect("load prometheus");
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
    let diff = env
        .rt
        .load_file(&plugins.join("rules-diff.wasm"), None)
        .expect("load rules-diff");
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
    assert_eq!(stopped.matches("stopped").count(), 5, "{stopped}");
    eprintln!("systems test wall time: {:?}", started.elapsed());
}

/// Standard base64, to look for a leaked basic-auth header.
fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

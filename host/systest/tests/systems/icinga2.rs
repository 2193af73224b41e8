//! A live Icinga 2 (the legacy system): tests/fixture/icinga2/start.sh runs
//! it on 127.0.0.1 with its own CA, then the real `icinga2.wasm` adapter is
//! driven through the sandboxed runtime over HTTPS, trusting that CA only
//! because the sandbox grants it (`tls_ca`).
//!
//! Needs `scripts/build-plugins.sh` first, and Debian's icinga2, openssl and
//! curl (installed by scripts/system-deps.sh): without them the test FAILS
//! (it never skips). Uses a free port picked at start.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cutover_runtime::{
    CallError, Denied, Grants, Origin, PluginError, Runtime, Sandbox, StaticSecrets, TlsCa, wit,
};
use cutover_systest::Fixture;

use cutover_test_kit::plugin_path;

use super::{LogBuf, base64, label, log_into, now_ms, plugin_error, root, window};

const USER: &str = "cutover-icinga";

/// A port nobody listens on right now.
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// The fixture's PIDs file: `name pid` lines.
fn fixture_pids(run: &Path) -> Vec<u32> {
    std::fs::read_to_string(run.join("pids"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1)?.parse().ok())
        .collect()
}

/// Whether `pid` is a process whose command line names `run` (ours).
fn alive_in(pid: u32, run: &Path) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| String::from_utf8_lossy(&c).contains(&*run.to_string_lossy()))
        .unwrap_or(false)
}

struct Live {
    rt: Runtime,
    url: String,
    ca: PathBuf,
    password: String,
    errors: Vec<String>,
}

impl Live {
    /// The sandbox a plan would give the adapter: the API origin, the
    /// credentials as granted secrets, the Icinga CA when `ca` is set.
    fn sandbox(&self, ca: bool, password: &str, config: &[(&str, &str)]) -> Sandbox {
        let mut cfg = BTreeMap::from([("url".to_owned(), self.url.clone())]);
        for (k, v) in config {
            cfg.insert((*k).to_owned(), (*v).to_owned());
        }
        let mut sb = Sandbox::with_grants(Grants {
            hosts: vec![Origin::parse_grant(&self.url).expect("grant")],
            secrets: vec!["icinga_user".into(), "icinga_password".into()],
            config: cfg,
            ..Grants::default()
        });
        sb.secrets = Arc::new(StaticSecrets(BTreeMap::from([
            ("icinga_user".to_owned(), USER.to_owned()),
            ("icinga_password".to_owned(), password.to_owned()),
        ])));
        sb.limits.deadline = Duration::from_secs(15);
        if ca {
            let ca = TlsCa::load(std::slice::from_ref(&self.ca)).expect("the fixture CA loads");
            sb.tls_ca = Some(Arc::new(ca));
        }
        sb
    }

    fn record<T>(&mut self, r: Result<T, CallError>) -> Result<T, CallError> {
        if let Err(e) = &r {
            self.errors.push(format!("{e} / {e:?}"));
        }
        r
    }
}

fn labels(a: &wit::Alert) -> BTreeMap<&str, &str> {
    a.labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

#[test]
fn live_icinga2_through_the_runtime() {
    let started = Instant::now();
    // Everything the runtime logs while this test's thread calls plugins:
    // scoped to this thread (the runtime logs plugin output on the calling
    // thread); other tests of this binary may own the global subscriber.
    let logs = LogBuf::default();
    let _log_guard = tracing::subscriber::set_default(log_into(&logs));

    let wasm = plugin_path("icinga2");

    let run = tempfile::tempdir().expect("run dir");
    let port = free_port().to_string();
    let password = format!(
        "Ic-{}-{}-not-for-logs",
        std::process::id(),
        now_ms() % 1_000_000_007
    );
    let fx = match Fixture::start_with(
        &root().join("tests/fixture/icinga2"),
        run.path(),
        &[
            ("FIXTURE_ICINGA_PORT", port.as_str()),
            ("FIXTURE_ICINGA_USER", USER),
            ("FIXTURE_ICINGA_PASSWORD", password.as_str()),
        ],
    ) {
        Ok(f) => f,
        Err(e) => panic!(
            "the Icinga 2 fixture did not start (this test needs icinga2, openssl and curl, \
             installed by scripts/system-deps.sh): {e}"
        ),
    };
    let fixture_up = started.elapsed();
    let pids = fixture_pids(run.path());
    assert_eq!(pids.len(), 1, "one daemon PID recorded: {pids:?}");
    assert!(alive_in(pids[0], run.path()));

    let var = |k: &str| {
        fx.var(k)
            .unwrap_or_else(|| panic!("fixture.env lacks {k}"))
            .to_owned()
    };
    let cache = tempfile::tempdir().expect("cache dir");
    let mut live = Live {
        rt: Runtime::new(Some(cache.path())).expect("runtime"),
        url: var("FIXTURE_ICINGA_URL"),
        ca: PathBuf::from(var("FIXTURE_ICINGA_CA")),
        password: password.clone(),
        errors: Vec::new(),
    };
    assert_eq!(live.url, format!("https://127.0.0.1:{port}"));
    let p = live.rt.load_file(&wasm, None).expect("load icinga2.wasm");
    let sb = live.sandbox(true, &password, &[]);

    // --- describe: what it asks for ----------------------------------------
    let d = live.rt.describe(&p, &sb).expect("describe");
    assert_eq!(d.kind, cutover_runtime::World::Adapter);
    assert_eq!(d.capabilities.hosts, vec!["config:url".to_owned()]);
    assert_eq!(
        d.capabilities.secrets,
        vec!["icinga_user".to_owned(), "icinga_password".to_owned()]
    );

    // --- health over HTTPS with the granted CA -------------------------------
    let h = live.rt.health(&p, &sb).expect("health");
    assert!(h.available, "{h:?}");
    assert!(
        h.message.starts_with("Icinga r2.") && h.message.ends_with("API answered"),
        "{h:?}"
    );

    let health_ms = h.latency_ms;

    // --- collect-alerts: exactly the hard problems ---------------------------
    let t0 = now_ms();
    let call = Instant::now();
    let r = live.rt.collect_alerts(&p, &sb, window());
    let collect_time = call.elapsed();
    let alerts = live.record(r).expect("collect-alerts");
    let by_key: BTreeMap<&str, &wit::Alert> =
        alerts.iter().map(|a| (a.fingerprint.as_str(), a)).collect();
    assert_eq!(
        by_key.keys().copied().collect::<Vec<_>>(),
        [
            "db01!disk-data",
            "web01!api-up",
            "web01!cert-expiry",
            "web01!queue-emails",
            "web01!queue-orders"
        ],
        "hard problems only: no OK (db-up), soft (backup-age) or never checked \
         (replication) service: {alerts:#?}"
    );
    assert_eq!(alerts.len(), by_key.len(), "one alert per service");
    // The key: host!service, the state as severity, and the service's vars.
    let expect = |key: &str, sev: &str, vars: &[(&str, &str)]| {
        let (host, service) = key.split_once('!').expect("host!service");
        let mut want = BTreeMap::from([("alertname", service), ("host", host), ("severity", sev)]);
        want.extend(vars.iter().copied());
        assert_eq!(labels(by_key[key]), want, "labels of {key}");
    };
    expect(
        "web01!queue-orders",
        "warning",
        &[
            ("dummy_state", "1"),
            ("dummy_text", "queue orders depth 75"),
            ("team", "payments"),
            ("queue", "orders"),
        ],
    );
    expect(
        "web01!queue-emails",
        "critical",
        &[
            ("dummy_state", "2"),
            ("dummy_text", "queue emails depth 95"),
            ("team", "payments"),
            ("queue", "emails"),
        ],
    );
    expect(
        "web01!api-up",
        "critical",
        &[("dummy_state", "2"), ("dummy_text", "api is down")],
    );
    expect(
        "db01!disk-data",
        "unknown",
        &[
            ("dummy_state", "3"),
            ("dummy_text", "/data usage unknown"),
            ("mount", "/data"),
        ],
    );
    expect(
        "web01!cert-expiry",
        "warning",
        &[
            ("dummy_state", "1"),
            ("dummy_text", "certificate expires in 9 days"),
        ],
    );
    for a in &alerts {
        let key = a.fingerprint.as_str();
        // start.sh acknowledged cert-expiry: still a problem, but suppressed.
        let want_state = if key == "web01!cert-expiry" {
            wit::AlertState::Suppressed
        } else {
            wit::AlertState::Active
        };
        assert_eq!(a.state, want_state, "{key}");
        let ann: BTreeMap<&str, &str> = a
            .annotations
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(ann.get("summary").copied(), label(a, "dummy_text"), "{key}");
        assert_eq!(ann.get("state").copied(), label(a, "dummy_state"), "{key}");
        assert!(
            a.starts_at <= t0 && a.starts_at > t0 - 600_000,
            "{key}: starts_at {} is not within the 10 minutes before {t0}",
            a.starts_at
        );
        assert_eq!(a.ends_at, None, "{key}");
    }
    // A window that ended before the fixture started holds nothing.
    let past = wit::Window {
        start: 0,
        end: t0 - 3_600_000,
    };
    let r = live.rt.collect_alerts(&p, &sb, past);
    assert!(live.record(r).expect("past window").is_empty());

    // --- label_vars keeps only the named vars in the key ----------------------
    let narrow = live.sandbox(true, &password, &[("label_vars", "team, queue")]);
    let r = live.rt.collect_alerts(&p, &narrow, window());
    let narrowed = live.record(r).expect("collect with label_vars");
    let keys: BTreeSet<String> = narrowed
        .iter()
        .map(|a| {
            let l = labels(a);
            let extra: Vec<String> = l
                .iter()
                .filter(|(k, _)| !["alertname", "host", "severity"].contains(k))
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            format!("{}{{{}}}", a.fingerprint, extra.join(","))
        })
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from(
            [
                "db01!disk-data{}",
                "web01!api-up{}",
                "web01!cert-expiry{}",
                "web01!queue-emails{queue=emails,team=payments}",
                "web01!queue-orders{queue=orders,team=payments}",
            ]
            .map(String::from)
        )
    );

    // --- without the CA grant: a typed TLS certificate error -----------------
    let no_ca = live.sandbox(false, &password, &[]);
    let r = live.rt.collect_alerts(&p, &no_ca, window());
    match plugin_error(live.record(r)) {
        PluginError::Unavailable(m) => {
            assert!(m.contains("TlsCertificateError"), "{m}");
            assert!(m.contains("tls_ca"), "the remedy is named: {m}");
        }
        other => panic!("without the CA the call must fail with a TLS error, got {other:?}"),
    }
    let h = live.rt.health(&p, &no_ca).expect("health without CA");
    assert!(!h.available, "{h:?}");
    assert!(h.message.contains("TlsCertificateError"), "{h:?}");

    // --- wrong credentials: denied, naming the secrets, not their values -----
    let wrong = format!("{password}-wrong");
    let bad_auth = live.sandbox(true, &wrong, &[]);
    let r = live.rt.collect_alerts(&p, &bad_auth, window());
    match plugin_error(live.record(r)) {
        PluginError::Denied(m) => assert!(
            m.contains("HTTP 401") && m.contains("icinga_password"),
            "{m}"
        ),
        other => panic!("wrong credentials must be denied, got {other:?}"),
    }

    // --- an origin the plan does not grant: denied before any TLS -----------
    let mut sneaky = live.sandbox(true, &password, &[]);
    let other = format!("https://127.0.0.1:{}", free_port());
    let mut grants = (*sneaky.grants).clone();
    grants.config.insert("url".into(), other.clone());
    sneaky.grants = Arc::new(grants);
    let r = live.rt.collect_alerts(&p, &sneaky, window());
    match live.record(r) {
        Err(CallError::Denied {
            denied: Denied::Http(target),
            ..
        }) => assert_eq!(target, other),
        other => panic!("expected a typed HTTP denial, got {other:?}"),
    }

    // --- read-only adapter -----------------------------------------------------
    let r = live.rt.export_data(&p, &sb, "configurations", Vec::new());
    assert!(matches!(
        plugin_error(live.record(r)),
        PluginError::Unsupported(_)
    ));

    // --- the password never reaches logs or errors ---------------------------
    let log_text = logs.text();
    assert!(
        log_text.contains("collected 5 hard problems"),
        "plugin log lines are captured: {log_text}"
    );
    let errors = live.errors.join("\n");
    assert!(live.errors.len() >= 4, "errors were recorded: {errors}");
    for secret in [live.password.as_str(), wrong.as_str()] {
        let header = base64(format!("{USER}:{secret}").as_bytes());
        for (what, text) in [("logs", &log_text), ("errors", &errors)] {
            assert!(!text.contains(secret), "password in {what}");
            assert!(!text.contains(&header), "basic-auth header in {what}");
        }
    }

    // --- stop by PID --------------------------------------------------------------
    drop(live);
    let mut fx = fx;
    let stopped = fx.stop();
    assert!(stopped.contains("stopped icinga2"), "{stopped}");
    assert!(
        !alive_in(pids[0], run.path()),
        "icinga2 ({}) still runs after stop.sh",
        pids[0]
    );
    eprintln!(
        "icinga2 test: fixture up in {fixture_up:?}; health over TLS {health_ms} ms (guest-measured); \
         collect-alerts call {collect_time:?}; total {:?}",
        started.elapsed()
    );
}

//! What the real-systems tests share: the runtime's log captured, a
//! watchdog that stops the fixture when a test hangs, an environment of
//! sandboxes for the fixture's systems, and small readers of plugin output.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cutover_runtime::{
    CallError, DirGrant, Grants, Origin, Plugin, PluginError, Runtime, Sandbox, StaticSecrets, wit,
};
use cutover_systest::{Fixture, http};
use cutover_test_kit::plugin_path;

/// The built first-party plugin `name`, loaded into `rt`.
pub(crate) fn load_plugin(rt: &Runtime, name: &str) -> Plugin {
    rt.load_file(&plugin_path(name), None)
        .unwrap_or_else(|e| panic!("load {name}: {e}"))
}

/// The whole test is aborted (fixture stopped first) after this long.
const TEST_TIMEOUT: Duration = Duration::from_secs(300);

pub(crate) const AM_USER: &str = "cutover-ops";

pub(crate) const AM_PASSWORD: &str = "Am-pass-9f3c2e71-not-for-logs";

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Collects everything the runtime logs (plugin log lines included).
#[derive(Clone, Default)]
pub(crate) struct LogBuf(Arc<Mutex<Vec<u8>>>);

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
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }
}

/// A subscriber writing everything cutover logs (plugin lines included) to
/// `logs`; only warnings from wasmtime/cranelift, whose trace output would
/// slow compilation 100x.
pub(crate) fn log_into(logs: &LogBuf) -> impl tracing::Subscriber + Send + Sync + 'static {
    let sink = logs.clone();
    tracing_subscriber::fmt()
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .with_env_filter(tracing_subscriber::EnvFilter::new("warn,cutover=trace"))
        .finish()
}

/// Aborts the process (after stopping the fixture) if the test hangs.
pub(crate) struct Watchdog(Arc<AtomicBool>);

impl Watchdog {
    pub(crate) fn arm(fixture: &Fixture) -> Self {
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

pub(crate) struct Env<'a> {
    pub(crate) rt: Runtime,
    pub(crate) fx: &'a Fixture,
    pub(crate) errors: Vec<String>,
}

impl Env<'_> {
    pub(crate) fn port(&self, key: &str) -> u16 {
        self.fx
            .var(key)
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("fixture.env lacks {key}"))
    }

    pub(crate) fn dir(&self, key: &str) -> PathBuf {
        PathBuf::from(
            self.fx
                .var(key)
                .unwrap_or_else(|| panic!("fixture.env lacks {key}")),
        )
    }

    /// Alertmanager sandbox for stack `a`/`b`; basic auth through secrets.
    pub(crate) fn am_sandbox(&self, stack: &str) -> Sandbox {
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

    pub(crate) fn prom_sandbox(&self, stack: &str) -> Sandbox {
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

    pub(crate) fn record<T>(&mut self, r: Result<T, CallError>) -> Result<T, CallError> {
        if let Err(e) = &r {
            self.errors.push(format!("{e} / {e:?}"));
        }
        r
    }

    pub(crate) fn alerts(&mut self, p: &Plugin, sb: &Sandbox) -> Vec<wit::Alert> {
        let r = self.rt.collect_alerts(p, sb, window());
        self.record(r).expect("collect-alerts")
    }

    pub(crate) fn export(
        &mut self,
        p: &Plugin,
        sb: &Sandbox,
        kind: &str,
    ) -> (wit::ExportInfo, Vec<u8>) {
        let r = self.rt.export_data(p, sb, kind, Vec::new());
        let e = self
            .record(r)
            .unwrap_or_else(|e| panic!("export {kind}: {e}"));
        assert_eq!(e.bytes as usize, e.writer.len());
        (e.info, e.writer)
    }

    pub(crate) fn import(
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
pub(crate) fn plugin_error<T: std::fmt::Debug>(r: Result<T, CallError>) -> PluginError {
    match r {
        Err(CallError::Plugin { error, .. }) => error,
        other => panic!("expected the plugin to report an error, got {other:?}"),
    }
}

/// The last hour and the next minute.
pub(crate) fn window() -> wit::Window {
    wit::Window {
        start: now_ms() - 3_600_000,
        end: now_ms() + 60_000,
    }
}

pub(crate) fn label<'a>(a: &'a wit::Alert, key: &str) -> Option<&'a str> {
    a.labels
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// `alertname` plus `{queue}` where present: the identity the fixture varies.
pub(crate) fn keys(alerts: &[wit::Alert]) -> BTreeSet<String> {
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

pub(crate) fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

pub(crate) fn detail<'a>(o: &'a wit::Outcome, key: &str) -> &'a str {
    o.details
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("outcome {o:?} lacks {key}"))
}

/// Polls `f` every 250 ms for up to `secs`; returns its last value.
pub(crate) fn eventually<T>(secs: u64, mut f: impl FnMut() -> (bool, T)) -> T {
    let until = Instant::now() + Duration::from_secs(secs);
    loop {
        let (ok, v) = f();
        if ok || Instant::now() > until {
            return v;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

pub(crate) fn am_status_config(port: u16) -> String {
    let (status, body) = http::request("GET", port, "/api/v2/status", None).expect("status");
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("status JSON");
    v["config"]["original"]
        .as_str()
        .expect("config.original")
        .to_owned()
}

/// Standard base64, to look for a leaked basic-auth header.
pub(crate) fn base64(data: &[u8]) -> String {
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

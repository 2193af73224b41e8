//! `cutover plugin test FILE FIXTURE...`: run a plugin against fixture files
//! with the host side recorded (config values, secrets, HTTP answers,
//! directories) and assert its verdict or output. For plugin repositories' CI.
//!
//! A fixture is JSON:
//! ```json
//! { "call": "evaluate", "params": {"url": "http://127.0.0.1:9093/-/ready"},
//!   "config": {"k": "v"}, "secrets": {"name": "value"},
//!   "dirs": [{"name": "data", "path": "data", "write": false}],
//!   "http": [{"method": "GET", "url": "http://127.0.0.1:9093/-/ready", "status": 200, "body": "OK"}],
//!   "kind": "configurations", "window": {"start": 0, "end": 1},
//!   "expect": {"verdict": "pass", "message_contains": "..", "measurements": {"status": 200},
//!              "error": "denied", "summary_contains": "..", "alerts": 6, "available": true} }
//! ```
//! Hosts of the recorded URLs are granted; no request reaches the network.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use cutover_runtime::{
    CallError, DirGrant, Grants, Limits, Origin, Plugin, Recorded, Runtime, Sandbox, StaticSecrets,
    wit,
};
use serde::Deserialize;

use cutover_engine::gate::CheckVerdict;

use super::usage;
use crate::exit;

/// Arguments of `plugin test`.
#[derive(Args)]
pub struct TestArgs {
    /// Component file.
    pub file: PathBuf,
    /// Fixture files (JSON).
    #[arg(required = true)]
    pub fixtures: Vec<PathBuf>,
    /// Deadline per call, describe() at load included, e.g. 500ms, 10s.
    #[arg(long, default_value = "10s")]
    pub deadline: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    call: Option<String>,
    #[serde(default = "empty_object")]
    params: serde_json::Value,
    #[serde(default)]
    config: BTreeMap<String, String>,
    #[serde(default)]
    secrets: BTreeMap<String, String>,
    #[serde(default)]
    dirs: Vec<FixtureDir>,
    #[serde(default)]
    http: Vec<Recorded>,
    kind: Option<String>,
    window: Option<wit::Window>,
    expect: Expect,
}

fn empty_object() -> serde_json::Value {
    serde_json::json!({})
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FixtureDir {
    name: String,
    path: PathBuf,
    #[serde(default)]
    write: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Expect {
    verdict: Option<String>,
    message_contains: Option<String>,
    #[serde(default)]
    measurements: BTreeMap<String, f64>,
    error: Option<String>,
    summary_contains: Option<String>,
    alerts: Option<usize>,
    available: Option<bool>,
}

/// What a call produced, reduced to what fixtures can assert.
#[derive(Default, Debug)]
struct Seen {
    verdict: Option<String>,
    message: String,
    measurements: BTreeMap<String, f64>,
    summary: String,
    alerts: Option<usize>,
    available: Option<bool>,
}

/// The error kind fixtures name: the plugin's own error kind, else the host's.
fn error_name(e: &CallError) -> String {
    match e {
        CallError::Plugin { error, .. } => error.kind().to_string(),
        other => other.kind().to_string(),
    }
}

fn sandbox(f: &Fixture, base: &Path, limits: &Limits) -> anyhow::Result<Sandbox> {
    let mut hosts: Vec<Origin> = Vec::new();
    for r in &f.http {
        let uri: http::Uri = r
            .url
            .parse()
            .map_err(|e| usage(format!("http url {:?}: {e}", r.url)))?;
        let o = Origin::of_uri(&uri)
            .ok_or_else(|| usage(format!("http url {:?} has no scheme or host", r.url)))?;
        if !hosts.contains(&o) {
            hosts.push(o);
        }
    }
    let grants = Grants {
        hosts,
        dirs: f
            .dirs
            .iter()
            .map(|d| DirGrant {
                name: d.name.clone(),
                path: base.join(&d.path),
                write: d.write,
            })
            .collect(),
        secrets: f.secrets.keys().cloned().collect(),
        config: f.config.clone(),
    };
    Ok(Sandbox {
        grants: Arc::new(grants),
        limits: limits.clone(),
        secrets: Arc::new(StaticSecrets(f.secrets.clone())),
        http_replay: Some(Arc::new(f.http.clone())),
        ..Sandbox::default()
    })
}

fn call(
    rt: &Runtime,
    p: &Plugin,
    sb: &Sandbox,
    f: &Fixture,
) -> anyhow::Result<Result<Seen, CallError>> {
    let ctx = wit::Context {
        plan: "plugin-test".into(),
        phase: String::new(),
        step: String::new(),
        run_id: "plugin-test".into(),
        params: f.params.to_string(),
    };
    let name = f
        .call
        .clone()
        .unwrap_or_else(|| super::plugin::default_call(p.world()).to_string());
    let kind = || {
        f.kind
            .clone()
            .ok_or_else(|| usage(format!("call {name} needs \"kind\"")))
    };
    let seen = match name.as_str() {
        "evaluate" => rt.evaluate(p, sb, &ctx).map(|v| Seen {
            verdict: Some(CheckVerdict::from(v.verdict).as_str().into()),
            message: v.message,
            measurements: v
                .measurements
                .into_iter()
                .map(|m| (m.name, m.value))
                .collect(),
            ..Seen::default()
        }),
        "run" => rt.run_action(p, sb, &ctx).map(|o| Seen {
            summary: o.summary,
            ..Seen::default()
        }),
        "health" => rt.health(p, sb).map(|h| Seen {
            available: Some(h.available),
            message: h.message,
            ..Seen::default()
        }),
        "collect-alerts" => {
            let window = f.window.unwrap_or(wit::Window {
                start: 0,
                end: i64::MAX,
            });
            rt.collect_alerts(p, sb, window).map(|a| Seen {
                alerts: Some(a.len()),
                ..Seen::default()
            })
        }
        "export-data" | "capture-state" => {
            let k = kind()?;
            let out = if name == "export-data" {
                rt.export_data(p, sb, &k, Vec::new())
            } else {
                rt.capture_state(p, sb, &k, Vec::new())
            };
            out.map(|e| Seen {
                summary: String::from_utf8_lossy(&e.writer).into_owned(),
                ..Seen::default()
            })
        }
        other => {
            return Err(usage(format!(
                "call {other:?} is not supported by plugin test"
            )));
        }
    };
    Ok(seen)
}

/// Compares what was seen with what the fixture expects; the mismatches.
fn check(expect: &Expect, seen: &Result<Seen, CallError>) -> Vec<String> {
    let mut bad = Vec::new();
    let s = match (seen, &expect.error) {
        (Err(e), Some(want)) => {
            let got = error_name(e);
            if &got != want {
                bad.push(format!("expected error {want}, got {got}: {e}"));
            }
            return bad;
        }
        (Err(e), None) => return vec![format!("call failed: {e}")],
        (Ok(_), Some(want)) => return vec![format!("expected error {want}, the call succeeded")],
        (Ok(s), None) => s,
    };
    if let Some(v) = &expect.verdict
        && s.verdict.as_deref() != Some(v.as_str())
    {
        bad.push(format!(
            "expected verdict {v}, got {:?} ({})",
            s.verdict, s.message
        ));
    }
    if let Some(m) = &expect.message_contains
        && !s.message.contains(m.as_str())
    {
        bad.push(format!("message {:?} does not contain {m:?}", s.message));
    }
    for (k, want) in &expect.measurements {
        match s.measurements.get(k) {
            Some(got) if (got - want).abs() < 1e-9 => {}
            got => bad.push(format!("measurement {k}: expected {want}, got {got:?}")),
        }
    }
    if let Some(m) = &expect.summary_contains
        && !s.summary.contains(m.as_str())
    {
        bad.push(format!("output does not contain {m:?}"));
    }
    if let Some(n) = expect.alerts
        && s.alerts != Some(n)
    {
        bad.push(format!("expected {n} alerts, got {:?}", s.alerts));
    }
    if let Some(a) = expect.available
        && s.available != Some(a)
    {
        bad.push(format!("expected available={a}, got {:?}", s.available));
    }
    bad
}

/// Runs every fixture; exit 0 when all pass, 1 when any fails.
pub fn test(a: TestArgs) -> anyhow::Result<u8> {
    let rt = super::runtime()?;
    let limits = Limits {
        deadline: super::plugin::deadline_arg(&a.deadline)?,
        ..Limits::default()
    };
    let plugin = rt.load_file_with(&a.file, None, &limits)?;
    let mut failed = 0;
    for path in &a.fixtures {
        let text = super::read_input(path, "fixture")?;
        let f: Fixture = serde_json::from_str(&text).map_err(|e| {
            usage(format!(
                "{}:{}:{}: {e}",
                path.display(),
                e.line(),
                e.column()
            ))
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let sb = sandbox(&f, base, &limits)?;
        let seen = call(&rt, &plugin, &sb, &f)?;
        let bad = check(&f.expect, &seen);
        if bad.is_empty() {
            println!("PASS {}", path.display());
        } else {
            failed += 1;
            println!("FAIL {}", path.display());
            for b in bad {
                println!("  {b}");
            }
        }
    }
    println!("{} passed, {} failed", a.fixtures.len() - failed, failed);
    Ok(if failed == 0 { exit::OK } else { exit::FAILED })
}

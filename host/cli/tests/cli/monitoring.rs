//! Monitoring through the binary: live metrics during a run and
//! `serve-metrics` after it (scraped by a real Prometheus), and incidents
//! listed, shown, acknowledged and resumed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use cutover_base::exit::ExitClass;
use cutover_test_kit::http;

use super::*;

/// A port nothing listens on (yet).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// GET /metrics; `None` while nothing listens.
pub(crate) fn scrape(port: u16) -> Option<String> {
    http::get(port, "/metrics").map(|(_, body)| body)
}

fn progress_of(text: &str, phase: &str) -> Option<f64> {
    text.lines()
        .filter(|l| {
            l.starts_with("migration_progress{") && l.contains(&format!("phase=\"{phase}\""))
        })
        .find_map(|l| l.rsplit(' ').next().and_then(|v| v.parse().ok()))
}

#[test]
fn live_metrics_during_a_run_and_serve_metrics_after() {
    let off = "rollback_point = false";
    let tmp = fixture(
        &(phase("one", "One", off, &[noop_step("s1")])
            + &phase("two", "Two", off, &[wait_step("settle", "2s")])),
    );
    let (child, _, seen) = serve(tmp.path(), &["run", "plan.toml", "--metrics"], true, |m| {
        progress_of(m, "one") == Some(1.0)
    });
    assert_eq!(progress_of(&seen, "two"), Some(0.0), "{seen}");
    assert!(
        seen.contains("system_availability{system=\"old\"} 1"),
        "{seen}"
    );
    let o = child.wait_with_output().expect("wait");
    expect(&o, ExitClass::Ok.into());

    let args = ["serve-metrics", "plan.toml", "--listen"];
    let (mut server, port, text) = serve(tmp.path(), &args, false, |m| {
        progress_of(m, "two") == Some(1.0)
    });
    let scraped = prometheus_scrapes(tmp.path(), port);
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(progress_of(&text, "one"), Some(1.0), "{text}");
    assert!(text.contains("plugin_calls_total{"), "{text}");
    // The real Prometheus scraped and stored both phases' progress.
    assert_eq!(scraped.get("one"), Some(&1.0), "{scraped:?}");
    assert_eq!(scraped.get("two"), Some(&1.0), "{scraped:?}");
}

/// Starts `cutover ARGS 127.0.0.1:PORT` in `dir` (PORT a free one; its
/// output captured when `capture`, for `wait_with_output`) and scrapes
/// PORT until `ready` holds of the metrics; returns the child, the port and
/// the last metrics.
fn serve(
    dir: &Path,
    args: &[&str],
    capture: bool,
    ready: impl Fn(&str) -> bool,
) -> (Child, u16, String) {
    let port = free_port();
    let stdio = || {
        if capture {
            Stdio::piped()
        } else {
            Stdio::null()
        }
    };
    let child = cutover(dir)
        .args(args)
        .arg(format!("127.0.0.1:{port}"))
        .stdout(stdio())
        .stderr(stdio())
        .spawn()
        .expect("spawn");
    let mut seen = String::new();
    wait_for(&format!("cutover {} to serve metrics", args[0]), || {
        seen = scrape(port).unwrap_or_default();
        ready(&seen)
    });
    (child, port, seen)
}

/// Debian's Prometheus (installed by scripts/system-deps.sh; tests never
/// install anything).
fn ensure_prometheus() -> PathBuf {
    let bin = PathBuf::from("/usr/bin/prometheus");
    assert!(
        bin.is_file(),
        "Debian's prometheus is required and {} is missing: run scripts/system-deps.sh \
         (or scripts/setup.sh) first",
        bin.display()
    );
    bin
}

/// Kills a child by PID when dropped.
struct Reap(Child);

impl Drop for Reap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a real Prometheus on 127.0.0.1 scraping `cutover serve-metrics`
/// on `port` every second; returns `migration_progress` by phase as stored.
fn prometheus_scrapes(dir: &Path, port: u16) -> BTreeMap<String, f64> {
    let bin = ensure_prometheus();
    let prom_port = free_port();
    let cfg = dir.join("prometheus.yml");
    std::fs::write(
        &cfg,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: cutover\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
        ),
    )
    .expect("write prometheus.yml");
    let _prom = Reap(
        Command::new(bin)
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus"),
    );
    let mut found = BTreeMap::new();
    wait_for("Prometheus stores migration_progress", || {
        found = query_progress(prom_port).unwrap_or_default();
        found.len() >= 2
    });
    found
}

fn query_progress(port: u16) -> Option<BTreeMap<String, f64>> {
    let (_, body) = http::get(port, "/api/v1/query?query=migration_progress")?;
    let v: serde_json::Value = serde_json::from_str(&body).ok()?;
    let mut out = BTreeMap::new();
    for r in v["data"]["result"].as_array()? {
        let phase = r["metric"]["phase"].as_str()?.to_string();
        let value = r["value"][1].as_str()?.parse().ok()?;
        out.insert(phase, value);
    }
    Some(out)
}

#[test]
fn incident_list_show_ack_and_resume() {
    let pr = step(
        "pr",
        "parallel-run",
        "window = \"100ms\"\ninterval = \"100ms\"\ntolerance = \"1s\"",
    );
    let procedure = r#"
[emergency.low-rate]
description = "New system misses alerts"
notify = ["oncall"]
steps = ["Check the routing tree", "Page the SRE lead"]
"#;
    let tmp = fixture(&(phase("one", "One", "rollback_point = false", &[pr]) + procedure));
    for side in ["old", "new"] {
        std::fs::copy(
            root().join(format!("plans/demo-data/{side}/alerts.json")),
            tmp.path().join(side).join("alerts.json"),
        )
        .expect("copy alerts");
    }
    let o = run(
        tmp.path(),
        &["run", "plan.toml", "--on-alert", "emergency:low-rate"],
    );
    expect(&o, ExitClass::Paused.into());
    assert!(out(&o).contains("incident INC-1"), "{}", out(&o));
    assert!(
        out(&o).contains("cutover incident ack PLAN INC-1 1"),
        "{}",
        out(&o)
    );

    let o = run(tmp.path(), &["incident", "list", "plan.toml"]);
    expect(&o, ExitClass::Ok.into());
    assert!(out(&o).contains("INC-1"), "{}", out(&o));
    assert!(out(&o).contains("low-rate"), "{}", out(&o));
    let o = run(tmp.path(), &["incident", "list", "plan.toml", "--json"]);
    expect(&o, ExitClass::Ok.into());
    let all: serde_json::Value = serde_json::from_str(&out(&o)).expect("json");
    assert_eq!(all.as_array().map(Vec::len), Some(1));
    assert_eq!(all[0]["steps"][0]["status"], "pending");
    assert_eq!(all[0]["steps"][0]["kind"], "manual");

    let o = run(
        tmp.path(),
        &["incident", "ack", "plan.toml", "INC-1", "1", "--by", "bob"],
    );
    expect(&o, ExitClass::Ok.into());
    assert!(out(&o).contains("next: step 2"), "{}", out(&o));
    // Acknowledging it twice, or a missing step or incident, is a usage error.
    expect(
        &run(tmp.path(), &["incident", "ack", "plan.toml", "INC-1", "1"]),
        ExitClass::Usage.into(),
    );
    expect(
        &run(tmp.path(), &["incident", "ack", "plan.toml", "INC-1", "9"]),
        ExitClass::Usage.into(),
    );
    expect(
        &run(tmp.path(), &["incident", "show", "plan.toml", "INC-7"]),
        ExitClass::Usage.into(),
    );

    let o = run(
        tmp.path(),
        &["incident", "show", "plan.toml", "INC-1", "--json"],
    );
    expect(&o, ExitClass::Ok.into());
    let inc: serde_json::Value = serde_json::from_str(&out(&o)).expect("json");
    assert_eq!(inc["steps"][0]["status"], "acked");
    assert_eq!(inc["steps"][0]["by"], "bob");
    assert!(inc["steps"][0]["at_ms"].as_i64().is_some());
    assert_eq!(inc["steps"][1]["status"], "pending");
    let o = run(tmp.path(), &["incident", "show", "plan.toml", "INC-1"]);
    assert!(out(&o).contains("status     open"), "{}", out(&o));

    // Still waiting for step 2.
    expect(
        &run(
            tmp.path(),
            &["resume", "plan.toml", "--on-alert", "emergency:low-rate"],
        ),
        ExitClass::Paused.into(),
    );
    expect(
        &run(tmp.path(), &["incident", "ack", "plan.toml", "INC-1", "2"]),
        ExitClass::Ok.into(),
    );
    // Fix the new system, then the resume resolves the incident and reruns the step.
    std::fs::copy(
        tmp.path().join("old/alerts.json"),
        tmp.path().join("new/alerts.json"),
    )
    .expect("copy");
    let o = run(
        tmp.path(),
        &["resume", "plan.toml", "--on-alert", "emergency:low-rate"],
    );
    expect(&o, ExitClass::Ok.into());
    let o = run(
        tmp.path(),
        &["incident", "show", "plan.toml", "INC-1", "--json"],
    );
    let inc: serde_json::Value = serde_json::from_str(&out(&o)).expect("json");
    assert!(inc["resolved_ms"].as_i64().is_some(), "{inc}");
}

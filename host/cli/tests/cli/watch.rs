//! `cutover watch`: with only the watcher running, an incident of a paused
//! run escalates on time, its notification reaches a webhook sink on
//! 127.0.0.1 and the journal records the escalation by `watcher`; the
//! watcher serves `/metrics`, leaves the lease to operator commands, never
//! advances the run, and stops with exit 0 on SIGTERM and SIGINT.

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use cutover_base::exit::ExitClass;
use cutover_test_kit::http::{CannedServer, Response};

use super::*;

/// How long after its due time an escalation may arrive: one poll interval
/// plus slack for a loaded CI machine (process start, plan load).
const SLACK: Duration = Duration::from_secs(8);

/// Starts `cutover watch plan.toml` with a 200 ms poll, serving metrics on
/// `metrics_port`.
fn spawn_watch(dir: &Path, metrics_port: u16) -> Child {
    cutover(dir)
        .args([
            "watch",
            "plan.toml",
            "--interval",
            "200ms",
            "--listen",
            &format!("127.0.0.1:{metrics_port}"),
        ])
        .env("CUTOVER_NOTIFY_ATTEMPTS", "2")
        .env("CUTOVER_NOTIFY_TIMEOUT_MS", "2000")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn cutover watch")
}

/// Sends `signal` to `child` and waits (bounded) for it to end; its output.
fn stop(mut child: Child, signal: libc::c_int) -> std::process::Output {
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    // SAFETY: `pid` is our own child, still unreaped, so the id is its own.
    let rc = unsafe { libc::kill(pid, signal) };
    assert_eq!(rc, 0, "kill: {}", std::io::Error::last_os_error());
    let t0 = Instant::now();
    loop {
        if child.try_wait().expect("try_wait").is_some() {
            break;
        }
        if t0.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("cutover watch did not stop within 10 s of signal {signal}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

/// The webhook bodies `sink` got whose alert name is `alertname`.
fn received(sink: &CannedServer, alertname: &str) -> Vec<serde_json::Value> {
    sink.bodies()
        .iter()
        .filter_map(|b| serde_json::from_str::<serde_json::Value>(b).ok())
        .filter(|v| v["alerts"][0]["labels"]["alertname"] == alertname)
        .collect()
}

/// The journal records of kind `kind`, as `(kind, payload)` JSON lines.
fn journal_records(dir: &Path, kind: &str) -> Vec<serde_json::Value> {
    let o = run(dir, &["history", "plan.toml", "--json"]);
    expect(&o, ExitClass::Ok.into());
    let all: serde_json::Value = serde_json::from_str(&out(&o)).expect("history json");
    all.as_array()
        .map(|a| a.iter().filter(|r| r["kind"] == kind).cloned().collect())
        .unwrap_or_default()
}

#[test]
fn incident_escalates_on_time_with_only_the_watcher_running() {
    let sink = CannedServer::start(|_, _| Response::ok("ok"));
    let hook = format!("am+{}", sink.url("/hook"));
    let body = format!(
        r#"{GATED}
[emergency.system_failure]
description = "The new system is down"
notify = ["oncall", "{hook}"]
escalation = "3s"
steps = ["Switch routing back to the old system"]
"#
    );
    let tmp = fixture(&body);
    let dir = tmp.path();
    // The run waits at the gate of phase two; an operator opens an incident.
    expect(&run(dir, &["run", "plan.toml"]), ExitClass::Paused.into());
    let o = cutover(dir)
        .env_remove("CUTOVER_ESCALATION")
        .args(["incident", "open", "plan.toml", "system_failure"])
        .args(["--details", "new Alertmanager down", "--by", "alice"])
        .output()
        .expect("incident open");
    expect(&o, ExitClass::Ok.into());
    let opened = Instant::now();
    assert_eq!(received(&sink, "cutover-incident").len(), 1);

    let metrics_port = free_port();
    let child = spawn_watch(dir, metrics_port);
    // Metrics are served while watching.
    let mut metrics = None;
    wait_for("cutover watch to serve /metrics", || {
        metrics = scrape(metrics_port);
        metrics.is_some()
    });
    assert_has(&metrics.unwrap_or_default(), "migration_progress{");
    // Not escalated before its time (what arrived came before `early`).
    let before = received(&sink, "cutover-escalation");
    let early = opened.elapsed();
    if early < Duration::from_secs(3) {
        assert!(before.is_empty(), "escalated after {early:?}");
    }
    let escalation = loop {
        if let Some(v) = received(&sink, "cutover-escalation").pop() {
            break v;
        }
        assert!(
            opened.elapsed() < Duration::from_secs(3) + SLACK,
            "no escalation {:?} after the incident opened",
            opened.elapsed()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let arrived = opened.elapsed();
    assert!(
        arrived >= Duration::from_secs(3),
        "escalated early: {arrived:?}"
    );
    assert_eq!(escalation["alerts"][0]["labels"]["incident"], "INC-1");
    assert_eq!(escalation["alerts"][0]["labels"]["plan"], "cli-test");
    // Escalated once, however many polls follow.
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(received(&sink, "cutover-escalation").len(), 1);
    // Metrics still answer.
    assert!(scrape(metrics_port).is_some());
    // The lease is free between polls: operator commands that take it work,
    // and `resume` resolves the incident and stops at the gate of phase two.
    let o = run(
        dir,
        &["incident", "ack", "plan.toml", "INC-1", "1", "--by", "bob"],
    );
    expect(&o, ExitClass::Ok.into());
    let o = run(dir, &["resume", "plan.toml"]);
    expect(&o, ExitClass::Paused.into());
    assert_has(&out(&o), "ready for two?");

    let o = stop(child, libc::SIGTERM);
    expect(&o, ExitClass::Ok.into());
    assert_has(&out(&o), "run status: paused");
    assert_has(
        &out(&o),
        "escalated INC-1 (notifications: 1 sent, 0 failed)",
    );
    assert_has(&err(&o), "stopped watching plan \"cli-test\"");
    // The metrics port is released.
    assert!(scrape(metrics_port).is_none());

    // The journal shows the escalation by the watcher, on time, and its delivery.
    let esc = journal_records(dir, "incident-escalated");
    assert_eq!(esc.len(), 1, "{esc:?}");
    assert_eq!(esc[0]["payload"]["by"], "watcher");
    assert_eq!(esc[0]["payload"]["id"], "INC-1");
    let inc = {
        let o = run(dir, &["incident", "show", "plan.toml", "INC-1", "--json"]);
        expect(&o, ExitClass::Ok.into());
        serde_json::from_str::<serde_json::Value>(&out(&o)).expect("incident json")
    };
    let (opened_ms, escalated_ms) = (
        inc["opened_ms"].as_i64().expect("opened_ms"),
        inc["escalated_ms"].as_i64().expect("escalated_ms"),
    );
    assert!(escalated_ms - opened_ms >= 3000, "{inc}");
    let sent: Vec<_> = journal_records(dir, "notification-sent")
        .into_iter()
        .filter(|r| r["payload"]["subject"] == "escalation INC-1")
        .collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["payload"]["target"], hook.as_str());
    // The watcher ran no step and moved no phase: phase two still waits
    // for its approval.
    let s = status_json(dir);
    assert_eq!(
        (&s["status"], &s["waiting_for"], &s["open_incident"]),
        (&"paused".into(), &"two".into(), &serde_json::Value::Null),
        "{s}"
    );
    assert!(
        journal_records(dir, "step-started")
            .iter()
            .all(|r| r["payload"]["step"] != "s2"),
        "the watcher ran a step"
    );
}

#[test]
fn watch_without_a_run_serves_metrics_and_stops_on_sigint() {
    let tmp = fixture(GATED);
    let metrics_port = free_port();
    let child = spawn_watch(tmp.path(), metrics_port);
    wait_for("cutover watch to serve /metrics", || {
        scrape(metrics_port).is_some()
    });
    let o = stop(child, libc::SIGINT);
    expect(&o, ExitClass::Ok.into());
    assert_has(&out(&o), "run status: not-started");
    assert!(scrape(metrics_port).is_none());
}

#[test]
fn bad_intervals_and_notification_targets_are_refused() {
    let tmp = fixture(GATED);
    let dir = tmp.path();
    let o = run(dir, &["watch", "plan.toml", "--interval", "0s"]);
    expect(&o, ExitClass::Usage.into());
    assert_has(&err(&o), "--interval must be longer than 0s");
    // A plan whose notification target can never work is not watched.
    let plan = std::fs::read_to_string(dir.join("plan.toml")).expect("plan");
    let bad = plan.replacen(
        "[plan]\n",
        "[plan]\nnotify = [\"ftp://hooks.example/in\"]\n",
        1,
    );
    std::fs::write(dir.join("bad.toml"), bad).expect("write plan");
    let o = run(dir, &["watch", "bad.toml"]);
    expect(&o, ExitClass::Usage.into());
    assert_has(
        &err(&o),
        "has scheme `ftp`: webhooks are sent over http or https only",
    );
    // Neither is one given on the command line or in CUTOVER_NOTIFY; nothing runs.
    let o = run(dir, &["run", "plan.toml", "--notify", "https:///hook"]);
    expect(&o, ExitClass::Usage.into());
    assert_has(
        &err(&o),
        "--notify / CUTOVER_NOTIFY: notification target `https:///hook` has no host",
    );
    let o = cutover(dir)
        .env("CUTOVER_NOTIFY", "#ops, smtp://mail.example")
        .args(["run", "plan.toml"])
        .output()
        .expect("run");
    expect(&o, ExitClass::Usage.into());
    assert_has(&err(&o), "`smtp://mail.example` has scheme `smtp`");
    assert_eq!(status_json(dir)["status"], "not-started");
}

#[test]
fn watch_help() {
    let o = run(Path::new("."), &["watch", "--help"]);
    expect(&o, ExitClass::Ok.into());
    insta::assert_snapshot!("watch_help", out(&o));
}

//! Monitoring: emergency procedures with incidents, acknowledgements and
//! escalation; notifications retried and their failures journaled; an
//! unmitigated high risk blocking its phase.

use std::time::{Duration, Instant};

use cutover_test_kit::plan::noop_step;

use super::parallel::{fix_data, low_rate};
use super::*;

/// The JSON bodies `server` was sent.
fn json_bodies(server: &CannedServer) -> Vec<serde_json::Value> {
    server
        .requests()
        .iter()
        .filter_map(|r| serde_json::from_slice(&r.body).ok())
        .collect()
}

/// The `alertname` of the first alert of each Alertmanager payload.
fn alertnames(bodies: &[serde_json::Value]) -> Vec<String> {
    bodies
        .iter()
        .map(|b| {
            b["alerts"][0]["labels"]["alertname"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

fn fast_retry() -> cutover_notify::RetryPolicy {
    cutover_notify::RetryPolicy {
        attempts: 3,
        timeout: Duration::from_millis(300),
        backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(20),
        budget: Duration::from_secs(3),
    }
}

#[test]
fn emergency_procedure_runs_automated_steps_waits_for_acks_and_escalates() {
    let sink = CannedServer::failing_first(0);
    let url = sink.origin();
    let body = format!(
        r#"{}
[emergency.low-rate]
description = "New system misses alerts"
notify = ["am+{url}/hook", "oncall"]
steps = ["action: noop", "Check the routing tree", "pause"]
"#,
        low_rate()
    );
    let fx = Fixture::with(&body, true);
    let opts = RunOptions {
        policy: cutover_engine::AlertPolicy::Emergency("low-rate".into()),
        escalation: Some(Duration::ZERO),
        notify_retry: Some(fast_retry()),
        ..RunOptions::default()
    };
    let out = fx.run_with(Mode::Run, opts.clone()).expect("run");
    assert!(
        matches!(&out, RunOutcome::Paused { reason } if reason.contains("INC-1") && reason.contains("step 2")),
        "{out:?}"
    );
    let inc = cutover_engine::incident::show(&fx.state_dir(), "INC-1").expect("incident");
    let statuses: Vec<&str> = inc.steps.iter().map(|s| s.status.as_str()).collect();
    assert_eq!(statuses, vec!["done", "pending", "pending"]);
    assert_eq!(inc.procedure, "low-rate");
    // The ack escalates first: the escalation time (0) has passed.
    let ack = cutover_engine::incident::ack(&fx.state_dir(), "INC-1", 2, "bob", "routes ok", &[])
        .expect("ack");
    assert_eq!(ack.escalated, vec!["INC-1".to_string()]);
    assert_eq!(ack.next, Some((3, "pause".to_string())));
    // Settled and automated steps cannot be acked; step 4 does not exist.
    for step in [2, 3, 4] {
        assert!(
            cutover_engine::incident::ack(&fx.state_dir(), "INC-1", step, "bob", "", &[]).is_err()
        );
    }
    let bodies = json_bodies(&sink);
    assert_eq!(
        alertnames(&bodies),
        vec![
            "cutover-incident".to_string(),
            "cutover-escalation".to_string()
        ]
    );
    assert_eq!(bodies[1]["version"], "4");
    // Step 3 pauses the run; the next resume resolves the incident, runs
    // the failed step again and completes.
    fix_data(&fx);
    let out = fx.run_with(Mode::Resume, opts.clone()).expect("resume");
    assert!(
        matches!(&out, RunOutcome::Paused { reason } if reason.contains("paused by step 3")),
        "{out:?}"
    );
    assert_eq!(
        fx.run_with(Mode::Resume, opts).expect("resume"),
        RunOutcome::Completed
    );
    let inc = cutover_engine::incident::show(&fx.state_dir(), "INC-1").expect("incident");
    assert_eq!(inc.status(), "resolved");
    assert!(inc.steps.iter().all(|s| s.at_ms.is_some()));
}

#[test]
fn notifications_retry_and_failures_are_journaled() {
    let flaky_sink = CannedServer::failing_first(2);
    let flaky = flaky_sink.origin();
    let silent = CannedServer::silent();
    let silent_url = silent.origin();
    let notify = |id: &str, message: &str, target: &str| {
        let keys = format!("message = \"{message}\"\ntarget = \"{target}\"");
        step(id, "notify", &keys)
    };
    let one = [
        notify("tell", "cutover starts", &format!("slack+{flaky}/x")),
        notify("tell-silent", "nobody listens", &format!("{silent_url}/y")),
    ];
    let gate = "gate = { approvers = [\"alice\"], message = \"go?\" }";
    let fx =
        Fixture::new(&(phase_one(&one.concat()) + &phase("two", "Two", gate, &[noop_step("s2")])));
    let am_sink = CannedServer::failing_first(0);
    let opts = RunOptions {
        notify: vec![format!("am+{}", am_sink.url("/hook"))],
        notify_retry: Some(fast_retry()),
        ..RunOptions::default()
    };
    let t0 = Instant::now();
    let out = fx.run_with(Mode::Run, opts).expect("run");
    assert!(
        matches!(out, RunOutcome::AwaitingApproval { .. }),
        "{out:?}"
    );
    assert!(t0.elapsed() < Duration::from_secs(20));
    let evs = fx.events();
    let sent: Vec<(String, u32)> = evs
        .iter()
        .filter_map(|e| match e {
            Event::NotificationSent {
                target, attempts, ..
            } => Some((target.clone(), *attempts)),
            _ => None,
        })
        .collect();
    assert!(sent.contains(&(format!("slack+{flaky}/x"), 3)), "{sent:?}");
    let failed: Vec<(String, u32)> = evs
        .iter()
        .filter_map(|e| match e {
            Event::NotificationFailed {
                target, attempts, ..
            } => Some((target.clone(), *attempts)),
            _ => None,
        })
        .collect();
    assert_eq!(failed, vec![(format!("{silent_url}/y"), 3)]);
    assert_eq!(
        json_bodies(&flaky_sink)
            .last()
            .and_then(|v| v["text"].as_str().map(str::to_string)),
        Some("[INFO] cutover starts\n(phase=one, plan=t, step=tell)".to_string())
    );
    // Phase one started and passed, gate two waits: three AM notifications.
    let kinds = alertnames(&json_bodies(&am_sink));
    assert_eq!(
        kinds,
        vec![
            "cutover-phase-transition",
            "cutover-phase-transition",
            "cutover-gate-waiting"
        ]
    );
}

#[test]
fn unmitigated_high_risk_blocks_the_phase_until_approved() {
    let risk = r#"
[[risks]]
id = "r1"
name = "Pages lost"
probability = "high"
impact = "high"
mitigation = ""
owner = "sre"
"#;
    let one = phase("one", "One", "max_risk = \"medium\"", &[noop_step("s1")]);
    let fx = Fixture::new(&(one + risk));
    let out = fx.run(Mode::Run).expect("run");
    assert!(
        matches!(&out, RunOutcome::Paused { reason } if reason.contains("`r1`")),
        "{out:?}"
    );
    assert_eq!(fx.status().step_status("s1"), StepStatus::Pending);
    // Still blocked on resume without an approval.
    assert!(matches!(
        fx.run(Mode::Resume).expect("resume"),
        RunOutcome::Paused { .. }
    ));
    operator::approve(&fx.load(), "one", "carol", false).expect("approve the risk");
    assert_eq!(fx.run(Mode::Resume).expect("resume"), RunOutcome::Completed);
}

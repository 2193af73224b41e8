//! Phases behind the schedule of their `duration` (a range `MIN..MAX` or one
//! value), and emergency procedures opened by hand (`incident::open`).

use super::*;

fn behind(events: &[Event]) -> Vec<(String, String, u64, u64)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::PhaseBehindSchedule {
                phase,
                duration,
                max_ms,
                elapsed_ms,
                ..
            } => Some((phase.clone(), duration.clone(), *max_ms, *elapsed_ms)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_phase_past_the_maximum_of_its_range_is_behind_schedule_once() {
    let fx = Fixture::new(&format!(
        "{}\n[[phases]]\nid = \"two\"\nrisk = \"low\"\nduration = \"1h\"\n{}",
        phase_one(&format!(
            "duration = \"10ms..100ms\"\n{}{}",
            step("w", "wait", "duration = \"300ms\"\nidempotent = true\n"),
            step("n", "action", "plugin = \"noop\""),
        )),
        step("n2", "action", "plugin = \"noop\""),
    ));
    assert_eq!(fx.run(Mode::Run).expect("run"), RunOutcome::Completed);
    let events = fx.events();
    let found = behind(&events);
    assert_eq!(found.len(), 1, "{found:?}");
    let (phase, duration, max_ms, elapsed_ms) = &found[0];
    assert_eq!(
        (phase.as_str(), duration.as_str(), *max_ms),
        ("one", "10ms..100ms", 100)
    );
    assert!(*elapsed_ms > 100, "{elapsed_ms}");
    // Noticed inside the wait, before the phase finished.
    let at = |pred: &dyn Fn(&Event) -> bool| events.iter().position(pred).expect("event");
    assert!(
        at(&|e| matches!(e, Event::PhaseBehindSchedule { .. }))
            < at(&|e| matches!(e, Event::PhaseFinished { phase, .. } if phase == "one"))
    );
    let view = operator::status(&fx.state_dir()).expect("status");
    let one = &view.phases["one"];
    assert!(one.started_ms.is_some());
    let b = one.behind_schedule.as_ref().expect("journaled");
    assert_eq!((b.duration.as_str(), b.max_ms), ("10ms..100ms", 100));
    assert!(view.phases["two"].behind_schedule.is_none());
    assert!(view.phases["two"].started_ms.is_some());
}

#[test]
fn a_single_duration_is_the_maximum_and_a_paused_phase_is_overdue_live() {
    let fx = Fixture::new(&phase_one(&format!(
        "duration = \"50ms\"\n{}",
        step(
            "ok",
            "approval",
            "message = \"go on?\"\napprovers = [\"alice\"]"
        ),
    )));
    assert!(matches!(
        fx.run(Mode::Run).expect("run"),
        RunOutcome::AwaitingApproval { .. }
    ));
    std::thread::sleep(std::time::Duration::from_millis(120));
    // No runner watches the paused run: the view says it is overdue.
    let view = operator::status(&fx.state_dir()).expect("status");
    let one = &view.phases["one"];
    let elapsed = one.overdue_at(50, now()).expect("overdue while waiting");
    assert!(elapsed >= 120, "{elapsed}");
    assert_eq!(one.overdue_at(60_000, now()), None);
    // The next runner journals it.
    operator::approve(&fx.load(), "one/ok", "alice", false).expect("approve");
    assert_eq!(fx.run(Mode::Resume).expect("resume"), RunOutcome::Completed);
    let found = behind(&fx.events());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].1.as_str(), found[0].2), ("50ms", 50));
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

const PROCEDURES: &str = r#"
[emergency.system_failure]
description = "The new system is down"
notify = ["oncall"]
escalation = "30m"
steps = ["pause: stop", "Switch routing back"]

[emergency.data_inconsistency]
escalation = "1h"
steps = ["Compare both systems"]
"#;

#[test]
fn incident_open_journals_who_and_why_and_pauses_the_run() {
    let body = format!(
        "{}{PROCEDURES}",
        phase_one(&step(
            "ok",
            "approval",
            "message = \"go on?\"\napprovers = [\"alice\"]"
        ))
    );
    let fx = Fixture::new(&body);
    let plan = fx.load();
    // No run yet.
    let e = cutover_engine::incident::open(&plan, "system_failure", "down", "alice")
        .expect_err("no run");
    assert!(matches!(e, EngineError::NoRun(_)), "{e}");
    assert!(matches!(
        fx.run(Mode::Run).expect("run"),
        RunOutcome::AwaitingApproval { .. }
    ));
    // Unknown procedures name the known ones; the details are required.
    let e = cutover_engine::incident::open(&plan, "disk_full", "x", "alice").expect_err("unknown");
    assert_eq!(
        e.to_string(),
        "unknown emergency procedure `disk_full`; the plan defines: data_inconsistency, system_failure"
    );
    assert!(!e.is_state());
    assert!(cutover_engine::incident::open(&plan, "system_failure", " ", "alice").is_err());

    let opened = cutover_engine::incident::open(&plan, "system_failure", "AM B down", "alice")
        .expect("open");
    assert_eq!(opened.id, "INC-1");
    assert_eq!(opened.phase, "one");
    assert_eq!(opened.next, Some((1, "pause: stop".to_string())));
    let inc = cutover_engine::incident::show(&fx.state_dir(), "INC-1").expect("incident");
    assert_eq!(inc.opened_by, "alice");
    assert_eq!(inc.reason, "opened by alice: AM B down");
    assert_eq!(inc.escalation_ms, 1_800_000);
    assert_eq!(inc.steps.len(), 2);
    let view = operator::status(&fx.state_dir()).expect("status");
    assert_eq!(view.status, RunStatus::Paused);
    assert!(
        view.reason.as_deref().is_some_and(|r| r.contains("INC-1")),
        "{:?}",
        view.reason
    );
    let opened_by: Vec<String> = fx
        .events()
        .iter()
        .filter_map(|e| match e {
            Event::IncidentOpened { by, .. } => Some(by.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(opened_by, vec!["alice".to_string()]);

    // The resume works through it: the pause, then the manual step.
    let out = fx.run(Mode::Resume).expect("resume");
    assert!(
        matches!(&out, RunOutcome::Paused { reason } if reason.contains("paused by step 1")),
        "{out:?}"
    );
    let out = fx.run(Mode::Resume).expect("resume");
    assert!(
        matches!(&out, RunOutcome::Paused { reason } if reason.contains("INC-1 2")),
        "{out:?}"
    );
    cutover_engine::incident::ack(&fx.state_dir(), "INC-1", 2, "bob", "", &[]).expect("ack");
    assert!(matches!(
        fx.run(Mode::Resume).expect("resume"),
        RunOutcome::AwaitingApproval { .. }
    ));
    let inc = cutover_engine::incident::show(&fx.state_dir(), "INC-1").expect("incident");
    assert_eq!(inc.status(), "resolved");

    // A finished run takes no new incident.
    operator::approve(&plan, "one/ok", "alice", false).expect("approve");
    assert_eq!(fx.run(Mode::Resume).expect("resume"), RunOutcome::Completed);
    let e = cutover_engine::incident::open(&plan, "data_inconsistency", "x", "alice")
        .expect_err("finished");
    assert!(
        e.to_string().contains("already finished (completed)"),
        "{e}"
    );
}

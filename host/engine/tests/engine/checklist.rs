//! Checklists, check steps and approval steps: what halts, pauses, rolls
//! back or waits for a person, and what never gates (shadows, non-critical
//! items).

use cutover_test_kit::plan::noop_step;
use cutover_test_kit::state::overwrite_point_blob;

use super::*;

#[test]
fn critical_checklist_failure_halts_and_stops_the_checklist() {
    let one = [
        noop_step("s1"),
        probe_item("probe ok", true, &fail_params(), "halt"),
        probe_item("never evaluated", true, &pass_params(), ""),
    ];
    let fx =
        Fixture::new(&(phase_one(&one.concat()) + &phase("two", "Two", "", &[noop_step("s2")])));
    let out = fx.run(Mode::Run).expect("run");
    assert!(
        matches!(&out, RunOutcome::Failed { phase, step: None, .. } if phase == "one"),
        "{out:?}"
    );
    let view = fx.status();
    assert_eq!(view.status, RunStatus::Failed);
    assert_eq!(
        view.step_status("s2"),
        StepStatus::Pending,
        "phase two must not start"
    );
    assert_eq!(item_statuses(&fx.events()), vec![(0, ItemStatus::Failed)]);
    // A finished run stays finished.
    assert!(matches!(
        fx.run(Mode::Resume).expect("resume"),
        RunOutcome::Failed { .. }
    ));
}

#[test]
fn non_critical_failure_passes_and_shadow_never_gates() {
    let fail = fail_params();
    let one = [
        step(
            "shadow-check",
            "check",
            &format!("plugin = \"probe\"\nparams = {fail}\nshadow = true"),
        ),
        noop_step("s1"),
        probe_item("non-critical failing", false, &fail, "halt"),
        checklist_item(
            "shadow failing",
            true,
            &format!("check = \"probe\"\nparams = {fail}\nshadow = true\non_failure = \"halt\""),
        ),
        checklist_item("manual confirmation", true, ""),
    ];
    let fx = Fixture::new(&phase_one(&one.concat()));
    // The critical item without a check is a manual confirmation: the phase
    // waits for a person, who confirms it by name.
    let out = fx.run(Mode::Run).expect("run");
    assert!(
        matches!(&out, RunOutcome::Paused { reason } if reason.contains("needs a person")),
        "{out:?}"
    );
    assert!(!fx.status().phases["one"].overall_passed());
    operator::confirm_item(&fx.load(), "one", 2, "carol").expect("confirm");
    let out = fx.run(Mode::Resume).expect("resume");
    assert_eq!(out, RunOutcome::Completed);
    let view = fx.status();
    assert!(view.phases["one"].overall_passed());
    assert_eq!(
        view.phases["one"].items[2].confirmed_by.as_deref(),
        Some("carol")
    );
    assert_eq!(view.step_status("shadow-check"), StepStatus::Shadow);
    assert_eq!(view.steps["shadow-check"].verdict.as_deref(), Some("fail"));
    assert_eq!(view.step_status("s1"), StepStatus::Succeeded);
    assert_eq!(
        item_statuses(&fx.events()),
        vec![
            (0, ItemStatus::Failed),
            (1, ItemStatus::Shadow),
            (2, ItemStatus::AwaitingConfirmation)
        ]
    );
}

#[test]
fn failing_check_step_fails_the_run() {
    let check = format!("plugin = \"probe\"\nparams = {}", fail_params());
    let fx = Fixture::new(&phase_one(&step("c", "check", &check)));
    let out = fx.run(Mode::Run).expect("run");
    assert!(
        matches!(&out, RunOutcome::Failed { step: Some(s), .. } if s == "c"),
        "{out:?}"
    );
}

#[test]
fn checklist_pause_waits_for_approval() {
    let fx = Fixture::new(&phase_one(
        &(noop_step("s1") + &failing_probe_item("pause")),
    ));
    let out = fx.run(Mode::Run).expect("run");
    assert!(matches!(out, RunOutcome::Paused { .. }), "{out:?}");
    assert!(matches!(
        fx.run(Mode::Resume).expect("resume"),
        RunOutcome::Paused { .. }
    ));
    operator::approve(&fx.load(), "one", "carol", false).expect("approve");
    assert_eq!(fx.run(Mode::Resume).expect("resume"), RunOutcome::Completed);
    assert_eq!(
        item_statuses(&fx.events()),
        vec![(0, ItemStatus::Failed)],
        "item evaluated once"
    );
}

/// Phase one: rollback point `before`, then `step`, then a critical probe
/// that fails and rolls back.
pub(super) fn rollback_after(step: String) -> String {
    let point = super::step("point", "rollback-point", "name = \"before\"");
    phase_one(&[point, step, failing_probe_item("rollback")].concat())
}

#[test]
fn checklist_rollback_restores_the_point() {
    let fx = Fixture::new(&rollback_after(noop_step("s1")));
    let out = fx.run(Mode::Run).expect("run");
    assert_eq!(
        out,
        RunOutcome::RolledBack {
            phase: "one".into(),
            point: "before".into()
        }
    );
    assert_eq!(fx.status().status, RunStatus::RolledBack);
    assert!(
        fx.events()
            .iter()
            .any(|e| matches!(e, Event::RolledBack { point, .. } if point == "before"))
    );
}

#[test]
fn approval_step_waits_for_its_approvers() {
    let ok = step(
        "ok",
        "approval",
        "message = \"traffic looks fine?\"\napprovers = [\"erin\"]",
    );
    let fx = Fixture::new(&phase_one(&(ok + &noop_step("after"))));
    assert_eq!(
        fx.run(Mode::Run).expect("run"),
        RunOutcome::AwaitingApproval {
            target: "one/ok".into(),
            message: "traffic looks fine?".into()
        }
    );
    let view = fx.status();
    assert_eq!(view.waiting_for.as_deref(), Some("one/ok"));
    assert_eq!(view.step_status("after"), StepStatus::Pending);
    let plan = fx.load();
    assert!(operator::approve(&plan, "one/ok", "frank", false).is_err());
    assert!(
        operator::approve(&plan, "one/after", "erin", false).is_err(),
        "not waiting"
    );
    operator::approve(&plan, "one/ok", "erin", false).expect("approve");
    assert_eq!(fx.run(Mode::Resume).expect("resume"), RunOutcome::Completed);
    assert_eq!(fx.status().steps["ok"].summary, "approved by erin");
}

#[test]
fn automatic_rollback_verifies_both_points_before_touching_either_system() {
    let hold = step(
        "hold",
        "approval",
        "message = \"checked?\"\napprovers = [\"erin\"]",
    );
    let fx = Fixture::new(&rollback_after(hold));
    let dir = fx.path.parent().expect("dir").to_path_buf();
    let state = |side: &str| dir.join(side).join("state/configurations.json");
    for (side, v) in [("old", r#"{"o":1}"#), ("new", r#"{"n":1}"#)] {
        std::fs::create_dir_all(dir.join(side).join("state")).expect("mkdir");
        std::fs::write(state(side), v).expect("write");
    }
    assert!(matches!(
        fx.run(Mode::Run).expect("run"),
        RunOutcome::AwaitingApproval { .. }
    ));
    for side in ["old", "new"] {
        std::fs::write(state(side), r#"{"changed":2}"#).expect("change");
    }
    // Corrupt the new system's configurations blob: the old system comes
    // first and must not be rolled back either.
    overwrite_point_blob(
        &fx.state_dir(),
        "before.new",
        "configurations",
        r#"{"n":9}"#,
    );

    operator::approve(&fx.load(), "one/hold", "erin", false).expect("approve");
    match fx.run(Mode::Resume).expect("resume") {
        RunOutcome::Failed { reason, .. } => assert!(
            reason.contains(
                "rollback to before refused, nothing applied: point:before.new configurations is corrupt"
            ),
            "{reason}"
        ),
        other => panic!("expected a failed run, got {other:?}"),
    }
    for side in ["old", "new"] {
        assert_eq!(
            std::fs::read_to_string(state(side)).expect("state"),
            r#"{"changed":2}"#,
            "{side} untouched"
        );
    }
    assert!(
        !fx.events()
            .iter()
            .any(|e| matches!(e, Event::RolledBack { .. }))
    );
}

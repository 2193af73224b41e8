//! A run's life: gates and approvals, the single-writer lease, stale
//! plans and replanning, steps interrupted by a crash, operator pauses and
//! aborts, and corrupt or torn journals.

use std::io::Write;

use cutover_state::{FileJournal, Journal};
use cutover_test_kit::plan::noop_step;

use super::*;

/// A [`gated`] plan, run up to its gate.
fn at_the_gate() -> Fixture {
    let fx = Fixture::new(&gated());
    assert!(matches!(
        fx.run(Mode::Run).expect("run"),
        RunOutcome::AwaitingApproval { .. }
    ));
    fx
}

/// Phase one: `a` (an action, not idempotent by default), `b` (said not
/// idempotent) and `c` (idempotent), all running the noop action.
fn two_actions() -> String {
    let noop = |id: &str, idempotent: bool| {
        step(
            id,
            "action",
            &format!("plugin = \"noop\"\nidempotent = {idempotent}"),
        )
    };
    phase_one(&[noop_step("a"), noop("b", false), noop("c", true)].concat())
}

#[test]
fn gate_pauses_until_approved_by_an_approver() {
    let fx = Fixture::new(&gated());
    let out = fx.run(Mode::Run).expect("run");
    assert_eq!(
        out,
        RunOutcome::AwaitingApproval {
            target: "two".into(),
            message: "go?".into()
        }
    );
    // Resuming without approval waits again.
    assert!(matches!(
        fx.run(Mode::Resume).expect("resume"),
        RunOutcome::AwaitingApproval { .. }
    ));
    let plan = fx.load();
    let err = operator::approve(&plan, "two", "mallory", false).expect_err("not an approver");
    assert!(matches!(err, EngineError::Operator(_)), "{err}");
    operator::approve(&plan, "two", "alice", false).expect("approve");
    assert_eq!(fx.run(Mode::Resume).expect("resume"), RunOutcome::Completed);
    let view = fx.status();
    assert_eq!(view.step_status("s2"), StepStatus::Succeeded);
    assert_eq!(view.steps["s1"].attempts, 1, "s1 is not run again");
}

#[test]
fn second_runner_is_refused_while_the_lease_is_held() {
    let fx = Fixture::new(&gated());
    let plan = fx.load();
    let _first = Runner::open(runtime(), &plan, Mode::Run, RunOptions::default()).expect("first");
    let err = Runner::open(runtime(), &plan, Mode::Run, RunOptions::default())
        .err()
        .expect("second refused");
    let msg = err.to_string();
    assert!(
        matches!(
            err,
            EngineError::Lease(cutover_state::LeaseError::Held { .. })
        ),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("pid {}", std::process::id())),
        "{msg}"
    );
    assert!(err.is_state());
}

#[test]
fn stale_plan_is_refused_and_replan_is_recorded() {
    let fx = at_the_gate();
    let text = std::fs::read_to_string(&fx.path).expect("read");
    std::fs::write(
        &fx.path,
        text.replace("params = { x = 1 }", "params = { x = 2 }"),
    )
    .expect("write");
    let err = fx.run(Mode::Resume).expect_err("stale");
    match &err {
        EngineError::StalePlan { diff, .. } => {
            assert_eq!(diff, &vec!["phase `two`: step `s2` changed".to_string()])
        }
        other => panic!("{other}"),
    }
    let plan = fx.load();
    let mut r = Runner::open(
        runtime(),
        &plan,
        Mode::Resume,
        RunOptions {
            replan: true,
            ..RunOptions::default()
        },
    )
    .expect("replan");
    assert_eq!(
        r.view().fingerprint.as_deref(),
        Some(plan.fingerprint().as_str())
    );
    assert!(matches!(
        r.execute().expect("exec"),
        RunOutcome::AwaitingApproval { .. }
    ));
    drop(r);
    assert!(
        fx.events()
            .iter()
            .any(|e| matches!(e, Event::Replanned { diff, .. } if diff.len() == 1))
    );
    // Bound to the new fingerprint now: no --replan needed.
    assert!(matches!(
        fx.run(Mode::Resume).expect("resume"),
        RunOutcome::AwaitingApproval { .. }
    ));
}

/// Simulates a crash inside step `step`: a `step-started` without `step-finished`.
fn crash_inside(fx: &Fixture, phase: &str, step: &str, idempotent: bool) {
    let mut j = FileJournal::open(&fx.state_dir()).expect("journal");
    let (k, p) = Event::StepStarted {
        phase: phase.into(),
        step: step.into(),
        step_kind: "action".into(),
        idempotent,
    }
    .to_record();
    j.append(&k, p).expect("append");
}

fn finishes(fx: &Fixture, step: &str) -> Vec<StepStatus> {
    fx.events()
        .iter()
        .filter_map(|e| match e {
            Event::StepFinished {
                step: s, status, ..
            } if s == step => Some(*status),
            _ => None,
        })
        .collect()
}

#[test]
fn interrupted_non_idempotent_step_needs_attention_then_mark_done() {
    let fx = Fixture::new(&two_actions());
    // Start a run, stop it before anything runs, then fake a crash inside `b`
    // after `a` finished.
    fx.start_and_stop();
    crash_inside(&fx, "one", "b", false);
    let out = fx.run(Mode::Resume).expect("resume");
    assert!(
        matches!(&out, RunOutcome::NeedsAttention { target, .. } if target == "one/b"),
        "{out:?}"
    );
    assert!(out.describe().contains("--retry"));
    // Still needs attention on a second resume, and `b` was not run.
    assert!(matches!(
        fx.run(Mode::Resume).expect("resume"),
        RunOutcome::NeedsAttention { .. }
    ));
    assert!(finishes(&fx, "b").is_empty());
    operator::approve(&fx.load(), "one/b", "bob", false).expect("approve");
    assert_eq!(fx.run(Mode::Resume).expect("resume"), RunOutcome::Completed);
    assert_eq!(
        finishes(&fx, "b"),
        vec![StepStatus::Skipped],
        "marked done, not run"
    );
    assert_eq!(finishes(&fx, "c"), vec![StepStatus::Succeeded]);
}

#[test]
fn interrupted_steps_retry_or_rerun_when_idempotent() {
    let fx = Fixture::new(&two_actions());
    fx.start_and_stop();
    crash_inside(&fx, "one", "a", false);
    // `a` has the default for actions: not idempotent.
    assert!(matches!(
        fx.run(Mode::Resume).expect("resume"),
        RunOutcome::NeedsAttention { .. }
    ));
    operator::approve(&fx.load(), "one/a", "bob", true).expect("approve --retry");
    // Retry reruns `a`; then crash inside the idempotent `c`, which simply reruns.
    let plan = fx.load();
    let out = Runner::open(runtime(), &plan, Mode::Resume, RunOptions::default())
        .expect("open")
        .execute()
        .expect("exec");
    assert_eq!(out, RunOutcome::Completed);
    assert_eq!(finishes(&fx, "a"), vec![StepStatus::Succeeded]);
    let fx2 = Fixture::new(&two_actions());
    fx2.start_and_stop();
    crash_inside(&fx2, "one", "c", true);
    assert_eq!(
        fx2.run(Mode::Resume).expect("resume"),
        RunOutcome::Completed
    );
    let view = fx2.status();
    assert_eq!(
        view.steps["c"].attempts, 2,
        "idempotent step rerun after the crash"
    );
}

#[test]
fn pause_and_abort_without_a_live_runner_are_journaled() {
    let fx = at_the_gate();
    let dir = fx.state_dir();
    assert_eq!(
        operator::abort(&dir, "dave", "change freeze").expect("abort"),
        operator::Delivery::Journaled
    );
    assert_eq!(
        fx.run(Mode::Resume).expect("resume"),
        RunOutcome::Aborted {
            reason: "change freeze".into()
        }
    );
    assert!(matches!(
        operator::pause(&dir, "dave", "x"),
        Err(EngineError::Operator(_))
    ));
}

#[test]
fn corrupt_journal_is_refused_with_its_position() {
    let fx = at_the_gate();
    let path = fx.state_dir().join("journal.log");
    let mut bytes = std::fs::read(&path).expect("read");
    let last_line = bytes[..bytes.len() - 1]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    bytes[last_line + 10] ^= 0x01;
    std::fs::write(&path, &bytes).expect("write");
    let err = fx.run(Mode::Resume).expect_err("corrupt");
    assert!(err.is_state());
    match &err {
        EngineError::Journal(cutover_state::JournalError::Corrupt { offset, .. }) => {
            assert_eq!(*offset, last_line as u64)
        }
        other => panic!("{other}"),
    }
    assert!(
        err.to_string()
            .contains(&format!("byte offset {last_line}")),
        "{err}"
    );
}

#[test]
fn torn_tail_is_cut_and_noted() {
    let fx = at_the_gate();
    let path = fx.state_dir().join("journal.log");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("open");
    f.write_all(b"{\"seq\":99,\"ts_").expect("write");
    drop(f);
    let plan = fx.load();
    let r = Runner::open(runtime(), &plan, Mode::Resume, RunOptions::default()).expect("open");
    assert!(
        r.notes().iter().any(|n| n.contains("torn")),
        "{:?}",
        r.notes()
    );
}

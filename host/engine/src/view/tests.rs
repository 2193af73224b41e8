//! The fold, record by record.

use super::*;
use crate::details::StepDetails;
use crate::event::SeenAlert;

fn seen(fp: &str) -> SeenAlert {
    SeenAlert {
        labels: [("alertname".to_string(), fp.to_string())].into(),
        starts_at: 1,
        ends_at: None,
        state: cutover_compare::AlertState::Active,
        fingerprint: fp.into(),
    }
}

fn started() -> Event {
    Event::StepStarted {
        phase: "p".into(),
        step: "pr".into(),
        step_kind: "parallel-run".into(),
        idempotent: true,
    }
}

fn poll(poll: u32, noise: Vec<SeenAlert>, noise_error: Option<&str>) -> Event {
    Event::ParallelPoll {
        step: "pr".into(),
        poll,
        old: vec![seen("o")],
        new: Vec::new(),
        match_rate: Some(0.0),
        noise,
        noise_error: noise_error.map(str::to_string),
    }
}

#[test]
fn noise_episodes_fold_and_clear_on_a_new_attempt_after_a_failure() {
    let mut v = RunView::default();
    v.apply(1, &started());
    v.apply(2, &poll(1, vec![seen("a")], None));
    v.apply(3, &poll(2, Vec::new(), Some("replica down")));
    v.apply(4, &poll(3, vec![seen("b")], Some("later")));
    let s = &v.steps["pr"];
    assert_eq!(s.seen_noise, vec![seen("a"), seen("b")]);
    assert_eq!(
        (s.noise_failures, s.noise_error.as_deref()),
        (2, Some("later"))
    );
    assert_eq!(s.seen_old.len(), 3);
    // A resume of the running step keeps them.
    v.apply(5, &started());
    assert_eq!(v.steps["pr"].seen_noise.len(), 2);
    v.apply(
        6,
        &Event::StepFinished {
            phase: "p".into(),
            step: "pr".into(),
            status: StepStatus::Failed,
            summary: String::new(),
            verdict: Some("fail".into()),
            details: StepDetails::None,
            duration_ms: 0,
            plugin: None,
            digest: None,
        },
    );
    // A new attempt after the failure starts from nothing.
    v.apply(7, &started());
    let s = &v.steps["pr"];
    assert!(s.seen_noise.is_empty() && s.seen_old.is_empty());
    assert_eq!((s.noise_failures, s.noise_error.as_deref()), (0, None));
}

fn phase(status: PhaseStatus, started_ms: Option<i64>) -> PhaseView {
    PhaseView {
        status,
        items: Vec::new(),
        paused_seq: None,
        started_ms,
        behind_schedule: None,
    }
}

#[test]
fn overdue_only_past_the_maximum_while_running_or_paused() {
    let running = phase(PhaseStatus::Running, Some(1_000));
    assert_eq!(
        running.overdue_at(500, 1_500),
        None,
        "exactly at the maximum"
    );
    assert_eq!(running.overdue_at(500, 1_501), Some(501));
    assert_eq!(
        phase(PhaseStatus::Paused, Some(0)).overdue_at(10, 100),
        Some(100)
    );
    assert_eq!(
        phase(PhaseStatus::Passed, Some(0)).overdue_at(10, 100),
        None
    );
    assert_eq!(phase(PhaseStatus::Running, None).overdue_at(10, 100), None);
}

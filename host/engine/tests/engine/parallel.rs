//! Parallel runs of the old and the new system: no data is no pass, polls
//! and the match rate are journaled, and a low match rate triggers the
//! alert policy (pause and metrics, or rollback).

use cutover_test_kit::plan::noop_step;

use super::*;

/// A gating parallel run over the demo data without a minimum: its match
/// rate is below the default 0.9 until [`fix_data`] makes both sides equal.
/// A rollback point `before` comes first, a noop step `after` last.
pub(super) fn low_rate() -> String {
    let pr = "window = \"100ms\"\ninterval = \"100ms\"\ntolerance = \"1s\"\nmin_match_rate = 0.9\n\
              # the 3 missing alerts are allowed: this run stops on its match rate alone\n\
              max_missing = 3";
    phase_one(
        &[
            step("point", "rollback-point", "name = \"before\""),
            step("pr", "parallel-run", pr),
            noop_step("after"),
        ]
        .concat(),
    )
}

#[test]
fn parallel_run_without_data_is_not_a_pass_unless_shadow() {
    let body = |shadow: bool| {
        let keys = format!(
            "window = \"200ms\"\ninterval = \"100ms\"\nmin_match_rate = 0.0\nshadow = {shadow}"
        );
        phase_one(&step("pr", "parallel-run", &keys))
    };
    // A quiet window is inconclusive: neither a pass nor a failure.
    let fx = Fixture::new(&body(false));
    let out = fx.run(Mode::Run).expect("run");
    assert!(
        matches!(&out, RunOutcome::Inconclusive { target, .. } if target == "one/pr"),
        "{out:?}"
    );
    let view = fx.status();
    assert_eq!(view.step_status("pr"), StepStatus::Running);
    assert!(view.steps["pr"].inconclusive_seq.is_some());
    assert_eq!(view.waiting_for.as_deref(), Some("one/pr"));

    let fx = Fixture::new(&body(true));
    assert_eq!(fx.run(Mode::Run).expect("run"), RunOutcome::Completed);
    let view = fx.status();
    assert_eq!(view.step_status("pr"), StepStatus::Shadow);
}

#[test]
fn parallel_run_records_polls_and_match_rate() {
    let fx = Fixture::with(&demo_parallel_run("800ms", ""), true);
    assert_eq!(fx.run(Mode::Run).expect("run"), RunOutcome::Completed);
    let polls: Vec<(usize, usize)> = fx
        .events()
        .iter()
        .filter_map(|e| match e {
            Event::ParallelPoll { old, new, .. } => Some((old.len(), new.len())),
            _ => None,
        })
        .collect();
    assert!(polls.len() >= 3, "{polls:?}");
    assert_eq!(polls[0], (6, 4), "first poll sees every episode");
    assert!(
        polls[1..].iter().all(|p| *p == (0, 0)),
        "later polls record only new episodes"
    );
    let view = fx.status();
    let rate = view.match_rate.expect("rate");
    assert!((rate - 4.0 / 6.0).abs() < 1e-9, "{rate}");
}

/// Makes the new system fire exactly what the old one does.
pub(super) fn fix_data(fx: &Fixture) {
    let dir = fx.path.parent().expect("dir");
    std::fs::copy(dir.join("old/alerts.json"), dir.join("new/alerts.json")).expect("copy");
}

/// Value of the first sample of `name` whose labels contain `label`.
fn sample(text: &str, name: &str, label: &str) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) && l.contains(label))
        .find_map(|l| l.rsplit(' ').next().and_then(|v| v.parse().ok()))
}

#[test]
fn low_match_rate_pauses_and_feeds_metrics() {
    let fx = Fixture::with(&low_rate(), true);
    let metrics = std::sync::Arc::new(cutover_ops::MigrationMetrics::new());
    let opts = RunOptions {
        metrics: Some(metrics.clone()),
        ..RunOptions::default()
    };
    let out = fx.run_with(Mode::Run, opts.clone()).expect("run");
    assert!(
        matches!(&out, RunOutcome::Paused { reason } if reason.contains("match rate")),
        "{out:?}"
    );
    let evs = fx.events();
    let alert = evs.iter().find_map(|e| match e {
        Event::AlertTriggered {
            alert,
            value,
            threshold,
            policy,
            step,
            ..
        } => Some((
            alert.clone(),
            *value,
            *threshold,
            policy.clone(),
            step.clone(),
        )),
        _ => None,
    });
    let (name, value, threshold, policy, step) = alert.expect("alert journaled");
    assert_eq!(name, "match-rate-low");
    assert!(value < 0.9, "{value}");
    assert!((threshold - 0.9).abs() < 1e-9);
    assert_eq!((policy.as_str(), step.as_deref()), ("pause", Some("pr")));
    let health: Vec<(String, bool)> = evs
        .iter()
        .filter_map(|e| match e {
            Event::HealthChecked {
                system, available, ..
            } => Some((system.clone(), *available)),
            _ => None,
        })
        .collect();
    assert_eq!(health, vec![("old".into(), true), ("new".into(), true)]);
    let text = metrics.encode();
    // 1 of 3 steps done in phase one (the parallel run failed).
    let progress =
        sample(&text, "migration_progress", "phase=\"one\",service=\"all\"").expect("progress");
    assert!((progress - 1.0 / 3.0).abs() < 1e-9, "{text}");
    let rate = sample(&text, "alert_match_rate", "service=\"all\"").expect("rate");
    assert!((rate - value).abs() < 1e-9, "{text}");
    // Per service: the one service the recordings name fired on both sides.
    assert_eq!(
        sample(&text, "alert_match_rate", "service=\"checkout\""),
        Some(1.0),
        "{text}"
    );
    let checkout = sample(&text, "migration_progress", "service=\"checkout\"");
    assert_eq!(checkout, Some(progress), "{text}");
    assert_eq!(
        sample(&text, "system_availability", "\"new\""),
        Some(1.0),
        "{text}"
    );
    // A resume runs the failed step again: still low, paused again.
    assert!(matches!(
        fx.run_with(Mode::Resume, opts.clone()).expect("resume"),
        RunOutcome::Paused { .. }
    ));
    fix_data(&fx);
    assert_eq!(
        fx.run_with(Mode::Resume, opts).expect("resume"),
        RunOutcome::Completed
    );
    let text = metrics.encode();
    assert_eq!(
        sample(&text, "migration_progress", "phase=\"one\""),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "alert_match_rate", "service=\"all\""),
        Some(1.0),
        "{text}"
    );
}

#[test]
fn rollback_policy_rolls_back_to_the_latest_point() {
    let fx = Fixture::with(&low_rate(), true);
    let opts = RunOptions {
        policy: cutover_engine::AlertPolicy::Rollback,
        ..RunOptions::default()
    };
    assert_eq!(
        fx.run_with(Mode::Run, opts).expect("run"),
        RunOutcome::RolledBack {
            phase: "one".into(),
            point: "before".into()
        }
    );
    assert_eq!(fx.status().status, RunStatus::RolledBack);
}

#[test]
fn a_parallel_run_by_service_reports_each_service() {
    let fx = Fixture::with(&demo_parallel_run("300ms", "by = \"service\""), true);
    assert_eq!(fx.run(Mode::Run).expect("run"), RunOutcome::Completed);
    let path = fx.state_dir().join("reports/pr.json");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("report")).expect("json");
    let by = report["by_label"]
        .as_object()
        .expect("a result per service");
    assert!(by.contains_key("checkout"), "{by:?}");
    // Alerts without the label are counted under `(none)`, not dropped.
    assert!(by.contains_key("(none)"), "{by:?}");
    let sum = |key: &str| -> u64 { by.values().map(|b| b[key].as_u64().unwrap_or(0)).sum() };
    assert_eq!(
        sum("old"),
        report["total_old"].as_u64().unwrap(),
        "{report:#}"
    );
    assert_eq!(
        sum("missing"),
        report["missing"].as_u64().unwrap(),
        "{report:#}"
    );
    assert_eq!(
        by["checkout"]["old"], 1,
        "the one checkout alert of the demo data: {report:#}"
    );
    let md = std::fs::read_to_string(fx.state_dir().join("reports/pr.md")).expect("md");
    assert!(md.contains("checkout"), "{md}");
}

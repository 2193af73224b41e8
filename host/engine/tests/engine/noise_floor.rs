//! Noise calibration of parallel runs: the old system against a second read
//! of itself or a declared secondary, next to the old-vs-new result.

use cutover_state::{FileJournal, Journal};
use cutover_test_kit::plan::dir_grant;

use super::*;

/// The demo data's gating parallel run with `noise` set to `noise`;
/// `extra` is appended to the plan (e.g. the secondary's plugin table).
fn plan(noise: &str, extra: &str) -> String {
    demo_parallel_run("300ms", &format!("noise = \"{noise}\"\n")) + extra
}

/// `[plugins.replica]`: the file adapter over the plan's `dir` directory.
fn replica(dir: &str) -> String {
    let (file, file_sha) = plugin("file-adapter");
    let grant = dir_grant("data", dir, true);
    format!("\n[plugins.replica]\npath = \"{file}\"\nsha256 = \"{file_sha}\"\n{grant}\n")
}

/// `pr`'s status, summary and details (as journaled, in JSON).
fn finished(fx: &Fixture) -> (StepStatus, String, serde_json::Value) {
    fx.events()
        .into_iter()
        .rev()
        .find_map(|e| match e {
            Event::StepFinished {
                step,
                status,
                summary,
                details,
                ..
            } if step == "pr" => Some((
                status,
                summary,
                serde_json::to_value(&details).expect("details"),
            )),
            _ => None,
        })
        .expect("pr finished")
}

/// Noise episodes journaled per poll.
fn noise_polls(fx: &Fixture) -> Vec<(usize, Option<String>)> {
    fx.events()
        .into_iter()
        .filter_map(|e| match e {
            Event::ParallelPoll {
                noise, noise_error, ..
            } => Some((noise.len(), noise_error)),
            _ => None,
        })
        .collect()
}

fn report_json(fx: &Fixture) -> serde_json::Value {
    let text = std::fs::read_to_string(fx.state_dir().join("reports/pr.json")).expect("report");
    serde_json::from_str(&text).expect("json")
}

/// Checks that the step's `summary` says `says` and that its report
/// holds a noise floor with `missing` and `extra`; returns the report.
fn reported_floor(
    fx: &Fixture,
    summary: &str,
    says: &str,
    missing: u64,
    extra: u64,
) -> serde_json::Value {
    assert!(summary.contains(says), "{summary}");
    let report = report_json(fx);
    assert_eq!(report["noise_floor"]["missing"], missing);
    assert_eq!(report["noise_floor"]["extra"], extra);
    report
}

/// `pr`'s summary, details and noise floor, once its old-vs-new result
/// is checked to be the one a run without `noise` gets.
fn floor(fx: &Fixture) -> (String, serde_json::Value, serde_json::Value) {
    let (status, summary, details) = finished(fx);
    assert_eq!(status, StepStatus::Succeeded, "{details}");
    let rate = details["match_rate"].as_f64().expect("rate");
    assert!((rate - 4.0 / 6.0).abs() < 1e-9, "{rate}");
    assert_eq!(
        (&details["matched"], &details["missing"], &details["extra"]),
        (&4.into(), &2.into(), &0.into())
    );
    let n = details["noise_floor"].clone();
    (summary, details, n)
}

/// `floor`, checked to be available and read from `source`.
fn available_floor(fx: &Fixture, source: &str) -> (String, serde_json::Value, serde_json::Value) {
    let (summary, details, n) = floor(fx);
    assert_eq!(n["source"], source);
    assert_eq!(n["available"], true);
    (summary, details, n)
}

#[test]
fn second_read_of_a_stable_old_system_is_a_full_match() {
    let fx = Fixture::with(&plan("second-read", ""), true);
    let opts = RunOptions {
        progress: true,
        ..RunOptions::default()
    };
    assert_eq!(
        fx.run_with(Mode::Run, opts).expect("run"),
        RunOutcome::Completed
    );
    let polls = noise_polls(&fx);
    assert!(!polls.is_empty(), "at least one poll");
    assert_eq!(
        polls[0],
        (6, None),
        "first poll reads every old episode again"
    );
    assert!(polls[1..].iter().all(|p| *p == (0, None)), "{polls:?}");
    let (summary, details, n) = available_floor(&fx, "second-read");
    assert_eq!(n["match_rate"], 1.0);
    assert_eq!((&n["missing"], &n["extra"]), (&0.into(), &0.into()));
    assert_eq!(
        (&n["total_noise"], &n["failed_reads"]),
        (&6.into(), &0.into())
    );
    let says = "noise floor 100.0% against a second read of the old system";
    let report = reported_floor(&fx, &summary, says, 0, 0);
    assert_eq!(report["noise_floor"]["match_rate"], 1.0);
    assert_eq!(report["match_rate"], details["match_rate"]);
    let view = fx.status();
    assert_eq!(view.steps["pr"].seen_noise.len(), 6);
    let md = std::fs::read_to_string(fx.state_dir().join("reports/pr.md")).expect("md");
    assert!(md.to_lowercase().contains("noise floor"), "{md}");
}

#[test]
fn declared_secondary_that_differs_by_one_alert_shows_in_the_floor() {
    let fx = Fixture::with(&plan("replica", &replica("replica")), true);
    // The replica holds the old system's alerts, one renamed: one old
    // episode is missing from it and one is extra.
    let dir = fx.path.parent().expect("dir");
    let text = std::fs::read_to_string(dir.join("old/alerts.json")).expect("old alerts");
    let mut alerts: Vec<serde_json::Value> = serde_json::from_str(&text).expect("json");
    alerts[1]["labels"]["alertname"] = "OnlyOnTheReplica".into();
    std::fs::create_dir_all(dir.join("replica")).expect("mkdir");
    std::fs::write(
        dir.join("replica/alerts.json"),
        serde_json::to_string(&alerts).expect("json"),
    )
    .expect("write replica");
    assert_eq!(fx.run(Mode::Run).expect("run"), RunOutcome::Completed);
    let (summary, details, n) = available_floor(&fx, "replica");
    assert_eq!(details["compare_verdict"], "fail", "{details}");
    assert_eq!((&n["missing"], &n["extra"]), (&1.into(), &1.into()), "{n}");
    let rate = n["match_rate"].as_f64().expect("noise rate");
    assert!((rate - 5.0 / 6.0).abs() < 1e-9, "{rate}");
    let says = "noise floor 83.3% against adapter `replica` (1 missing, 1 extra)";
    let report = reported_floor(&fx, &summary, says, 1, 1);
    assert_eq!(
        report["missing"], 2,
        "old-vs-new counts are not the noise's"
    );
}

#[test]
fn unreadable_noise_source_is_noted_and_changes_nothing_else() {
    // The replica's directory does not exist: every read of it fails.
    let fx = Fixture::with(&plan("replica", &replica("no-such-dir")), true);
    assert_eq!(fx.run(Mode::Run).expect("run"), RunOutcome::Completed);
    let polls = noise_polls(&fx);
    assert!(!polls.is_empty(), "at least one poll");
    assert!(
        polls
            .iter()
            .all(|(n, e)| *n == 0 && e.as_deref().is_some_and(|e| e.contains("replica"))),
        "{polls:?}"
    );
    let (summary, details, n) = floor(&fx);
    assert_eq!(n["available"], false);
    assert!(n["match_rate"].is_null() && n["missing"].is_null(), "{n}");
    assert_eq!(n["failed_reads"], details["polls"]);
    assert!(n["error"].as_str().is_some_and(|e| !e.is_empty()), "{n}");
    assert!(
        summary.contains("noise floor against adapter `replica` unavailable"),
        "{summary}"
    );
    assert!(report_json(&fx)["noise_floor"].is_null());
    let md = std::fs::read_to_string(fx.state_dir().join("reports/pr.md")).expect("md");
    assert!(!md.to_lowercase().contains("noise floor"), "{md}");
    // Calibration only: no health record, no alert policy.
    let evs = fx.events();
    assert!(
        !evs.iter()
            .any(|e| matches!(e, Event::AlertTriggered { .. }))
    );
    assert!(!evs.iter().any(|e| matches!(
        e,
        Event::HealthChecked {
            available: false,
            ..
        }
    )));
}

#[test]
fn resume_keeps_the_noise_episodes_already_journaled() {
    let fx = Fixture::with(&plan("second-read", ""), true);
    // A run that crashed inside the parallel run after one poll, whose
    // noise read saw an episode the old system no longer reports.
    fx.start_and_stop();
    let gone = cutover_engine::SeenAlert {
        labels: [("alertname".to_string(), "Flapped".to_string())].into(),
        starts_at: 1,
        ends_at: None,
        state: cutover_compare::AlertState::Active,
        fingerprint: "flapped".into(),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    let mut j = FileJournal::open(&fx.state_dir()).expect("journal");
    for ev in [
        Event::StepStarted {
            phase: "one".into(),
            step: "pr".into(),
            step_kind: "parallel-run".into(),
            idempotent: true,
        },
        Event::StepDeadline {
            step: "pr".into(),
            started_ms: now,
            deadline_ms: now + 300,
        },
        Event::ParallelPoll {
            step: "pr".into(),
            poll: 1,
            old: Vec::new(),
            new: Vec::new(),
            match_rate: None,
            noise: vec![gone],
            noise_error: None,
        },
    ] {
        let (k, p) = ev.to_record();
        j.append(&k, p).expect("append");
    }
    drop(j);
    assert_eq!(fx.run(Mode::Resume).expect("resume"), RunOutcome::Completed);
    let polls: Vec<u32> = fx
        .events()
        .iter()
        .filter_map(|e| match e {
            Event::ParallelPoll { poll, .. } => Some(*poll),
            _ => None,
        })
        .collect();
    assert_eq!(polls[..2], [1, 2], "the window went on: {polls:?}");
    let (_, _, n) = floor(&fx);
    // 6 episodes read after the resume plus the journaled one.
    assert_eq!(n["total_noise"], 7, "{n}");
    assert_eq!((&n["missing"], &n["extra"]), (&0.into(), &1.into()), "{n}");
    assert_eq!(n["match_rate"], 1.0);
}

use super::*;

#[test]
fn records_round_trip_with_kebab_kinds() {
    let ev = Event::StepFinished {
        phase: "p".into(),
        step: "s".into(),
        status: StepStatus::NeedsAttention,
        summary: "x".into(),
        verdict: Some("no-data".into()),
        details: crate::details::StepDetails::error("deadline"),
        duration_ms: 7,
        plugin: None,
        digest: Some("ab".into()),
    };
    let (kind, payload) = ev.to_record();
    assert_eq!(kind, "step-finished");
    assert_eq!(payload["status"], "needs-attention");
    assert_eq!(Event::from_record(&kind, &payload), Some(ev));
    assert_eq!(Event::from_record("journal-repaired", &payload), None);
    assert_eq!(
        Event::from_record("step-finished", &serde_json::json!({})),
        None
    );
}

#[test]
fn parallel_polls_without_noise_read_and_write_as_before() {
    let old =
        serde_json::json!({"step": "pr", "poll": 1, "old": [], "new": [], "match_rate": null});
    let ev = Event::from_record("parallel-poll", &old).expect("old payload reads");
    match &ev {
        Event::ParallelPoll {
            noise, noise_error, ..
        } => assert!(noise.is_empty() && noise_error.is_none()),
        other => panic!("{other:?}"),
    }
    assert_eq!(ev.to_record().1, old, "no noise keys written without noise");
    let with = Event::ParallelPoll {
        step: "pr".into(),
        poll: 2,
        old: Vec::new(),
        new: Vec::new(),
        match_rate: Some(1.0),
        noise: vec![SeenAlert {
            labels: [("alertname".to_string(), "A".to_string())].into(),
            starts_at: 5,
            ends_at: None,
            state: AlertState::Active,
            fingerprint: "f".into(),
        }],
        noise_error: Some("down".into()),
    };
    let (kind, payload) = with.to_record();
    assert_eq!(payload["noise"][0]["fingerprint"], "f");
    assert_eq!(payload["noise_error"], "down");
    assert_eq!(Event::from_record(&kind, &payload), Some(with));
}

#[test]
fn rolled_back_records_without_by_are_the_engine() {
    let old = serde_json::json!({"phase": "p", "point": "x", "results": {}});
    match Event::from_record("rolled-back", &old) {
        Some(Event::RolledBack { by, now, .. }) => {
            assert_eq!((by.as_str(), now), ("engine", false))
        }
        other => panic!("{other:?}"),
    }
}

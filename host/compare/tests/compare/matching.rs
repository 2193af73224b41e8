//! `compare` on alerts built in the test: the tolerance, episode order,
//! ignores and renames, risk and verdict, delays, the noise floor API, and
//! the recorded demo dumps.

use super::*;
use cutover_compare::{
    CompareOptions, Format, NoiseFloor, RiskLevel, compare, parse_file, render_text,
};
use std::time::Duration;

#[test]
fn noise_floor_api_directly() {
    let a = vec![alert("A", &[], T0), alert("B", &[], T0)];
    let b = vec![alert("A", &[], T0 + 200), alert("C", &[], T0)];
    let nf = NoiseFloor::measure(&a, &b, &CompareOptions::default());
    assert_eq!((nf.missing, nf.extra, nf.match_rate), (1, 1, Some(0.5)));
    let r = compare(&a, &a, &CompareOptions::default()).with_noise_floor(nf.clone());
    assert_eq!(r.noise_floor, Some(nf));
}

#[test]
fn tolerance_is_inclusive() {
    let opts = CompareOptions {
        tolerance: Duration::from_secs(60),
        ..CompareOptions::default()
    };
    let old = vec![alert("A", &[], T0)];
    for (offset, expect) in [
        (60_000, 1),
        (-60_000, 1),
        (60_001, 0),
        (-60_001, 0),
        (59_999, 1),
    ] {
        let new = vec![alert("A", &[], T0 + offset)];
        let r = compare(&old, &new, &opts);
        assert_eq!(r.matched, expect, "offset {offset}");
        assert_eq!(r.missing, 1 - expect, "offset {offset}");
        assert_eq!(r.extra, 1 - expect, "offset {offset}");
    }
}

#[test]
fn repeated_episodes_are_matched_in_time_order() {
    let min = 60_000;
    let old = vec![
        alert("Flappy", &[], T0 + 20 * min),
        alert("Flappy", &[], T0),
        alert("Flappy", &[], T0 + 10 * min),
    ];
    let new = vec![
        alert("Flappy", &[], T0 + 30 * min),
        alert("Flappy", &[], T0 + 500),
        alert("Flappy", &[], T0 + 10 * min + 2_000),
    ];
    let r = compare(&old, &new, &CompareOptions::default());
    assert_eq!((r.matched, r.missing, r.extra), (2, 1, 1));
    let delays: Vec<f64> = r.matched_alerts.iter().map(|m| m.delay_seconds).collect();
    assert_eq!(delays, vec![0.5, 2.0]);
    assert_eq!(r.missing_alerts[0].starts_at, T0 + 20 * min);
    assert_eq!(r.extra_alerts[0].starts_at, T0 + 30 * min);

    // Greedy: the first old episode takes the earliest new one in tolerance.
    let old = vec![alert("A", &[], T0), alert("A", &[], T0 + 30_000)];
    let new = vec![alert("A", &[], T0 + 40_000), alert("A", &[], T0 + 20_000)];
    let r = compare(&old, &new, &CompareOptions::default());
    let pairs: Vec<(i64, i64)> = r
        .matched_alerts
        .iter()
        .map(|m| (m.starts_at - T0, m.new_starts_at - T0))
        .collect();
    assert_eq!(pairs, vec![(0, 20_000), (30_000, 40_000)]);
}

#[test]
fn ignore_label_makes_stacks_comparable() {
    let old = vec![alert("A", &[("instance", "a:1"), ("job", "x")], T0)];
    let new = vec![alert("A", &[("instance", "10.0.0.1:1"), ("job", "x")], T0)];
    let r = compare(&old, &new, &CompareOptions::default());
    assert_eq!(r.matched, 0);
    let opts = CompareOptions {
        ignore_labels: vec!["instance".into()],
        ..CompareOptions::default()
    };
    let r = compare(&old, &new, &opts);
    assert_eq!(r.matched, 1);
    assert_eq!(r.matched_alerts[0].key, "A{job=\"x\"}");
    assert_eq!(r.verdict, Verdict::Pass);
    assert_eq!(r.risk_level, RiskLevel::Low);
    assert!(
        r.recommendations
            .iter()
            .any(|l| l.starts_with("Safe to proceed: match rate 100.0%"))
    );
}

#[test]
fn label_and_value_renames_apply_to_old_side() {
    let old = vec![alert("A", &[("svc", "api"), ("severity", "crit")], T0)];
    let new = vec![alert(
        "A",
        &[("service", "api"), ("severity", "critical")],
        T0,
    )];
    let mut opts = CompareOptions {
        rename_labels: vec![("svc".into(), "service".into())],
        ..CompareOptions::default()
    };
    assert_eq!(compare(&old, &new, &opts).matched, 0);
    opts.rename_values = vec![("severity".into(), "crit".into(), "critical".into())];
    let r = compare(&old, &new, &opts);
    assert_eq!(r.matched, 1);
    assert!(r.by_severity.contains_key("critical"));
    // Renames are one-way: swapping sides does not match.
    assert_eq!(compare(&new, &old, &opts).matched, 0);
}

#[test]
fn no_data_on_either_side_is_never_a_pass() {
    let some = vec![alert("A", &[], T0)];
    let opts = CompareOptions::default();
    let r = compare(&[], &some, &opts);
    assert_eq!(r.verdict, Verdict::NoData);
    assert_eq!(r.match_rate, None);
    assert_eq!(r.extra, 1);
    let r = compare(&some, &[], &opts);
    assert_eq!(r.verdict, Verdict::NoData);
    assert_eq!(r.match_rate, Some(0.0));
    assert_eq!(r.risk_level, RiskLevel::High);
    let r = compare(&[], &[], &opts);
    assert_eq!(r.verdict, Verdict::NoData);
    assert_eq!(r.match_rate, None);
    assert!(r.recommendations[0].starts_with("Neither system fired"));
    let json = serde_json::to_value(&r).unwrap();
    assert!(json["match_rate"].is_null());
    assert_eq!(json["verdict"], "no-data");
    assert!(json["delay_seconds"]["p50"].is_null());
}

#[test]
fn extra_only_is_inconclusive_unless_configured() {
    let old = vec![alert("A", &[], T0)];
    let new = vec![alert("A", &[], T0), alert("B", &[], T0)];
    let mut opts = CompareOptions::default();
    let r = compare(&old, &new, &opts);
    assert_eq!(
        (r.risk_level, r.verdict),
        (RiskLevel::Medium, Verdict::Inconclusive)
    );
    opts.thresholds.extra_is_medium = false;
    let r = compare(&old, &new, &opts);
    assert_eq!((r.risk_level, r.verdict), (RiskLevel::Low, Verdict::Pass));
}

#[test]
fn delay_percentiles_on_known_delays() {
    let delays_ms = [0, 1_000, 2_000, 4_000, 10_000];
    let old: Vec<Alert> = (0..5).map(|i| alert(&format!("A{i}"), &[], T0)).collect();
    let new: Vec<Alert> = (0..5)
        .map(|i| alert(&format!("A{i}"), &[], T0 + delays_ms[i]))
        .collect();
    let r = compare(&old, &new, &CompareOptions::default());
    let d = &r.delay_seconds;
    assert_eq!(d.count, 5);
    assert_eq!(d.p50, Some(2.0));
    assert!((d.p95.unwrap() - 8.8).abs() < 1e-9, "{:?}", d.p95);
    assert_eq!((d.min, d.max), (Some(0.0), Some(10.0)));
    assert!((d.mean.unwrap() - 3.4).abs() < 1e-9);
    let counts: Vec<usize> = d.histogram.iter().map(|b| b.count).collect();
    assert_eq!(counts, vec![1, 2, 3, 4, 5, 5, 5, 5, 5, 5]);

    // Negative delays (new fired first) are kept as negative.
    let r = compare(
        &[alert("A", &[], T0)],
        &[alert("A", &[], T0 - 2_500)],
        &CompareOptions::default(),
    );
    assert_eq!(r.delay_seconds.min, Some(-2.5));
}

#[test]
fn slow_new_system_gets_a_delay_recommendation() {
    let old = vec![alert("A", &[], T0), alert("B", &[], T0)];
    let new = vec![alert("A", &[], T0 + 240_000), alert("B", &[], T0 + 300_000)];
    let opts = CompareOptions {
        tolerance: Duration::from_secs(600),
        ..CompareOptions::default()
    };
    let r = compare(&old, &new, &opts);
    assert_eq!(r.matched, 2);
    assert!(
        r.recommendations.iter().any(|l| l.contains("delay p95")),
        "{:?}",
        r.recommendations
    );
    let text = render_text(&r);
    assert!(text.contains("Verdict: PASS"), "{text}");
}

#[test]
fn recorded_file_adapter_dumps_are_detected_and_compared() {
    let demo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../plans/demo-data");
    let old = parse_file(&demo.join("old/alerts.json"), None).expect("old dump");
    let new = parse_file(&demo.join("new/alerts.json"), None).expect("new dump");
    assert_eq!(old.format, Some(Format::Cutover));
    assert_eq!(new.format, Some(Format::Cutover));
    let opts = CompareOptions {
        ignore_labels: vec!["instance".into()],
        rename_alerts: vec![("ServiceDown".into(), "InstanceDown".into())],
        ..CompareOptions::default()
    };
    let report = compare(&old.alerts, &new.alerts, &opts);
    assert_eq!(
        (report.total_old, report.matched, report.missing),
        (6, 4, 2)
    );
}

//! Integration tests of the comparison engine, on hand-written API dumps.

use clap::Parser;
use cutover_compare::cli::{Args, run};
use cutover_compare::{
    Alert, AlertState, CompareError, CompareOptions, Format, NoiseFloor, RiskLevel, Verdict,
    compare, parse_file, parse_str, render_text,
};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

mod reports;
mod streaming;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn fx(name: &str) -> String {
    fixture(name).display().to_string()
}

/// Run the CLI with extra flags, returning the verdict and the output.
fn run_cli(extra: &[&str]) -> (Verdict, String) {
    let mut argv = vec!["compare".to_string()];
    argv.extend(extra.iter().map(|s| s.to_string()));
    let args = Args::try_parse_from(argv).unwrap();
    let mut out = Vec::new();
    let verdict = run(&args, &mut out).unwrap();
    (verdict, String::from_utf8(out).unwrap())
}

fn run_reference_json(extra: &[&str]) -> (Verdict, Value) {
    let old = fx("reference/old_alertmanager.json");
    let new = fx("reference/new_alertmanager.json");
    let mut argv = vec![old.as_str(), new.as_str(), "--json"];
    argv.extend_from_slice(extra);
    let (v, out) = run_cli(&argv);
    (v, serde_json::from_str(&out).unwrap())
}

fn alertnames(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|a| a["alertname"].as_str().unwrap().to_string())
        .collect()
}

fn alert(name: &str, labels: &[(&str, &str)], starts_at: i64) -> Alert {
    let mut l: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    l.insert("alertname".into(), name.into());
    Alert {
        labels: l,
        annotations: BTreeMap::new(),
        starts_at,
        ends_at: None,
        state: AlertState::Active,
        source: "test".into(),
        fingerprint: format!("{name}-{starts_at}"),
    }
}

const T0: i64 = 1_795_165_200_000; // 2026-11-20T09:00:00Z

#[test]
fn reference_scenario_fails_with_expected_counts() {
    let (verdict, r) = run_reference_json(&["--ignore-label", "instance"]);
    assert_eq!(verdict, Verdict::Fail);
    assert_eq!(r["total_old"], 6);
    assert_eq!(r["total_new"], 4);
    assert_eq!(r["matched"], 3);
    assert_eq!(r["missing"], 3);
    assert_eq!(r["extra"], 1);
    assert_eq!(r["match_rate"], 0.5);
    assert_eq!(r["risk_level"], "high");
    assert_eq!(r["verdict"], "fail");
    assert_eq!(
        alertnames(&r["matched_alerts"]),
        BTreeSet::from([
            "Watchdog".into(),
            "ErrorRateHigh".into(),
            "HighQueueDepth".into()
        ])
    );
    let matched_queue: Vec<&Value> = r["matched_alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["alertname"] == "HighQueueDepth")
        .collect();
    assert_eq!(matched_queue.len(), 1);
    assert_eq!(matched_queue[0]["labels"]["queue"], "emails");
    assert_eq!(
        alertnames(&r["missing_alerts"]),
        BTreeSet::from([
            "DiskAlmostFull".into(),
            "HighQueueDepth".into(),
            "ServiceDown".into()
        ])
    );
    let missing_queue = r["missing_alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["alertname"] == "HighQueueDepth")
        .unwrap();
    assert_eq!(missing_queue["labels"]["queue"], "orders");
    assert_eq!(
        alertnames(&r["extra_alerts"]),
        BTreeSet::from(["InstanceDown".into()])
    );
    let erh = r["matched_alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["alertname"] == "ErrorRateHigh")
        .unwrap();
    assert_eq!(erh["delay_seconds"], 1.5);
    assert_eq!(erh["starts_at"], "2026-11-20T10:12:30.25Z");
    let recs: Vec<&str> = r["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        recs.iter()
            .any(|l| l.starts_with("Match rate 50.0% is below 80.0%"))
    );
    assert!(recs.iter().any(|l| l.starts_with(
        "3 alert(s) fired by the old system were not fired by the new one: DiskAlmostFull"
    )));
    assert!(recs.iter().any(|l| l.starts_with(
        "1 alert(s) fired only by the new system (possible false alerts): InstanceDown"
    )));
    assert!(
        recs.iter()
            .any(|l| l.contains("--rename ServiceDown=InstanceDown"))
    );
    assert!(!recs.iter().any(|l| l.starts_with("Safe to proceed")));
}

#[test]
fn report_has_the_contracted_top_level_fields() {
    let (_, r) = run_reference_json(&["--ignore-label", "instance", "--by", "service"]);
    let keys: BTreeSet<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
    for k in [
        "total_old",
        "total_new",
        "matched",
        "missing",
        "extra",
        "match_rate",
        "risk_level",
        "verdict",
        "delay_seconds",
        "recommendations",
        "missing_alerts",
        "extra_alerts",
        "matched_alerts",
        "by_alertname",
        "by_severity",
        "by_label",
        "options",
        "noise_floor",
        "inputs",
    ] {
        assert!(keys.contains(k), "missing field {k}");
    }
    for k in ["p50", "p95", "max", "min", "mean", "histogram"] {
        assert!(
            r["delay_seconds"].get(k).is_some(),
            "missing delay field {k}"
        );
    }
    let hist = r["delay_seconds"]["histogram"].as_array().unwrap();
    assert_eq!(hist.first().unwrap()["le"], 0.5);
    assert_eq!(hist.last().unwrap()["le"], "+Inf");
    assert_eq!(hist.last().unwrap()["count"], 3);
    assert_eq!(r["options"]["ignore_labels"][0], "instance");
    assert_eq!(r["options"]["tolerance_seconds"], 60.0);
    assert_eq!(r["options"]["breakdown_label"], "service");
    assert_eq!(r["inputs"]["old"]["format"], "alertmanager-v2");
    assert_eq!(r["inputs"]["new"]["alerts"], 4);
}

#[test]
fn reference_scenario_with_rename_matches_four() {
    let (verdict, r) = run_reference_json(&[
        "--ignore-label",
        "instance",
        "--rename",
        "ServiceDown=InstanceDown",
    ]);
    assert_eq!(r["matched"], 4);
    assert_eq!(r["missing"], 2);
    assert_eq!(r["extra"], 0);
    assert_eq!(r["risk_level"], "high");
    assert_eq!(verdict, Verdict::Fail);
    assert!(alertnames(&r["matched_alerts"]).contains("InstanceDown"));
    assert_eq!(r["options"]["rename_alerts"][0][0], "ServiceDown");
}

#[test]
fn differing_instance_labels_are_diagnosed_without_ignore() {
    let (_, r) = run_reference_json(&[]);
    // Only Watchdog carries no instance label.
    assert_eq!(r["matched"], 1);
    let recs = r["recommendations"].to_string();
    assert!(recs.contains("--ignore-label instance"), "{recs}");
}

#[test]
fn breakdowns_by_alertname_severity_and_label() {
    let (_, r) = run_reference_json(&["--ignore-label", "instance", "--by", "service"]);
    let checkout = &r["by_label"]["checkout"];
    assert_eq!(checkout["old"], 1);
    assert_eq!(checkout["new"], 1);
    assert_eq!(checkout["missing"], 1);
    assert_eq!(checkout["extra"], 1);
    assert_eq!(checkout["match_rate"], 0.0);
    let critical = &r["by_severity"]["critical"];
    assert_eq!(critical["old"], 2);
    assert_eq!(critical["matched"], 1);
    assert_eq!(critical["match_rate"], 0.5);
    let q = &r["by_alertname"]["HighQueueDepth"];
    assert_eq!((q["old"].as_u64(), q["new"].as_u64()), (Some(2), Some(1)));
    assert_eq!(
        (q["matched"].as_u64(), q["missing"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(r["by_alertname"]["InstanceDown"]["match_rate"].is_null());
    assert_eq!(r["by_label"]["(none)"]["old"], 1); // Watchdog has no service
    let (_, plain) = run_reference_json(&["--ignore-label", "instance"]);
    assert!(plain["by_label"].is_null());
}

#[test]
fn text_report_shows_totals_lists_and_recommendations() {
    let old = fx("reference/old_alertmanager.json");
    let new = fx("reference/new_alertmanager.json");
    let (verdict, out) = run_cli(&[&old, &new, "--ignore-label", "instance"]);
    assert_eq!(verdict, Verdict::Fail);
    assert!(out.starts_with("Verdict: FAIL (risk high)"), "{out}");
    assert!(out.contains("50.0%"));
    // Delays 0.48s (Watchdog), 0.5s (HighQueueDepth), 1.5s (ErrorRateHigh).
    assert!(out.contains("p50 0.5s"), "{out}");
    assert!(out.contains("max 1.5s"), "{out}");
    assert!(out.contains("Missing (fired by old only):"));
    assert!(out.contains("HighQueueDepth{job=\"rabbitmq\",queue=\"orders\""));
    assert!(out.contains("Extra (fired by new only):"));
    assert!(out.contains("Recommendations:"));
    assert!(serde_json::from_str::<Value>(&out).is_err());
}

#[test]
fn noise_floor_from_second_read_of_old() {
    let old = fx("reference/old_alertmanager.json");
    let new = fx("reference/new_alertmanager.json");
    let old2 = fx("reference/old_second_read.json");
    let (_, out) = run_cli(&[
        &old,
        &new,
        "--ignore-label",
        "instance",
        "--rename",
        "ServiceDown=InstanceDown",
        "--noise",
        &old2,
        "--json",
    ]);
    let r: Value = serde_json::from_str(&out).unwrap();
    // The second read lost the resolved DiskAlmostFull; renames must not
    // apply to a self-comparison, so ServiceDown still matches itself.
    assert_eq!(r["noise_floor"]["missing"], 1);
    assert_eq!(r["noise_floor"]["extra"], 0);
    let rate = r["noise_floor"]["match_rate"].as_f64().unwrap();
    assert!((rate - 5.0 / 6.0).abs() < 1e-9);
    assert!(r["recommendations"].to_string().contains("second read"));
    let (_, text) = run_cli(&[&old, &new, "--ignore-label", "instance", "--noise", &old2]);
    assert!(text.contains("noise floor"), "{text}");
}

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
    let (_, out) = {
        let old = fx("reference/old_alertmanager.json");
        let new = fx("reference/new_alertmanager.json");
        // ErrorRateHigh is 1.5s late: a 1s tolerance loses it, 1500ms keeps it.
        let tight = run_cli(&[
            &old,
            &new,
            "--ignore-label",
            "instance",
            "--tolerance",
            "1s",
            "--json",
        ]);
        let r: Value = serde_json::from_str(&tight.1).unwrap();
        assert!(!alertnames(&r["matched_alerts"]).contains("ErrorRateHigh"));
        run_cli(&[
            &old,
            &new,
            "--ignore-label",
            "instance",
            "--tolerance",
            "1500ms",
            "--json",
        ])
    };
    let r: Value = serde_json::from_str(&out).unwrap();
    assert!(alertnames(&r["matched_alerts"]).contains("ErrorRateHigh"));
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

    let (v, out) = run_cli(&[&fx("prometheus_v1.json"), &fx("empty.json")]);
    assert_eq!(v, Verdict::NoData);
    assert!(out.contains("(prometheus-v1, 2 pending skipped)"), "{out}");
    assert!(out.contains("empty.json (empty)"), "{out}");
    let (v, out) = run_cli(&[&fx("empty.json"), &fx("empty_array.json"), "--json"]);
    assert_eq!(v, Verdict::NoData);
    let r: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (r["total_old"].as_u64(), r["total_new"].as_u64()),
        (Some(0), Some(0))
    );
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
fn thresholds_are_validated_by_run() {
    let old = fx("reference/old_alertmanager.json");
    let new = fx("reference/new_alertmanager.json");
    let args = Args::try_parse_from([
        "compare",
        old.as_str(),
        new.as_str(),
        "--high-below",
        "0.99",
        "--medium-below",
        "0.9",
    ])
    .unwrap();
    let err = run(&args, &mut Vec::new()).unwrap_err();
    assert!(matches!(err, CompareError::InvalidOption(_)), "{err}");
}

#[test]
fn cli_flags_parse() {
    let args = Args::try_parse_from([
        "compare",
        "o.json",
        "n.json",
        "--old-format",
        "alertmanager-v2",
        "--new-format",
        "webhook",
        "--ignore-label",
        "instance",
        "--ignore-label",
        "prometheus",
        "--rename",
        "A=B",
        "--rename-label",
        "svc=service",
        "--rename-value",
        "severity:crit=critical",
        "--tolerance",
        "1m30s",
        "--by",
        "team",
        "--high-below",
        "0.7",
    ])
    .unwrap();
    let o = args.options();
    assert_eq!(args.old_format, Some(Format::AlertmanagerV2));
    assert_eq!(args.new_format, Some(Format::Webhook));
    assert_eq!(o.ignore_labels, vec!["instance", "prometheus"]);
    assert_eq!(o.rename_alerts, vec![("A".to_string(), "B".to_string())]);
    assert_eq!(
        o.rename_labels,
        vec![("svc".to_string(), "service".to_string())]
    );
    assert_eq!(o.rename_values[0].2, "critical");
    assert_eq!(o.tolerance, Duration::from_secs(90));
    assert_eq!(o.breakdown_label.as_deref(), Some("team"));
    assert_eq!(o.thresholds.high_below, 0.7);
    assert_eq!(o.thresholds.medium_below, 0.95);
    assert!(Args::try_parse_from(["compare", "o", "n", "--rename", "AB"]).is_err());
    assert!(Args::try_parse_from(["compare", "o", "n", "--tolerance", "3 days"]).is_err());
    let d = Args::try_parse_from(["compare", "o", "n"]).unwrap();
    assert_eq!(d.tolerance, Duration::from_secs(60));
}

#[test]
fn malformed_json_error_names_file_line_and_column() {
    let err = parse_file(&fixture("malformed.json"), None).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("malformed.json:7:5:"), "{msg}");
    assert!(msg.contains("expected `,` or `}`"), "{msg}");
    // Same with the format forced.
    let err = parse_file(&fixture("malformed.json"), Some(Format::AlertmanagerV2)).unwrap_err();
    assert!(err.to_string().contains("malformed.json:7:5:"), "{err}");
}

#[test]
fn malformed_webhook_line_error_names_the_line() {
    let err = parse_file(&fixture("malformed_webhook.jsonl"), None).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("malformed_webhook.jsonl:3:"), "{msg}");
    assert!(msg.contains("\"yesterday\""), "{msg}");
    match err {
        CompareError::Syntax { line, .. } => assert_eq!(line, 3),
        other => panic!("unexpected error {other:?}"),
    }
}

#[test]
fn shape_errors_say_what_was_expected() {
    let err = parse_str(
        r#"[{"labels":{"alertname":"A"},"status":{"state":"active"}}]"#,
        "dump.json",
        None,
    )
    .unwrap_err();
    assert!(err.to_string().contains("dump.json:1:"), "{err}");
    assert!(
        err.to_string().contains("missing field `startsAt`"),
        "{err}"
    );
    let err = parse_file(&fixture("prometheus_v1.json"), Some(Format::AlertmanagerV2)).unwrap_err();
    assert!(err.to_string().contains("prometheus_v1.json:1:"), "{err}");
    assert!(err.to_string().contains("expected a sequence"), "{err}");
    let err = parse_str(r#"{"hello":"world"}"#, "x.json", None).unwrap_err();
    assert!(matches!(err, CompareError::UnknownFormat { .. }), "{err}");
    let err = parse_str(
        r#"{"status":"error","errorType":"timeout","error":"query timed out","data":null}"#,
        "p.json",
        None,
    )
    .unwrap_err();
    assert!(err.to_string().contains("query timed out"), "{err}");
}

#[test]
fn alertmanager_end_times_and_states() {
    let p = parse_file(&fixture("reference/old_alertmanager.json"), None).unwrap();
    assert_eq!(p.format, Some(Format::AlertmanagerV2));
    let by_name = |n: &str| p.alerts.iter().find(|a| a.alertname() == n).unwrap();
    // endsAt 11:04 is after the newest updatedAt (11:00): still active.
    assert_eq!(by_name("Watchdog").ends_at, None);
    assert_eq!(by_name("Watchdog").state, AlertState::Active);
    // endsAt 10:35 is not after 11:00: the alert ended.
    let disk = by_name("DiskAlmostFull");
    assert_eq!(disk.state, AlertState::Resolved);
    assert_eq!(disk.ends_at, Some(T0 + 95 * 60_000));
    // Nanoseconds truncated to millis.
    assert_eq!(disk.starts_at, T0 + 65 * 60_000 + 123);
    assert_eq!(by_name("ServiceDown").state, AlertState::Active); // unprocessed
    let suppressed: Vec<_> = p
        .alerts
        .iter()
        .filter(|a| a.state == AlertState::Suppressed)
        .collect();
    assert_eq!(suppressed.len(), 1);
    // startsAt with +01:00 offset.
    assert_eq!(suppressed[0].starts_at, T0 + 20 * 60_000);
    assert_eq!(suppressed[0].fingerprint, "2d3e4f5a6b7c8d9e");
    // Sorted by start.
    assert!(
        p.alerts
            .windows(2)
            .all(|w| w[0].starts_at <= w[1].starts_at)
    );
}

#[test]
fn webhook_notifications_merge_into_episodes() {
    let p = parse_file(&fixture("webhook.jsonl"), None).unwrap();
    assert_eq!(p.format, Some(Format::Webhook));
    assert_eq!(p.stats.payloads, 5);
    assert_eq!(p.stats.merged_notifications, 2);
    assert_eq!(p.alerts.len(), 3);
    let erh: Vec<&Alert> = p
        .alerts
        .iter()
        .filter(|a| a.alertname() == "ErrorRateHigh")
        .collect();
    assert_eq!(erh.len(), 2);
    assert_eq!(erh[0].state, AlertState::Resolved);
    assert_eq!(erh[0].ends_at, Some(T0 + 91 * 60_000 + 1_750));
    assert_eq!(erh[0].starts_at, T0 + 72 * 60_000 + 31_750);
    assert_eq!(erh[1].state, AlertState::Active);
    assert_eq!(erh[1].ends_at, None);
    let q = p
        .alerts
        .iter()
        .find(|a| a.alertname() == "HighQueueDepth")
        .unwrap();
    assert_eq!(q.ends_at, None); // Go zero time is "no end"

    // A single pretty-printed payload is accepted too.
    let one = r#"{
  "version": "4", "status": "resolved", "receiver": "r",
  "alerts": [{"status": "resolved", "labels": {"alertname": "X"}, "annotations": {},
              "startsAt": "2026-11-20T09:00:00Z", "endsAt": "2026-11-20T09:05:00Z", "fingerprint": "f"}]
}"#;
    let p = parse_str(one, "one.json", None).unwrap();
    assert_eq!(p.format, Some(Format::Webhook));
    assert_eq!(p.alerts[0].ends_at, Some(T0 + 5 * 60_000));
}

#[test]
fn prometheus_pending_alerts_are_skipped_and_counted() {
    let p = parse_file(&fixture("prometheus_v1.json"), None).unwrap();
    assert_eq!(p.format, Some(Format::PrometheusV1));
    assert_eq!(p.stats.skipped_pending, 2);
    let names: Vec<&str> = p.alerts.iter().map(|a| a.alertname()).collect();
    assert_eq!(names, vec!["Watchdog", "HighQueueDepth"]);
    assert_eq!(p.alerts[0].starts_at, T0 + 12);
    assert_eq!(p.alerts[1].starts_at, T0 + 20 * 60_000); // 11:20+02:00
    assert_eq!(p.alerts[0].fingerprint.len(), 16);
}

#[test]
fn cutover_export_is_read() {
    let p = parse_file(&fixture("cutover_export.json"), None).unwrap();
    assert_eq!(p.format, Some(Format::Cutover));
    assert_eq!(p.alerts.len(), 2);
    assert!(p.alerts.iter().all(|a| a.source == "icinga2-prod"));
    let disk = p
        .alerts
        .iter()
        .find(|a| a.alertname() == "DiskAlmostFull")
        .unwrap();
    assert_eq!(disk.starts_at, T0 + 65 * 60_000 + 123);
    assert_eq!(disk.ends_at, Some(T0 + 95 * 60_000));
    assert_eq!(disk.state, AlertState::Resolved);
}

#[test]
fn empty_inputs_yield_zero_alerts() {
    for name in ["empty.json", "empty_array.json"] {
        let p = parse_file(&fixture(name), None).unwrap();
        assert!(p.alerts.is_empty(), "{name}");
    }
    let p = parse_str("\n  \n", "blank", Some(Format::Webhook)).unwrap();
    assert!(p.alerts.is_empty());
    let p = parse_str(r#"{"status":"success","data":{"alerts":[]}}"#, "p", None).unwrap();
    assert_eq!(p.format, Some(Format::PrometheusV1));
    assert!(p.alerts.is_empty());
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

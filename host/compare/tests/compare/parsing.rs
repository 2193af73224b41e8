//! Reading each dump format: detection, error positions and messages, end
//! times and states, webhook merging, pending alerts and empty inputs.

use super::*;
use cutover_compare::{CompareError, Format, parse_file, parse_str};

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

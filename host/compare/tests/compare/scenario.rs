//! `run` on the reference dumps (old vs new Alertmanager): counts, the JSON
//! contract, renames, breakdowns, the text report, the noise floor and
//! option checks.

use super::*;
use cutover_compare::{CompareError, JsonLayout};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;

/// The fields of the "Top-level fields" table of docs/report.md.
fn documented_top_level_fields() -> BTreeSet<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/report.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    doc.lines()
        .skip_while(|l| *l != "### Top-level fields")
        .skip(1)
        .take_while(|l| !l.starts_with("### "))
        .filter_map(|l| Some(l.strip_prefix("| `")?.split_once('`')?.0.to_string()))
        .collect()
}

/// The alert names of a JSON alert list.
fn alertnames(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|a| a["alertname"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn reference_scenario_fails_with_expected_counts() {
    let (verdict, r) = run_json(reference(|r| {
        r.options.ignore_labels = labels(&["instance"]);
        r.json.matched = true;
    }));
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
    let (_, r) = run_json(reference(|r| {
        r.options.ignore_labels = labels(&["instance"]);
        r.options.breakdown_label = Some("service".into());
    }));
    // Exactly the fields docs/report.md lists as top-level.
    let keys: BTreeSet<String> = r.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, documented_top_level_fields());
    assert!(keys.len() >= 20, "{keys:?}");
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
fn json_is_compact_and_summarises_pairs_unless_asked() {
    let edit = |r: &mut CompareRequest| {
        r.options.ignore_labels = labels(&["instance"]);
        r.format = OutputFormat::Json;
    };
    let (_, default) = run_request(&reference(edit));
    assert_eq!(default.lines().count(), 1, "{default}");
    let r: Value = serde_json::from_str(&default).unwrap();
    assert_eq!(r["schema"], "cutover.compare.report/v2");
    assert!(r["matched_alerts"].is_null(), "{r:#}");
    // The pairs are still summarised: counts, delays, breakdowns.
    assert_eq!(r["matched"], 3);
    assert_eq!(r["delay_seconds"]["count"], 3);
    let matched_by_name: u64 = r["by_alertname"]
        .as_object()
        .unwrap()
        .values()
        .map(|b| b["matched"].as_u64().unwrap())
        .sum();
    assert_eq!(matched_by_name, 3);
    assert_eq!(r["missing_alerts"].as_array().unwrap().len(), 3);
    // A terminal, or `pretty`, indents; `matched` lists the pairs.
    let (_, on_terminal) = run_request(&reference(|r| {
        edit(r);
        r.terminal = true;
    }));
    let (_, pretty) = run_request(&reference(|r| {
        edit(r);
        r.json = JsonLayout::PRETTY;
    }));
    assert_eq!(on_terminal, pretty);
    assert!(pretty.lines().count() > 50, "{pretty}");
    assert_eq!(serde_json::from_str::<Value>(&pretty).unwrap(), r);
    let (_, full) = run_request(&reference(|r| {
        edit(r);
        r.json.matched = true;
    }));
    let full: Value = serde_json::from_str(&full).unwrap();
    assert_eq!(full["matched_alerts"].as_array().unwrap().len(), 3);
}

#[test]
fn reference_scenario_with_rename_matches_four() {
    let (verdict, r) = run_json(reference(|r| {
        r.options.ignore_labels = labels(&["instance"]);
        r.options.rename_alerts = vec![("ServiceDown".into(), "InstanceDown".into())];
        r.json.matched = true;
    }));
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
    let (_, r) = run_json(reference(|_| {}));
    // Only Watchdog carries no instance label.
    assert_eq!(r["matched"], 1);
    let recs = r["recommendations"].to_string();
    assert!(recs.contains("--ignore-label instance"), "{recs}");
}

#[test]
fn breakdowns_by_alertname_severity_and_label() {
    let (_, r) = run_json(reference(|r| {
        r.options.ignore_labels = labels(&["instance"]);
        r.options.breakdown_label = Some("service".into());
    }));
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
    let (_, plain) = run_json(reference(|r| {
        r.options.ignore_labels = labels(&["instance"])
    }));
    assert!(plain["by_label"].is_null());
}

#[test]
fn text_report_shows_totals_lists_and_recommendations() {
    let req = reference(|r| r.options.ignore_labels = labels(&["instance"]));
    let (verdict, out) = run_request(&req);
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
    let with_noise = |r: &mut CompareRequest| {
        r.options.ignore_labels = labels(&["instance"]);
        r.noise = Some(fixture("reference/old_second_read.json"));
    };
    let (_, r) = run_json(reference(|r| {
        with_noise(r);
        r.options.rename_alerts = vec![("ServiceDown".into(), "InstanceDown".into())];
    }));
    // The second read lost the resolved DiskAlmostFull; renames must not
    // apply to a self-comparison, so ServiceDown still matches itself.
    assert_eq!(r["noise_floor"]["missing"], 1);
    assert_eq!(r["noise_floor"]["extra"], 0);
    let rate = r["noise_floor"]["match_rate"].as_f64().unwrap();
    assert!((rate - 5.0 / 6.0).abs() < 1e-9);
    assert!(r["recommendations"].to_string().contains("second read"));
    let (_, text) = run_request(&reference(with_noise));
    assert!(text.contains("noise floor"), "{text}");
}

#[test]
fn tolerance_option_decides_a_late_match() {
    // ErrorRateHigh is 1.5s late: a 1s tolerance loses it, 1500ms keeps it.
    let with_tolerance = |ms: u64| {
        run_json(reference(|r| {
            r.options.ignore_labels = labels(&["instance"]);
            r.options.tolerance = Duration::from_millis(ms);
            r.json.matched = true;
        }))
        .1
    };
    assert!(!alertnames(&with_tolerance(1_000)["matched_alerts"]).contains("ErrorRateHigh"));
    assert!(alertnames(&with_tolerance(1_500)["matched_alerts"]).contains("ErrorRateHigh"));
}

#[test]
fn one_empty_dump_is_no_data() {
    let (v, out) = run_request(&CompareRequest::new(
        fixture("prometheus_v1.json"),
        fixture("empty.json"),
    ));
    assert_eq!(v, Verdict::NoData);
    assert!(out.contains("(prometheus-v1, 2 pending skipped)"), "{out}");
    assert!(out.contains("empty.json (empty)"), "{out}");
    let (v, r) = run_json(CompareRequest::new(
        fixture("empty.json"),
        fixture("empty_array.json"),
    ));
    assert_eq!(v, Verdict::NoData);
    assert_eq!(
        (r["total_old"].as_u64(), r["total_new"].as_u64()),
        (Some(0), Some(0))
    );
}

#[test]
fn thresholds_are_validated_by_run() {
    let req = reference(|r| {
        r.options.thresholds.high_below = 0.99;
        r.options.thresholds.medium_below = 0.9;
    });
    let err = run(&req, &mut Vec::new()).unwrap_err();
    assert!(matches!(err, CompareError::InvalidOption(_)), "{err}");
}

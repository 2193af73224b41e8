//! The backtest's report: two rule sets compared and marked as predicted,
//! per-rule failures in it, no data and an unavailable source (never a
//! pass), and the documentation of its `prediction` field.

use super::*;

/// A backtest of rules `items` against themselves, over minutes
/// 0..=`minutes`.
fn same_rules_on_both_sides(items: &str, s: &mut Steps, minutes: i64) -> BacktestReport {
    let opts = CompareOptions::default();
    backtest(
        &rules(items),
        &rules(items),
        s,
        window(minutes),
        None,
        &opts,
    )
    .unwrap()
}

#[test]
fn an_unavailable_source_is_not_asked_again() {
    let down = SourceError::Unavailable {
        message: "connection refused".into(),
    };
    let mut s = Steps::default()
        .failing("a", down)
        .with("b", vec![at_minutes(&[], &[0])]);
    let items = "  - alert: A\n    expr: a\n  - alert: B\n    expr: b\n";
    let r = same_rules_on_both_sides(items, &mut s, 2);
    assert_eq!(s.queries.len(), 1);
    for o in r.old.rules.iter().chain(&r.new.rules) {
        assert!(
            o.error.as_deref().unwrap().contains("connection refused"),
            "{o:?}"
        );
    }
    let p = r.report.prediction.as_ref().unwrap();
    assert!(p.no_data);
    assert_eq!(r.report.verdict, Verdict::NoData);
}

#[test]
fn no_data_is_reported_never_a_pass() {
    let mut s = Steps::default();
    let items = "  - alert: A\n    expr: up == 0\n";
    let r = same_rules_on_both_sides(items, &mut s, 60);
    let p = r.report.prediction.as_ref().unwrap();
    assert!(p.no_data);
    assert_eq!(r.report.verdict, Verdict::NoData);
    assert!(
        r.report.recommendations[1].contains("No rule"),
        "{:?}",
        r.report.recommendations
    );
}

/// Both sets over the same history: the new one renames an alert, drops one
/// and fires another later.
fn two_sets() -> BacktestReport {
    let mut s = Steps::default()
        .with(
            "up == 0",
            vec![at_minutes(&[("job", "a")], &[1, 2, 3, 4, 5])],
        )
        .with("errors > 0", vec![at_minutes(&[], &[10, 11])])
        .failing(
            "bad(",
            SourceError::Rejected {
                message: "parse error".into(),
            },
        );
    let old =
        rules("  - alert: Down\n    expr: up == 0\n  - alert: Errors\n    expr: errors > 0\n");
    let new = rules(
        "  - alert: Down\n    expr: up == 0\n    for: 3m\n  - alert: Broken\n    expr: bad(\n",
    );
    let opts = CompareOptions {
        tolerance: std::time::Duration::from_secs(300),
        ..CompareOptions::default()
    };
    backtest(&old, &new, &mut s, window(30), None, &opts).unwrap()
}

#[test]
fn the_report_compares_both_sets_and_is_marked_predicted() {
    let r = two_sets();
    let rep = &r.report;
    assert_eq!(
        (rep.total_old, rep.total_new, rep.matched, rep.missing),
        (2, 1, 1, 1)
    );
    assert_eq!(rep.verdict, Verdict::Fail);
    // `for: 3m` delays the start by 3 minutes.
    assert_eq!(rep.matched_alerts[0].delay_seconds, 180.0);
    let p = rep.prediction.as_ref().unwrap();
    assert!(!p.no_data);
    assert_eq!(
        p.new_rules[1].error.as_deref(),
        Some("the query was rejected: parse error")
    );
    assert!(rep.recommendations[0].starts_with("Predicted, not observed"));
    assert!(
        rep.recommendations[1]
            .contains("1 new rule(s) could not be evaluated and fired nothing: Broken")
    );
    let md = render_markdown(rep);
    assert!(md.contains("Predicted, not observed"), "{md}");
    // JSON: every field of the observed report, plus `prediction`.
    let v: serde_json::Value = serde_json::from_str(&render_json(rep).unwrap()).unwrap();
    for k in "total_old total_new matched missing extra match_rate verdict".split(' ') {
        assert!(v.get(k).is_some(), "{k}");
    }
    assert_eq!(v["prediction"]["from"], "1970-01-01T00:00:00Z");
    assert_eq!(v["prediction"]["new_rules"][1]["rule"], "Broken");
}

#[test]
fn docs_describe_the_prediction_fields() {
    let r = two_sets();
    let v: serde_json::Value = serde_json::from_str(&render_json(&r.report).unwrap()).unwrap();
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/report.md"),
    )
    .unwrap();
    assert!(doc.contains("### `prediction` (backtests)"));
    let p = &v["prediction"];
    let rule = &p["old_rules"][0];
    let names = p
        .as_object()
        .unwrap()
        .keys()
        .chain(rule.as_object().unwrap().keys());
    for k in names {
        assert!(
            doc.contains(&format!("`{k}`")),
            "docs/report.md does not mention `{k}`"
        );
    }
    // An observed report has no `prediction` at all.
    let observed =
        cutover_compare::compare(&r.old.alerts, &r.new.alerts, &CompareOptions::default());
    assert!(!render_json(&observed).unwrap().contains("\"prediction\""));
}

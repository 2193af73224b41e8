//! The backtest's evaluation core on hand-made series: `for`,
//! `keep_firing_for`, flapping, static and templated labels, NaN and stale
//! samples, failed rules and evaluations, messy samples, bounds on the
//! range, group options, speed; the predicted report in [`report`]; and
//! agreement with `promtool test rules` in [`promtool`].

use cutover_compare::backtest::{
    BacktestReport, MAX_POINTS_PER_QUERY, RangeSeries, RangeSource, STALE_NAN_BITS, SourceError,
    Window, backtest, evaluate,
};
use cutover_compare::{AlertState, CompareOptions, Verdict, render_json, render_markdown};
use std::collections::{BTreeMap, HashMap};
use translate_core::rules::RuleFile;

#[path = "backtest/promtool.rs"]
mod promtool;
#[path = "backtest/report.rs"]
mod report;

/// One minute, the default evaluation interval.
const M: i64 = 60_000;

/// A source answering each expression with fixed series (cut to the asked
/// range) or a fixed error, or from recorded raw series (see [`promtool`]);
/// it records the queries.
#[derive(Default)]
struct Steps {
    answers: HashMap<String, Result<Vec<RangeSeries>, SourceError>>,
    recorded: Vec<promtool::Raw>,
    queries: Vec<(String, i64, i64, i64)>,
}

impl Steps {
    /// A source evaluating queries over `raw` series.
    fn recorded(raw: Vec<promtool::Raw>) -> Steps {
        Steps {
            recorded: raw,
            ..Steps::default()
        }
    }

    fn with(mut self, expr: &str, series: Vec<RangeSeries>) -> Steps {
        self.answers.insert(expr.to_string(), Ok(series));
        self
    }

    fn failing(mut self, expr: &str, e: SourceError) -> Steps {
        self.answers.insert(expr.to_string(), Err(e));
        self
    }
}

impl RangeSource for Steps {
    fn query_range(
        &mut self,
        expr: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<Vec<RangeSeries>, SourceError> {
        self.queries.push((expr.to_string(), start, end, step));
        if !self.recorded.is_empty() {
            return promtool::query_recorded(&self.recorded, (expr, start, end, step));
        }
        let series = self.answers.get(expr).cloned().unwrap_or(Ok(Vec::new()))?;
        let series: Vec<RangeSeries> = series
            .into_iter()
            .map(|mut s| {
                s.samples.retain(|&(t, _)| (start..=end).contains(&t));
                s
            })
            .collect();
        Ok(series)
    }
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A series present with value 1 at the listed minutes.
fn at_minutes(l: &[(&str, &str)], minutes: &[i64]) -> RangeSeries {
    RangeSeries {
        labels: labels(l),
        samples: minutes.iter().map(|&m| (m * M, 1.0)).collect(),
    }
}

/// One group `g` with the rules given as YAML list items.
fn rules(items: &str) -> Vec<RuleFile> {
    vec![
        RuleFile::parse(
            "rules.yml",
            &format!("groups:\n- name: g\n  rules:\n{items}"),
        )
        .unwrap(),
    ]
}

fn window(minutes: i64) -> Window {
    Window {
        from_ms: 0,
        to_ms: minutes * M,
    }
}

/// (labels without alertname, start minute, end minute) of each episode.
type Episode = (BTreeMap<String, String>, i64, Option<i64>);

/// Evaluate `items` over minutes 0..=`minutes` of `source`.
fn episodes(items: &str, source: &mut Steps, minutes: i64) -> Vec<Episode> {
    let e = evaluate(&rules(items), source, window(minutes), None).unwrap();
    for r in &e.rules {
        assert_eq!(r.error, None, "{}", r.rule);
    }
    e.alerts
        .into_iter()
        .map(|a| {
            assert_eq!(a.state == AlertState::Active, a.ends_at.is_none());
            let mut l = a.labels;
            l.remove("alertname");
            (l, a.starts_at / M, a.ends_at.map(|t| t / M))
        })
        .collect()
}

#[test]
fn for_zero_fires_at_the_first_evaluation_and_resolves_when_missing() {
    let mut s = Steps::default().with("up == 0", vec![at_minutes(&[("job", "a")], &[3, 4, 5, 9])]);
    let e = episodes("  - alert: Down\n    expr: up == 0\n", &mut s, 9);
    let a = labels(&[("job", "a")]);
    // Still firing at the last evaluation: no end.
    assert_eq!(e, [(a.clone(), 3, Some(6)), (a, 9, None)]);
    assert_eq!(s.queries, [("up == 0".to_string(), 0, 9 * M, M)]);
}

#[test]
fn for_waits_and_a_gap_resets_the_pending_alert() {
    // Pending at 0, missing at 2 (dropped before 2m), pending again at 4,
    // firing at 6, resolved at 9.
    let mut s = Steps::default().with("x > 1", vec![at_minutes(&[], &[0, 1, 4, 5, 6, 7, 8])]);
    let e = episodes("  - alert: X\n    expr: x > 1\n    for: 2m\n", &mut s, 12);
    assert_eq!(e, [(labels(&[]), 6, Some(9))]);
}

#[test]
fn keep_firing_for_bridges_a_gap_and_resolves_after_it() {
    // Firing 0..=2, missing 3..=4 (kept), back at 5, missing from 6: kept at
    // 6, 7, 8, resolved at 9 (3m after it went missing).
    let mut s = Steps::default().with("e > 0", vec![at_minutes(&[], &[0, 1, 2, 5])]);
    let items = "  - alert: E\n    expr: e > 0\n    keep_firing_for: 3m\n";
    assert_eq!(episodes(items, &mut s, 20), [(labels(&[]), 0, Some(9))]);
    // Without it: two episodes.
    let items = "  - alert: E\n    expr: e > 0\n";
    assert_eq!(
        episodes(items, &mut s, 20),
        [(labels(&[]), 0, Some(3)), (labels(&[]), 5, Some(6))]
    );
}

#[test]
fn a_flapping_series_fires_each_time_without_for_and_never_with_it() {
    let on: Vec<i64> = (0..20).step_by(2).collect();
    let mut s = Steps::default().with("flap == 1", vec![at_minutes(&[], &on)]);
    let e = episodes("  - alert: F\n    expr: flap == 1\n", &mut s, 20);
    assert_eq!(e.len(), 10);
    assert!(e.iter().all(|(_, start, end)| *end == Some(start + 1)));
    let e = episodes(
        "  - alert: F\n    expr: flap == 1\n    for: 1m\n",
        &mut s,
        20,
    );
    assert!(e.is_empty(), "{e:?}");
}

#[test]
fn static_labels_are_added_and_override_the_series() {
    let mut s = Steps::default().with(
        "up == 0",
        vec![at_minutes(
            &[("__name__", "up"), ("job", "a"), ("severity", "low")],
            &[1],
        )],
    );
    let items = "  - alert: Down\n    expr: up == 0\n    labels:\n      severity: page\n      team: core\n    annotations:\n      summary: ignored\n";
    let e = evaluate(&rules(items), &mut s, window(3), None).unwrap();
    assert_eq!(
        e.alerts[0].labels,
        labels(&[
            ("alertname", "Down"),
            ("job", "a"),
            ("severity", "page"),
            ("team", "core")
        ])
    );
    assert!(e.alerts[0].annotations.is_empty());
}

#[test]
fn templated_labels_are_expanded_per_series_and_value() {
    let series = RangeSeries {
        labels: labels(&[("queue", "orders")]),
        samples: vec![(0, 150.0), (M, 150.0), (2 * M, 1_234_567.0)],
    };
    let mut s = Steps::default().with("depth > 100", vec![series]);
    let items = "  - alert: Deep\n    expr: depth > 100\n    labels:\n      q: 'q-{{ $labels.queue }}'\n      depth: '{{ $value }}'\n      gone: '{{ $labels.nope }}'\n";
    let e = episodes(items, &mut s, 3);
    let l = |d: &str| labels(&[("depth", d), ("q", "q-orders"), ("queue", "orders")]);
    // A new value is a new label set: a new alert.
    assert_eq!(e, [(l("150"), 0, Some(2)), (l("1.234567e+06"), 2, Some(3))]);
}

#[test]
fn unsupported_templates_and_bad_durations_are_reported_per_rule() {
    let mut s = Steps::default().with("up == 0", vec![at_minutes(&[], &[0])]);
    let items = "  - alert: Humanized\n    expr: up == 0\n    labels:\n      v: '{{ humanize $value }}'\n  - alert: BadFor\n    expr: up == 0\n    for: 5\n  - alert: Fine\n    expr: up == 0\n";
    let e = evaluate(&rules(items), &mut s, window(2), None).unwrap();
    let errors: Vec<_> = e
        .rules
        .iter()
        .map(|r| (r.rule.as_str(), r.error.clone()))
        .collect();
    assert!(
        errors[0]
            .1
            .as_deref()
            .unwrap()
            .contains("{{humanize $value}}"),
        "{errors:?}"
    );
    assert!(
        errors[1].1.as_deref().unwrap().contains("missing unit"),
        "{errors:?}"
    );
    assert_eq!(errors[2], ("Fine", None));
    assert_eq!(e.alerts.len(), 1);
    // Neither failed rule was queried.
    assert_eq!(s.queries.len(), 1);
}

#[test]
fn nan_values_are_present_and_stale_markers_absent() {
    let stale = f64::from_bits(STALE_NAN_BITS);
    let series = RangeSeries {
        labels: labels(&[]),
        samples: vec![(0, f64::NAN), (M, f64::NAN), (2 * M, stale), (3 * M, 1.0)],
    };
    let mut s = Steps::default().with("m", vec![series]);
    let e = episodes("  - alert: N\n    expr: m\n", &mut s, 4);
    assert_eq!(e, [(labels(&[]), 0, Some(2)), (labels(&[]), 3, Some(4))]);
}

#[test]
fn rejected_expressions_are_reported_and_the_others_go_on() {
    let mut s = Steps::default()
        .failing(
            "bad(",
            SourceError::Rejected {
                message: "bad_data: parse error".into(),
            },
        )
        .with("up == 0", vec![at_minutes(&[], &[0])]);
    let items = "  - alert: Bad\n    expr: bad(\n  - alert: Good\n    expr: up == 0\n";
    let e = evaluate(&rules(items), &mut s, window(2), None).unwrap();
    assert_eq!(
        e.rules[0].error.as_deref(),
        Some("the query was rejected: bad_data: parse error")
    );
    assert_eq!(
        (e.rules[1].error.as_deref(), e.rules[1].episodes),
        (None, 1)
    );
}

#[test]
fn equal_label_sets_fail_the_evaluation_like_prometheus() {
    // `instance: all` makes both series one label set: at minutes 1 and 2
    // the evaluation fails and leaves the alert as it was.
    let mut s = Steps::default().with(
        "up == 0",
        vec![
            at_minutes(&[("instance", "a")], &[0, 1, 2]),
            at_minutes(&[("instance", "b")], &[1, 2, 5]),
        ],
    );
    let items = "  - alert: D\n    expr: up == 0\n    labels: {instance: all}\n";
    let e = evaluate(&rules(items), &mut s, window(8), None).unwrap();
    let all = labels(&[("alertname", "D"), ("instance", "all")]);
    let got: Vec<_> = e
        .alerts
        .iter()
        .map(|a| (&a.labels, a.starts_at / M, a.ends_at.map(|t| t / M)))
        .collect();
    assert_eq!(got, [(&all, 0, Some(3)), (&all, 5, Some(6))]);
    assert!(
        e.rules[0].warnings[0].starts_with("2 evaluations failed"),
        "{:?}",
        e.rules[0].warnings
    );
}

#[test]
fn messy_samples_do_not_confuse_the_evaluator() {
    // Unsorted, repeated, off the step grid, outside the range; an empty series.
    let series = RangeSeries {
        labels: labels(&[]),
        samples: vec![
            (2 * M, 1.0),
            (0, 1.0),
            (M, 1.0),
            (M, 1.0),
            (M + 7, 1.0),
            (99 * M, 1.0),
        ],
    };
    let empty = RangeSeries {
        labels: labels(&[("x", "y")]),
        samples: vec![],
    };
    let mut s = Steps::default().with("m", vec![series, empty]);
    let e = evaluate(
        &rules("  - alert: A\n    expr: m\n"),
        &mut s,
        window(4),
        None,
    )
    .unwrap();
    let r = &e.rules[0];
    assert_eq!((r.samples, r.label_sets, r.episodes), (3, 1, 1));
    assert!(
        r.warnings[0].starts_with("2 samples ignored"),
        "{:?}",
        r.warnings
    );
    assert_eq!(
        (e.alerts[0].starts_at, e.alerts[0].ends_at),
        (0, Some(3 * M))
    );
}

#[test]
fn long_windows_are_read_in_bounded_queries_and_huge_ones_refused() {
    // 30,001 evaluations at 1s: three queries of at most 11,000 points.
    let mut s = Steps::default();
    let items = "  - alert: A\n    expr: up\n";
    let w = Window {
        from_ms: 0,
        to_ms: 30_000_000,
    };
    let e = evaluate(&rules(items), &mut s, w, Some(1_000)).unwrap();
    assert_eq!(e.rules[0].evaluations, 30_001);
    let points: Vec<i64> = s.queries.iter().map(|q| (q.2 - q.1) / q.3 + 1).collect();
    assert_eq!(points, [11_000, 11_000, 8_001]);
    assert!(points.iter().all(|&p| p <= i64::from(MAX_POINTS_PER_QUERY)));
    assert_eq!(s.queries[1].1, 11_000_000);
    // A year at 1s is refused for the rule, with the way out.
    let w = Window {
        from_ms: 0,
        to_ms: 365 * 86_400_000,
    };
    let e = evaluate(&rules(items), &mut s, w, Some(1_000)).unwrap();
    assert!(
        e.rules[0]
            .error
            .as_deref()
            .unwrap()
            .contains("narrow the window"),
        "{:?}",
        e.rules[0]
    );
    // Bad windows and steps are refused up front.
    let bad = Window {
        from_ms: 10,
        to_ms: 0,
    };
    assert!(
        evaluate(&rules(items), &mut s, bad, None)
            .unwrap_err()
            .to_string()
            .contains("after")
    );
    assert!(evaluate(&rules(items), &mut s, window(1), Some(0)).is_err());
}

#[test]
fn group_interval_offset_and_limit_are_honoured() {
    let mut s = Steps::default().with(
        "up == 0",
        vec![
            at_minutes(&[("i", "a")], &[0, 1, 2, 3]),
            at_minutes(&[("i", "b")], &[2, 3]),
        ],
    );
    // Every 2m, querying 1m earlier: evaluations at 0, 2, 4 see minutes -1, 1, 3.
    let text = "groups:\n- name: g\n  interval: 2m\n  query_offset: 1m\n  rules:\n  - alert: A\n    expr: up == 0\n";
    let files = vec![RuleFile::parse("r.yml", text).unwrap()];
    let e = evaluate(&files, &mut s, window(5), None).unwrap();
    assert_eq!(
        s.queries.last().unwrap(),
        &("up == 0".to_string(), -M, 3 * M, 2 * M)
    );
    let got: Vec<_> = e
        .alerts
        .iter()
        .map(|a| (a.labels["i"].as_str(), a.starts_at / M, a.ends_at))
        .collect();
    assert_eq!(got, [("a", 2, None), ("b", 4, None)]);
    // More alerts at once than the limit: reported, not simulated.
    let text = "groups:\n- name: g\n  limit: 1\n  rules:\n  - alert: A\n    expr: up == 0\n";
    let files = vec![RuleFile::parse("r.yml", text).unwrap()];
    let e = evaluate(&files, &mut s, window(5), None).unwrap();
    assert!(
        e.rules[0].error.as_deref().unwrap().contains("limit of 1"),
        "{:?}",
        e.rules[0]
    );
    assert!(e.alerts.is_empty());
}

#[test]
fn hundred_rules_over_a_week_at_one_minute() {
    // 100 rules x 10,081 evaluations x 2 series, flapping hourly (the
    // speed is measured by host/engine/benches/backtest.rs against a real
    // Prometheus, not here).
    let on: Vec<i64> = (0..10_081).filter(|m| m % 60 < 20).collect();
    let mut s = Steps::default();
    let mut items = String::new();
    for i in 0..100 {
        let expr = format!("m{i} > 0");
        s = s.with(
            &expr,
            vec![
                at_minutes(&[("i", "a")], &on),
                at_minutes(&[("i", "b")], &on),
            ],
        );
        items.push_str(&format!("  - alert: A{i}\n    expr: {expr}\n    for: 5m\n"));
    }
    let e = evaluate(&rules(&items), &mut s, window(7 * 1440), None).unwrap();
    assert_eq!(e.alerts.len(), 100 * 2 * 168);
}

//! The Grafana dashboard only queries metrics the registry exports.

use std::collections::BTreeSet;
use std::time::Duration;

use cutover_ops::{METRIC_NAMES, MigrationMetrics};
use cutover_test_kit::repo_path;
use translate_core::promql;

/// Sample names in an encoded registry (`name{...} value` lines).
fn exported_samples() -> BTreeSet<String> {
    let m = MigrationMetrics::new();
    m.set_progress("p", "s", 0.5);
    m.set_alert_match_rate("s", 1.0);
    m.set_system_availability("new", true);
    m.set_data_consistency("alert_rules", 1.0);
    m.set_migration_start(1.0);
    m.record_plugin_call("x", "ok", Duration::from_millis(1));
    m.record_limit_hit("x", "deadline");
    m.encode()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.split(['{', ' ']).next().unwrap_or_default().to_string())
        .collect()
}

/// Metric names a PromQL expression of the dashboard selects, as the
/// translators' PromQL scanner finds them; Grafana's range variables
/// (`[$__rate_interval]`, `[$__range]`) stand for a duration.
fn metric_names(expr: &str) -> Vec<String> {
    let mut plain = String::new();
    let mut rest = expr;
    while let Some(i) = rest.find("[$") {
        plain.push_str(&rest[..i]);
        plain.push_str("[5m]");
        rest = rest[i..].split_once(']').map_or("", |(_, after)| after);
    }
    plain.push_str(rest);
    let analysis = promql::analyze(&plain).unwrap_or_else(|e| panic!("{expr}: {e}"));
    analysis
        .selectors
        .into_iter()
        .filter_map(|s| s.metric)
        .collect()
}

#[test]
fn extractor_finds_metrics_and_skips_labels_and_functions() {
    assert_eq!(
        metric_names(
            "histogram_quantile(0.95, sum by (plugin, le) (rate(foo_bucket{a=\"b}\"}[$__rate_interval]))) / on (x) bar * 1e3"
        ),
        ["foo_bucket", "bar"]
    );
}

#[test]
fn dashboard_queries_only_exported_metrics() {
    let path = repo_path("examples/grafana/cutover-migration.json");
    let text = std::fs::read_to_string(&path).expect("dashboard");
    let dash: serde_json::Value = serde_json::from_str(&text).expect("dashboard is JSON");
    let exported = exported_samples();
    let panels = dash["panels"].as_array().expect("panels");
    assert!(!panels.is_empty());
    let mut used = BTreeSet::new();
    let mut problems = Vec::new();
    for (pi, panel) in panels.iter().enumerate() {
        let targets = panel["targets"].as_array().map_or(&[][..], Vec::as_slice);
        if targets.is_empty() {
            problems.push(format!("panels[{pi}] ({}) has no targets", panel["title"]));
        }
        for (ti, target) in targets.iter().enumerate() {
            let Some(expr) = target["expr"].as_str() else {
                problems.push(format!("panels[{pi}].targets[{ti}].expr is missing"));
                continue;
            };
            let names = metric_names(expr);
            if names.is_empty() {
                problems.push(format!(
                    "panels[{pi}].targets[{ti}].expr selects no metric: {expr}"
                ));
            }
            for name in names {
                if !exported.contains(&name) {
                    problems.push(format!(
                        "panels[{pi}].targets[{ti}].expr uses `{name}`, which the registry does not export"
                    ));
                }
                used.insert(name);
            }
        }
    }
    // Every family appears on the dashboard.
    for family in METRIC_NAMES {
        if !used
            .iter()
            .any(|u| u == family || u.starts_with(&format!("{family}_")))
        {
            problems.push(format!("no panel shows `{family}`"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

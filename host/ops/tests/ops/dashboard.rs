//! The Grafana dashboard only queries metrics the registry exports.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::common::repo;
use cutover_ops::{METRIC_NAMES, MigrationMetrics};

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

/// Keywords and aggregation operators (which may precede `by (...)`).
const KEYWORDS: [&str; 25] = [
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "and",
    "or",
    "unless",
    "inf",
    "nan",
    "sum",
    "avg",
    "min",
    "max",
    "count",
    "group",
    "stddev",
    "stdvar",
    "topk",
    "bottomk",
    "quantile",
    "count_values",
];

/// Metric names a PromQL expression selects: identifiers that are not
/// functions, keywords, label names (in `{}` or `by (...)`), durations or
/// Grafana variables.
fn metric_names(expr: &str) -> Vec<String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut names = Vec::new();
    let mut i = 0;
    let mut label_list = false;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '{' | '[' | '"' => {
                let close = match c {
                    '{' => '}',
                    '[' => ']',
                    _ => '"',
                };
                i += 1;
                while i < chars.len() && chars[i] != close {
                    if chars[i] == '"' && close != '"' {
                        i += 1;
                        while i < chars.len() && chars[i] != '"' {
                            i += 1;
                        }
                    }
                    i += 1;
                }
                i += 1;
            }
            '$' => {
                i += 1;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
            }
            '(' => {
                i += 1;
            }
            ')' => {
                label_list = false;
                i += 1;
            }
            c if c.is_ascii_digit() || c == '.' => {
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                    i += 1;
                }
            }
            c if c.is_ascii_alphabetic() || c == '_' || c == ':' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let mut j = i;
                while j < chars.len() && chars[j] == ' ' {
                    j += 1;
                }
                let is_call = j < chars.len() && chars[j] == '(';
                let lower = word.to_ascii_lowercase();
                if KEYWORDS.contains(&lower.as_str()) {
                    if matches!(
                        lower.as_str(),
                        "by" | "without" | "on" | "ignoring" | "group_left" | "group_right"
                    ) {
                        label_list = true;
                    }
                } else if !is_call && !label_list {
                    names.push(word);
                }
            }
            _ => i += 1,
        }
    }
    names
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
    let path = repo().join("examples/grafana/cutover-migration.json");
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

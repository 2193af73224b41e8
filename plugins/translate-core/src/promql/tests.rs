use super::*;

fn selectors(expr: &str) -> Vec<String> {
    let a = analyze(expr).unwrap();
    a.selectors
        .iter()
        .map(|s| s.text(expr).to_owned())
        .collect()
}

#[test]
fn finds_selectors() {
    assert_eq!(selectors("up == 0"), vec!["up"]);
    assert_eq!(
        selectors(
            r#"sum by (instance, job) (rate(http_requests_total{code=~"5..", team="core"}[5m])) > 0.5"#
        ),
        vec![r#"http_requests_total{code=~"5..", team="core"}"#]
    );
    assert_eq!(
        selectors(r#"absent(up{job="node"}) or vector(0)"#),
        vec![r#"up{job="node"}"#]
    );
    assert_eq!(
        selectors("a * on(instance) group_left(team, owner) b offset 5m"),
        vec!["a", "b"]
    );
    assert_eq!(
        selectors(r#"{__name__=~"job:.*", team="core"} unless ignoring (x) job:up:sum"#),
        vec![r#"{__name__=~"job:.*", team="core"}"#, "job:up:sum"]
    );
    assert_eq!(
        selectors("max_over_time(x[1h:5m]) / SUM WITHOUT (pod) (y) > bool 1e-3"),
        vec!["x", "y"]
    );
    assert_eq!(selectors("vector(1)"), Vec::<String>::new());
    assert_eq!(
        selectors("time() - process_start_time_seconds @ start() < Inf"),
        vec!["process_start_time_seconds"]
    );
    assert_eq!(
        selectors(r#"{"my.metric", team="core"}"#),
        vec![r#"{"my.metric", team="core"}"#]
    );
}

#[test]
fn skips_strings_comments_and_label_lists() {
    let expr = "# {not=\"a selector\"}\nlabel_replace(up{a=\"}\"}, \"dst\", \"$1\", \"src\", \"{x}\") # trailing {";
    let a = analyze(expr).unwrap();
    assert_eq!(a.selectors.len(), 1);
    assert_eq!(a.selectors[0].matchers[0].matcher.value, "}");
    let strings: Vec<&str> = a.strings.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(strings, vec!["dst", "$1", "src", "{x}"]);
    let a = analyze("count by (team) (x) * on (instance) group_right () y").unwrap();
    let labels: Vec<&str> = a.grouping_labels.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(labels, vec!["team", "instance"]);
}

#[test]
fn matchers_and_metric_names() {
    let a = analyze(r#"node_load1{team="core",env!~'dev|test'}"#).unwrap();
    let s = &a.selectors[0];
    assert_eq!(s.metric.as_deref(), Some("node_load1"));
    let all: Vec<String> = s.all_matchers().iter().map(ToString::to_string).collect();
    assert_eq!(
        all,
        vec![
            r#"team="core""#,
            r#"env!~"dev|test""#,
            r#"__name__="node_load1""#
        ]
    );
}

fn err(expr: &str) -> String {
    analyze(expr).unwrap_err().to_string()
}

#[test]
fn errors() {
    assert_eq!(
        err("sum(rate(x[5m])"),
        "line 1, column 4: unbalanced '(': never closed"
    );
    assert_eq!(
        err("x{a=\"b\""),
        "line 1, column 2: unbalanced '{': matcher block never closed"
    );
    assert_eq!(
        err("x}"),
        "line 1, column 2: unbalanced '}': no matcher block is open"
    );
    assert_eq!(
        err("(x]"),
        "line 1, column 3: unbalanced ']': '(' at column 1 is still open"
    );
    assert_eq!(
        err("x)"),
        "line 1, column 2: unbalanced ')': nothing to close"
    );
    assert_eq!(
        err("x{a=b}"),
        "line 1, column 5: expected a quoted label value after '='"
    );
    assert_eq!(
        err("x{a}"),
        "line 1, column 4: expected '=', '!=', '=~' or '!~' after label name"
    );
    assert_eq!(
        err("x{a=\"b\" c=\"d\"}"),
        "line 1, column 9: expected ',' or '}' in matcher block"
    );
    assert_eq!(
        err("x and\n  $y"),
        "line 2, column 3: unexpected character '$'"
    );
    assert!(err("x{a=~\"(\"}").contains("invalid regular expression"));
    assert!(err("sum by (1x) (y)").contains("expected a label name or ')'"));
    assert!(err("x{a=\"b}").contains("unterminated string"));
}

#[test]
fn renames_labels_safely() {
    let e = r#"sum by (team, job) (rate(x{team="core", job="a"}[5m])) / on(team) y{team="core"}"#;
    assert_eq!(
        rename_label(e, "team", "squad").unwrap().unwrap(),
        r#"sum by (squad, job) (rate(x{squad="core", job="a"}[5m])) / on(squad) y{squad="core"}"#
    );
    assert_eq!(rename_label("up == 0", "team", "squad"), Ok(None));
    // Values and metric names are not label names.
    assert_eq!(rename_label(r#"team{a="team"}"#, "team", "squad"), Ok(None));
    let why = rename_label(
        r#"label_replace(x{team="a"}, "team", "$1", "t", "(.*)")"#,
        "team",
        "squad",
    )
    .unwrap_err();
    assert!(why.contains("string argument at column 28"), "{why}");
    let why = rename_label(r#"x{team="a", squad="b"}"#, "team", "squad").unwrap_err();
    assert!(why.contains("already uses squad"), "{why}");
    let why = rename_label("sum by (team, squad) (x)", "team", "squad").unwrap_err();
    assert!(why.contains("label list already uses squad"), "{why}");
    assert!(rename_label("x{", "team", "squad").is_err());
}

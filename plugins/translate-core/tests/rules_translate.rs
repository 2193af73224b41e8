mod common;

use common::*;
use translate_core::rules::RuleFile;
use translate_core::{
    ItemKind, RulesParams, Scope, Status, Target, TranslateError, translate_rules,
};

#[test]
fn fixture_without_scope_is_all_ok_and_unchanged() {
    let out = translate_rules(&files(&[("v1.yml", V1)]), &RulesParams::default()).unwrap();
    assert_eq!(out.items.len(), 5);
    assert_eq!(counts(&out.items).ok, 5);
    expect(
        &out.items,
        "v1.yml:fixture:HighQueueDepth#1",
        Status::Ok,
        "translated unchanged",
    );
    assert!(out.items.iter().all(|i| i.kind == ItemKind::AlertRule));
    let (name, text) = &out.files[0];
    assert_eq!(name, "v1.yml");
    assert_eq!(
        RuleFile::parse("out", text).unwrap(),
        RuleFile::parse("in", V1).unwrap()
    );
}

#[test]
fn scope_decisions_on_node_rules() {
    let p = params(r#"{"scope": "{team=\"core\"}"}"#);
    let out = translate_rules(&files(&[("node.yml", NODE)]), &p).unwrap();
    let items = &out.items;
    assert_eq!(items.len(), 14);
    let rec_cpu = "node.yml:node-recording:instance:node_cpu_utilisation:rate5m#0";
    expect_all(
        items,
        &[
            (rec_cpu, Status::Ok, "in scope"),
            (
                "node.yml:node-recording:instance:node_memory_utilisation:ratio#1",
                Status::Ok,
                "in scope",
            ),
            (
                "node.yml:node-recording:instance:node_network_receive_bytes:rate5m#2",
                Status::Warning,
                "does not fix team); kept in the output",
            ),
            (
                "node.yml:node-core:NodeExporterDown#0",
                Status::Ok,
                "in scope",
            ),
            (
                "node.yml:node-core:NodeFilesystemAlmostFull#1",
                Status::Ok,
                "in scope",
            ),
            (
                "node.yml:node-core:NodeKernelOutdated#3",
                Status::Ok,
                "in scope",
            ),
            (
                "node.yml:node-infra:NodeClockSkew#0",
                Status::Ok,
                "out of scope (team=\"infra\" is outside the scope {team=\"core\"}); not written",
            ),
            (
                "node.yml:node-infra:NodeDiskIoSaturated#1",
                Status::Ok,
                "out of scope",
            ),
            (
                "node.yml:mixed:AnyNodeDown#0",
                Status::Warning,
                "selector `up{job=\"node\"}` does not fix team",
            ),
            (
                "node.yml:mixed:CoreOrInfraSwap#1",
                Status::Warning,
                "team=\"infra\" is not",
            ),
            (
                "node.yml:mixed:CoreByRegex#2",
                Status::Warning,
                "only constrained by the regex",
            ),
            (
                "node.yml:mixed:TemplatedTeam#3",
                Status::Warning,
                "is a template",
            ),
            ("node.yml:mixed:Watchdog#4", Status::Ok, "in scope"),
        ],
    );
    assert_eq!(item(items, rec_cpu).kind, ItemKind::RecordingRule);
    let c = counts(items);
    assert_eq!((c.ok, c.warning, c.untranslatable), (9, 5, 0));

    let written = RuleFile::parse("out", &out.files[0].1).unwrap();
    let groups: Vec<&str> = written.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(
        groups,
        vec!["node-recording", "node-core", "mixed"],
        "empty group dropped"
    );
    let mixed: Vec<&str> = written.groups[2].rules.iter().map(|r| r.name()).collect();
    assert_eq!(
        mixed,
        vec![
            "AnyNodeDown",
            "CoreOrInfraSwap",
            "CoreByRegex",
            "TemplatedTeam",
            "Watchdog"
        ]
    );
    assert_eq!(written.groups[0].interval.as_deref(), Some("1m"));
}

#[test]
fn scope_by_alertname_and_negative_matchers() {
    let p = params(r#"{"scope": "{alertname=~\"Node.*\"}"}"#);
    let out = translate_rules(&files(&[("node.yml", NODE)]), &p).unwrap();
    expect_all(
        &out.items,
        &[
            ("node.yml:node-core:NodeHighCpu#2", Status::Ok, "in scope"),
            (
                "node.yml:mixed:Watchdog#4",
                Status::Ok,
                "out of scope (alertname=\"Watchdog\"",
            ),
            // Recording rules have no alertname: undecidable, kept.
            (
                "node.yml:node-recording:instance:node_memory_utilisation:ratio#1",
                Status::Warning,
                "alertname",
            ),
        ],
    );
    let p = params(r#"{"scope": "{team!=\"infra\"}"}"#);
    let out = translate_rules(&files(&[("node.yml", NODE)]), &p).unwrap();
    expect_all(
        &out.items,
        &[
            (
                "node.yml:node-infra:NodeClockSkew#0",
                Status::Ok,
                "out of scope",
            ),
            ("node.yml:node-core:NodeHighCpu#2", Status::Ok, "in scope"),
        ],
    );
}

#[test]
fn renames_labels_added_labels_and_for_overrides() {
    let p = RulesParams {
        scope: Some(Scope::parse(r#"{team="core"}"#).unwrap().into()),
        renames: map(&[
            ("NodeHighCpu", "CoreNodeHighCpu"),
            ("NodeExporterDown", "CoreExporterDown"),
        ]),
        label_renames: map(&[("team", "squad")]),
        add_labels: map(&[("migrated", "true"), ("severity", "page")]),
        for_overrides: map(&[("NodeHighCpu", "30m"), ("CoreExporterDown", "2m")]),
        target: Target::Prometheus,
    };
    let out = translate_rules(&files(&[("node.yml", NODE)]), &p).unwrap();
    let cpu = "node.yml:node-core:NodeHighCpu#2";
    let watchdog = "node.yml:mixed:Watchdog#4";
    expect_all(
        &out.items,
        &[
            (
                cpu,
                Status::Warning,
                "renamed NodeHighCpu -> CoreNodeHighCpu",
            ),
            (cpu, Status::Warning, "for: 15m -> 30m"),
            (
                cpu,
                Status::Warning,
                "static label severity=\"warning\" replaced",
            ),
            (
                "node.yml:node-core:NodeExporterDown#0",
                Status::Warning,
                "for: 5m -> 2m",
            ),
            (
                "node.yml:node-core:NodeFilesystemAlmostFull#1",
                Status::Warning,
                "label team -> squad in expr, templates",
            ),
            (
                watchdog,
                Status::Warning,
                "label team -> squad in static labels",
            ),
            (
                watchdog,
                Status::Warning,
                "added label(s) migrated=\"true\"",
            ),
        ],
    );

    let written = RuleFile::parse("out", &out.files[0].1).unwrap();
    let rules: Vec<_> = written.groups.iter().flat_map(|g| g.rules.iter()).collect();
    let by_name = |n: &str| *rules.iter().find(|r| r.name() == n).unwrap();
    let cpu = by_name("CoreNodeHighCpu");
    assert_eq!(
        cpu.expr,
        "instance:node_cpu_utilisation:rate5m{squad=\"core\"} > 0.9"
    );
    assert_eq!(cpu.for_.as_deref(), Some("30m"));
    assert_eq!(cpu.labels.get("migrated"), Some("true"));
    assert_eq!(cpu.labels.get("severity"), Some("page"));
    assert_eq!(by_name("CoreExporterDown").for_.as_deref(), Some("2m"));
    let fs = by_name("NodeFilesystemAlmostFull");
    assert!(
        !fs.expr.contains("team") && fs.expr.matches("squad=\"core\"").count() == 3,
        "{}",
        fs.expr
    );
    assert_eq!(
        fs.annotations.get("description"),
        Some("team {{ $labels.squad }}")
    );
    let wd = by_name("Watchdog");
    assert_eq!(wd.labels.get("squad"), Some("core"));
    assert_eq!(wd.labels.get("team"), None);
    let cpu_rec = by_name("instance:node_cpu_utilisation:rate5m");
    assert!(cpu_rec.expr.contains("without (cpu)") && cpu_rec.expr.contains("squad=\"core\""));
    // The label in `group_left(kernel)` is untouched, `on(instance)` too.
    assert!(
        by_name("NodeKernelOutdated")
            .expr
            .contains("on(instance) group_left(kernel)")
    );
}

#[test]
fn unsafe_expression_rename_is_a_warning_and_keeps_the_expression() {
    let text = "groups:\n  - name: g\n    rules:\n      - record: x:team\n        expr: label_replace(x{team=\"a\"}, \"team\", \"$1\", \"owner\", \"(.*)\")\n      - alert: Clash\n        expr: y{team=\"a\", squad=\"b\"} > 1\n";
    let mut p = RulesParams::default();
    p.label_renames.insert("team".into(), "squad".into());
    let out = translate_rules(&files(&[("f.yml", text)]), &p).unwrap();
    expect_all(
        &out.items,
        &[
            (
                "f.yml:g:x:team#0",
                Status::Warning,
                "label team not renamed in the expression: a string argument",
            ),
            ("f.yml:g:Clash#1", Status::Warning, "already uses squad"),
        ],
    );
    let written = RuleFile::parse("out", &out.files[0].1).unwrap();
    assert_eq!(
        written.groups[0].rules[0].expr,
        "label_replace(x{team=\"a\"}, \"team\", \"$1\", \"owner\", \"(.*)\")"
    );
    assert_eq!(
        written.groups[0].rules[1].expr,
        "y{team=\"a\", squad=\"b\"} > 1"
    );
}

#[test]
fn untranslatable_rules_are_counted_and_not_written() {
    let text = "\
groups:
  - name: g
    rules:
      - alert: Unbalanced
        expr: sum(rate(x{team=\"core\"}[5m]) > 1
      - alert: BadFor
        expr: up == 0
        for: 5 minutes
      - record: rec:with_for
        expr: sum(up)
        for: 1m
      - record: bad-name
        expr: sum(up)
      - alert: Fine
        expr: up{team=\"core\"} == 0
  - name: bad-interval
    interval: soon
    rules:
      - alert: InBadGroup
        expr: up == 0
";
    let out = translate_rules(&files(&[("u.yml", text)]), &RulesParams::default()).unwrap();
    expect_all(
        &out.items,
        &[
            (
                "u.yml:g:Unbalanced#0",
                Status::Untranslatable,
                "cannot scan the expression: line 1, column 4: unbalanced '('",
            ),
            (
                "u.yml:g:BadFor#1",
                Status::Untranslatable,
                "invalid `for`: invalid duration \"5 minutes\"",
            ),
            (
                "u.yml:g:rec:with_for#2",
                Status::Untranslatable,
                "recording rule with `for`",
            ),
            (
                "u.yml:g:bad-name#3",
                Status::Untranslatable,
                "not a valid metric name",
            ),
            ("u.yml:g:Fine#4", Status::Ok, "translated unchanged"),
            (
                "u.yml:bad-interval:InBadGroup#0",
                Status::Untranslatable,
                "group interval",
            ),
        ],
    );
    let written = RuleFile::parse("out", &out.files[0].1).unwrap();
    assert_eq!(written.groups.len(), 1);
    assert_eq!(written.groups[0].rules.len(), 1);
    let c = counts(&out.items);
    assert_eq!((c.ok, c.warning, c.untranslatable), (1, 0, 5));
}

#[test]
fn out_of_scope_everything_gives_empty_groups() {
    let p = params(r#"{"scope": "{team=\"nobody\"}"}"#);
    let out = translate_rules(&files(&[("v1.yml", V1), ("v2.yml", V2)]), &p).unwrap();
    assert_eq!(out.files.len(), 2);
    assert_eq!(out.files[0].0, "v1.yml");
    assert_eq!(out.files[1].0, "v2.yml");
    // Only HighQueueDepth (team=payments) is decidably out; the rest lack team.
    expect_all(
        &out.items,
        &[
            (
                "v1.yml:fixture:HighQueueDepth#1",
                Status::Ok,
                "out of scope",
            ),
            (
                "v1.yml:fixture:Watchdog#0",
                Status::Warning,
                "no vector selector",
            ),
        ],
    );
    let p = params(r#"{"scope": "{__name__=\"nothing\"}"}"#);
    let text = "groups:\n  - name: g\n    rules:\n      - record: a:b\n        expr: sum(x)\n";
    let out = translate_rules(&files(&[("r.yml", text)]), &p).unwrap();
    expect(&out.items, "r.yml:g:a:b#0", Status::Ok, "out of scope");
    assert_eq!(out.files[0].1, "groups: []\n");
}

#[test]
fn vmalert_target() {
    let text = "\
groups:
  - name: g
    query_offset: 1m
    rules:
      - alert: A
        expr: up == 0
      - alert: B
        expr: up == 0
";
    let mut p = params(r#"{"target": "vmalert", "renames": {"B": "A"}}"#);
    let out = translate_rules(&files(&[("v.yml", text)]), &p).unwrap();
    expect_all(
        &out.items,
        &[
            (
                "v.yml:g:A#0",
                Status::Warning,
                "dropped group field(s) query_offset (vmalert does not accept them)",
            ),
            (
                "v.yml:g:B#1",
                Status::Warning,
                "not written: identical to rule #0",
            ),
        ],
    );
    let written = RuleFile::parse("out", &out.files[0].1).unwrap();
    assert_eq!(written.groups[0].rules.len(), 1);
    assert!(written.groups[0].extra.is_empty());
    // Prometheus keeps query_offset and the duplicate.
    p.target = Target::Prometheus;
    let out = translate_rules(&files(&[("v.yml", text)]), &p).unwrap();
    assert_eq!(counts(&out.items).ok, 2);
    let written = RuleFile::parse("out", &out.files[0].1).unwrap();
    assert_eq!(written.groups[0].rules.len(), 2);
    assert_eq!(
        written.groups[0].extra.keys().collect::<Vec<_>>(),
        vec!["query_offset"]
    );
    // A vmalert-only rule field is kept for vmalert and dropped for Prometheus.
    let text = "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        debug: true\n";
    let out = translate_rules(
        &files(&[("d.yml", text)]),
        &params(r#"{"target": "vmalert"}"#),
    )
    .unwrap();
    expect(
        &out.items,
        "d.yml:g:A#0",
        Status::Ok,
        "translated unchanged",
    );
    assert!(out.files[0].1.contains("debug: true"));
    let out = translate_rules(&files(&[("d.yml", text)]), &RulesParams::default()).unwrap();
    expect(
        &out.items,
        "d.yml:g:A#0",
        Status::Warning,
        "dropped rule field(s) debug (Prometheus does not accept them)",
    );
    assert!(!out.files[0].1.contains("debug"));
}
#[test]
fn yaml_errors_name_the_file_line_and_column() {
    let bad = "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: [x\n";
    let e = translate_rules(
        &files(&[("v1.yml", V1), ("bad.rules.yml", bad)]),
        &RulesParams::default(),
    )
    .unwrap_err();
    match &e {
        TranslateError::Yaml { file, line, .. } => {
            assert_eq!(file, "bad.rules.yml");
            assert!(*line >= 5, "{e}");
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().starts_with("bad.rules.yml: line "), "{e}");
}

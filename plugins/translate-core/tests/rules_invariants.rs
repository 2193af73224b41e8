//! Parameter parsing, and the report invariant: one item per input rule,
//! whatever the parameters, also for 1,000 generated rules.

mod common;

use common::*;
use translate_core::{RulesParams, Scope, Status, Target, TranslateError, translate_rules};

#[test]
fn params_from_json_and_their_errors() {
    let p = params(
        r#"{"scope": "*", "renames": {"A": "B"}, "label_renames": {"team": "squad"},
            "add_labels": {"env": "prod"}, "for_overrides": {"A": "1h30m"}, "target": "vmalert"}"#,
    );
    assert_eq!(p.scope, Some(Scope::All.into()));
    assert_eq!(p.target, Target::Vmalert);
    assert_eq!(params("{}").target, Target::Prometheus);
    assert_eq!(params(r#"{"scope": null}"#).scope, None);
    let err = |json: &str| RulesParams::from_json(json).unwrap_err().to_string();
    assert_eq!(
        err(r#"{"for_overrides": {"HighCPU": "5 min"}}"#),
        "params: at JSON path `for_overrides.HighCPU`: invalid duration \"5 min\": missing unit (units: y, w, d, h, m, s, ms)"
    );
    assert!(err(r#"{"scopes": "*"}"#).starts_with(
        "params: at JSON path `scopes`: unknown field `scopes`, expected one of `scope`"
    ));
    assert!(
        err(r#"{"renames": {"A": 5}}"#)
            .starts_with("params: at JSON path `renames.A`: invalid type")
    );
    assert!(
        err(r#"{"target": "thanos"}"#)
            .starts_with("params: at JSON path `target`: unknown variant `thanos`")
    );
    let e = err(r#"{"scope": "{team=core}"}"#);
    assert!(
        e.starts_with("params: at JSON path `scope`: invalid scope") && e.contains("column 7"),
        "{e}"
    );
    assert!(
        err(r#"{"label_renames": {"team": "1x"}}"#)
            .contains("`label_renames.team`: \"1x\" is not a valid label name")
    );
    assert!(err(r#"{"label_renames": {"a": "b", "b": "c"}}"#).contains("not chained"));
    assert!(err(r#"{"label_renames": {"a": "c", "b": "c"}}"#).contains("also renamed"));
    assert!(
        err(r#"{"add_labels": {"__x": "y"}}"#)
            .contains("`add_labels.__x`: label \"__x\" is reserved")
    );
    assert!(err(r#"{"renames": {"A": ""}}"#).contains("`renames.A`"));
    // Params built in code are validated too.
    let mut p = RulesParams::default();
    p.for_overrides.insert("X".into(), "soon".into());
    assert!(matches!(
        translate_rules(&[], &p),
        Err(TranslateError::Params { path, .. }) if path == "for_overrides.X"
    ));
}

#[test]
fn item_count_invariant_over_parameter_sets() {
    let inputs = files(&[("v1.yml", V1), ("v2.yml", V2), ("node.yml", NODE)]);
    let total: usize = inputs.iter().map(|(_, t)| rule_count(t)).sum();
    let scopes = [
        None,
        Some("*"),
        Some(r#"{team="core"}"#),
        Some(r#"{team=~"core|infra"}"#),
        Some(r#"{team!="core", severity=~"warning|critical"}"#),
        Some(r#"{alertname!~"Node.*"}"#),
    ];
    for scope in scopes {
        for target in [Target::Prometheus, Target::Vmalert] {
            let p = RulesParams {
                scope: scope.map(|s| Scope::parse(s).unwrap().into()),
                renames: map(&[("ServiceDown", "InstanceDown")]),
                label_renames: map(&[("team", "owner")]),
                add_labels: map(&[("source", "old")]),
                for_overrides: map(&[("ErrorRateHigh", "2s")]),
                target,
            };
            let out = translate_rules(&inputs, &p).unwrap();
            let c = counts(&out.items);
            assert_eq!(c.total(), total, "{scope:?} {target:?}");
            assert_eq!(out.items.len(), total);
            let written: usize = out.files.iter().map(|(_, t)| rule_count(t)).sum();
            let not_written = out
                .items
                .iter()
                .filter(|i| i.status == Status::Untranslatable || i.reason.contains("not written"))
                .count();
            assert_eq!(written + not_written, total, "{scope:?} {target:?}");
        }
    }
}

/// 1,000 realistic rules in several files and groups.
fn generated_rules() -> Vec<(String, String)> {
    let teams = ["core", "infra", "payments", "search"];
    let mut out = Vec::new();
    let mut n = 0;
    for f in 0..4 {
        let mut text = String::from("groups:\n");
        for g in 0..5 {
            text.push_str(&format!(
                "  - name: group-{f}-{g}\n    interval: 1m\n    rules:\n"
            ));
            for r in 0..50 {
                let team = teams[(n / 7) % teams.len()];
                if r % 5 == 0 {
                    text.push_str(&format!(
                        "      - record: job:http_requests:rate5m_{n}\n        expr: sum by (job, instance) (rate(http_requests_total{{team=\"{team}\", code=~\"5..\"}}[5m]))\n"
                    ));
                } else {
                    let scoped = if r % 11 == 0 {
                        String::new()
                    } else {
                        format!(", team=\"{team}\"")
                    };
                    text.push_str(&format!(
                        "      - alert: HighErrorRate{n}\n        expr: |\n          sum by (instance) (rate(http_requests_total{{job=\"svc{n}\"{scoped}, code=~\"5..\"}}[5m]))\n            / on(instance) group_left() sum by (instance) (rate(http_requests_total{{job=\"svc{n}\"{scoped}}}[5m])) > 0.05\n        for: {}m\n        labels:\n          severity: {}\n          team: {team}\n        annotations:\n          summary: \"{{{{ $labels.instance }}}} has {{{{ $value | humanizePercentage }}}} errors\"\n          runbook_url: https://runbooks.example.org/HighErrorRate{n}\n",
                        1 + r % 10,
                        if r % 3 == 0 { "critical" } else { "warning" },
                    ));
                }
                n += 1;
            }
        }
        out.push((format!("gen-{f}.rules.yml"), text));
    }
    assert_eq!(n, 1000);
    out
}

#[test]
fn thousand_rules_keep_the_item_count_invariant() {
    let inputs = generated_rules();
    let p = RulesParams {
        scope: Some(Scope::parse(r#"{team=~"core|payments"}"#).unwrap().into()),
        renames: map(&[("HighErrorRate10", "ErrorBudgetBurn10")]),
        label_renames: map(&[("team", "owner")]),
        add_labels: map(&[("migrated", "yes")]),
        for_overrides: map(&[("HighErrorRate1", "1h")]),
        target: Target::Prometheus,
    };
    let start = std::time::Instant::now();
    let out = translate_rules(&inputs, &p).unwrap();
    eprintln!("1000 rules translated in {:?}", start.elapsed());
    let c = counts(&out.items);
    assert_eq!(c.total(), 1000);
    assert_eq!(out.items.len(), 1000);
    assert!(c.ok > 0 && c.warning == 0 && c.untranslatable == 0, "{c:?}");
    let written: usize = out.files.iter().map(|(_, t)| rule_count(t)).sum();
    let out_of_scope = out
        .items
        .iter()
        .filter(|i| i.reason.starts_with("out of scope"))
        .count();
    assert_eq!(written + out_of_scope, 1000);
    assert!(out_of_scope > 0);
    // Every id is unique.
    let mut ids: Vec<&str> = out.items.iter().map(|i| i.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 1000);
}

//! The output must be accepted by the real tools: `promtool check rules`,
//! `vmalert -dryRun` for rules translated for vmalert, and `amtool
//! check-config` (Debian packages prometheus, victoria-metrics and
//! prometheus-alertmanager, installed by scripts/system-deps.sh). A missing
//! tool fails these tests.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use common::*;
use translate_core::{RulesParams, Scope, Target, merge_routes, translate_rules};

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn promtool_accepts(files: &[(String, String)]) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = write(&dir, name, text);
        let report = run_checker("promtool", &["check", "rules"], &path);
        assert!(report.contains("SUCCESS"), "{report}");
    }
}

/// `vmalert -dryRun -rule=FILE` for each file (vmalert parses the rules and
/// their expressions with its own MetricsQL parser, then exits).
fn vmalert_accepts(files: &[(String, String)]) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = write(&dir, name, text);
        let out = std::process::Command::new("vmalert")
            .arg("-dryRun")
            .arg(format!("-rule={}", path.display()))
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run `vmalert` ({e}); it is installed by scripts/system-deps.sh \
                     (Debian package victoria-metrics)"
                )
            });
        assert!(
            out.status.success(),
            "vmalert -dryRun rejected {name}:\n{}\n--- file ---\n{text}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn amtool_accepts(config: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "alertmanager.yml", config);
    let report = run_checker("amtool", &["check-config"], &path);
    assert!(report.contains("SUCCESS"), "{report}");
}

fn inputs() -> Vec<(String, String)> {
    [
        ("v1-old.rules.yml", V1),
        ("v2-new.rules.yml", V2),
        ("node.rules.yml", NODE),
    ]
    .iter()
    .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
    .collect()
}

#[test]
fn promtool_accepts_translated_rules() {
    let unchanged = translate_rules(&inputs(), &RulesParams::default()).unwrap();
    promtool_accepts(&unchanged.files);
    let mut renames = BTreeMap::new();
    renames.insert("ServiceDown".to_owned(), "InstanceDown".to_owned());
    let mut label_renames = BTreeMap::new();
    label_renames.insert("team".to_owned(), "squad".to_owned());
    let mut add_labels = BTreeMap::new();
    add_labels.insert("migrated_from".to_owned(), "old: \"prom\" {1}".to_owned());
    let mut for_overrides = BTreeMap::new();
    for_overrides.insert("ErrorRateHigh".to_owned(), "1h30m".to_owned());
    for_overrides.insert("NodeHighCpu".to_owned(), "1d".to_owned());
    for target in [Target::Prometheus, Target::Vmalert] {
        for scope in [None, Some(r#"{team="core"}"#), Some(r#"{team="nobody"}"#)] {
            let p = RulesParams {
                scope: scope.map(|s| Scope::parse(s).unwrap().into()),
                renames: renames.clone(),
                label_renames: label_renames.clone(),
                add_labels: add_labels.clone(),
                for_overrides: for_overrides.clone(),
                target,
            };
            let out = translate_rules(&inputs(), &p).unwrap();
            promtool_accepts(&out.files);
            if target == Target::Vmalert {
                vmalert_accepts(&out.files);
            }
        }
    }
}

#[test]
fn promtool_accepts_awkward_strings() {
    let text = "\
groups:
  - name: 'quotes: and # hashes'
    rules:
      - alert: Awkward
        expr: |
          sum by (instance) (rate(x{path=~\"/api/.*\", msg=\"a \\\"quoted\\\" b\"}[5m]))
            # a comment inside the expression
            > 0
        labels:
          yes_value: 'yes'
          number: '010'
          empty: ''
          colon: 'a: b'
        annotations:
          description: |
            Line one {{ $labels.instance }}
            Line two: {{ $value | humanize }}
          trailing: 'ends with space '
";
    let out = translate_rules(
        &[("awkward.rules.yml".to_owned(), text.to_owned())],
        &RulesParams::default(),
    )
    .unwrap();
    promtool_accepts(&out.files);
    // The tool agrees with us on the input too.
    promtool_accepts(&[("input.rules.yml".to_owned(), text.to_owned())]);
}

#[test]
fn amtool_accepts_merged_configs() {
    for scope in [
        r#"{team="core"}"#,
        "*",
        r#"{team=~"core|infra"}"#,
        r#"{team="payments"}"#,
    ] {
        let scope = Scope::parse(scope).unwrap();
        let out = merge_routes(AM_OLD, AM_NEW, &scope).unwrap();
        amtool_accepts(&out.config);
        let again = merge_routes(AM_OLD, &out.config, &scope).unwrap();
        amtool_accepts(&again.config);
    }
    let out = merge_routes(AM_A, AM_B, &Scope::All).unwrap();
    amtool_accepts(&out.config);
}

#[test]
fn the_checkers_do_reject_bad_files() {
    // Guards against a helper that passes whatever the tools say.
    let bad_rules = "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: sum(\n";
    let r = std::panic::catch_unwind(|| {
        promtool_accepts(&[("bad.rules.yml".to_owned(), bad_rules.to_owned())])
    });
    assert!(r.is_err(), "promtool accepted an invalid expression");
    let r = std::panic::catch_unwind(|| {
        vmalert_accepts(&[("bad.rules.yml".to_owned(), bad_rules.to_owned())])
    });
    assert!(r.is_err(), "vmalert accepted an invalid expression");
    let bad_config = "route:\n  receiver: missing\nreceivers:\n  - name: other\n";
    let r = std::panic::catch_unwind(|| amtool_accepts(bad_config));
    assert!(r.is_err(), "amtool accepted an undefined receiver");
}

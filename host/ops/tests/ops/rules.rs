//! The generated alerting rules pass `promtool check rules`, and a
//! `promtool test rules` file proves each alert fires when it should.

use std::path::Path;
use std::process::Command;

use crate::common::load_plan;
use cutover_ops::{AlertRule, Thresholds, rule_group, rules_yaml};
use cutover_test_kit::{golden::assert_golden, repo_path, tools};

/// Debian's promtool (package prometheus, installed by scripts/system-deps.sh).
fn promtool() -> String {
    tools::require("promtool", "to check the generated rules").into()
}

fn run(args: &[&str], dir: &Path) {
    let tool = promtool();
    let out = Command::new(&tool)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run promtool");
    assert!(
        out.status.success(),
        "promtool {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn q(s: &str) -> String {
    serde_json::to_string(s).expect("json string")
}

/// Expands `{{ $labels.x }}` like Prometheus' template engine does here.
fn expand(text: &str, labels: &[(&str, &str)]) -> String {
    let mut out = text.to_string();
    for (k, v) in labels {
        out = out.replace(&format!("{{{{ $labels.{k} }}}}"), v);
    }
    assert!(!out.contains("{{"), "unexpanded template in {out}");
    out
}

/// One `alert_rule_test` entry: expected firing alerts with their series labels.
fn case(rule: &AlertRule, eval: &str, firing: &[&[(&str, &str)]]) -> String {
    let mut s = format!(
        "      - eval_time: {eval}\n        alertname: {}\n        exp_alerts:",
        rule.alert
    );
    if firing.is_empty() {
        s.push_str(" []\n");
        return s;
    }
    s.push('\n');
    for labels in firing {
        s.push_str("          - exp_labels:\n");
        for (k, v) in labels
            .iter()
            .copied()
            .chain(rule.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        {
            s.push_str(&format!("              {k}: {}\n", q(v)));
        }
        s.push_str("            exp_annotations:\n");
        for (k, v) in &rule.annotations {
            s.push_str(&format!("              {k}: {}\n", q(&expand(v, labels))));
        }
    }
    s
}

fn test_group(series: &[(&str, &str)], cases: &[String]) -> String {
    let mut s = "  - interval: 1m\n    input_series:\n".to_string();
    for (name, values) in series {
        s.push_str(&format!(
            "      - series: {}\n        values: {}\n",
            q(name),
            q(values)
        ));
    }
    s.push_str("    alert_rule_test:\n");
    for c in cases {
        s.push_str(c);
    }
    s
}

#[test]
fn generated_rules_pass_promtool_check_and_unit_tests() {
    let loaded = load_plan("alerting-migration.toml");
    let plan = &loaded.plan;
    let t = Thresholds::for_plan(plan);
    let group = rule_group(plan, &t).expect("rules");
    let rule = |name: &str| {
        group
            .alerts
            .iter()
            .find(|a| a.alert == name)
            .unwrap_or_else(|| panic!("no rule {name}"))
            .clone()
    };
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(
        dir.path().join("rules.yml"),
        rules_yaml(plan, &t).expect("yaml"),
    )
    .expect("write");
    run(&["check", "rules", "rules.yml"], dir.path());

    // Schedule of the plan: preparation 2d from the start, pilot-noncritical
    // 4d after it. With the run started at t=60s, preparation is expected at
    // (t - 60) / 172800; 10 % behind is reached at t = 4h49m, plus `for: 30m`.
    let behind = rule("MigrationBehindSchedule");
    let prep: &[(&str, &str)] = &[("phase", "preparation")];
    let match_low = rule("AlertMatchRateLow");
    let unavailable = rule("SystemUnavailable");
    let inconsistent = rule("DataInconsistent");
    let groups = [
        test_group(
            &[
                (
                    "cutover_migration_start_timestamp_seconds{job=\"cutover\"}",
                    "60+0x700",
                ),
                (
                    "migration_progress{phase=\"preparation\",service=\"all\"}",
                    "0+0x700",
                ),
                (
                    "migration_progress{phase=\"pilot-noncritical\",service=\"all\"}",
                    "0+0x700",
                ),
            ],
            &[
                case(&behind, "4h", &[]),
                case(&behind, "5h10m", &[]),
                case(&behind, "5h30m", &[prep]),
                case(&behind, "10h", &[prep]),
            ],
        ),
        // On schedule: progress ahead of the expectation.
        test_group(
            &[
                ("cutover_migration_start_timestamp_seconds", "60+0x700"),
                (
                    "migration_progress{phase=\"preparation\",service=\"a\"}",
                    "0.3+0x700",
                ),
                (
                    "migration_progress{phase=\"preparation\",service=\"b\"}",
                    "0.2+0x700",
                ),
            ],
            &[case(&behind, "10h", &[])],
        ),
        // Not started (start time 0): never behind.
        test_group(
            &[
                ("cutover_migration_start_timestamp_seconds", "0+0x700"),
                (
                    "migration_progress{phase=\"preparation\",service=\"all\"}",
                    "0+0x700",
                ),
            ],
            &[case(&behind, "10h", &[])],
        ),
        test_group(
            &[
                ("alert_match_rate{service=\"core\"}", "0.95+0x40"),
                (
                    "alert_match_rate{service=\"edge\"}",
                    &format!("{}+0x40", t.match_rate),
                ),
                ("alert_match_rate{service=\"payments\"}", "0.5+0x40"),
            ],
            &[
                case(&match_low, "10m", &[]),
                case(&match_low, "20m", &[&[("service", "payments")]]),
            ],
        ),
        test_group(
            &[
                ("system_availability{system=\"old\"}", "1+0x20"),
                ("system_availability{system=\"new\"}", "0+0x20"),
            ],
            &[
                case(&unavailable, "3m", &[]),
                case(&unavailable, "10m", &[&[("system", "new")]]),
            ],
        ),
        test_group(
            &[
                ("data_consistency{data_type=\"alert_rules\"}", "1+0x40"),
                (
                    "data_consistency{data_type=\"configurations\"}",
                    "0.99+0x40",
                ),
            ],
            &[
                case(&inconsistent, "10m", &[]),
                case(&inconsistent, "20m", &[&[("data_type", "configurations")]]),
            ],
        ),
    ];
    let tests = format!(
        "rule_files:\n  - rules.yml\nevaluation_interval: 1m\ntests:\n{}",
        groups.concat()
    );
    std::fs::write(dir.path().join("tests.yml"), &tests).expect("write");
    run(&["test", "rules", "tests.yml"], dir.path());
}

#[test]
fn thresholds_come_from_the_plan_with_defaults() {
    let loaded = load_plan("alerting-migration.toml");
    let t = Thresholds::for_plan(&loaded.plan);
    // The lowest gating min_match_rate of the plan is 0.9 (pilot-noncritical).
    assert_eq!(t.match_rate, 0.9);
    assert_eq!(t.behind_schedule, 0.1);
    assert_eq!(t.consistency, 1.0);
    let mut plan = loaded.plan.clone();
    for phase in &mut plan.phases {
        for step in &mut phase.steps {
            if let cutover_plan::StepAction::ParallelRun { min_match_rate, .. } = &mut step.action {
                *min_match_rate = Some(0.97);
            }
        }
    }
    assert_eq!(Thresholds::for_plan(&plan).match_rate, 0.97);
    let yaml = rules_yaml(&plan, &Thresholds::for_plan(&plan)).expect("yaml");
    assert!(yaml.contains("\"alert_match_rate < 0.97\""), "{yaml}");
    let bad = Thresholds {
        behind_schedule: 1.5,
        ..Thresholds::default()
    };
    let err = rules_yaml(&plan, &bad).expect_err("bad threshold");
    assert!(err.to_string().contains("behind_schedule"), "{err}");
}

#[test]
fn example_rules_file_is_current() {
    let loaded = load_plan("alerting-migration.toml");
    let plan = &loaded.plan;
    let yaml = rules_yaml(plan, &Thresholds::for_plan(plan)).expect("yaml");
    assert_golden(
        &repo_path("examples/rules/cutover-migration.rules.yml"),
        &yaml,
    );
}

//! One migrate step over 10,000 Prometheus alerting rules between two
//! file-adapter systems: export, translate in scope (the real
//! `prometheus-rules` translator in its sandbox), rollback point, import,
//! read back and verify. Printed beside `promtool check rules` on the same
//! rules, measured in the same run.
//!
//! `cargo bench -p cutover-engine --bench migrate`. Target: <= 5 s.
//!
//! The rules take their shape from real rule files (kube-prometheus and
//! node-exporter mixins: selectors with several matchers, range functions,
//! `by` clauses, templated annotations with runbook URLs), spread over 10
//! files of 20 groups, with team and service labels the scope selects on.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use cutover_engine::{Mode, PluginBridge, RunOptions, RunOutcome, Runner};
use cutover_runtime::Runtime;
use cutover_test_kit::plan::{PlanBuilder, step};
use cutover_test_kit::repo_path;

const RULES: usize = 10_000;
const FILES: usize = 10;
const GROUPS_PER_FILE: usize = 20;
const TARGET_S: f64 = 5.0;

/// Rule `i`, in one of four shapes seen in real mixins.
fn rule(i: usize, out: &mut String) {
    let team = ["web", "payments", "platform", "data"][i % 4];
    let svc = format!("svc-{}", i % 97);
    let _ = match i % 4 {
        0 => writeln!(
            out,
            "  - alert: KubePodCrashLooping{i}\n    expr: max_over_time(kube_pod_container_status_waiting_reason{{reason=\"CrashLoopBackOff\", job=\"kube-state-metrics\", team=\"{team}\"}}[5m]) >= 1\n    for: 15m\n    labels:\n      severity: warning\n      team: {team}\n      service: {svc}\n    annotations:\n      description: 'Pod {{{{ $labels.namespace }}}}/{{{{ $labels.pod }}}} ({{{{ $labels.container }}}}) is in waiting state (reason: \"CrashLoopBackOff\").'\n      runbook_url: https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping\n      summary: Pod is crash looping."
        ),
        1 => writeln!(
            out,
            "  - alert: NodeFilesystemSpaceFillingUp{i}\n    expr: |\n      (\n        node_filesystem_avail_bytes{{job=\"node\", fstype!=\"\", team=\"{team}\"}} / node_filesystem_size_bytes{{job=\"node\", fstype!=\"\", team=\"{team}\"}} * 100 < 15\n      and\n        predict_linear(node_filesystem_avail_bytes{{job=\"node\", fstype!=\"\", team=\"{team}\"}}[6h], 4*60*60) < 0\n      )\n    for: 1h\n    labels:\n      severity: critical\n      team: {team}\n      service: {svc}\n    annotations:\n      summary: Filesystem is predicted to run out of space within the next 4 hours.\n      description: Filesystem on {{{{ $labels.device }}}} at {{{{ $labels.instance }}}} has only {{{{ printf \"%.2f\" $value }}}}% available space left."
        ),
        2 => writeln!(
            out,
            "  - alert: HighErrorRate{i}\n    expr: sum by (job, instance) (rate(http_requests_total{{code=~\"5..\", team=\"{team}\", service=\"{svc}\"}}[5m])) / sum by (job, instance) (rate(http_requests_total{{team=\"{team}\", service=\"{svc}\"}}[5m])) > 0.05\n    for: 10m\n    labels:\n      severity: critical\n      team: {team}\n    annotations:\n      summary: 'High 5xx rate on {{{{ $labels.instance }}}}'"
        ),
        _ => writeln!(
            out,
            "  - alert: TargetDown{i}\n    expr: 100 * (count by (job, namespace, service) (up{{team=\"{team}\"}} == 0) / count by (job, namespace, service) (up{{team=\"{team}\"}})) > 10\n    for: 10m\n    labels:\n      severity: warning\n      team: {team}\n      service: {svc}\n    annotations:\n      description: '{{{{ printf \"%.4g\" $value }}}}% of the {{{{ $labels.job }}}}/{{{{ $labels.service }}}} targets in {{{{ $labels.namespace }}}} namespace are down.'"
        ),
    };
}

/// `FILES` rule files holding `RULES` rules.
fn rule_files() -> Vec<(String, String)> {
    let per_file = RULES / FILES;
    let per_group = per_file / GROUPS_PER_FILE;
    (0..FILES)
        .map(|f| {
            let mut text = String::from("groups:\n");
            for g in 0..GROUPS_PER_FILE {
                let _ = writeln!(text, "- name: file{f}-group{g}\n  interval: 30s\n  rules:");
                for r in 0..per_group {
                    rule(f * per_file + g * per_group + r, &mut text);
                }
            }
            (format!("rules-{f}.yml"), text)
        })
        .collect()
}

fn plan() -> String {
    let migrate = step(
        "move",
        "migrate",
        "from = \"old\"\nto = \"new\"\ntypes = [\"alert_rules\"]\ntranslate = \"prometheus-rules\"\n\
         params = { renames = { TargetDown0 = \"TargetUnreachable0\" }, add_labels = { migrated = \"true\" } }",
    );
    PlanBuilder::new("bench")
        .file_adapters("old", "new")
        .plugin(
            "prometheus-rules",
            "prometheus-rules",
            "limits = { deadline = \"60s\", memory = \"512MiB\" }",
        )
        .build(&format!(
            "\n[[phases]]\nid = \"wave\"\nname = \"Wave\"\nrisk = \"low\"\nrollback_point = false\n\
             scope = '{{team=~\"web|payments|platform|data\"}}'\n{migrate}"
        ))
}

fn promtool(files: &[(String, String)], dir: &Path) -> Option<f64> {
    let paths: Vec<String> = files
        .iter()
        .map(|(n, t)| {
            let p = dir.join(n);
            std::fs::write(&p, t).expect("write rule file");
            p.display().to_string()
        })
        .collect();
    let t0 = Instant::now();
    let out = Command::new("promtool")
        .arg("check")
        .arg("rules")
        .args(&paths)
        .output();
    let secs = t0.elapsed().as_secs_f64();
    match out {
        Ok(o) if o.status.success() => Some(secs),
        Ok(o) => {
            eprintln!(
                "promtool rejected the bench rules:\n{}",
                String::from_utf8_lossy(&o.stderr)
            );
            None
        }
        Err(e) => {
            eprintln!("promtool not found ({e}): run scripts/system-deps.sh for the baseline");
            None
        }
    }
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = rule_files();
    let bytes: usize = files.iter().map(|(_, t)| t.len()).sum();
    for side in ["old", "new"] {
        std::fs::create_dir_all(dir.path().join(side)).expect("mkdir");
    }
    let bundle: serde_json::Map<String, serde_json::Value> = files
        .iter()
        .map(|(n, t)| (n.clone(), serde_json::json!(t)))
        .collect();
    std::fs::write(
        dir.path().join("old/alert_rules.json"),
        serde_json::to_vec(&bundle).expect("json"),
    )
    .expect("write bundle");
    let path = dir.path().join("plan.toml");
    std::fs::write(&path, plan()).expect("write plan");
    let cache = repo_path("target/engine-test-cache");
    let rt = Runtime::new(Some(&cache)).expect("runtime");
    let loaded = match cutover_plan::load(&path, &PluginBridge::new(&rt)) {
        Ok(l) => l,
        Err(d) => panic!("plan rejected:\n{}", d.render_plain()),
    };
    let t0 = Instant::now();
    let mut runner = Runner::open(&rt, &loaded, Mode::Run, RunOptions::default()).expect("open");
    let out = runner.execute().expect("execute");
    let secs = t0.elapsed().as_secs_f64();
    assert_eq!(out, RunOutcome::Completed, "the migration must complete");
    let landed = std::fs::read(dir.path().join("new/alert_rules.json")).expect("migrated bundle");
    println!(
        "migrate: {RULES} rules in {FILES} files ({:.1} MiB) exported, translated, imported and verified in {secs:.3} s ({:.1} us/rule); target holds {:.1} MiB",
        bytes as f64 / (1 << 20) as f64,
        secs * 1e6 / RULES as f64,
        landed.len() as f64 / (1 << 20) as f64
    );
    let base_dir = tempfile::tempdir().expect("tempdir");
    if let Some(p) = promtool(&files, base_dir.path()) {
        println!(
            "baseline: promtool check rules on the same {RULES} rules in {p:.3} s; migrate / promtool = {:.2}",
            secs / p
        );
    }
    println!(
        "target: a {RULES}-rule migrate step <= {TARGET_S} s: {}",
        if secs <= TARGET_S { "met" } else { "NOT met" }
    );
}

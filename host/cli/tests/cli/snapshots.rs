//! Snapshots of what an operator reads: the human output of `cutover status`
//! and `history` (a run paused at an approval gate, then completed; a run
//! stopped by a failed parallel-run gate), the `plan` preview with and
//! without its migration preview, the `runbook` and `compare`'s text and
//! Markdown reports. They live in `snapshots/` beside this file; what varies
//! between runs and machines is redacted in one place (`assert_output`).
//! `scripts/bless.sh` rewrites them (and the golden files) for review; with
//! `CI=true` a changed output fails and nothing is written.

use std::path::Path;

use crate::{GATED, fixture, out, phase, plugins_dir, run_expect};

/// Runs `cutover ARGS` in `dir`, expects exit code `want`, and asserts its
/// standard output against snapshot `name` with every part that varies
/// between runs or machines replaced by a `[PLACEHOLDER]`.
#[track_caller]
fn assert_output(name: &str, dir: &Path, args: &[&str], want: i32) {
    let text = out(&run_expect(dir, args, want));
    let mut settings = insta::Settings::clone_current();
    settings.set_description(format!("cutover {}", args.join(" ")));
    settings.set_omit_expression(true);
    for (pattern, with) in redactions() {
        settings.add_filter(&pattern, with);
    }
    settings.bind(|| insta::assert_snapshot!(name, text));
}

/// `(regex, replacement)`, applied in order.
fn redactions() -> Vec<(String, &'static str)> {
    // Absolute paths, as written and as the OS resolves them.
    let both = |p: &Path| {
        let canonical = p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
        [p.to_path_buf(), canonical].map(|p| regex_escape(&p.display().to_string()))
    };
    let mut r = Vec::new();
    for p in both(&plugins_dir()) {
        r.push((p, "[PLUGINS]"));
    }
    for p in both(&std::env::temp_dir()) {
        r.push((format!(r"{p}/\.tmp\w+"), "[TMP]"));
    }
    r.extend(
        [
            // Run ids: start time and process id.
            (r"\brun-\d+-\d+\b", "run-[ID]"),
            // Plugin digests, plan fingerprints, journal hashes.
            (r"\b[0-9a-f]{64}\b", "[SHA256]"),
            (r"\bsha256:[0-9a-f]{12}\b", "sha256:[SHA256-12]"),
            // Milliseconds since the epoch (13 digits until the year 2286).
            (r"\b\d{13}\b", "[EPOCH-MS]"),
            // Measured durations and the runner's process id.
            (r"\bin \d+ ms\b", "in [N] ms"),
            (r#""(latency_ms|pid)":\d+"#, r#""$1":[N]"#),
        ]
        .map(|(p, with)| (p.to_string(), with)),
    );
    r
}

/// `text` as a regex matching it literally.
fn regex_escape(text: &str) -> String {
    text.chars().fold(String::new(), |mut s, c| {
        if r"\.+*?()|[]{}^$#&-~".contains(c) {
            s.push('\\');
        }
        s.push(c);
        s
    })
}

/// Two rules of two teams: the web pilot migrates one, previews the other
/// as out of scope.
const RULES: &str = r#"groups:
- name: shop
  rules:
  - alert: CartErrors
    expr: rate(cart_errors_total{team="web"}[5m]) > 1
    for: 5m
    labels:
      severity: warning
      team: web
  - alert: LedgerStalled
    expr: ledger_lag_seconds{team="payments"} > 600
    labels:
      severity: critical
      team: payments
"#;

/// Two phases with what a preview and a runbook show: a description and a
/// duration, a backup, a manual critical checklist item and a match-rate
/// check, a scope, a migrate step through the `prometheus-rules` translator,
/// a parallel run and an approval gate.
fn rich_plan() -> String {
    let translator = format!(
        "\n[plugins.prometheus-rules]\npath = \"{}\"\nsha256 = \"{}\"\n",
        plugins_dir().join("prometheus-rules.wasm").display(),
        "0".repeat(64),
    );
    let prepare = phase(
        "prepare",
        "Preparation",
        r#"description = "Back up the old system's rules."
duration = "10m"
rollback_point = false
steps = [{ id = "backup-old", kind = "backup", system = "old", types = ["alert_rules"] }]
checklist = [{ item = "Backups verified by a person", critical = true }]"#,
        &[],
    );
    let web = phase(
        "web",
        "Web pilot",
        r#"duration = "30m"
scope = '{team="web"}'
rollback_point = false
gate = { approvers = ["alice", "bob"], message = "web alerts look right?" }"#,
        &[
            r#"[[phases.steps]]
id = "rules-web"
kind = "migrate"
translate = "prometheus-rules"
types = ["alert_rules"]
from = "old"
to = "new"
"#
            .into(),
            parallel_run("pr-web", "10m", "30s", 0.95),
            r#"[[phases.checklist]]
item = "Match rate >= 0.95 in the pilot window"
critical = true
min_match_rate = 0.95
"#
            .into(),
        ],
    );
    format!("{translator}{prepare}{web}")
}

/// A `[[phases.steps]]` table of a parallel run.
fn parallel_run(id: &str, window: &str, interval: &str, min_match_rate: f64) -> String {
    format!(
        "[[phases.steps]]\nid = \"{id}\"\nkind = \"parallel-run\"\nwindow = \"{window}\"\n\
         interval = \"{interval}\"\nmin_match_rate = {min_match_rate}\n"
    )
}

#[test]
fn plan_preview_offline_and_runbook() {
    let tmp = fixture(&rich_plan());
    let dir = tmp.path();
    let bundle = |rules: &str| serde_json::json!({ "shop.yml": rules }).to_string();
    std::fs::write(dir.join("old/alert_rules.json"), bundle(RULES)).expect("write old rules");
    std::fs::write(dir.join("new/alert_rules.json"), bundle("groups: []\n"))
        .expect("write new rules");
    assert_output("plan", dir, &["plan", "plan.toml"], 0);
    assert_output("plan_offline", dir, &["plan", "plan.toml", "--offline"], 0);
    assert_output("runbook", dir, &["runbook", "plan.toml"], 0);
}

#[test]
fn status_and_history_paused_at_an_approval_gate_then_completed() {
    let tmp = fixture(GATED);
    let dir = tmp.path();
    run_expect(dir, &["run", "plan.toml"], 5);
    assert_output("status_paused", dir, &["status", "plan.toml"], 0);
    assert_output("history_paused", dir, &["history", "plan.toml"], 0);

    run_expect(dir, &["approve", "plan.toml", "two", "--by", "alice"], 0);
    run_expect(dir, &["resume", "plan.toml"], 0);
    assert_output("status_completed", dir, &["status", "plan.toml"], 0);
    assert_output("history_completed", dir, &["history", "plan.toml"], 0);
}

/// One file-adapter alert, firing since a fixed start.
fn alert(name: &str, severity: &str) -> serde_json::Value {
    serde_json::json!({
        "labels": { "alertname": name, "severity": severity, "service": "shop" },
        "annotations": {},
        "starts_at": "2026-11-26T10:00:00Z",
        "ends_at": null,
        "state": "active",
        "fingerprint": name,
    })
}

#[test]
fn status_and_history_stopped_by_a_failed_gate() {
    // A one-second window polls exactly twice, at its start and its end.
    let tmp = fixture(&phase(
        "pilot",
        "Pilot",
        "rollback_point = false",
        &[parallel_run("pr", "1s", "1s", 0.5)],
    ));
    let dir = tmp.path();
    let cart = alert("CartErrors", "warning");
    for (side, alerts) in [
        (
            "old",
            vec![cart.clone(), alert("LedgerStalled", "critical")],
        ),
        ("new", vec![cart]),
    ] {
        let json = serde_json::Value::Array(alerts).to_string();
        std::fs::write(dir.join(side).join("alerts.json"), json).expect("write alerts");
    }
    // The critical alert missing on the new system fails the gate although
    // the match rate (50%) is not below min_match_rate.
    run_expect(dir, &["run", "plan.toml"], 5);
    assert_output("status_failed_gate", dir, &["status", "plan.toml"], 0);
    assert_output("history_failed_gate", dir, &["history", "plan.toml"], 0);
}

#[test]
fn compare_text_and_markdown() {
    // The compare crate's reference dumps, named relative to their folder.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../compare/tests/fixtures/reference");
    let args = [
        "compare",
        "old_alertmanager.json",
        "new_alertmanager.json",
        "--ignore-label",
        "instance",
    ];
    // Exit code 1: the verdict is FAIL (alerts missing on the new system).
    assert_output("compare_text", &dir, &args, 1);
    let md = [&args[..], &["--format", "markdown"]].concat();
    assert_output("compare_markdown", &dir, &md, 1);
}

#[test]
fn compare_json_is_compact_on_a_pipe_and_summarises_pairs() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../compare/tests/fixtures/reference");
    let args = [
        "compare",
        "old_alertmanager.json",
        "new_alertmanager.json",
        "--ignore-label",
        "instance",
        "--json",
    ];
    // stdout is a pipe here: one compact line, matched pairs summarised.
    let compact = out(&run_expect(&dir, &args, 1));
    assert_eq!(compact.lines().count(), 1, "{compact}");
    let v: serde_json::Value = serde_json::from_str(&compact).unwrap();
    assert_eq!(v["schema"], "cutover.compare.report/v2");
    assert_eq!(v["matched"], 3);
    assert!(v["matched_alerts"].is_null(), "{v:#}");
    assert_eq!(v["missing_alerts"].as_array().map(Vec::len), Some(3));
    // --pretty indents the same report; --matched lists the pairs.
    let pretty = out(&run_expect(&dir, &[&args[..], &["--pretty"]].concat(), 1));
    assert!(pretty.lines().count() > 50, "{pretty}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&pretty).unwrap(),
        v
    );
    let full = out(&run_expect(&dir, &[&args[..], &["--matched"]].concat(), 1));
    let full: serde_json::Value = serde_json::from_str(&full).unwrap();
    assert_eq!(full["matched_alerts"].as_array().map(Vec::len), Some(3));
}

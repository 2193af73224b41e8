//! `migrate` steps through the `cutover` binary, between two file-adapter
//! systems with the real `prometheus-rules` translator: waves move one scope
//! at a time, `cutover plan` previews every item, a re-run changes nothing,
//! and an untranslatable rule stops the step before anything is imported.

use std::path::Path;

use cutover_base::exit::ExitClass;

use crate::{assert_has, fixture, out, phase, plugins_dir, run_expect, status_json, step};

const RULES: &str = r#"groups:
- name: app
  rules:
  - alert: WebDown
    expr: up{job="web", team="web"} == 0
    for: 1m
    labels:
      severity: critical
      team: web
  - alert: CoreDown
    expr: up{job="core", team="core"} == 0
    labels:
      severity: critical
      team: core
"#;

/// The translator's plugin entry (appended after the systems).
fn translator() -> String {
    format!(
        "\n[plugins.prometheus-rules]\npath = \"{}\"\nsha256 = \"{}\"\n",
        plugins_dir().join("prometheus-rules.wasm").display(),
        "0".repeat(64)
    )
}

/// Phase `id` (scope `scope`) migrating the alert rules from old to new
/// through the translator, `extra` added to the step.
fn migrate_phase(id: &str, scope: &str, extra: &str) -> String {
    let keys = format!(
        "from = \"old\"\nto = \"new\"\ntypes = [\"alert_rules\"]\ntranslate = \"prometheus-rules\"\n{extra}"
    );
    let migrate = step(&format!("rules-{id}"), "migrate", &keys);
    let phase_keys = format!("scope = '{scope}'\nrollback_point = false");
    phase(id, id, &phase_keys, &[migrate])
}

fn write_bundle(dir: &Path, side: &str, files: &[(&str, &str)]) {
    let map: serde_json::Map<String, serde_json::Value> = files
        .iter()
        .map(|(n, t)| (n.to_string(), serde_json::json!(t)))
        .collect();
    std::fs::write(
        dir.join(side).join("alert_rules.json"),
        serde_json::to_string(&map).expect("json"),
    )
    .expect("write bundle");
}

fn bundle(dir: &Path, side: &str) -> serde_json::Map<String, serde_json::Value> {
    let text = std::fs::read_to_string(dir.join(side).join("alert_rules.json")).expect("bundle");
    serde_json::from_str(&text).expect("bundle json")
}

fn step_summary(status: &serde_json::Value, phase: usize, step: usize) -> String {
    status["phases"][phase]["steps"][step]["summary"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn waves_move_one_scope_at_a_time_after_a_preview() {
    let body = format!(
        "{}{}{}",
        translator(),
        migrate_phase("web", r#"{team="web"}"#, ""),
        migrate_phase("core", r#"{team="core"}"#, "")
    );
    // The plan is locked after the bundles exist (fixture locks at once).
    let tmp = fixture(&body);
    let dir = tmp.path();
    write_bundle(dir, "old", &[("app.yml", RULES)]);
    write_bundle(dir, "new", &[("own.yml", "groups: []\n")]);
    run_expect(dir, &["plugin", "lock", "plan.toml"], ExitClass::Ok.into());

    let preview = out(&run_expect(
        dir,
        &["plan", "plan.toml"],
        ExitClass::Ok.into(),
    ));
    assert_has(&preview, "web/rules-web");
    assert_has(&preview, "alert_rules in scope {team=\"web\"}");
    assert_has(&preview, "✅ alert_rule app.yml:app:WebDown#0: in scope");
    assert_has(
        &preview,
        "✅ alert_rule app.yml:app:CoreDown#1: out of scope (team=\"core\" is outside the scope {team=\"web\"}); not written",
    );
    assert_has(
        &preview,
        "alert_rules in scope {team=\"web\"} or {team=\"core\"}",
    );
    let json: serde_json::Value = serde_json::from_str(&out(&run_expect(
        dir,
        &["plan", "plan.toml", "--json"],
        ExitClass::Ok.into(),
    )))
    .expect("plan json");
    assert_eq!(json["steps"][0]["types"][0]["report"]["summary"]["ok"], 2);
    // Nothing was imported by the preview.
    assert!(!bundle(dir, "new").contains_key("app.yml"));

    run_expect(dir, &["run", "plan.toml"], ExitClass::Ok.into());
    let new = bundle(dir, "new");
    assert!(
        new.contains_key("own.yml"),
        "the target's own rules stay: {new:?}"
    );
    let app = new["app.yml"].as_str().expect("app.yml");
    assert!(app.contains("WebDown") && app.contains("CoreDown"), "{app}");
    let status = status_json(dir);
    assert_has(&step_summary(&status, 0, 0), "verified it landed as sent");
    assert_has(
        &step_summary(&status, 1, 0),
        "rollback point before-rules-core",
    );
}

/// A plan of one migrate step over everything, run once to the end.
fn migrated_once() -> tempfile::TempDir {
    let tmp = fixture(&format!(
        "{}{}",
        translator(),
        migrate_phase("all", "*", "")
    ));
    let dir = tmp.path();
    write_bundle(dir, "old", &[("app.yml", RULES)]);
    run_expect(dir, &["run", "plan.toml"], ExitClass::Ok.into());
    tmp
}

#[test]
fn a_rerun_whose_output_is_in_place_changes_nothing_and_says_so() {
    let tmp = migrated_once();
    let dir = tmp.path();
    let first = bundle(dir, "new");
    std::fs::remove_dir_all(dir.join(".state")).expect("fresh state");
    run_expect(dir, &["run", "plan.toml"], ExitClass::Ok.into());
    assert_has(&step_summary(&status_json(dir), 0, 0), "already in place");
    assert_eq!(bundle(dir, "new"), first);
}

/// A run killed after its migrate step captured `before-<step>` (and
/// perhaps after the import wrote the target, before the system reloaded
/// it) is resumed: the step imports again rather than trusting that what
/// the target's export shows is in effect. The kill is made exact by
/// cutting the journal of a finished run just before the step's end.
#[test]
fn a_migrate_step_resumed_after_its_point_imports_again() {
    let tmp = migrated_once();
    let dir = tmp.path();
    let landed = bundle(dir, "new");
    let journal = dir.join(".state/journal.log");
    let text = std::fs::read_to_string(&journal).expect("journal");
    let lines: Vec<&str> = text.lines().collect();
    let kind = |l: &str| {
        serde_json::from_str::<serde_json::Value>(l).expect("record")["kind"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert!(lines.iter().any(|l| kind(l) == "point-captured"), "{text}");
    let end = lines
        .iter()
        .position(|l| kind(l) == "step-finished")
        .expect("the step's end");
    std::fs::write(&journal, format!("{}\n", lines[..end].join("\n"))).expect("cut");
    std::fs::remove_file(dir.join(".state/status/view.json")).ok();
    let o = run_expect(dir, &["resume", "plan.toml"], ExitClass::Ok.into());
    let summary = step_summary(&status_json(dir), 0, 0);
    assert_has(
        &summary,
        "migrated alert_rules to the new system and verified",
    );
    assert!(
        !summary.contains("already in place"),
        "{summary}\n{}",
        out(&o)
    );
    assert_eq!(bundle(dir, "new"), landed);
}

#[test]
fn an_untranslatable_rule_stops_the_step_before_anything_is_imported() {
    let broken = format!("{RULES}  - alert: Broken\n    expr: up == 0\n    for: soon\n");
    let tmp = fixture(&format!(
        "{}{}",
        translator(),
        migrate_phase("all", "*", "")
    ));
    let dir = tmp.path();
    write_bundle(dir, "old", &[("app.yml", &broken)]);
    write_bundle(dir, "new", &[("own.yml", "groups: []\n")]);
    let before = bundle(dir, "new");

    let preview = out(&run_expect(
        dir,
        &["plan", "plan.toml"],
        ExitClass::Failed.into(),
    ));
    assert_has(&preview, "-- would FAIL");
    assert_has(
        &preview,
        "❌ alert_rule app.yml:app:Broken#2: invalid `for`",
    );

    run_expect(dir, &["run", "plan.toml"], ExitClass::Failed.into());
    assert_eq!(bundle(dir, "new"), before, "the target is untouched");
    let summary = step_summary(&status_json(dir), 0, 0);
    assert_has(&summary, "1 untranslatable item(s), nothing was imported");
    assert_has(&summary, "Broken");

    // Allowed explicitly: the other rules move, the broken one is reported.
    let allowed = fixture(&format!(
        "{}{}",
        translator(),
        migrate_phase("all", "*", "allow_untranslatable = true")
    ));
    let dir = allowed.path();
    write_bundle(dir, "old", &[("app.yml", &broken)]);
    run_expect(dir, &["run", "plan.toml"], ExitClass::Ok.into());
    let app = bundle(dir, "new")["app.yml"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(app.contains("WebDown") && !app.contains("Broken"), "{app}");
}

#[test]
fn a_scope_that_selects_nothing_is_no_data_never_a_pass() {
    let tmp = fixture(&format!(
        "{}{}",
        translator(),
        migrate_phase("nobody", r#"{team="nobody"}"#, "")
    ));
    let dir = tmp.path();
    write_bundle(dir, "old", &[("app.yml", RULES)]);
    let preview = out(&run_expect(
        dir,
        &["plan", "plan.toml"],
        ExitClass::Failed.into(),
    ));
    assert_has(&preview, "no data: the scope selects nothing to migrate");
    run_expect(dir, &["run", "plan.toml"], ExitClass::Failed.into());
    assert_has(
        &step_summary(&status_json(dir), 0, 0),
        "no data: the scope selects nothing to migrate (alert_rules in {team=\"nobody\"})",
    );
}

#[test]
fn a_misbehaving_translator_leaves_the_target_untouched_and_is_named() {
    // Malformed output, a report with fewer items than the rules sent,
    // a lying summary, a trap: all are refused before anything is imported.
    for (mode, says) in [
        ("bad-framing", "malformed"),
        ("drop-item", "items"),
        ("summary-lie", "summary"),
        ("trap", "trap"),
    ] {
        let body = format!(
            "\n[plugins.hostile]\npath = \"{}\"\nsha256 = \"{}\"\n{}",
            plugins_dir().join("hostile-translator.wasm").display(),
            "0".repeat(64),
            migrate_phase("all", "*", "")
                .replace(
                    "translate = \"prometheus-rules\"",
                    "translate = \"hostile\""
                )
                .replace(
                    "types = [\"alert_rules\"]",
                    &format!("types = [\"alert_rules\"]\nparams = {{ mode = \"{mode}\" }}")
                )
        );
        let tmp = fixture(&body);
        let dir = tmp.path();
        // One rule in one file: the hostile echo accounts for it, so each
        // mode fails on its own misbehaviour.
        let one = "groups:\n- name: app\n  rules:\n  - alert: WebDown\n    expr: up == 0\n";
        write_bundle(dir, "old", &[("app.yml", one)]);
        write_bundle(dir, "new", &[("own.yml", "groups: []\n")]);
        let before = bundle(dir, "new");
        run_expect(dir, &["run", "plan.toml"], ExitClass::Failed.into());
        assert_eq!(
            bundle(dir, "new"),
            before,
            "{mode}: the target is untouched"
        );
        let summary = step_summary(&status_json(dir), 0, 0);
        assert_has(&summary, "translator `hostile` on alert_rules");
        assert_has(&summary, "nothing was imported");
        assert!(summary.to_lowercase().contains(says), "{mode}: {summary}");
    }
}

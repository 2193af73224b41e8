//! Golden tests: every `tests/ui/NN-name.toml` must fail validation with
//! exactly the diagnostics in `tests/ui/NN-name.stderr` (plain rendering).
//! `UPDATE_GOLDENS=1 cargo test -p cutover-plan --test ui` rewrites them.

use std::path::{Path, PathBuf};

use cutover_plan::{
    DescriptorFileResolver, PluginInfo, PluginResolver, StepAction, fingerprint_diff, load,
    preview, schema_json, validate, validate_in,
};
use cutover_test_kit::golden::check as golden;
use cutover_test_kit::plan::pin_stand_ins;

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn malformed_plans_match_goldens() {
    // Paths in diagnostics are shown relative to the crate, like a user would type them.
    std::env::set_current_dir(manifest()).expect("crate dir");
    let mut cases: Vec<PathBuf> = std::fs::read_dir("tests/ui")
        .expect("tests/ui")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "toml")
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(|c: char| c.is_ascii_digit()))
        })
        .collect();
    cases.sort();
    assert!(cases.len() >= 16, "only {} golden cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let src = std::fs::read_to_string(case).expect("read case");
        let name = case.to_string_lossy().replace('\\', "/");
        match validate(&src, &name, &DescriptorFileResolver) {
            Ok(_) => failures.push(format!("{name}: validated, but it should fail")),
            Err(diags) => {
                if let Err(e) = golden(&case.with_extension("stderr"), &diags.render_plain()) {
                    failures.push(e);
                }
            }
        }
    }
    // A golden whose plan was removed is stale.
    for entry in std::fs::read_dir("tests/ui").expect("tests/ui").flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|x| x == "stderr") && !path.with_extension("toml").is_file()
        {
            failures.push(format!("{}: golden without a plan", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn multi_error_plan_reports_every_problem() {
    let path = manifest().join("tests/ui/23-many-errors.toml");
    let src = std::fs::read_to_string(&path).expect("read");
    let diags =
        validate(&src, "tests/ui/23-many-errors.toml", &ManifestResolver).expect_err("must fail");
    assert!(diags.items.len() >= 6, "only {} errors", diags.items.len());
}

/// Resolves descriptor files relative to the crate, whatever the cwd.
struct ManifestResolver;

impl PluginResolver for ManifestResolver {
    fn describe(&self, id: &str, path: &Path) -> Result<PluginInfo, String> {
        DescriptorFileResolver.describe(id, &manifest().join(path))
    }
}

fn load_valid() -> cutover_plan::LoadedPlan {
    let path = manifest().join("tests/ui/valid-plan.toml");
    match load(&path, &DescriptorFileResolver) {
        Ok(l) => l,
        Err(d) => panic!("valid plan rejected:\n{}", d.render_plain()),
    }
}

#[test]
fn valid_plan_loads_with_defaults_applied() {
    let loaded = load_valid();
    let plan = &loaded.plan;
    assert_eq!(plan.phases.len(), 2);
    assert_eq!(plan.phases[0].duration_ms, Some(5_400_000));
    assert_eq!(
        plan.phases[0]
            .rollback_point
            .as_ref()
            .map(|r| r.name.as_str()),
        Some("after-prepare")
    );
    assert_eq!(
        plan.phases[1]
            .rollback_point
            .as_ref()
            .map(|r| r.categories.clone()),
        Some(vec!["configurations".to_string()])
    );
    assert_eq!(plan.plugins["prom"].limits.deadline_ms, 60_000);
    assert_eq!(plan.plugins["am"].limits.memory_bytes, 64 << 20);
    let steps = &plan.phases[0].steps;
    assert!(steps[0].idempotent, "backup defaults to idempotent");
    let switch = &plan.phases[1].steps[1];
    assert!(!switch.idempotent, "action defaults to not idempotent");
    match &switch.action {
        StepAction::Action { plugin, params } => {
            assert_eq!(plugin, "noop");
            assert_eq!(params["teams"][1], "b");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(loaded.infos["am"].name, "alertmanager");
    assert_eq!(loaded.digests.len(), 5);
    assert_eq!(loaded.state_dir(), manifest().join("tests/ui/.cutover"));
}

#[test]
fn preview_shows_phases_grants_backups_gates_and_fingerprint() {
    let loaded = load_valid();
    let text = preview(&loaded, &loaded.infos);
    for needle in [
        "Fingerprint: sha256:",
        "1. prepare \"Preparation\" [risk low (max medium), expected 1h30m]",
        "2.1 shadow (idempotent): parallel run: window 1h, every 1m, tolerance 2m, min match rate 0.9",
        "hosts: http://127.0.0.1:9093",
        "secrets: am-token",
        "dirs: rules -> ./rules (read-only)",
        "backup-old (old system, phase prepare): configurations, alert_rules",
        "gate: approval by oncall-lead: \"Pilot looks healthy\"",
        "[critical] No missing critical alerts (check `probe`",
        "on failure: roll back to `before-pilot`",
        "pilot-done (end of phase pilot): configurations",
    ] {
        assert!(text.contains(needle), "preview lacks {needle:?}:\n{text}");
    }
    assert!(text.contains(&loaded.fingerprint()));
}

#[test]
fn preview_matches_golden() {
    let src = std::fs::read_to_string(manifest().join("tests/ui/valid-plan.toml")).expect("plan");
    let loaded = validate_in(
        &src,
        "tests/ui/valid-plan.toml",
        &manifest().join("tests/ui"),
        &DescriptorFileResolver,
    )
    .expect("valid");
    let text = preview(&loaded, &loaded.infos);
    let result = golden(&manifest().join("tests/ui/valid-plan.preview"), &text);
    assert!(result.is_ok(), "{}", result.err().unwrap_or_default());
}

#[test]
fn fingerprint_ignores_layout_but_not_content() {
    let loaded = load_valid();
    let base = loaded.base_dir.clone();
    // Same plan: comments added, whitespace changed, keys reordered, "1h30m" as "90m".
    let reformatted = loaded
        .source
        .replace("duration = \"1h30m\"", "# comment\nduration   =   \"90m\"")
        .replace(
            "id = \"prepare\"\nname = \"Preparation\"",
            "name = \"Preparation\"\nid = \"prepare\"",
        );
    assert_ne!(reformatted, loaded.source);
    let again = validate_in(&reformatted, "x.toml", &base, &DescriptorFileResolver).expect("valid");
    assert_eq!(again.fingerprint(), loaded.fingerprint());

    let changed_src = loaded
        .source
        .replace("duration = \"30s\"", "duration = \"45s\"");
    let changed =
        validate_in(&changed_src, "x.toml", &base, &DescriptorFileResolver).expect("valid");
    assert_ne!(changed.fingerprint(), loaded.fingerprint());
    let diff = fingerprint_diff(
        &loaded.plan.normalized(&loaded.digests),
        &changed.plan.normalized(&changed.digests),
    );
    assert_eq!(
        diff,
        vec!["phase `pilot`: step `pause` changed".to_string()]
    );

    let mut digests = loaded.digests.clone();
    digests.insert("noop".into(), "0".repeat(64));
    let diff = fingerprint_diff(
        &loaded.plan.normalized(&loaded.digests),
        &loaded.plan.normalized(&digests),
    );
    assert_eq!(diff.len(), 1);
    assert!(
        diff[0].starts_with("plugin `noop`: binary changed"),
        "{diff:?}"
    );
    assert!(
        fingerprint_diff(
            &loaded.plan.normalized(&loaded.digests),
            &loaded.plan.normalized(&loaded.digests)
        )
        .is_empty()
    );
}

#[test]
fn noise_source_is_typed_and_absent_from_plans_without_it() {
    let loaded = load_valid();
    let noise_of = |plan: &cutover_plan::Plan| match &plan.phases[1].steps[0].action {
        StepAction::ParallelRun { noise, .. } => noise.clone(),
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!(
        noise_of(&loaded.plan),
        Some(cutover_plan::NoiseSource::SecondRead)
    );
    assert!(
        loaded
            .plan
            .normalized(&loaded.digests)
            .contains("\"noise\":\"second-read\"")
    );
    // Without `noise`, the normalized plan (and so the fingerprint of plans
    // written before the field existed) has no trace of it.
    let without = loaded.source.replace("noise = \"second-read\"\n", "");
    assert_ne!(without, loaded.source);
    let again = validate_in(
        &without,
        "x.toml",
        &loaded.base_dir,
        &DescriptorFileResolver,
    )
    .expect("valid");
    assert_eq!(noise_of(&again.plan), None);
    assert!(!again.plan.normalized(&again.digests).contains("noise"));
    // A declared adapter (here the old system's own, read through its id)
    // is kept by id.
    let replica = loaded
        .source
        .replace("noise = \"second-read\"", "noise = \"am\"");
    let again = validate_in(
        &replica,
        "x.toml",
        &loaded.base_dir,
        &DescriptorFileResolver,
    )
    .expect("valid");
    assert_eq!(
        noise_of(&again.plan),
        Some(cutover_plan::NoiseSource::Adapter("am".into()))
    );
}

#[test]
fn schema_file_is_current() {
    let path = manifest().join("../../plans/schema.json");
    let result = golden(&path, &schema_json());
    assert!(result.is_ok(), "{}", result.err().unwrap_or_default());
    let schema: serde_json::Value = serde_json::from_str(&schema_json()).expect("json");
    assert!(schema["properties"]["phases"].is_object());
}

/// `src` (a shipped plan) with its plugin paths replaced by stand-in files
/// in `tmp`, pinned (so that pins and capabilities are checked too) and
/// described by the recorded descriptors of the shipped plugins
/// (`tests/ui/plugins/shipped-<id>.describe.json`).
fn pin_shipped(src: &str, tmp: &Path) -> String {
    pin_stand_ins(src, tmp, Some(&manifest().join("tests/ui/plugins")))
}

#[test]
fn shipped_plans_are_valid_apart_from_plugin_binaries() {
    for name in ["alerting-migration.toml", "offline-demo.toml"] {
        let path = manifest().join("../../plans").join(name);
        let src = std::fs::read_to_string(&path).expect("plan");
        let base = path.parent().expect("dir").to_path_buf();
        let tmp = tempfile::tempdir().expect("tmp");
        let pinned = pin_shipped(&src, tmp.path());
        match validate_in(&pinned, name, &base, &DescriptorFileResolver) {
            Ok(loaded) => {
                assert_eq!(loaded.plan.phases.len(), 5, "{name}");
                let text = preview(&loaded, &loaded.infos);
                assert!(text.contains("decommission"), "{text}");
                if name == "alerting-migration.toml" {
                    assert!(
                        text.contains("canary: `alertmanager-canary` pages through both Alertmanagers with {\"labels\":{\"alertname\":\"CutoverCanary\""),
                        "{text}"
                    );
                }
            }
            Err(d) => panic!("{name}:\n{}", d.render_plain()),
        }
    }
}

/// The reference plan asking the Alertmanager adapter for types it does not
/// declare (as it once did) is refused at the step's `types`, naming the
/// system, the adapter and what it declares.
#[test]
fn shipped_plan_asking_undeclared_types_is_refused() {
    let path = manifest().join("../../plans/alerting-migration.toml");
    let src = std::fs::read_to_string(&path).expect("plan");
    let tmp = tempfile::tempdir().expect("tmp");
    let asked = "types = [\"configurations\", \"silences\"]\ndescription = \"Full backup of the old system\"";
    assert!(src.contains(asked), "the reference plan changed");
    let wrong = src.replace(
        asked,
        "types = [\"configurations\", \"alert_rules\", \"user_data\", \"historical_alerts\"]\ndescription = \"Full backup of the old system\"",
    );
    let wrong = wrong.replacen(
        "rollback_point = { categories = [\"configurations\", \"active_alerts\"] }",
        "rollback_point = true",
        1,
    );
    let pinned = pin_shipped(&wrong, tmp.path());
    let base = path.parent().expect("dir");
    let diags = validate_in(
        &pinned,
        "alerting-migration.toml",
        base,
        &DescriptorFileResolver,
    )
    .expect_err("undeclared types must be refused");
    let text = diags.render_plain();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("error: system"))
        .collect();
    assert_eq!(
        lines,
        [
            "error: system `old` adapter `alertmanager` does not declare backup type `alert_rules` (it declares: configurations, routes, silences)",
            "error: system `old` adapter `alertmanager` does not declare backup type `user_data` (it declares: configurations, routes, silences)",
            "error: system `old` adapter `alertmanager` does not declare backup type `historical_alerts` (it declares: configurations, routes, silences)",
            "error: system `old` adapter `alertmanager` does not declare rollback category `system_metrics` (it declares: configurations, routes, silences, active_alerts)",
            "error: system `old` adapter `alertmanager` does not declare rollback category `user_permissions` (it declares: configurations, routes, silences, active_alerts)",
            "error: system `new` adapter `prometheus` does not declare rollback category `system_metrics` (it declares: configurations, alert_rules, routes, silences, active_alerts)",
            "error: system `new` adapter `prometheus` does not declare rollback category `user_permissions` (it declares: configurations, alert_rules, routes, silences, active_alerts)",
        ],
        "{text}"
    );
    // Located at the step's `types` (file:line:column).
    let types_line = pinned
        .lines()
        .position(|l| l.starts_with("types = [\"configurations\", \"alert_rules\", \"user_data\""))
        .expect("types line")
        + 1;
    assert!(
        text.contains(&format!("--> alerting-migration.toml:{types_line}:9")),
        "{text}"
    );
    assert_eq!(diags.items.len(), lines.len(), "{text}");
}

/// The demo data and the demo plan agree: with the recorded new system the
/// gating parallel runs fail (2 alerts missing: the demo shows the gate
/// stopping the pilot); with its corrected recording (`new-fixed`) every one
/// passes with the rename. No run is a shadow.
#[test]
fn demo_data_fits_the_demo_plan() {
    let data = manifest().join("../../plans/demo-data");
    let read = |side: &str| -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(data.join(side).join("alerts.json")).expect("alerts");
        serde_json::from_str(&text).expect("json")
    };
    let key = |a: &serde_json::Value, rename: &std::collections::BTreeMap<String, String>| {
        let mut labels = a["labels"].as_object().cloned().unwrap_or_default();
        if let Some(name) = labels.get("alertname").and_then(|n| n.as_str()) {
            let renamed = rename
                .get(name)
                .cloned()
                .unwrap_or_else(|| name.to_string());
            labels.insert("alertname".into(), serde_json::Value::String(renamed));
        }
        serde_json::Value::Object(labels).to_string()
    };
    let (old, new, fixed) = (read("old"), read("new"), read("new-fixed"));
    assert_eq!(old.len(), 6);
    assert_eq!(new.len(), 4);
    assert_eq!(fixed.len(), 6);
    for side in ["old", "new"] {
        for kind in [
            "configurations.yml",
            "alert_rules.yml",
            "user_data.json",
            "historical_alerts.json",
        ] {
            assert!(
                data.join(side).join(kind).is_file(),
                "{side}/{kind} missing"
            );
        }
    }
    let src =
        std::fs::read_to_string(manifest().join("../../plans/offline-demo.toml")).expect("plan");
    let raw: toml::Table = toml::from_str(&src).expect("toml");
    let phases = raw["phases"].as_array().expect("phases");
    let mut runs = 0;
    for phase in phases {
        for step in phase["steps"].as_array().expect("steps") {
            if step["kind"].as_str() != Some("parallel-run") {
                continue;
            }
            runs += 1;
            let rename: std::collections::BTreeMap<String, String> = step
                .get("rename")
                .and_then(|r| r.as_table())
                .map(|t| {
                    t.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                        .collect()
                })
                .unwrap_or_default();
            let rate = |new: &[serde_json::Value]| {
                let new_keys: Vec<String> =
                    new.iter().map(|a| key(a, &Default::default())).collect();
                let matched = old
                    .iter()
                    .filter(|a| new_keys.contains(&key(a, &rename)))
                    .count();
                matched as f64 / old.len() as f64
            };
            let min = step["min_match_rate"].as_float().expect("min_match_rate");
            assert!(step.get("shadow").is_none(), "{:?} is a shadow", step["id"]);
            assert!(
                rate(&new) < min,
                "{:?} passes on the broken data",
                step["id"]
            );
            assert!(
                rate(&fixed) >= min && rate(&fixed) == 1.0,
                "gating run {:?} fails on the corrected data: {} < {min}",
                step["id"],
                rate(&fixed)
            );
        }
    }
    assert_eq!(runs, 3);
}

/// A phase `duration` may be a range `MIN..MAX`: typed as minimum and
/// maximum, shown as written, fingerprinted; a single value keeps the plan's
/// fingerprint as before (no maximum is serialised).
#[test]
fn phase_duration_ranges_are_typed_previewed_and_fingerprinted() {
    let loaded = load_valid();
    assert_eq!(loaded.plan.phases[0].duration_max_ms, None);
    assert_eq!(loaded.plan.phases[0].max_duration_ms(), Some(5_400_000));
    assert!(
        !loaded
            .plan
            .normalized(&loaded.digests)
            .contains("duration_max_ms")
    );
    let ranged = loaded
        .source
        .replace("duration = \"1h30m\"", "duration = \"1h..2h\"");
    assert_ne!(ranged, loaded.source);
    let again =
        validate_in(&ranged, "x.toml", &loaded.base_dir, &DescriptorFileResolver).expect("valid");
    let phase = &again.plan.phases[0];
    assert_eq!(
        (phase.duration_ms, phase.duration_max_ms),
        (Some(3_600_000), Some(7_200_000))
    );
    assert_eq!(phase.max_duration_ms(), Some(7_200_000));
    assert_eq!(phase.duration_text().as_deref(), Some("1h..2h"));
    assert!(
        preview(&again, &again.infos)
            .contains("1. prepare \"Preparation\" [risk low (max medium), expected 1h..2h]")
    );
    let diff = fingerprint_diff(
        &loaded.plan.normalized(&loaded.digests),
        &again.plan.normalized(&again.digests),
    );
    assert_eq!(
        diff,
        vec![
            "phase `prepare`: duration_ms changed".to_string(),
            "phase `prepare`: duration_max_ms changed".to_string()
        ]
    );
    // A range whose ends are equal is the single value.
    let same = loaded
        .source
        .replace("duration = \"1h30m\"", "duration = \"90m..1h30m\"");
    let same =
        validate_in(&same, "x.toml", &loaded.base_dir, &DescriptorFileResolver).expect("valid");
    assert_eq!(same.fingerprint(), loaded.fingerprint());
}

#[test]
fn https_notification_targets_with_a_ca_file_validate() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let ca = tmp.path().join("hooks-ca.pem");
    std::fs::write(
        &ca,
        "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n",
    )
    .expect("write CA");
    let src = std::fs::read_to_string(manifest().join("tests/ui/valid-plan.toml")).expect("plan");
    let header = format!(
        "[plan]\nnotify = [\"am+https://hooks.example:8443/cutover\", \"slack+https://hooks.example/x\", \"#ops\"]\nnotify_tls_ca = [{:?}]\n",
        ca.display().to_string()
    );
    let src = src.replacen("[plan]\n", &header, 1).replacen(
        "notify = [\"#incident\"]",
        "notify = [\"#incident\", \"https://pager.example/hook\"]",
        1,
    );
    let loaded = validate_in(
        &src,
        "tests/ui/valid-plan.toml",
        &manifest().join("tests/ui"),
        &DescriptorFileResolver,
    )
    .unwrap_or_else(|d| panic!("{}", d.render_plain()));
    assert_eq!(
        loaded.plan.meta.notify_tls_ca,
        vec![ca.display().to_string()]
    );
    assert_eq!(loaded.plan.meta.notify.len(), 3);
    assert_eq!(
        loaded.plan.emergency["abort"].notify,
        vec!["#incident".to_string(), "https://pager.example/hook".into()]
    );
    // The CA files are part of the plan: changing them changes the fingerprint.
    let without = src.replacen(
        &format!("notify_tls_ca = [{:?}]\n", ca.display().to_string()),
        "",
        1,
    );
    let other = validate_in(
        &without,
        "tests/ui/valid-plan.toml",
        &manifest().join("tests/ui"),
        &DescriptorFileResolver,
    )
    .unwrap_or_else(|d| panic!("{}", d.render_plain()));
    assert_ne!(loaded.fingerprint(), other.fingerprint());
    let text = preview(&loaded, &loaded.infos);
    assert!(
        text.contains(&format!(
            "Notifications over https trust: {} (instead of the public roots)",
            ca.display()
        )),
        "{text}"
    );
}

//! The four-language example check (`examples/checks/`) in the real runtime,
//! and the contract-evolution tests.
//!
//! Needs `scripts/build-polyglot.sh` first (components in `target/plugins/`).

#[path = "polyglot/evolution.rs"]
mod evolution;

use std::path::Path;
use std::sync::OnceLock;

use cutover_polyglot::{LANGS, component_path, fixture_params};
use cutover_runtime::{
    CONTRACT_VERSION, CacheStatus, CallError, Grants, LoadError, Plugin, PluginError, Runtime,
    Sandbox, TranslateRequest, World, wit,
};

/// (fixture, expected verdict, expected message, rules_total, missing runbook, missing severity)
const EXPECTED: [(&str, wit::VerdictKind, &str, f64, f64, f64); 3] = [
    (
        "compliant",
        wit::VerdictKind::Pass,
        "all 3 alerting rules have a runbook_url annotation and a severity label",
        3.0,
        0.0,
        0.0,
    ),
    (
        "offenders",
        wit::VerdictKind::Fail,
        "3 of 4 alerting rules lack a runbook_url annotation or a severity label: \
         api/ApiHighLatency (runbook_url), node/NodeDiskFull (runbook_url, severity), \
         node/NodeLoadHigh (severity)",
        4.0,
        2.0,
        2.0,
    ),
    (
        "recording-only",
        wit::VerdictKind::NoData,
        "no alerting rules in the rule set",
        0.0,
        0.0,
        0.0,
    ),
];

fn cache_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("temp cache dir"))
        .path()
}

fn rt() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| Runtime::new(Some(cache_dir())).expect("runtime"))
}

/// The four components, loaded once (into a fresh cache) per test process.
fn plugins() -> &'static [(&'static str, Plugin)] {
    static PLUGINS: OnceLock<Vec<(&'static str, Plugin)>> = OnceLock::new();
    PLUGINS.get_or_init(|| {
        LANGS
            .iter()
            .map(|lang| {
                let path = component_path(lang);
                assert!(
                    path.exists(),
                    "{} is missing: run scripts/build-polyglot.sh first",
                    path.display()
                );
                let p = rt()
                    .load_file(&path, None)
                    .unwrap_or_else(|e| panic!("{lang}: {e}"));
                (*lang, p)
            })
            .collect()
    })
}

fn ctx(params: &str) -> wit::Context {
    wit::Context {
        plan: "polyglot".into(),
        phase: "verify".into(),
        step: "runbooks".into(),
        run_id: "r1".into(),
        params: params.into(),
    }
}

fn measurements(v: &wit::Verdict) -> Vec<(String, f64)> {
    v.measurements
        .iter()
        .map(|m| (m.name.clone(), m.value))
        .collect()
}

#[test]
fn all_four_languages_give_the_same_verdicts() {
    for (fixture, kind, message, total, runbook, severity) in EXPECTED {
        let params = fixture_params(fixture).expect("fixture");
        let want = vec![
            ("rules_total".to_string(), total),
            ("rules_missing_runbook".to_string(), runbook),
            ("rules_missing_severity".to_string(), severity),
        ];
        for (lang, p) in plugins() {
            let v = rt()
                .evaluate(p, &Sandbox::default(), &ctx(&params))
                .unwrap_or_else(|e| panic!("{lang} on {fixture}: {e}"));
            assert_eq!(v.verdict, kind, "{lang} on {fixture}: {}", v.message);
            assert_eq!(v.message, message, "{lang} on {fixture}");
            assert_eq!(measurements(&v), want, "{lang} on {fixture}");
        }
    }
}

#[test]
fn all_four_languages_reject_bad_input_alike() {
    let cases: [(&str, &str, bool); 6] = [
        ("[1]", "params: expected a JSON object", true),
        ("not json", "params: expected a JSON object", true),
        (
            r#"{"rules":{"data":{}}}"#,
            "params.rules: expected a string holding the rule set as JSON",
            true,
        ),
        (
            r#"{"rules":"{\"data\": [}"}"#,
            "params.rules: not valid JSON: ",
            false,
        ),
        (
            r#"{"rules":"{\"data\":{\"groups\":{}}}"}"#,
            "params.rules: expected data.groups to be an array",
            true,
        ),
        (
            r#"{"rules":"{\"data\":{\"groups\":[{\"name\":\"a\",\"rules\":[]},{\"name\":\"b\"}]}}"}"#,
            "params.rules: data.groups[1].rules: expected an array",
            true,
        ),
    ];
    for (params, want, exact) in cases {
        for (lang, p) in plugins() {
            let err = rt()
                .evaluate(p, &Sandbox::default(), &ctx(params))
                .expect_err(lang);
            let CallError::Plugin {
                error: PluginError::InvalidInput(msg),
                ..
            } = &err
            else {
                panic!("{lang} on {params}: expected invalid-input, got {err:?}");
            };
            if exact {
                assert_eq!(msg, want, "{lang} on {params}");
            } else {
                assert!(
                    msg.starts_with(want) && msg.len() > want.len(),
                    "{lang} on {params}: {msg}"
                );
            }
        }
    }
}

#[test]
fn inspect_reports_check_world_and_the_current_contract() {
    let current = CONTRACT_VERSION.to_string();
    for (lang, p) in plugins() {
        let info = p.info();
        assert_eq!(info.world, World::Check, "{lang}");
        assert_eq!(
            info.contract_version.as_deref(),
            Some(current.as_str()),
            "{lang}"
        );
        assert_eq!(info.host_contract_version, current);
        assert!(
            info.imports
                .iter()
                .any(|i| *i == format!("cutover:plugin/host@{current}")),
            "{lang}: {:?}",
            info.imports
        );
        for export in ["describe", "evaluate"] {
            assert!(info.exports.iter().any(|e| e == export), "{lang}: {export}");
        }
        let d = &info.descriptor;
        assert_eq!(d.name, format!("example-check-{lang}"));
        assert_eq!(p.name(), d.name);
        assert_eq!(d.version, "0.1.0", "{lang}");
        assert_eq!(d.kind, World::Check, "{lang}");
        let c = &d.capabilities;
        assert!(
            c.hosts.is_empty()
                && c.directories.is_empty()
                && c.config_keys.is_empty()
                && c.secrets.is_empty(),
            "{lang} asks for nothing"
        );
        assert!(
            d.description
                .starts_with("Every alerting rule has a runbook_url"),
            "{lang}: {}",
            d.description
        );
        let bytes = std::fs::read(component_path(lang)).expect("component");
        assert_eq!(info.sha256, cutover_runtime::sha256_hex(&bytes), "{lang}");
        assert_eq!(info.size, bytes.len(), "{lang}");
    }
}

#[test]
fn large_guests_load_from_the_cache_the_second_time() {
    // The shared runtime compiled everything into a fresh cache directory.
    for (lang, p) in plugins() {
        assert_eq!(p.info().cache, CacheStatus::Miss, "{lang}: first load");
    }
    // A second runtime (as a new process would) on the same directory.
    let again = Runtime::new(Some(cache_dir())).expect("runtime");
    for lang in ["js", "python"] {
        let p = again
            .load_file(&component_path(lang), None)
            .unwrap_or_else(|e| panic!("{lang}: {e}"));
        assert_eq!(p.info().cache, CacheStatus::Hit, "{lang}: second load");
        let params = fixture_params("offenders").expect("fixture");
        let v = again
            .evaluate(&p, &Sandbox::default(), &ctx(&params))
            .expect("cached component runs");
        assert_eq!(v.verdict, wit::VerdictKind::Fail, "{lang}");
    }
}

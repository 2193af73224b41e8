//! The plugin bridge: a plan's plugin entry becomes a pinned, sandboxed
//! plugin in one place (validation, runs, rollbacks and the CLI share it).

use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use cutover_backup::BackupStore;
use cutover_engine::PluginBridge;
use cutover_engine::bridge::{BridgeError, adapter_id, sandbox_for};
use cutover_plan::LoadedPlan;
use cutover_runtime::LoadError;

use super::{plugin, root, runtime};

/// A plan with two file adapters (one granted a CA file) and one backup
/// step, written into `dir` and validated through `bridge`.
fn file_adapter_plan(dir: &Path, bridge: &PluginBridge<'_>, pin: &str) -> LoadedPlan {
    let (wasm, _) = plugin("file-adapter");
    let plan = format!(
        r#"
[plan]
name = "t"
description = "d"
owner = "o"
state_dir = "state"
defaults = {{ deadline = "7s", memory = "32MiB" }}

[plugins.file-old]
path = "{wasm}"
sha256 = "{pin}"
grants = {{ dirs = [{{ name = "data", path = "data", write = true }}] }}

[plugins.file-new]
path = "{wasm}"
sha256 = "{pin}"
grants = {{ dirs = [{{ name = "data", path = "data", write = true }}], tls_ca = ["ca.crt"] }}

[systems.old]
adapter = "file-old"
label = "old"

[systems.new]
adapter = "file-new"
label = "new"

[[phases]]
id = "prep"
name = "Prep"
duration = "1s"
risk = "low"

[[phases.steps]]
id = "backup-old"
kind = "backup"
system = "old"
types = ["configurations"]
"#
    );
    let data = dir.join("data");
    fs::create_dir_all(&data).unwrap();
    for e in fs::read_dir(root().join("plans/demo-data/old")).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), data.join(e.file_name())).unwrap();
    }
    fs::copy(
        root().join("host/runtime/tests/fixtures/tls/ca.crt"),
        dir.join("ca.crt"),
    )
    .unwrap();
    let path = dir.join("plan.toml");
    fs::write(&path, plan).unwrap();
    cutover_plan::load(&path, bridge).unwrap_or_else(|d| panic!("{}", d.render_auto()))
}

#[test]
fn sandbox_from_plan_grants_the_data_dir_and_the_ca() {
    let dir = tempfile::tempdir().unwrap();
    let bridge = PluginBridge::new(runtime());
    let (_, pin) = plugin("file-adapter");
    let loaded = file_adapter_plan(dir.path(), &bridge, &pin);
    assert_eq!(adapter_id(&loaded, "old").unwrap(), "file-old");
    assert!(matches!(
        adapter_id(&loaded, "sideways"),
        Err(BridgeError::UnknownSystem { .. })
    ));
    assert!(matches!(
        sandbox_for(&loaded, "nope"),
        Err(BridgeError::NotDeclared { .. })
    ));
    let sb = sandbox_for(&loaded, "file-old").unwrap();
    assert_eq!(sb.limits.deadline, Duration::from_secs(7));
    assert_eq!(sb.limits.memory_bytes, 32 << 20);
    assert_eq!(sb.grants.dirs.len(), 1);
    assert_eq!(sb.grants.dirs[0].path, dir.path().join("data"));
    assert!(sb.grants.dirs[0].write);
    assert!(sb.tls_ca.is_none(), "no tls_ca grant: the public roots");
    // The granted CA is loaded (relative to the plan) when the sandbox is built.
    let ca = sandbox_for(&loaded, "file-new")
        .unwrap()
        .tls_ca
        .expect("tls_ca granted");
    assert_eq!(ca.files(), [dir.path().join("ca.crt")]);
    assert_eq!(ca.certificates(), 1);

    // The sandbox really serves a backup through the adapter.
    let (id, old) = bridge.adapter(&loaded, "old").unwrap();
    assert_eq!(id, "file-old");
    let store = BackupStore::open(&loaded.state_dir()).unwrap();
    let m = store
        .backup(
            runtime(),
            &old.plugin,
            &old.sandbox,
            "old",
            &["configurations".to_string()],
            cutover_backup::Lineage::default(),
        )
        .unwrap();
    assert!(m.complete(), "{m:#?}");

    fs::write(dir.path().join("ca.crt"), "not a certificate").unwrap();
    match sandbox_for(&loaded, "file-new") {
        Err(BridgeError::Grant { id, detail }) => {
            assert_eq!(id, "file-new");
            assert!(detail.contains("ca.crt"), "{detail}");
        }
        Err(e) => panic!("expected a grant error, got {e}"),
        Ok(_) => panic!("a CA file that is no certificate must fail the sandbox"),
    }
}

#[test]
fn a_run_reuses_what_validation_loaded_and_checks_the_pin() {
    let dir = tempfile::tempdir().unwrap();
    let bridge = PluginBridge::new(runtime());
    let (wasm, pin) = plugin("file-adapter");
    let loaded = file_adapter_plan(dir.path(), &bridge, &pin);
    let validated = bridge
        .loaded_from(Path::new(&wasm))
        .expect("validation loaded it");
    let l = bridge.load(&loaded, "file-old").unwrap();
    assert!(Arc::ptr_eq(&validated, &l.plugin), "loaded twice");
    assert_eq!(l.digest, pin);

    // A pin that no longer matches the file is refused as a load error…
    let mut wrong = loaded.clone();
    wrong.plan.plugins.get_mut("file-old").unwrap().sha256 = "0".repeat(64);
    match PluginBridge::new(runtime()).load(&wrong, "file-old") {
        Err(BridgeError::Load { id, cause }) => {
            assert_eq!(id, "file-old");
            assert!(matches!(*cause, LoadError::PinMismatch { .. }), "{cause}");
        }
        Err(e) => panic!("expected a pin mismatch, got {e}"),
        Ok(_) => panic!("a wrong pin must not load"),
    }
    // …also when validation loaded the file before.
    assert!(matches!(
        bridge.load(&wrong, "file-old"),
        Err(BridgeError::Load { .. })
    ));
    // An empty pin never loads unpinned.
    let mut unpinned = loaded.clone();
    unpinned.plan.plugins.get_mut("file-old").unwrap().sha256 = String::new();
    assert!(matches!(
        bridge.load(&unpinned, "file-old"),
        Err(BridgeError::Unpinned { .. })
    ));
    assert!(matches!(
        bridge.load(&loaded, "nope"),
        Err(BridgeError::NotDeclared { .. })
    ));
    // Another bridge seeded with what this one loaded loads nothing again.
    let seeded = PluginBridge::with_loaded(runtime(), bridge.into_loaded());
    let again = seeded.load(&loaded, "file-new").unwrap();
    assert!(Arc::ptr_eq(&validated, &again.plugin), "loaded twice");
}

#[test]
fn validation_runs_describe_within_the_plugins_deadline() {
    let dir = tempfile::tempdir().unwrap();
    // A translator whose describe() spins forever, with a 300 ms deadline.
    let text = cutover_test_kit::wat::translator(
        "spin",
        &cutover_test_kit::wat::hostile("infinite-loop.body.wat"),
        "",
        1,
    );
    fs::write(dir.path().join("spin.wat"), &text).unwrap();
    let pin = cutover_test_kit::sha256_hex(text.as_bytes());
    let plan = cutover_test_kit::plan::PlanBuilder::new("t")
        .file_systems()
        .build(&format!(
            "\n[plugins.spin]\npath = \"spin.wat\"\nsha256 = \"{pin}\"\nlimits = {{ deadline = \"300ms\" }}\n"
        ));
    let path = dir.path().join("plan.toml");
    fs::write(&path, plan).unwrap();
    let bridge = PluginBridge::new(runtime());
    let started = std::time::Instant::now();
    let diags = cutover_plan::load(&path, &bridge).expect_err("describe() never returns");
    let elapsed = started.elapsed();
    let text = diags.render_plain();
    assert!(
        text.contains("plugin `spin` could not be described")
            && text.contains("exceeded its deadline of 300 ms"),
        "{text}"
    );
    // Not the runtime's default of 10 s.
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
}

#[test]
fn validation_knows_which_adapters_answer_query_range() {
    use cutover_plan::PluginResolver;
    let rt = runtime();
    let bridge = PluginBridge::new(rt);
    for (name, history) in [
        ("prometheus", true),
        ("file-adapter", false),
        ("alertmanager", false),
    ] {
        let (wasm, _) = plugin(name);
        let wasm = Path::new(&wasm);
        let info = bridge.describe(name, wasm).expect(name);
        assert_eq!(info.history, history, "{name}");
        assert_eq!(
            bridge
                .loaded_from(wasm)
                .expect("loaded")
                .answers_query_range(),
            history,
            "{name}"
        );
    }
}

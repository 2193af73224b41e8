//! Contract evolution, both ways. This host implements 0.1.3 (0.1.1 added
//! the `translator` world, 0.1.2 the `history-adapter` world, 0.1.3 the
//! `streaming-adapter` world): plugins
//! built against 0.1.0 keep loading and running beside 0.1.1 translators.
//! A test host of a further additive 0.1.4 (`tests/wit-0.1.4`:
//! `config-keys`) runs 0.1.0 and current plugins, and a plugin that needs
//! 0.1.4 is refused by this 0.1.3 host with both versions named.

use super::*;
use wasmtime::component::{Component, HasSelf, Linker, Resource, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// Host bindings for a 0.1.4 contract (tests/wit-0.1.4: `config-keys` added).
mod v014 {
    wasmtime::component::bindgen!({
        path: "tests/wit-0.1.4",
        world: "cutover:plugin/check",
    });
}

use v014::cutover::plugin::{host, types};

const WAT_0_1_0: &str = include_str!("../fixtures/check-0.1.0.wat");

/// The state of a minimal 0.1.4 host.
struct Host014 {
    wasi: WasiCtx,
    table: ResourceTable,
    config: Vec<(String, String)>,
    logs: Vec<String>,
}

impl WasiView for Host014 {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl types::Host for Host014 {}

impl host::Host for Host014 {
    fn log(&mut self, _level: host::LogLevel, message: String, _fields: types::Pairs) {
        self.logs.push(message);
    }
    fn progress(&mut self, _done: u64, _total: u64, _message: String) {}
    fn config_get(&mut self, key: String) -> Option<String> {
        self.config
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.clone())
    }
    fn secret_get(&mut self, name: String) -> Result<String, String> {
        Err(format!("secret {name} not granted"))
    }
    fn config_keys(&mut self) -> Vec<String> {
        self.config.iter().map(|(k, _)| k.clone()).collect()
    }
}

impl host::HostDataSink for Host014 {
    fn write(&mut self, _: Resource<host::DataSink>, _: Vec<u8>) -> Result<(), String> {
        Err("no sink in this test host".into())
    }
    fn drop(&mut self, _: Resource<host::DataSink>) -> wasmtime::Result<()> {
        Ok(())
    }
}

impl host::HostDataSource for Host014 {
    fn read(&mut self, _: Resource<host::DataSource>, _: u32) -> Result<Vec<u8>, String> {
        Err("no source in this test host".into())
    }
    fn size(&mut self, _: Resource<host::DataSource>) -> u64 {
        0
    }
    fn drop(&mut self, _: Resource<host::DataSource>) -> wasmtime::Result<()> {
        Ok(())
    }
}

fn engine() -> Engine {
    let mut cfg = Config::new();
    cfg.wasm_component_model(true);
    Engine::new(&cfg).expect("engine")
}

fn linker(engine: &Engine) -> Linker<Host014> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).expect("wasi");
    v014::Check::add_to_linker::<Host014, HasSelf<Host014>>(&mut linker, |s| s)
        .expect("0.1.4 host");
    linker
}

fn store(engine: &Engine, config: &[(&str, &str)]) -> Store<Host014> {
    Store::new(
        engine,
        Host014 {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            config: config
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            logs: Vec::new(),
        },
    )
}

fn ctx013(params: &str) -> types::Context {
    types::Context {
        plan: "evolution".into(),
        phase: String::new(),
        step: String::new(),
        run_id: "r1".into(),
        params: params.into(),
    }
}

/// Instantiates a component on the 0.1.4 host and evaluates it.
fn evaluate_on_0_1_4(
    component: &Component,
    engine: &Engine,
    config: &[(&str, &str)],
    params: &str,
) -> (types::Verdict, Vec<String>) {
    let linker = linker(engine);
    let pre = linker
        .instantiate_pre(component)
        .expect("an older 0.1.x plugin links against the 0.1.4 host");
    let pre = v014::CheckPre::new(pre).expect("check world");
    let mut store = store(engine, config);
    let check = pre.instantiate(&mut store).expect("instantiate");
    let d = check.call_describe(&mut store).expect("describe");
    assert_eq!(d.kind, types::PluginKind::Check);
    let v = check
        .call_evaluate(&mut store, &ctx013(params))
        .expect("evaluate")
        .expect("ok verdict");
    (v, std::mem::take(&mut store.data_mut().logs))
}

#[test]
fn plugin_built_against_0_1_0_runs_on_this_host() {
    let p = rt()
        .load(WAT_0_1_0.as_bytes(), "check-0.1.0.wat")
        .expect("loads");
    assert_eq!(p.info().contract_version.as_deref(), Some("0.1.0"));
    assert_eq!(p.world(), World::Check);
    let mut grants = Grants::default();
    grants.config.insert("greeting".into(), "hello".into());
    let v = rt()
        .evaluate(&p, &Sandbox::with_grants(grants), &ctx("{}"))
        .expect("evaluate");
    assert_eq!(v.verdict, wit::VerdictKind::Pass);
    assert_eq!(v.message, "hello", "config-get reached the host");
    let v = rt()
        .evaluate(&p, &Sandbox::default(), &ctx("{}"))
        .expect("evaluate");
    assert_eq!(
        (v.verdict, v.message.as_str()),
        (wit::VerdictKind::NoData, "none")
    );
}

#[test]
fn plugin_built_against_0_1_0_runs_on_a_0_1_4_host() {
    let engine = engine();
    let component = Component::new(&engine, WAT_0_1_0).expect("component");
    let (v, logs) = evaluate_on_0_1_4(&component, &engine, &[("greeting", "hi")], "{}");
    assert_eq!(v.verdict, types::VerdictKind::Pass);
    assert_eq!(v.message, "hi");
    assert_eq!(logs, vec!["evaluated by a 0.1.0 plugin".to_string()]);
    let (v, _) = evaluate_on_0_1_4(&component, &engine, &[], "{}");
    assert_eq!(
        (v.verdict, v.message.as_str()),
        (types::VerdictKind::NoData, "none")
    );
}

#[test]
fn compiled_example_checks_run_on_a_0_1_4_host() {
    // Real toolchain output (Rust SDK and C via wit-bindgen), built
    // against the current contract.
    let engine = engine();
    let params = fixture_params("offenders").expect("fixture");
    for lang in ["rust", "c"] {
        let component = Component::from_file(&engine, component_path(lang)).expect("component");
        let (v, logs) = evaluate_on_0_1_4(&component, &engine, &[], &params);
        assert_eq!(v.verdict, types::VerdictKind::Fail, "{lang}");
        assert_eq!(v.measurements.len(), 3, "{lang}");
        assert_eq!(logs, vec!["checked 4 alerting rules".to_string()], "{lang}");
    }
}

/// A component of `world` generated from the WIT in `dir` (relative to
/// this crate): it imports every host function of its contract and
/// exports the world's functions, each of which traps when called.
fn generated_component(dir: &str, world: &str) -> Vec<u8> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut resolve = wit_parser::Resolve::default();
    let (pkg, _) = resolve
        .push_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e:#}", dir.display()));
    let world = resolve.select_world(&[pkg], Some(world)).expect("world");
    let mut module =
        wit_component::dummy_module(&resolve, world, wit_parser::ManglingAndAbi::Standard32);
    wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
    )
    .expect("embed");
    wit_component::ComponentEncoder::default()
        .module(&module)
        .expect("module")
        .validate(true)
        .encode()
        .expect("encode")
}

/// `bytes` as a component of `engine`, checked to import the host
/// interface of contract `version`.
fn imports_host(engine: &Engine, bytes: &[u8], version: &str) -> Component {
    let component = Component::new(engine, bytes).expect("component");
    let host = format!("cutover:plugin/host@{version}");
    assert!(
        component
            .component_type()
            .imports(engine)
            .any(|(name, _)| name == host),
        "{host} not imported"
    );
    component
}

#[test]
fn plugin_needing_0_1_4_is_refused_naming_both_versions() {
    let bytes = generated_component("tests/wit-0.1.4", "check");
    // The component is sound: the 0.1.4 host links it.
    let engine = engine();
    let component = imports_host(&engine, &bytes, "0.1.4");
    linker(&engine)
        .instantiate_pre(&component)
        .expect("the 0.1.4 host links a 0.1.4 plugin");
    // This host (0.1.3) lacks config-keys and says so by version.
    assert_eq!(CONTRACT_VERSION.to_string(), "0.1.3");
    let err = match rt().load(&bytes, "needs-0.1.4.wasm") {
        Ok(_) => panic!("a 0.1.4 plugin loaded on a 0.1.3 host"),
        Err(e) => e,
    };
    let LoadError::ContractVersion { plugin, host, .. } = &err else {
        panic!("expected a contract-version error, got {err:?}");
    };
    assert_eq!((plugin.as_str(), host.as_str()), ("0.1.4", "0.1.3"));
    let text = err.to_string();
    assert!(
        text.contains("cutover:plugin@0.1.4") && text.contains("cutover:plugin@0.1.3"),
        "{text}"
    );
}

/// Loads a generated component: it links and its exports type-check
/// (otherwise `Link`, `WrongWorld` or `ContractVersion`), and its
/// `describe()` traps, as every function of a generated component does.
fn links_and_typechecks(bytes: &[u8], origin: &str) {
    match rt().load(bytes, origin) {
        Err(LoadError::Describe {
            cause: CallError::Trap { .. },
            ..
        }) => {}
        Err(other) => {
            panic!("{origin}: expected describe() to trap after linking, got {other:?}")
        }
        Ok(_) => panic!("{origin}: a generated component's describe() returned"),
    }
}

#[test]
fn every_0_1_0_world_links_on_this_host() {
    // `plugin-kind`, `descriptor` and every other 0.1.0 type are
    // unchanged in 0.1.1, so all three 0.1.0 worlds still type-check.
    for world in ["action", "check", "adapter"] {
        let bytes = generated_component("tests/wit-0.1.0", world);
        imports_host(&engine(), &bytes, "0.1.0");
        links_and_typechecks(&bytes, &format!("generated-0.1.0-{world}"));
    }
    // The current worlds, translator (0.1.1), history-adapter (0.1.2) and
    // streaming-adapter (0.1.3) included, from the contract itself.
    for world in [
        "action",
        "check",
        "adapter",
        "translator",
        "history-adapter",
        "streaming-adapter",
    ] {
        let bytes = generated_component("../../wit", world);
        links_and_typechecks(&bytes, &format!("generated-0.1.3-{world}"));
    }
}

#[test]
fn a_0_1_1_translator_runs_beside_0_1_0_plugins() {
    let check = rt()
        .load(WAT_0_1_0.as_bytes(), "check-0.1.0.wat")
        .expect("0.1.0 check loads");
    let translator = rt()
        .load(translator_0_1_1().as_bytes(), "translator-0.1.1.wat")
        .expect("0.1.1 translator loads");
    assert_eq!(check.info().contract_version.as_deref(), Some("0.1.0"));
    assert_eq!(translator.info().contract_version.as_deref(), Some("0.1.1"));
    assert_eq!(translator.world(), World::Translator);
    assert_eq!(
        translator.descriptor().kinds,
        vec!["alert_rules".to_string()]
    );
    for _ in 0..2 {
        let t = rt()
            .translate(
                &translator,
                &Sandbox::default(),
                &TranslateRequest::new("alert_rules", "{}", &[]),
            )
            .expect("translate");
        assert_eq!(t.report.summary.total(), 0);
        let v = rt()
            .evaluate(&check, &Sandbox::default(), &ctx("{}"))
            .expect("evaluate");
        assert_eq!(v.verdict, wit::VerdictKind::NoData);
    }
}

/// The hand-written 0.1.1 translator of the runtime's hostile fixtures,
/// well behaved.
fn translator_0_1_1() -> String {
    cutover_test_kit::wat::translator("wat-translator-0.1.1", "", "", 1)
}

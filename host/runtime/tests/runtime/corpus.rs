//! The hostile corpus, run against a runtime of each instance allocator:
//! every hand-written hostile fixture of `tests/fixtures/hostile` and every
//! built `hostile-*` plugin, each ending in its typed error (or contained
//! without one), after which the same runtime still serves a normal call.
//! The corpus checks that it covers every fixture and hostile plugin there
//! is, so a new one cannot be left out of both runs.

use std::collections::BTreeSet;
use std::net::TcpListener;

use cutover_runtime::{
    Allocator, Denied, Document, LoadError, PluginError, RuntimeOptions, TranslateError,
    TranslateRequest,
};
use cutover_test_kit::plugins_dir;

use super::*;

/// The runtime under test and what the corpus has covered so far.
struct Corpus<'a> {
    rt: &'a Runtime,
    fixtures: BTreeSet<String>,
    plugins: BTreeSet<String>,
}

impl Corpus<'_> {
    fn plugin(&mut self, name: &str) -> Plugin {
        self.plugins.insert(name.to_string());
        self.rt
            .load_file(&plugin_path(name), None)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn check(&mut self, body_file: &str) -> Plugin {
        self.fixtures.insert(body_file.to_string());
        let stem = body_file.trim_end_matches(".body.wat");
        self.fixtures.insert(format!("{stem}.funcs.wat"));
        self.rt
            .load(wat::check_fixture(stem, body_file).as_bytes(), body_file)
            .unwrap_or_else(|e| panic!("{body_file}: {e}"))
    }

    fn load_fixture(&mut self, file: &str) -> Result<Plugin, LoadError> {
        self.fixtures.insert(file.to_string());
        self.rt.load(wat::hostile(file).as_bytes(), file)
    }

    /// After every hostile case: the same runtime still serves a normal call.
    fn healthy(&mut self, after: &str) {
        let p = self.plugin("noop-action");
        let out = self
            .rt
            .run_action(&p, &Sandbox::default(), &ctx(r#"{"still":"ok"}"#))
            .unwrap_or_else(|e| panic!("noop after {after}: {e}"));
        assert_eq!(out.summary, "noop", "after {after}");
    }

    fn evaluate(&mut self, p: &Plugin, sb: &Sandbox) -> Result<wit::Verdict, CallError> {
        self.rt.evaluate(p, sb, &ctx("{}"))
    }

    fn translate(&mut self, mode: &str, sb: &Sandbox) -> TranslateError {
        let p = self.plugin("hostile-translator");
        let docs = [Document::new("a.yml", "1")];
        let params = format!(r#"{{"mode": "{mode}"}}"#);
        let req = TranslateRequest::new("anything", &params, &docs);
        match self.rt.translate(&p, sb, &req) {
            Err(e) => e,
            Ok(_) => panic!("hostile-translator {mode}: translated"),
        }
    }
}

fn call_limit(e: &TranslateError) -> Option<Limit> {
    match e {
        TranslateError::Call(c) => limit_of(c),
        _ => None,
    }
}

/// Runs the whole corpus against `rt`.
fn run_corpus(rt: &Runtime) {
    let mut c = Corpus {
        rt,
        fixtures: BTreeSet::new(),
        plugins: BTreeSet::new(),
    };
    // Hand-written checks: each body ends in its own typed error.
    let p = c.check("pass.body.wat");
    let v = c.evaluate(&p, &quick(5_000)).expect("pass");
    assert_eq!(v.verdict, wit::VerdictKind::Pass);
    let p = c.check("infinite-loop.body.wat");
    let err = c.evaluate(&p, &quick(300)).unwrap_err();
    assert!(
        matches!(
            err,
            CallError::Deadline {
                deadline_ms: 300,
                ..
            }
        ),
        "{err:?}"
    );
    c.healthy("infinite-loop");
    for (file, limit) in [
        ("memory-bomb.body.wat", Limit::Memory),
        ("deep-recursion.body.wat", Limit::Stack),
        ("table-growth.body.wat", Limit::TableElements),
    ] {
        let p = c.check(file);
        let err = c.evaluate(&p, &quick(5_000)).unwrap_err();
        assert_eq!(limit_of(&err), Some(limit), "{file}: {err:?}");
        c.healthy(file);
    }
    let p = c.check("trap.body.wat");
    let err = c.evaluate(&p, &quick(5_000)).unwrap_err();
    assert!(matches!(err, CallError::Trap { .. }), "{err:?}");
    c.healthy("trap");
    // Components that are not what they claim, or too large to load.
    for file in ["wrong-world.wat", "mistyped-world.wat"] {
        let err = c.load_fixture(file).err();
        assert!(
            matches!(err, Some(LoadError::WrongWorld { .. })),
            "{file}: {err:?}"
        );
    }
    for file in ["contract-0.2.imports.wat", "contract-0.1.9.imports.wat"] {
        c.fixtures.insert(file.to_string());
        let text = wat::check(
            "wat-contract",
            &wat::hostile("pass.body.wat"),
            "",
            &wat::hostile(file),
        );
        let err = rt.load(text.as_bytes(), file).err();
        assert!(
            matches!(err, Some(LoadError::ContractVersion { .. })),
            "{file}: {err:?}"
        );
    }
    c.fixtures.insert("check-template.wat".into());
    let template = wat::check("wat-big", &wat::hostile("pass.body.wat"), "", "");
    for (from, to, limit) in [
        (
            "(memory (export \"memory\") 1)",
            "(memory (export \"memory\") 16385)",
            Limit::Memory,
        ),
        (
            "(table $t 1 funcref)",
            "(table $t 200001 funcref)",
            Limit::TableElements,
        ),
    ] {
        let big = template.replace(from, to);
        assert_ne!(big, template);
        let unlimited = cutover_runtime::Limits {
            memory_bytes: usize::MAX,
            table_elements: usize::MAX,
            ..cutover_runtime::Limits::default()
        };
        match rt.load_with(big.as_bytes(), "wat-big", &unlimited) {
            Err(LoadError::OverLimit { limit: l, .. }) => assert_eq!(l, limit),
            other => panic!("{to}: expected OverLimit, got {:?}", other.err()),
        }
    }
    // Hand-written translators: describe() spinning, growing, trapping.
    c.fixtures.insert("translator-template.wat".into());
    let spin = wat::translator(
        "wat-describe-spin",
        &wat::hostile("infinite-loop.body.wat"),
        "",
        1,
    );
    let short = cutover_runtime::Limits {
        deadline: Duration::from_millis(300),
        ..cutover_runtime::Limits::default()
    };
    match rt.load_with(spin.as_bytes(), "wat-describe-spin", &short) {
        Err(LoadError::Describe {
            cause: CallError::Deadline {
                deadline_ms: 300, ..
            },
            ..
        }) => {}
        other => panic!("describe() spinning: {:?}", other.err()),
    }
    let grow = wat::translator(
        "wat-describe-grow",
        "(drop (memory.grow (i32.const 2000)))",
        "",
        1,
    );
    match rt.load(grow.as_bytes(), "wat-describe-grow") {
        Err(LoadError::Describe { cause, .. }) => {
            assert_eq!(limit_of(&cause), Some(Limit::Memory), "{cause:?}")
        }
        other => panic!("describe() growing: {:?}", other.err()),
    }
    c.healthy("hand-written translators");
    // The hostile plugins.
    let p = c.plugin("hostile-output");
    let mut sb = quick(10_000);
    sb.limits.max_output_bytes = 1 << 20;
    let err = rt
        .run_action(&p, &sb, &ctx(r#"{"bytes": 16777216}"#))
        .unwrap_err();
    assert_eq!(limit_of(&err), Some(Limit::Output), "{err:?}");
    c.healthy("hostile-output");
    let p = c.plugin("hostile-flood");
    let err = c.evaluate(&p, &quick(10_000)).unwrap_err();
    assert_eq!(limit_of(&err), Some(Limit::ResourceTable), "{err:?}");
    c.healthy("hostile-flood");
    let p = c.plugin("hostile-stdout");
    let out = rt
        .run_action(&p, &quick(20_000), &ctx("{}"))
        .expect("a stdout flood is captured, not fatal");
    assert!(!out.summary.is_empty());
    let p = c.plugin("hostile-fs");
    let err = c.evaluate(&p, &quick(5_000)).unwrap_err();
    assert!(
        matches!(&err, CallError::Plugin { error: PluginError::Denied(m), .. } if !m.contains("root:")),
        "{err:?}"
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let p = c.plugin("hostile-net");
    let params = format!(r#"{{"url": "http://127.0.0.1:{port}/secret"}}"#);
    let err = rt.evaluate(&p, &quick(5_000), &ctx(&params)).unwrap_err();
    assert!(
        matches!(
            &err,
            CallError::Denied {
                denied: Denied::Http(_),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(listener.accept().is_err(), "a connection got through");
    let p = c.plugin("hostile-env");
    let err = c.evaluate(&p, &quick(5_000)).unwrap_err();
    assert!(
        matches!(&err, CallError::Denied { denied: Denied::Secret(s), .. } if s == "db_password"),
        "{err:?}"
    );
    c.healthy("hostile-fs, -net and -env");
    let err = c.translate("loop", &quick(300));
    assert!(
        matches!(
            err,
            TranslateError::Call(CallError::Deadline {
                deadline_ms: 300,
                ..
            })
        ),
        "{err:?}"
    );
    for (mode, limit) in [("memory", Limit::Memory), ("big-report", Limit::Output)] {
        let err = c.translate(mode, &Sandbox::default());
        assert_eq!(call_limit(&err), Some(limit), "{mode}: {err:?}");
    }
    let err = c.translate("trap", &Sandbox::default());
    assert!(
        matches!(err, TranslateError::Call(CallError::Trap { .. })),
        "{err:?}"
    );
    let err = c.translate("http", &Sandbox::default());
    assert!(
        matches!(err, TranslateError::Call(CallError::Denied { .. })),
        "{err:?}"
    );
    c.healthy("hostile-translator");
    // Every fixture file and every hostile plugin was part of the run.
    let on_disk: BTreeSet<String> = std::fs::read_dir(wat::hostile_dir())
        .expect("hostile fixtures")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    let missed: Vec<_> = on_disk.difference(&c.fixtures).collect();
    assert!(missed.is_empty(), "fixtures not in the corpus: {missed:?}");
    let hostile: BTreeSet<String> = std::fs::read_dir(plugins_dir())
        .expect("built plugins")
        .filter_map(|e| {
            let name = e.expect("entry").file_name().to_string_lossy().into_owned();
            name.strip_suffix(".wasm")
                .filter(|n| n.starts_with("hostile-"))
                .map(str::to_string)
        })
        .collect();
    let missed: Vec<_> = hostile.difference(&c.plugins).collect();
    assert!(
        missed.is_empty(),
        "hostile plugins not in the corpus: {missed:?}"
    );
}

fn runtime(allocator: Allocator) -> Runtime {
    let dir = cache_dir().join(format!("{allocator:?}"));
    Runtime::with_options(&RuntimeOptions {
        cache_dir: Some(dir),
        allocator,
    })
    .expect("runtime")
}

#[test]
fn hostile_corpus_is_contained_with_the_pooling_allocator() {
    let rt = runtime(Allocator::Pooling);
    assert_eq!(
        rt.allocator(),
        Allocator::Pooling,
        "this machine cannot reserve the pool, so the pooled run would test on-demand allocation twice"
    );
    run_corpus(&rt);
}

#[test]
fn hostile_corpus_is_contained_with_on_demand_allocation() {
    // What `CUTOVER_NO_POOLING=1` selects, set without the environment.
    let rt = runtime(Allocator::OnDemand);
    assert_eq!(rt.allocator(), Allocator::OnDemand);
    run_corpus(&rt);
}

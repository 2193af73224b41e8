//! Integration tests of the sandboxed runtime with real components: the
//! first-party plugins built by `scripts/build-plugins.sh` and the
//! hand-written hostile fixtures in `tests/fixtures/hostile`. One binary:
//! loading, pins and the cache (`runtime/loading.rs`), cache entry
//! integrity (`runtime/cache.rs`), limits
//! (`runtime/limits.rs`), the deadline bound (`runtime/bounds.rs`), the
//! hostile corpus under each allocator (`runtime/corpus.rs`), error chains
//! (`runtime/chains.rs`), grants (`runtime/grants.rs`), HTTPS with granted
//! certificate authorities (`runtime/tls.rs`), translators (contract
//! 0.1.1, `runtime/translators.rs`), `query-range` (contract 0.1.2,
//! `runtime/history.rs`), `list<alert>` transfer from the `bulk-alerts`
//! bench plugin (`runtime/transfer.rs`) and streamed alerts (contract
//! 0.1.3 `collect-alerts-into`, `runtime/streaming.rs`).

#[path = "runtime/bounds.rs"]
mod bounds;
#[path = "runtime/cache.rs"]
mod cache;
#[path = "runtime/chains.rs"]
mod chains;
#[path = "runtime/corpus.rs"]
mod corpus;
#[path = "runtime/grants.rs"]
mod grants;
#[path = "runtime/history.rs"]
mod history;
#[path = "runtime/limits.rs"]
mod limits;
#[path = "runtime/loading.rs"]
mod loading;
#[path = "runtime/streaming.rs"]
mod streaming;
#[path = "runtime/tls.rs"]
mod tls;
#[path = "runtime/transfer.rs"]
mod transfer;
#[path = "runtime/translators.rs"]
mod translators;

use std::sync::OnceLock;
use std::time::Duration;

use cutover_runtime::{CallError, Limit, Plugin, Runtime, Sandbox, wit};
use cutover_test_kit::{plugin_path, wat};

/// This test process's compiled-component cache.
fn cache_dir() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("cutover-rt-test-{}", std::process::id()))
}

fn rt() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| Runtime::new(Some(&cache_dir())).expect("runtime"))
}

/// The built first-party plugin `name`.
fn load(name: &str) -> Plugin {
    rt().load_file(&plugin_path(name), None).expect("load")
}

/// A hand-written check named `name` running the hostile fixture `body_file`.
fn load_wat(name: &str, body_file: &str) -> Plugin {
    rt().load(wat::check_fixture(name, body_file).as_bytes(), body_file)
        .expect("fixture loads")
}

fn ctx(params: &str) -> wit::Context {
    wit::Context {
        plan: "test".into(),
        phase: "p".into(),
        step: "s".into(),
        run_id: "r1".into(),
        params: params.into(),
    }
}

fn quick(deadline_ms: u64) -> Sandbox {
    let mut sb = Sandbox::default();
    sb.limits.deadline = Duration::from_millis(deadline_ms);
    sb
}

/// The limit a call ran into, when that is how it failed.
fn limit_of(err: &CallError) -> Option<Limit> {
    match err {
        CallError::Limit { limit, .. } => Some(*limit),
        _ => None,
    }
}

/// After any hostile call the same process must still serve a normal call.
fn assert_healthy() {
    let p = load("noop-action");
    let out = rt()
        .run_action(&p, &Sandbox::default(), &ctx(r#"{"still":"ok"}"#))
        .expect("noop after hostile");
    assert_eq!(out.summary, "noop");
    assert_eq!(out.details, vec![("still".to_string(), "ok".to_string())]);
}

/// The end of the bulk-alerts windows: its alerts started up to a day
/// before it.
const END_MS: i64 = 1_800_000_000_000;

/// A day up to [`END_MS`].
fn window() -> wit::Window {
    wit::Window {
        start: END_MS - 86_400_000,
        end: END_MS,
    }
}

/// The default sandbox with config `pairs` granted.
fn with_config(pairs: &[(&str, &str)]) -> Sandbox {
    let mut grants = cutover_runtime::Grants::default();
    for (k, v) in pairs {
        grants.config.insert((*k).to_owned(), (*v).to_owned());
    }
    Sandbox::with_grants(grants)
}

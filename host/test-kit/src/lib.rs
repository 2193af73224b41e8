//! cutover-test-kit: the scaffolding the host crates' integration tests and
//! benches share, so that each piece exists once.
//!
//! - [`paths`]: the repository root, the compiled first-party guest
//!   plugins (`target/plugins/*.wasm`, built by `scripts/build-plugins.sh`)
//!   and the translators' canned input.
//! - [`golden`]: golden files; `UPDATE_GOLDENS=1` rewrites them.
//! - [`http`]: a canned HTTP server on 127.0.0.1 that records what it is
//!   sent, and a one-shot GET client.
//! - [`wat`]: the hand-written hostile components of `tests/fixtures/hostile`.
//! - [`plan`]: plan TOML with pinned plugins, and shipped plans pinned to
//!   stand-in or built plugin files.
//! - [`tools`]: system tools tests run (`promtool`), checked to be there.
//! - [`rng`]: a seeded PRNG for torture tests.
//! - [`state`]: a run's state directory, tampered with.
//! - [`tls`]: a private CA and an HTTPS webhook sink on 127.0.0.1.
//! - [`prom_range`]: a canned Prometheus answering `query_range`.
//! - [`pg`]: a real PostgreSQL on 127.0.0.1 (`tests/fixture/pg`), a database per test.
//! - [`measure`]: a bench's peak resident set and the median time of a call.
//!
//! A dev-dependency only, and it depends on no cutover crate, so that any
//! host crate (plan and runtime included) can use it without a cycle.
//! Helpers panic with a message saying what to do: they serve tests.

pub mod golden;
pub mod http;
pub mod measure;
pub mod paths;
pub mod pg;
pub mod plan;
pub mod prom_range;
pub mod rng;
pub mod slow_am;
pub mod state;
pub mod tls;
pub mod tools;
pub mod wat;

pub use paths::{
    plugin_path, plugin_pin, plugins_dir, repo_path, repo_root, sha256_hex, translator_sample,
};

//! Integration tests of the comparison engine, on hand-written API dumps:
//! running a comparison of two files ([`scenario`]), the backtest of two
//! rule sets on recorded series ([`backtest`]), matching and risk on
//! alerts built in the test ([`matching`]), reading each dump format
//! ([`parsing`]) and the fuzzer's inputs ([`fuzzed`]), the report
//! renderings ([`reports`]) and the streaming
//! paths against the in-memory reference ([`streaming`]).

use cutover_compare::{Alert, AlertState, CompareRequest, OutputFormat, Verdict, run};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[path = "compare/backtest.rs"]
mod backtest;
#[path = "compare/fuzzed.rs"]
mod fuzzed;
#[path = "compare/matching.rs"]
mod matching;
#[path = "compare/parsing.rs"]
mod parsing;
mod reports;
#[path = "compare/scenario.rs"]
mod scenario;
mod streaming;

/// A file of `tests/fixtures`.
pub(crate) fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// 2026-11-20T09:00:00Z in unix milliseconds.
pub(crate) const T0: i64 = 1_795_165_200_000;

/// An active alert `name` with `labels`, starting at `starts_at`.
pub(crate) fn alert(name: &str, labels: &[(&str, &str)], starts_at: i64) -> Alert {
    let mut l: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    l.insert("alertname".into(), name.into());
    Alert {
        labels: l,
        annotations: BTreeMap::new(),
        starts_at,
        ends_at: None,
        state: AlertState::Active,
        source: "test".into(),
        fingerprint: format!("{name}-{starts_at}"),
    }
}

/// The reference scenario's request (old vs new Alertmanager dumps, default
/// options, text), changed by `edit`.
pub(crate) fn reference(edit: impl FnOnce(&mut CompareRequest)) -> CompareRequest {
    let mut req = CompareRequest::new(
        fixture("reference/old_alertmanager.json"),
        fixture("reference/new_alertmanager.json"),
    );
    edit(&mut req);
    req
}

/// Run a comparison, returning the verdict and what it printed.
pub(crate) fn run_request(req: &CompareRequest) -> (Verdict, String) {
    let mut out = Vec::new();
    let verdict = run(req, &mut out).unwrap();
    (verdict, String::from_utf8(out).unwrap())
}

/// [`run_request`] with the report as JSON, parsed.
pub(crate) fn run_json(mut req: CompareRequest) -> (Verdict, serde_json::Value) {
    req.format = OutputFormat::Json;
    let (v, out) = run_request(&req);
    (v, serde_json::from_str(&out).unwrap())
}

/// Label names as options want them.
pub(crate) fn labels(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

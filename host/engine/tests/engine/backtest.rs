//! Backtests through a real adapter: the first-party prometheus plugin's
//! `query-range` (contract 0.1.2) against a canned Prometheus, as
//! [`AdapterRangeSource`]; rejected expressions stay with their rule,
//! a window without data is `no-data`, and an adapter without
//! `query-range` is refused up front.

use std::sync::Arc;

use cutover_base::exit::{ExitClass, HasExitClass};
use cutover_compare::backtest::{RangeSource, SourceError, Window};
use cutover_compare::{CompareOptions, Verdict};
use cutover_engine::backtest::{AdapterRangeSource, BacktestRequest, HistoryError, run};
use cutover_runtime::{Grants, Origin, Sandbox};
use cutover_test_kit::http::{CannedServer, Response};
use cutover_test_kit::prom_range::{canned_prometheus, form};
use translate_core::Selection;
use translate_core::rules::RuleFile;

use std::path::Path;

use super::*;

/// An evaluation instant aligned on the minute.
const T0: i64 = 1_699_999_980_000;
const MIN: i64 = 60_000;

/// The canned Prometheus of these tests (see [`canned_prometheus`]).
fn prometheus() -> CannedServer {
    canned_prometheus(T0)
}

fn source(server: &CannedServer) -> AdapterRangeSource<'static> {
    let plugin = runtime()
        .load_file(&root().join("target/plugins/prometheus.wasm"), None)
        .expect("prometheus adapter");
    let sandbox = Sandbox::with_grants(Grants {
        hosts: vec![Origin::parse_grant(&server.origin()).unwrap()],
        config: [("url".to_string(), server.origin())].into(),
        ..Grants::default()
    });
    AdapterRangeSource::new(runtime(), Arc::new(plugin), sandbox).expect("a history adapter")
}

fn rules(text: &str) -> Vec<RuleFile> {
    vec![RuleFile::parse("rules.yml", text).expect("rules")]
}

const OLD: &str = "groups:
- name: g
  interval: 1m
  rules:
  - alert: ApiDown
    expr: up == 0
    for: 2m
    labels: {severity: page}
  - alert: Broken
    expr: rate(bad[5m]
";

const NEW: &str = "groups:
- name: g
  interval: 1m
  rules:
  - alert: ApiDown
    expr: up == 0
    for: 2m
    labels: {severity: page}
";

#[test]
fn a_backtest_through_the_prometheus_adapter_reports_the_rejected_rule_and_goes_on() {
    let server = prometheus();
    let mut src = source(&server);
    let (old, new) = (rules(OLD), rules(NEW));
    let req = BacktestRequest {
        old: &old,
        new: &new,
        window: Window {
            from_ms: T0,
            to_ms: T0 + 60 * MIN,
        },
        step_ms: None,
        options: &CompareOptions::default(),
        scope: &Selection::all(),
    };
    let r = run(&req, &mut src).expect("backtest");
    assert!(src.queries() >= 3, "one query per rule and side");
    let rep = &r.report;
    assert_eq!((rep.total_old, rep.total_new, rep.matched), (1, 1, 1));
    assert_eq!(rep.match_rate, Some(1.0));
    assert_eq!(rep.verdict, Verdict::Pass);
    let p = rep.prediction.as_ref().expect("marked as predicted");
    assert!(!p.no_data);
    let broken = p.old_rules.iter().find(|o| o.rule == "Broken").unwrap();
    let err = broken
        .error
        .as_deref()
        .expect("the rejected rule is reported");
    assert!(
        err.contains("bad_data") && err.contains("unclosed left parenthesis"),
        "{err}"
    );
    let down = p.old_rules.iter().find(|o| o.rule == "ApiDown").unwrap();
    assert_eq!((down.error.as_deref(), down.episodes), (None, 1));
    // Fired `for` (2m) after T0+10m, resolved at the first step without it.
    let a = &r.old.alerts[0];
    assert_eq!(a.starts_at, T0 + 12 * MIN);
    assert_eq!(a.ends_at, Some(T0 + 31 * MIN));
    assert_eq!(a.labels["severity"], "page");
    // A scope that covers nothing compares nothing.
    let other = Selection::any([translate_core::Scope::parse("{team=\"db\"}").unwrap()]);
    let r = run(
        &BacktestRequest {
            scope: &other,
            ..req
        },
        &mut src,
    )
    .expect("backtest");
    assert_eq!((r.report.total_old, r.report.total_new), (0, 0));
    assert_eq!(r.report.verdict, Verdict::NoData);
}

#[test]
fn a_window_without_data_is_no_data() {
    let server = prometheus();
    let mut src = source(&server);
    let (old, new) = (rules(NEW), rules(NEW));
    let r = run(
        &BacktestRequest {
            old: &old,
            new: &new,
            window: Window {
                from_ms: T0 + 120 * MIN,
                to_ms: T0 + 180 * MIN,
            },
            step_ms: Some(MIN),
            options: &CompareOptions::default(),
            scope: &Selection::all(),
        },
        &mut src,
    )
    .expect("backtest");
    assert!(r.report.prediction.as_ref().unwrap().no_data);
    assert_eq!(r.report.verdict, Verdict::NoData);
    assert_ne!(r.report.verdict, Verdict::Pass);
}

#[test]
fn an_unreachable_prometheus_is_unavailable_and_a_bad_expression_rejected() {
    let server = prometheus();
    let mut src = source(&server);
    match src.query_range("rate(bad[5m]", T0, T0 + MIN, MIN) {
        Err(SourceError::Rejected { message }) => assert!(message.starts_with("bad_data: ")),
        other => panic!("{other:?}"),
    }
    assert!(src.unavailable().is_none());
    drop(server);
    match src.query_range("up", T0, T0 + MIN, MIN) {
        Err(SourceError::Unavailable { message }) => {
            assert!(message.contains("prometheus"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    let e = src.unavailable().expect("recorded");
    assert_eq!(e.exit_class(), ExitClass::PluginCall);
    assert!(
        e.to_string()
            .starts_with("cannot read history through adapter prometheus: "),
        "{e}"
    );
}

#[test]
fn an_adapter_without_query_range_is_refused_as_a_usage_error() {
    let plugin = runtime()
        .load_file(&root().join("target/plugins/file-adapter.wasm"), None)
        .expect("file adapter");
    let err = match AdapterRangeSource::new(runtime(), Arc::new(plugin), Sandbox::default()) {
        Err(e) => e,
        Ok(_) => panic!("file-adapter has no query-range"),
    };
    assert!(matches!(&err, HistoryError::NoQueryRange { plugin } if plugin == "file-adapter"));
    assert_eq!(err.exit_class(), ExitClass::Usage);
    assert!(
        err.to_string().contains("contract 0.1.2 query-range"),
        "{err}"
    );
    let noop = runtime()
        .load_file(&root().join("target/plugins/noop-action.wasm"), None)
        .expect("noop");
    assert!(matches!(
        AdapterRangeSource::new(runtime(), Arc::new(noop), Sandbox::default()),
        Err(HistoryError::NotAnAdapter { .. })
    ));
}

/// A canned Prometheus whose `up == 0` returns `{job="api"}` at every
/// step asked (`firing`) or nothing at all.
fn prometheus_now(firing: bool) -> CannedServer {
    CannedServer::start(move |_, r| {
        match r.path.as_str() {
            "/api/v1/query_range" => {}
            "/api/v1/alerts" => {
                return Response::json(200, r#"{"status":"success","data":{"alerts":[]}}"#);
            }
            _ => return Response::ok("Prometheus Server is Ready."),
        }
        let f = form(r);
        let secs = |k: &str| (f[k].parse::<f64>().unwrap() * 1000.0) as i64;
        let (start, end, step) = (secs("start"), secs("end"), secs("step"));
        let mut result = String::new();
        if firing && f["query"] == "up%20%3D%3D%200" {
            let values: Vec<String> = (0..)
                .map(|i| start + i * step)
                .take_while(|t| *t <= end)
                .map(|t| format!("[{},\"0\"]", t as f64 / 1000.0))
                .collect();
            result = format!(
                r#"{{"metric":{{"job":"api"}},"values":[{}]}}"#,
                values.join(",")
            );
        }
        Response::json(
            200,
            format!(
                r#"{{"status":"success","data":{{"resultType":"matrix","result":[{result}]}}}}"#
            ),
        )
    })
}

/// A plan whose old system is the prometheus adapter over `server` (rule
/// files in `rules/`), the new one a file adapter, with a backtest step
/// `bt` in phase `one` translating the old rules with prometheus-rules.
fn backtest_plan(dir: &Path, server: &CannedServer) -> LoadedPlan {
    std::fs::create_dir_all(dir.join("rules")).unwrap();
    std::fs::create_dir_all(dir.join("am")).unwrap();
    std::fs::write(dir.join("rules/api.yml"), NEW).unwrap();
    cutover_test_kit::plan::system_dirs(dir, |side| format!("system: {side}\n"));
    let origin = server.origin();
    let text = cutover_test_kit::plan::PlanBuilder::new("bt")
        .plugin(
            "prom",
            "prometheus",
            &format!(
                "grants = {{ hosts = [\"{origin}\"], config = {{ url = \"{origin}\" }}, dirs = [{{ name = \"rules\", path = \"rules\", write = true }}, {{ name = \"alertmanager\", path = \"am\", write = true }}], secrets = [\"prometheus_user\", \"prometheus_password\"] }}"
            ),
        )
        .plugin("file-new", "file-adapter", &cutover_test_kit::plan::dir_grant("data", "new", true))
        .plugin("tr", "prometheus-rules", "")
        .systems("prom", "file-new")
        .build(&cutover_test_kit::plan::phase(
            "one",
            "One",
            "rollback_point = false",
            &[cutover_test_kit::plan::step(
                "bt",
                "backtest",
                "history = \"1h\"\nstep = \"1m\"\ntranslate = \"tr\"\nmin_match_rate = 0.9",
            )],
        ));
    let path = dir.join("plan.toml");
    std::fs::write(&path, text).unwrap();
    match cutover_plan::load(&path, &bridge()) {
        Ok(l) => l,
        Err(d) => panic!("invalid test plan:\n{}", d.render_plain()),
    }
}

#[test]
fn a_backtest_step_gates_on_the_predicted_comparison_with_typed_details() {
    let tmp = tempfile::tempdir().unwrap();
    let server = prometheus_now(true);
    let plan = backtest_plan(tmp.path(), &server);
    let outcome = Runner::open(runtime(), &plan, Mode::Run, RunOptions::default())
        .expect("open")
        .execute()
        .expect("run");
    assert!(matches!(outcome, RunOutcome::Completed), "{outcome:?}");
    let view = operator::status(&tmp.path().join(".state")).expect("status");
    let s = &view.steps["bt"];
    assert_eq!(s.status, StepStatus::Succeeded, "{}", s.summary);
    let b = s.details.backtest().expect("typed backtest details");
    assert_eq!((b.total_old, b.total_new, b.matched), (1, 1, 1));
    assert_eq!(b.match_rate, Some(1.0));
    assert_eq!((b.old_rules, b.new_rules), (1, 1));
    assert_eq!(b.translator.as_deref(), Some("tr"));
    assert!(!b.no_data && b.rule_errors.is_empty() && b.queries >= 2);
    assert_eq!(b.backtest_to_ms - b.backtest_from_ms, 3_600_000);
    assert_eq!(b.step_seconds, Some(60.0));
    assert!(s.summary.starts_with("pass: "), "{}", s.summary);
}

#[test]
fn a_backtest_step_without_data_is_inconclusive_and_stops_for_a_person() {
    let tmp = tempfile::tempdir().unwrap();
    let server = prometheus_now(false);
    let plan = backtest_plan(tmp.path(), &server);
    let outcome = Runner::open(runtime(), &plan, Mode::Run, RunOptions::default())
        .expect("open")
        .execute()
        .expect("run");
    let RunOutcome::Inconclusive { target, reason } = &outcome else {
        panic!("expected inconclusive, got {outcome:?}");
    };
    assert_eq!(target, "one/bt");
    assert!(
        reason.contains("no rule of either set got any data"),
        "{reason}"
    );
    let view = operator::status(&tmp.path().join(".state")).expect("status");
    assert_ne!(view.steps["bt"].status, StepStatus::Succeeded);
}

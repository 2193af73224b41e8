//! `query-range` (contract 0.1.2, the `history-adapter` world): the
//! first-party prometheus adapter answers it under the sandbox's grants
//! and limits; an adapter built against 0.1.1 keeps loading and working,
//! and asking it for `query-range` is a typed usage error.

use cutover_base::exit::{ExitClass, HasExitClass};
use cutover_runtime::{Denied, Grants, Origin, PluginError, QUERY_RANGE_EXPORT, RangeQuery, World};
use cutover_test_kit::http::{CannedServer, Response};
use cutover_test_kit::repo_path;

use super::*;

/// The prometheus adapter's sandbox: config `url` = the server, its
/// origin granted.
fn prometheus_sandbox(server: &CannedServer) -> Sandbox {
    let grants = Grants {
        hosts: vec![Origin::parse_grant(&server.origin()).unwrap()],
        config: [("url".to_string(), server.origin())].into(),
        ..Grants::default()
    };
    Sandbox::with_grants(grants)
}

const MATRIX: &str = r#"{"status":"success","data":{"resultType":"matrix","result":[
  {"metric":{"job":"api","instance":"a:9100"},"values":[[1700000000,"1"],[1700000060,"NaN"],[1700000120,"+Inf"]]},
  {"metric":{"job":"api","instance":"b:9100"},"values":[[1700000060,"0.5"]]}]}}"#;

#[test]
fn prometheus_answers_query_range_as_typed_series() {
    let server = CannedServer::start(|_, _| Response::json(200, MATRIX));
    let p = load("prometheus");
    assert_eq!(p.world(), World::Adapter);
    assert!(p.has_query_range());
    assert_eq!(p.info().contract_version.as_deref(), Some("0.1.3"));
    let q = RangeQuery {
        query: "up{job=\"api\"} == 1",
        start_ms: 1_700_000_000_000,
        end_ms: 1_700_000_120_000,
        step_ms: 60_000,
    };
    let series = rt()
        .query_range(&p, &prometheus_sandbox(&server), &q)
        .expect("query-range");
    assert_eq!(series.len(), 2);
    assert_eq!(
        series[0].labels,
        vec![
            ("instance".to_string(), "a:9100".to_string()),
            ("job".to_string(), "api".to_string())
        ]
    );
    let values: Vec<(i64, f64)> = series[0].samples.iter().map(|s| (s.at, s.value)).collect();
    assert_eq!(values[0], (1_700_000_000_000, 1.0));
    assert!(values[1].1.is_nan(), "NaN stays a value");
    assert_eq!(values[2], (1_700_000_120_000, f64::INFINITY));
    // One POST of the form to the granted server's query_range.
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        (reqs[0].method.as_str(), reqs[0].path.as_str()),
        ("POST", "/api/v1/query_range")
    );
    assert_eq!(
        reqs[0].text(),
        "query=up%7Bjob%3D%22api%22%7D%20%3D%3D%201&start=1700000000&end=1700000120&step=60"
    );
}

#[test]
fn a_rejected_expression_is_the_plugins_invalid_input_with_prometheus_answer() {
    let server = CannedServer::start(|_, _| {
        Response::json(
            400,
            r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:6: parse error: unexpected right parenthesis ')'"}"#,
        )
    });
    let p = load("prometheus");
    let q = RangeQuery {
        query: "rate(x))",
        start_ms: 0,
        end_ms: 60_000,
        step_ms: 60_000,
    };
    match rt().query_range(&p, &prometheus_sandbox(&server), &q) {
        Err(CallError::Plugin {
            error: PluginError::InvalidInput(m),
            ..
        }) => assert!(
            m.starts_with("bad_data: ") && m.contains("unexpected right parenthesis"),
            "{m}"
        ),
        other => panic!("expected the plugin's invalid-input, got {other:?}"),
    }
}

#[test]
fn query_range_reaches_only_the_granted_origin() {
    let server = CannedServer::start(|_, _| Response::json(200, MATRIX));
    let p = load("prometheus");
    // config `url` points at the server, but no origin is granted.
    let sb = Sandbox::with_grants(Grants {
        config: [("url".to_string(), server.origin())].into(),
        ..Grants::default()
    });
    let q = RangeQuery {
        query: "up",
        start_ms: 0,
        end_ms: 60_000,
        step_ms: 60_000,
    };
    match rt().query_range(&p, &sb, &q) {
        Err(CallError::Denied {
            denied: Denied::Http(o),
            ..
        }) => assert_eq!(o, server.origin()),
        other => panic!("expected a denied HTTP call, got {other:?}"),
    }
    assert!(server.requests().is_empty(), "the request went out");
}

#[test]
fn query_range_runs_under_the_output_cap() {
    // 2,000 series of 100 samples: about 3.2 MB returned, over a 1 MB cap.
    let mut body = String::from(r#"{"status":"success","data":{"resultType":"matrix","result":["#);
    for i in 0..2000 {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&format!(r#"{{"metric":{{"i":"{i}"}},"values":["#));
        for t in 0..100 {
            if t > 0 {
                body.push(',');
            }
            body.push_str(&format!("[{},\"1\"]", 1_700_000_000 + t * 60));
        }
        body.push_str("]}");
    }
    body.push_str("]}}");
    let server = CannedServer::start(move |_, _| Response::json(200, body.clone()));
    let p = load("prometheus");
    let mut sb = prometheus_sandbox(&server);
    sb.limits.max_output_bytes = 1 << 20;
    sb.limits.memory_bytes = 256 << 20;
    let q = RangeQuery {
        query: "up",
        start_ms: 1_700_000_000_000,
        end_ms: 1_700_005_940_000,
        step_ms: 60_000,
    };
    match rt().query_range(&p, &sb, &q) {
        Err(CallError::Limit {
            limit: Limit::Output,
            ..
        }) => {}
        other => panic!("expected the output cap, got {:?}", other.map(|s| s.len())),
    }
}

#[test]
fn a_0_1_1_adapter_loads_and_query_range_is_a_typed_usage_error() {
    let path = repo_path("tests/fixtures/contract-0.1.1/file-adapter.wasm");
    let p = rt().load_file(&path, None).expect("a 0.1.1 adapter loads");
    assert_eq!(p.world(), World::Adapter);
    assert_eq!(p.info().contract_version.as_deref(), Some("0.1.1"));
    assert!(!p.has_query_range());
    // It still works as an adapter.
    let dir = tempfile::tempdir().unwrap();
    let sb = Sandbox::with_grants(Grants {
        dirs: vec![cutover_runtime::DirGrant {
            name: "data".into(),
            path: dir.path().to_path_buf(),
            write: true,
        }],
        ..Grants::default()
    });
    let health = rt().health(&p, &sb).expect("health of a 0.1.1 adapter");
    assert!(!health.message.is_empty());
    let q = RangeQuery {
        query: "up",
        start_ms: 0,
        end_ms: 60_000,
        step_ms: 60_000,
    };
    let err = rt().query_range(&p, &sb, &q).expect_err("no query-range");
    assert!(
        matches!(&err, CallError::NotExported { plugin, export, .. }
            if plugin == "file-adapter" && export == QUERY_RANGE_EXPORT),
        "{err:?}"
    );
    assert_eq!(err.exit_class(), ExitClass::Usage);
    let text = err.to_string();
    assert!(
        text.contains("file-adapter") && text.contains("contract 0.1.2 query-range"),
        "{text}"
    );
}

#[test]
fn query_range_on_another_world_is_a_world_mismatch() {
    let p = load("noop-action");
    let q = RangeQuery {
        query: "up",
        start_ms: 0,
        end_ms: 60_000,
        step_ms: 60_000,
    };
    assert!(matches!(
        rt().query_range(&p, &Sandbox::default(), &q),
        Err(CallError::WorldMismatch {
            expected: World::Adapter,
            found: World::Action,
            ..
        })
    ));
}

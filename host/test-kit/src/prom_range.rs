//! A canned Prometheus for backtests: `POST /api/v1/query_range` answered
//! in Prometheus's own JSON, as the prometheus adapter's `query-range`
//! sends and reads it.

use std::collections::BTreeMap;

use crate::http::{CannedServer, Request, Response};

/// The form fields of a request body (`query`, `start`, `end`, `step`),
/// still URL-encoded.
pub fn form(r: &Request) -> BTreeMap<String, String> {
    r.text()
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A canned Prometheus around `t0_ms` (aligned on the minute): `up == 0`
/// returns `{job="api", team="web"}` = 0 from `t0_ms` + 10 min to
/// `t0_ms` + 30 min inclusive, an expression starting `rate(bad` is
/// rejected with `bad_data`, anything else returns no series, and any
/// other path or method is 404.
pub fn canned_prometheus(t0_ms: i64) -> CannedServer {
    const MIN: i64 = 60_000;
    CannedServer::start(move |_, r| {
        if r.path != "/api/v1/query_range" || r.method != "POST" {
            return Response::new(404, "not found");
        }
        let f = form(r);
        let query = f.get("query").map(String::as_str).unwrap_or_default();
        if query.starts_with("rate%28bad") {
            return Response::json(
                400,
                r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:13: parse error: unclosed left parenthesis"}"#,
            );
        }
        let ms = |k: &str| {
            f.get(k)
                .and_then(|v| v.parse::<f64>().ok())
                .map_or(0, |s| (s * 1000.0) as i64)
        };
        let (start, end, step) = (ms("start"), ms("end"), ms("step").max(1));
        let mut result = String::new();
        if query == "up%20%3D%3D%200" {
            let values: Vec<String> = (0..)
                .map(|i| start + i * step)
                .take_while(|t| *t <= end)
                .filter(|t| (t0_ms + 10 * MIN..=t0_ms + 30 * MIN).contains(t))
                .map(|t| format!("[{},\"0\"]", t as f64 / 1000.0))
                .collect();
            if !values.is_empty() {
                result = format!(
                    r#"{{"metric":{{"job":"api","team":"web"}},"values":[{}]}}"#,
                    values.join(",")
                );
            }
        }
        Response::json(
            200,
            format!(
                r#"{{"status":"success","data":{{"resultType":"matrix","result":[{result}]}}}}"#
            ),
        )
    })
}

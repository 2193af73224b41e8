//! `http-probe`: GETs a URL and passes iff the status is the expected one.
//!
//! Params: `{ "url": "...", "expect_status": 200, "timeout_ms": 5000 }`
//! (`expect_status` defaults to 200, `timeout_ms` is optional).

use std::time::{Duration, Instant};

use cutover_plugin_sdk::http::{HttpMethod, Request};
use cutover_plugin_sdk::{Context, Measurement, PluginError, Verdict, VerdictKind, log};
use serde::Deserialize;

/// Step parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    url: String,
    #[serde(default = "default_status")]
    expect_status: u16,
    timeout_ms: Option<u64>,
}

fn default_status() -> u16 {
    200
}

cutover_plugin_sdk::check_guest!(Probe {
    name: "http-probe",
    description: "GETs params.url; pass iff the status equals params.expect_status (default 200). \
        Measures latency_ms and status. The plan must grant the URL's host.",
    evaluate: evaluate,
});

fn evaluate(ctx: Context) -> Result<Verdict, PluginError> {
    let p: Params = cutover_plugin_sdk::params(&ctx)?;
    let mut req = Request::new(HttpMethod::GET, &p.url);
    if let Some(ms) = p.timeout_ms {
        req = req.timeout(Duration::from_millis(ms));
    }
    let started = Instant::now();
    let result = req.send();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let latency = Measurement {
        name: "latency_ms".to_owned(),
        value: latency_ms,
    };
    match result {
        Ok(resp) => Ok(judge(&p, resp.status, latency)),
        Err(PluginError::Unavailable(msg)) => {
            log::warn(format!("http-probe: {msg}"));
            Ok(Verdict {
                verdict: VerdictKind::Fail,
                message: format!("unreachable: {msg}"),
                measurements: vec![latency],
            })
        }
        Err(other) => Err(other),
    }
}

/// The verdict for a received status.
fn judge(p: &Params, status: u16, latency: Measurement) -> Verdict {
    let ok = status == p.expect_status;
    Verdict {
        verdict: if ok {
            VerdictKind::Pass
        } else {
            VerdictKind::Fail
        },
        message: format!("GET {} -> {status} (expected {})", p.url, p.expect_status),
        measurements: vec![
            latency,
            Measurement {
                name: "status".to_owned(),
                value: f64::from(status),
            },
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(expect: u16) -> Params {
        Params {
            url: "http://h:1/x".into(),
            expect_status: expect,
            timeout_ms: None,
        }
    }

    fn lat() -> Measurement {
        Measurement {
            name: "latency_ms".into(),
            value: 3.0,
        }
    }

    #[test]
    fn matching_status_passes() {
        let v = judge(&params(204), 204, lat());
        assert_eq!(v.verdict, VerdictKind::Pass);
        assert_eq!(v.measurements[1].value, 204.0);
    }

    #[test]
    fn other_status_fails() {
        let v = judge(&params(200), 503, lat());
        assert_eq!(v.verdict, VerdictKind::Fail);
        assert!(v.message.contains("503"));
    }

    #[test]
    fn expect_status_defaults_to_200() {
        let p: Params =
            cutover_plugin_sdk::serde_json::from_str(r#"{"url":"http://a:1"}"#).unwrap();
        assert_eq!(p.expect_status, 200);
    }
}

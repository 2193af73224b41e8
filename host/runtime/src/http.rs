//! Outgoing HTTP policy: only granted origins, bounded timeouts, the
//! sandbox's TLS roots.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use wasmtime_wasi_http::{RequestOptions, WasiBody, WasiHttpHooks};

use crate::error::Denied;
use crate::grants::Origin;

/// Denied attempts recorded during one call, shared with socket checks.
pub(crate) type Violations = Arc<Mutex<Vec<Denied>>>;

pub(crate) fn record(v: &Violations, d: Denied) {
    v.lock().unwrap_or_else(|p| p.into_inner()).push(d);
}

/// `WasiHttpHooks` that refuses every origin not granted by the plan.
pub(crate) struct HttpPolicy {
    pub(crate) allowed: Vec<Origin>,
    pub(crate) violations: Violations,
    /// Upper bound for connect / first byte / between bytes.
    pub(crate) timeout: Duration,
    /// When set, granted requests are answered from these recordings and
    /// never reach the network (`cutover plugin test`).
    pub(crate) replay: Option<Arc<Vec<Recorded>>>,
    /// The TLS client configuration for `https` (the public roots, or only
    /// the granted CAs), or why none could be built.
    pub(crate) tls: Result<Arc<rustls::ClientConfig>, String>,
    /// The plugin's name, for log lines.
    pub(crate) plugin: Arc<str>,
}

/// A recorded HTTP exchange served instead of the network.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recorded {
    /// Method to match (any when absent).
    #[serde(default)]
    pub method: Option<String>,
    /// Full URL to match, e.g. `http://127.0.0.1:9093/api/v2/alerts`.
    pub url: String,
    /// Status to answer.
    #[serde(default = "ok_status")]
    pub status: u16,
    /// Response headers.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// Response body (text).
    #[serde(default)]
    pub body: String,
}

fn ok_status() -> u16 {
    200
}

fn replayed(
    recs: &[Recorded],
    request: &http::Request<WasiBody>,
) -> Option<http::Response<WasiBody>> {
    use http_body_util::BodyExt;
    let url = request.uri().to_string();
    let rec = recs.iter().find(|r| {
        r.url == url
            && r.method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(request.method().as_str()))
    })?;
    let body = http_body_util::Full::new(bytes::Bytes::from(rec.body.clone().into_bytes()))
        .map_err(|never| match never {})
        .boxed_unsync();
    let mut builder = http::Response::builder().status(rec.status);
    for (k, v) in &rec.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    builder.body(body).ok()
}

type BoxFut<T> = Box<dyn Future<Output = T> + Send>;
type SendResult = wasmtime_wasi_http::Result<(
    http::Response<WasiBody>,
    BoxFut<wasmtime_wasi_http::Result<()>>,
)>;

impl WasiHttpHooks for HttpPolicy {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: BoxFut<wasmtime_wasi_http::Result<()>>,
    ) -> BoxFut<SendResult> {
        let origin = Origin::of_uri(request.uri());
        let allowed = origin.as_ref().is_some_and(|o| self.allowed.contains(o));
        if !allowed {
            let target = origin
                .map(|o| o.to_string())
                .unwrap_or_else(|| request.uri().to_string());
            tracing::warn!(target: "cutover::sandbox", origin = %target, "denied outgoing HTTP request");
            record(&self.violations, Denied::Http(target));
            return Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) });
        }
        if let Some(recs) = &self.replay {
            let answer = replayed(recs, &request);
            if answer.is_none() {
                tracing::warn!(target: "cutover::sandbox", url = %request.uri(), "no recorded response");
            }
            return Box::new(async move {
                // Read what the guest sends first: dropping the body while
                // it writes would fail its write before it sees the answer.
                crate::send::drain(request.into_body()).await;
                match answer {
                    Some(resp) => Ok((resp, Box::new(async { Ok(()) }) as BoxFut<_>)),
                    None => Err(wasmtime_wasi_http::Error::DestinationNotFound),
                }
            });
        }
        let cap = self.timeout;
        let mut opts = options.unwrap_or_default();
        opts.connect_timeout = Some(opts.connect_timeout.map_or(cap, |t| t.min(cap)));
        opts.first_byte_timeout = Some(opts.first_byte_timeout.map_or(cap, |t| t.min(cap)));
        opts.between_bytes_timeout = Some(opts.between_bytes_timeout.map_or(cap, |t| t.min(cap)));
        // Like the stock sender, `fut` is not used: the connection future
        // returned with the response is what wasi-http drives.
        drop(fut);
        let tls = self.tls.clone();
        let plugin = self.plugin.clone();
        Box::new(async move { crate::send::send(request, Some(opts), tls, plugin).await })
    }
}

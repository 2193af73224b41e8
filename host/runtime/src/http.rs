//! Outgoing HTTP policy: only granted origins, bounded timeouts.

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
        let cap = self.timeout;
        let mut opts = options.unwrap_or_default();
        opts.connect_timeout = Some(opts.connect_timeout.map_or(cap, |t| t.min(cap)));
        opts.first_byte_timeout = Some(opts.first_byte_timeout.map_or(cap, |t| t.min(cap)));
        opts.between_bytes_timeout = Some(opts.between_bytes_timeout.map_or(cap, |t| t.min(cap)));
        // Delegate to the stock sender for granted origins.
        struct Stock;
        impl WasiHttpHooks for Stock {}
        Stock.send_request(request, Some(opts), fut)
    }
}

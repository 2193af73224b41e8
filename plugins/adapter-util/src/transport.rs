//! Sending one request over `wasi:http`: the SDK's client with a timeout on
//! every phase (connect, first byte, between bytes).

use std::time::Duration;

use cutover_plugin_sdk::PluginError;
use cutover_plugin_sdk::http::{HttpMethod, Request, Response};

/// Sends `method url` with `headers` and `body`; reads the whole answer.
pub fn send(
    method: HttpMethod,
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
    timeout: Duration,
) -> Result<Response, PluginError> {
    let mut request = Request::new(method, url).body(body).timeout(timeout);
    for (k, v) in headers {
        request = request.header(k, v);
    }
    request.send()
}

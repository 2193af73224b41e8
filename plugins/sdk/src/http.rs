//! Blocking HTTP over `wasi:http/outgoing-handler`, built on the
//! bytecodealliance `wstd` client.
//!
//! Transport failures become `plugin-error::unavailable`; a request the host
//! refuses (`HTTP-request-denied`, i.e. a host the plan did not grant) becomes
//! `plugin-error::denied`; a malformed URL or header is `invalid-input`.

use std::time::Duration;

use wstd::http::error::ErrorCode;
use wstd::http::{Body, Client, Method};

use crate::PluginError;

/// A fully read HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Response headers (lower-case names; values lossily decoded).
    pub headers: Vec<(String, String)>,
    /// Whole body.
    pub body: Vec<u8>,
}

impl Response {
    /// The body as UTF-8 text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// An HTTP request under construction.
#[derive(Debug, Clone)]
pub struct Request {
    method: Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    timeout: Option<Duration>,
}

impl Request {
    /// A request with the given method and URL.
    pub fn new(method: Method, url: &str) -> Self {
        Self {
            method,
            url: url.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
            timeout: None,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }

    /// Sets connect and first-byte timeouts.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sends the request and reads the whole response.
    pub fn send(self) -> Result<Response, PluginError> {
        wstd::runtime::block_on(self.send_async())
    }

    async fn send_async(self) -> Result<Response, PluginError> {
        let mut builder = wstd::http::Request::builder()
            .method(self.method.clone())
            .uri(self.url.as_str());
        for (k, v) in &self.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        // An empty `Body` still makes wstd write one zero-length chunk; when
        // the host has already finished a bodyless request that write fails
        // with a connection reset. A stream that ends without writing avoids it.
        let body = if self.body.is_empty() {
            Body::from_stream(futures_lite::stream::empty::<Vec<u8>>())
        } else {
            Body::from(self.body)
        };
        let request = builder.body(body).map_err(|e| {
            PluginError::InvalidInput(format!("HTTP request to `{}`: {e}", self.url))
        })?;
        let mut client = Client::new();
        if let Some(t) = self.timeout {
            client.set_connect_timeout(t);
            client.set_first_byte_timeout(t);
            client.set_between_bytes_timeout(t);
        }
        let response = client
            .send(request)
            .await
            .map_err(|e| map_error(&self.url, &e))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut body = response.into_body();
        let body = body
            .contents()
            .await
            .map_err(|e| map_error(&self.url, &e))?
            .to_vec();
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

/// `GET url` with the given headers.
pub fn get(url: &str, headers: &[(&str, &str)]) -> Result<Response, PluginError> {
    with_headers(Request::new(Method::GET, url), headers).send()
}

/// `POST url` with the given headers and body.
pub fn post(url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Result<Response, PluginError> {
    with_headers(Request::new(Method::POST, url), headers)
        .body(body)
        .send()
}

fn with_headers(mut req: Request, headers: &[(&str, &str)]) -> Request {
    for (k, v) in headers {
        req = req.header(k, v);
    }
    req
}

/// Maps a wstd (anyhow) error to a plugin error, looking for the WASI error code.
fn map_error(url: &str, err: &wstd::http::Error) -> PluginError {
    let code = err.chain().find_map(|e| e.downcast_ref::<ErrorCode>());
    match code {
        Some(ErrorCode::HttpRequestDenied) => {
            PluginError::Denied(format!("HTTP request to `{url}` denied by the host"))
        }
        Some(code) => PluginError::Unavailable(format!("HTTP request to `{url}` failed: {code}")),
        None => PluginError::Unavailable(format!("HTTP request to `{url}` failed: {err:#}")),
    }
}

/// Re-export so callers can build [`Request::new`] without depending on wstd.
pub use wstd::http::Method as HttpMethod;

#[cfg(test)]
mod tests {
    use super::*;
    use wstd::http::error::Context as _;

    #[test]
    fn denied_maps_to_denied_even_under_context() {
        let err = wstd::http::Error::from(ErrorCode::HttpRequestDenied);
        assert!(
            matches!(map_error("http://x:1", &err), PluginError::Denied(m) if m.contains("http://x:1"))
        );
        let wrapped = Err::<(), _>(ErrorCode::HttpRequestDenied)
            .context("sending")
            .unwrap_err();
        assert!(matches!(map_error("u", &wrapped), PluginError::Denied(_)));
    }

    #[test]
    fn transport_errors_map_to_unavailable() {
        let err = wstd::http::Error::from(ErrorCode::ConnectionRefused);
        assert!(matches!(map_error("u", &err), PluginError::Unavailable(m) if m.contains("u")));
        let err = wstd::http::Error::msg("body stream closed");
        assert!(
            matches!(map_error("u", &err), PluginError::Unavailable(m) if m.contains("body stream closed"))
        );
    }
}

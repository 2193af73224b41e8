//! A tiny HTTP server exposing the registry at `GET /metrics` on a loopback
//! address. It runs in one thread and stops when dropped.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::error::OpsError;
use crate::metrics::MigrationMetrics;

/// Content type of the OpenMetrics text exposition.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A running metrics server; dropping it stops the thread.
#[derive(Debug)]
pub struct MetricsServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl MetricsServer {
    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept; failure means the listener is gone already.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Serves `metrics` at `http://addr/metrics`. Only loopback addresses are
/// accepted: the endpoint has no authentication.
pub fn serve(metrics: Arc<MigrationMetrics>, addr: SocketAddr) -> Result<MetricsServer, OpsError> {
    if !addr.ip().is_loopback() {
        return Err(OpsError::NotLoopback(addr));
    }
    let listener = TcpListener::bind(addr).map_err(|source| OpsError::Bind { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| OpsError::Bind { addr, source })?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let thread = std::thread::Builder::new()
        .name("cutover-metrics".into())
        .spawn(move || {
            for conn in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = conn {
                    // A broken client must not stop the server.
                    let _ = handle(stream, &metrics);
                }
            }
        })
        .map_err(OpsError::Thread)?;
    Ok(MetricsServer {
        addr: bound,
        stop,
        thread: Some(thread),
    })
}

fn handle(stream: TcpStream, metrics: &MigrationMetrics) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Drain the headers (up to the empty line).
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or("");
    let target = parts.next().unwrap_or("");
    let path = target.split('?').next().unwrap_or("");
    let (status, content_type, body) = match (method, path) {
        ("GET", "/metrics") => ("200 OK", CONTENT_TYPE, metrics.encode()),
        ("GET", _) => (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "not found: metrics are at /metrics\n".to_string(),
        ),
        _ => (
            "405 Method Not Allowed",
            "text/plain; charset=utf-8",
            "only GET is supported\n".to_string(),
        ),
    };
    let mut out = stream;
    write!(
        out,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn get(addr: SocketAddr, request: &str) -> String {
        let mut s = TcpStream::connect(addr).expect("connect");
        s.write_all(request.as_bytes()).expect("write");
        let mut out = String::new();
        s.read_to_string(&mut out).expect("read");
        out
    }

    #[test]
    fn serves_metrics_and_stops_on_drop() {
        let metrics = Arc::new(MigrationMetrics::new());
        metrics.set_alert_match_rate("core", 0.5);
        let server = serve(metrics.clone(), "127.0.0.1:0".parse().expect("addr")).expect("serve");
        let addr = server.local_addr();
        let resp = get(addr, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
        assert!(
            resp.contains("alert_match_rate{service=\"core\"} 0.5"),
            "{resp}"
        );
        // Live values: a later change shows in the next scrape.
        metrics.set_alert_match_rate("core", 0.75);
        let resp = get(addr, "GET /metrics HTTP/1.1\r\n\r\n");
        assert!(
            resp.contains("alert_match_rate{service=\"core\"} 0.75"),
            "{resp}"
        );
        assert!(get(addr, "GET / HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404"));
        assert!(get(addr, "POST /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 405"));
        drop(server);
        assert!(
            TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err(),
            "still listening after drop"
        );
    }

    #[test]
    fn refuses_non_loopback_addresses() {
        let metrics = Arc::new(MigrationMetrics::new());
        for addr in ["0.0.0.0:0", "192.0.2.1:9100", "[::]:0"] {
            let err = serve(metrics.clone(), addr.parse().expect("addr")).expect_err(addr);
            assert!(matches!(err, OpsError::NotLoopback(_)), "{addr}: {err}");
            assert!(err.to_string().contains("only loopback"), "{err}");
        }
    }
}

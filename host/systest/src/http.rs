//! A minimal blocking HTTP/1.1 client for loopback test servers.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// Connecting, writing or reading failed.
    #[error("{method} 127.0.0.1:{port}{path}: {source}")]
    Io {
        /// Method.
        method: String,
        /// Port.
        port: u16,
        /// Path.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The answer is not HTTP/1.x.
    #[error("{method} 127.0.0.1:{port}{path}: malformed answer starting {start:?}")]
    Malformed {
        /// Method.
        method: String,
        /// Port.
        port: u16,
        /// Path.
        path: String,
        /// Beginning of the answer.
        start: String,
    },
}

/// Sends `method path` to `127.0.0.1:port` with an optional JSON body and
/// returns `(status, body)`. Uses `Connection: close` and no chunked
/// decoding beyond what the fixture servers send.
pub fn request(
    method: &str,
    port: u16,
    path: &str,
    body: Option<&str>,
) -> Result<(u16, String), HttpError> {
    let io = |source| HttpError::Io {
        method: method.to_owned(),
        port,
        path: path.to_owned(),
        source,
    };
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(io)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(io)?;
    let body = body.unwrap_or("");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).map_err(io)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(io)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let malformed = || HttpError::Malformed {
        method: method.to_owned(),
        port,
        path: path.to_owned(),
        start: text.chars().take(40).collect(),
    };
    let (head, rest) = text.split_once("\r\n\r\n").ok_or_else(malformed)?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(malformed)?;
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    });
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    Ok((status, body))
}

/// Decodes a chunked body (best effort: stops at the first malformed size).
fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || tail.len() < n {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].strip_prefix("\r\n").unwrap_or(&tail[n..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dechunks() {
        assert_eq!(dechunk("3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"), "abcde");
        assert_eq!(dechunk("zz\r\n"), "");
    }

    #[test]
    fn talks_to_a_local_server() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let t = std::thread::spawn(move || {
            let (mut c, _) = l.accept().unwrap();
            let mut buf = [0u8; 1024];
            let n = c.read(&mut buf).unwrap();
            let req = String::from_utf8_lossy(&buf[..n]).into_owned();
            c.write_all(b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")
                .unwrap();
            req
        });
        let (status, body) = request("POST", port, "/x", Some("{}")).unwrap();
        assert_eq!((status, body.as_str()), (201, "ok"));
        assert!(t.join().unwrap().starts_with("POST /x HTTP/1.1"));
    }
}

//! A canned HTTP/1.1 server on 127.0.0.1 for tests: it answers each request
//! with what a responder returns (canned or scripted), records every request
//! it was sent, and stops when dropped. One request per connection
//! (`connection: close`); request bodies may be sized or chunked. Also a
//! one-shot GET client.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a connection may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// One request as the server read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The request target, e.g. `/api/v2/silences`.
    pub path: String,
    /// The header lines (after the request line), as sent.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked).
    pub body: Vec<u8>,
}

impl Request {
    /// The first header called `name` (case-insensitive), trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What the server answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The `content-type`, if any.
    pub content_type: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// `status` with a plain body.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Response {
            status,
            content_type: None,
            body: body.into(),
        }
    }

    /// `200` with `body`.
    pub fn ok(body: impl Into<Vec<u8>>) -> Self {
        Self::new(200, body)
    }

    /// `status` with a JSON body.
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Response {
            content_type: Some("application/json".into()),
            ..Self::new(status, body)
        }
    }

    fn to_bytes(&self) -> Vec<u8> {
        let reason = match self.status {
            200 => "OK",
            204 => "No Content",
            400 => "Bad Request",
            404 => "Not Found",
            500 => "Internal Server Error",
            _ => "Status",
        };
        let mut head = format!("HTTP/1.1 {} {reason}\r\n", self.status);
        if let Some(t) = &self.content_type {
            head.push_str(&format!("content-type: {t}\r\n"));
        }
        head.push_str(&format!(
            "content-length: {}\r\nconnection: close\r\n\r\n",
            self.body.len()
        ));
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

/// Answers the `n`th request (0-based, in the order requests were read).
pub type Responder = dyn Fn(usize, &Request) -> Response + Send + Sync + 'static;

/// A test HTTP server on `127.0.0.1:0`; see the module documentation.
pub struct CannedServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<Request>>>,
    accept: Option<JoinHandle<()>>,
}

impl CannedServer {
    /// A server answering with `responder`.
    pub fn start(responder: impl Fn(usize, &Request) -> Response + Send + Sync + 'static) -> Self {
        let responder: Arc<Responder> = Arc::new(responder);
        Self::spawn(Some(responder))
    }

    /// A server answering every request with `status` and `body`.
    pub fn always(status: u16, body: &str) -> Self {
        let response = Response::new(status, body);
        Self::start(move |_, _| response.clone())
    }

    /// A server answering the first `fail` requests with 500, then 200 `ok`.
    pub fn failing_first(fail: usize) -> Self {
        Self::start(move |n, _| {
            if n < fail {
                Response::new(500, "fail")
            } else {
                Response::ok("ok")
            }
        })
    }

    /// A server that accepts connections and never answers (they are held
    /// open until the server is dropped).
    pub fn silent() -> Self {
        Self::spawn(None)
    }

    fn spawn(responder: Option<Arc<Responder>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (flag, seen) = (stop.clone(), requests.clone());
        let accept = std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                match &responder {
                    None => held.push(stream),
                    Some(r) => {
                        let (r, seen) = (r.clone(), seen.clone());
                        std::thread::spawn(move || serve(stream, &*r, &seen));
                    }
                }
            }
        });
        CannedServer {
            addr,
            stop,
            requests,
            accept: Some(accept),
        }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port())
    }

    /// The origin followed by `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin())
    }

    /// The requests read so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The bodies of the requests read so far, as text.
    pub fn bodies(&self) -> Vec<String> {
        self.requests().iter().map(Request::text).collect()
    }
}

impl Drop for CannedServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop, which then sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

/// Reads one request, records it, answers it, then drains what the client
/// still sends: closing with unread data would reset the connection before
/// the client reads the answer.
fn serve(mut s: TcpStream, responder: &Responder, seen: &Mutex<Vec<Request>>) {
    let _ = s.set_read_timeout(Some(READ_TIMEOUT));
    let Some(request) = read_request(&mut s) else {
        return;
    };
    let n = {
        let mut all = seen.lock().unwrap_or_else(|p| p.into_inner());
        all.push(request.clone());
        all.len() - 1
    };
    let _ = s.write_all(&responder(n, &request).to_bytes());
    let _ = s.flush();
    let _ = s.shutdown(Shutdown::Write);
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let mut chunk = [0u8; 256];
    while matches!(s.read(&mut chunk), Ok(n) if n > 0) {}
}

/// One request from `s`; `None` when the connection ends first.
fn read_request(s: &mut impl Read) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let mut more = |buf: &mut Vec<u8>| match s.read(&mut chunk) {
        Ok(0) | Err(_) => false,
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            true
        }
    };
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if !more(&mut buf) {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.lines();
    let mut first = lines.next()?.split_whitespace();
    let (method, path) = (first.next()?.to_owned(), first.next()?.to_owned());
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut request = Request {
        method,
        path,
        headers,
        body: Vec::new(),
    };
    let chunked = request
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        loop {
            if let Some(body) = dechunk(&buf[head_end..]) {
                request.body = body;
                return Some(request);
            }
            if !more(&mut buf) {
                return None;
            }
        }
    }
    let len: usize = request
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        if !more(&mut buf) {
            return None;
        }
    }
    request.body = buf[head_end..head_end + len].to_vec();
    Some(request)
}

/// A chunked body, decoded, once `raw` holds all of it.
fn dechunk(raw: &[u8]) -> Option<Vec<u8>> {
    let (mut body, mut at) = (Vec::new(), 0);
    loop {
        let rest = raw.get(at..)?;
        let line = rest.windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&rest[..line]).ok()?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        at += line + 2;
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(raw.get(at..at + size)?);
        at += size + 2;
    }
}

/// `GET path` from `127.0.0.1:port` over a fresh connection: the status and
/// the body; `None` while nothing listens or the answer is not HTTP.
pub fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(READ_TIMEOUT)).ok()?;
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n").as_bytes(),
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(port: u16, raw: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.write_all(raw.as_bytes()).expect("send");
        let mut text = String::new();
        s.read_to_string(&mut text).expect("answer");
        text
    }

    #[test]
    fn scripted_answers_follow_the_request_order_and_requests_are_recorded() {
        let server = CannedServer::failing_first(1);
        assert_eq!(get(server.port(), "/a").map(|r| r.0), Some(500));
        assert_eq!(get(server.port(), "/b"), Some((200, "ok".into())));
        let sized = post(
            server.port(),
            "POST /c HTTP/1.1\r\ncontent-length: 5\r\nX-Tag: t\r\n\r\nhello",
        );
        assert!(sized.starts_with("HTTP/1.1 200 OK\r\n"), "{sized}");
        let chunked = post(
            server.port(),
            "POST /d HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        );
        assert!(chunked.ends_with("ok"), "{chunked}");
        let seen = server.requests();
        let paths: Vec<&str> = seen.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(paths, ["/a", "/b", "/c", "/d"]);
        assert_eq!(seen[2].header("x-tag"), Some("t"));
        assert_eq!(server.bodies()[2..], ["hello", "abcde"]);
    }

    #[test]
    fn a_dropped_server_stops_listening() {
        let server = CannedServer::always(204, "");
        let port = server.port();
        assert_eq!(get(port, "/").map(|r| r.0), Some(204));
        drop(server);
        assert!(get(port, "/").is_none());
    }

    #[test]
    fn a_silent_server_accepts_and_never_answers() {
        let server = CannedServer::silent();
        let mut s = TcpStream::connect(("127.0.0.1", server.port())).expect("connect");
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        s.write_all(b"GET / HTTP/1.1\r\n\r\n").expect("send");
        let mut buf = [0u8; 16];
        assert!(s.read(&mut buf).is_err(), "no answer, only a timeout");
        assert!(server.requests().is_empty());
    }
}

//! A fake Alertmanager for `plugin_cmds`: the silences API v2 on
//! 127.0.0.1:0, enough for the decommission plugins (`alertmanager-silence`,
//! `notifications-muted`) without a real Alertmanager.

/// What a [`fake_alertmanager`] holds: the silences it serves, the bodies
/// POSTed to it and the ids DELETEd.
#[derive(Default)]
pub struct FakeAm {
    pub silences: Vec<serde_json::Value>,
    pub posts: Vec<serde_json::Value>,
    pub deletes: Vec<String>,
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

/// One request: method, path and body (`None` when the connection ends
/// first). The body is `content-length` bytes or chunked.
fn read_request(s: &mut std::net::TcpStream) -> Option<(String, String, Vec<u8>)> {
    use std::io::Read;
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
    let mut first = head.split_whitespace();
    let (method, path) = (first.next()?.to_owned(), first.next()?.to_owned());
    let header = |name: &str| {
        head.lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_ascii_lowercase())
    };
    if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        loop {
            if let Some(body) = dechunk(&buf[head_end..]) {
                return Some((method, path, body));
            }
            if !more(&mut buf) {
                return None;
            }
        }
    }
    let len: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        if !more(&mut buf) {
            return None;
        }
    }
    Some((method, path, buf[head_end..head_end + len].to_vec()))
}

/// Answers one request of Alertmanager's silences API v2 from `am`.
fn answer(am: &std::sync::Mutex<FakeAm>, method: &str, path: &str, body: &[u8]) -> (u16, String) {
    let mut am = am.lock().unwrap();
    match (method, path) {
        ("GET", "/api/v2/silences") => (
            200,
            serde_json::Value::from(am.silences.clone()).to_string(),
        ),
        ("POST", "/api/v2/silences") => {
            let Ok(mut s) = serde_json::from_slice::<serde_json::Value>(body) else {
                return (400, "bad json".into());
            };
            am.posts.push(s.clone());
            let id = format!("fake-{}", am.posts.len());
            s["id"] = id.clone().into();
            s["status"] = serde_json::json!({"state": "active"});
            am.silences.push(s);
            (200, serde_json::json!({ "silenceID": id }).to_string())
        }
        ("DELETE", p) if p.starts_with("/api/v2/silence/") => {
            let id = &p["/api/v2/silence/".len()..];
            am.deletes.push(id.to_owned());
            for s in am.silences.iter_mut().filter(|s| s["id"] == id) {
                s["status"]["state"] = "expired".into();
            }
            (200, String::new())
        }
        _ => (404, "not found".into()),
    }
}

/// A fake Alertmanager on 127.0.0.1:0 (one thread per connection); returns
/// its origin and its state, seeded with `silences`.
pub fn fake_alertmanager(
    silences: Vec<serde_json::Value>,
) -> (String, std::sync::Arc<std::sync::Mutex<FakeAm>>) {
    use std::io::{Read, Write};
    let state = std::sync::Arc::new(std::sync::Mutex::new(FakeAm {
        silences,
        ..FakeAm::default()
    }));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let origin = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let shared = state.clone();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let am = shared.clone();
            std::thread::spawn(move || {
                let Some((method, path, body)) = read_request(&mut s) else {
                    return;
                };
                let (status, text) = answer(&am, &method, &path, &body);
                let _ = s.write_all(
                    format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n\
                         content-length: {}\r\nconnection: close\r\n\r\n{text}",
                        text.len()
                    )
                    .as_bytes(),
                );
                // Drain before dropping so the client never sees a reset.
                let _ = s.shutdown(std::net::Shutdown::Write);
                let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(2)));
                let mut chunk = [0u8; 256];
                while matches!(s.read(&mut chunk), Ok(n) if n > 0) {}
            });
        }
    });
    (origin, state)
}

//! Webhook delivery against local sinks on 127.0.0.1.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cutover_notify::{
    Notification, NotificationKind, NotifyError, RetryPolicy, Sender, Severity, Target,
};

/// A sink answering the first `fail` requests with 500, then 200; returns
/// its port and the bodies received.
fn sink(fail: usize) -> (u16, Arc<Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let seen = got.clone();
    std::thread::spawn(move || {
        let mut n = 0;
        for mut s in l.incoming().flatten() {
            let body = read_request(&mut s);
            seen.lock().expect("lock").push(body);
            n += 1;
            let answer: &[u8] = if n <= fail {
                b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 4\r\nconnection: close\r\n\r\nfail"
            } else {
                b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
            };
            let _ = s.write_all(answer);
        }
    });
    (port, got)
}

fn read_request(s: &mut std::net::TcpStream) -> String {
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if got.len() >= end + 4 + len {
                return String::from_utf8_lossy(&got[end + 4..end + 4 + len]).to_string();
            }
        }
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return String::new(),
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

fn fast() -> RetryPolicy {
    RetryPolicy {
        attempts: 4,
        timeout: Duration::from_millis(500),
        backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        budget: Duration::from_secs(5),
    }
}

fn note() -> Notification {
    Notification::new(
        NotificationKind::MigrationAlert,
        Severity::Critical,
        "match rate 50% below 90%",
    )
    .label("plan", "demo")
}

#[test]
fn alertmanager_sink_gets_version_4_json() {
    let (port, got) = sink(0);
    let t = Target::parse(&format!("am+http://127.0.0.1:{port}/hook"));
    let d = Sender::new(fast(), "cutover")
        .send(&t, &note())
        .expect("delivered");
    assert_eq!((d.attempts, d.status), (1, 200));
    let bodies = got.lock().expect("lock").clone();
    assert_eq!(bodies.len(), 1);
    let v: serde_json::Value = serde_json::from_str(&bodies[0]).expect("json");
    assert_eq!(v["version"], "4");
    assert_eq!(v["status"], "firing");
    assert_eq!(v["alerts"][0]["labels"]["severity"], "critical");
    assert_eq!(v["alerts"][0]["labels"]["plan"], "demo");
    assert!(v["alerts"][0]["startsAt"].is_string());
}

#[test]
fn sink_failing_twice_is_retried_until_accepted() {
    let (port, got) = sink(2);
    let t = Target::parse(&format!("slack+http://127.0.0.1:{port}/x"));
    let d = Sender::new(fast(), "cutover")
        .send(&t, &note())
        .expect("delivered on the third attempt");
    assert_eq!(d.attempts, 3);
    let bodies = got.lock().expect("lock").clone();
    assert_eq!(bodies.len(), 3);
    let v: serde_json::Value = serde_json::from_str(&bodies[2]).expect("json");
    assert!(
        v["text"]
            .as_str()
            .is_some_and(|t| t.contains("match rate 50% below 90%"))
    );
}

#[test]
fn silent_sink_is_given_up_within_the_budget() {
    // Accepts connections and never answers.
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming().flatten() {
            held.push(s);
        }
    });
    let policy = RetryPolicy {
        attempts: 3,
        timeout: Duration::from_millis(200),
        backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(20),
        budget: Duration::from_secs(2),
    };
    let t0 = Instant::now();
    let err = Sender::new(policy, "cutover")
        .send(
            &Target::parse(&format!("http://127.0.0.1:{port}/")),
            &note(),
        )
        .expect_err("never answers");
    assert!(
        matches!(err, NotifyError::GaveUp { attempts: 3, .. }),
        "{err}"
    );
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    assert!(matches!(
        Sender::new(policy, "c").send(&Target::parse("#ops"), &note()),
        Err(NotifyError::NoTransport(_))
    ));
}

//! Webhook delivery against local sinks on 127.0.0.1 (HTTP here, HTTPS
//! with a private CA in `tls`).

#[path = "webhook/tls.rs"]
mod tls;

use std::time::{Duration, Instant};

use cutover_notify::{
    Notification, NotificationKind, NotifyError, RetryPolicy, Sender, Severity, Target,
};
use cutover_test_kit::http::CannedServer;

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
    let sink = CannedServer::failing_first(0);
    let t = Target::parse(&format!("am+{}", sink.url("/hook")));
    let d = Sender::new(fast(), "cutover")
        .send(&t, &note())
        .expect("delivered");
    assert_eq!((d.attempts, d.status), (1, 200));
    let bodies = sink.bodies();
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
    let sink = CannedServer::failing_first(2);
    let t = Target::parse(&format!("slack+{}", sink.url("/x")));
    let d = Sender::new(fast(), "cutover")
        .send(&t, &note())
        .expect("delivered on the third attempt");
    assert_eq!(d.attempts, 3);
    let bodies = sink.bodies();
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
    let silent = CannedServer::silent();
    let policy = RetryPolicy {
        attempts: 3,
        timeout: Duration::from_millis(200),
        backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(20),
        budget: Duration::from_secs(2),
    };
    let t0 = Instant::now();
    let err = Sender::new(policy, "cutover")
        .send(&Target::parse(&silent.url("/")), &note())
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

//! `https://` webhooks against a TLS sink on 127.0.0.1 whose certificate is
//! issued by a private CA generated here (`cutover_test_kit::tls`):
//! delivered when the CA file is trusted, refused as an untrusted
//! certificate (and retried with backoff) with the public roots or another
//! CA.

use std::time::{Duration, Instant};

use cutover_base::exit::{ExitClass, HasExitClass};
use cutover_notify::{NotifyError, RetryPolicy, Sender, Target, TrustRoots};
use cutover_test_kit::tls::{TestPki, TlsSink, private_key_pem};

use super::{fast, note};

#[test]
fn https_webhook_is_delivered_when_its_ca_file_is_trusted() {
    let pki = TestPki::new();
    let sink = TlsSink::start(&pki);
    let dir = tempfile::tempdir().expect("tempdir");
    let roots = TrustRoots::from_pem_files(&[pki.write_ca(dir.path(), "ca.pem")]).expect("CA");
    let t = Target::check(&format!("am+{}", sink.url("/hook"))).expect("valid target");
    let d = Sender::new(fast(), "cutover")
        .with_roots(roots)
        .send(&t, &note())
        .expect("delivered over https");
    assert_eq!((d.attempts, d.status), (1, 200));
    let bodies = sink.bodies();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    let v: serde_json::Value = serde_json::from_str(&bodies[0]).expect("json");
    assert_eq!(v["version"], "4");
    assert_eq!(v["alerts"][0]["labels"]["plan"], "demo");
}

#[test]
fn untrusted_certificate_is_retried_with_backoff_then_given_up() {
    let sink = TlsSink::start(&TestPki::new());
    let policy = RetryPolicy {
        attempts: 3,
        timeout: Duration::from_secs(2),
        backoff: Duration::from_millis(200),
        max_backoff: Duration::from_secs(1),
        budget: Duration::from_secs(10),
    };
    let t0 = Instant::now();
    // The public roots do not include the private CA.
    let err = Sender::new(policy, "cutover")
        .send(&Target::parse(&sink.url("/hook")), &note())
        .expect_err("the certificate is not trusted");
    let elapsed = t0.elapsed();
    let NotifyError::GaveUp { attempts, last, .. } = &err else {
        panic!("expected GaveUp, got {err}");
    };
    assert_eq!(*attempts, 3, "{err}");
    assert!(
        last.starts_with("untrusted certificate: invalid peer certificate")
            && last.contains("public web PKI roots"),
        "{last}"
    );
    assert_eq!(err.exit_class(), ExitClass::Failed);
    // Waits of 200 ms and 400 ms between the three attempts.
    assert!(elapsed >= Duration::from_millis(600), "{elapsed:?}");
    assert_eq!(sink.connections(), 3);
    assert!(sink.bodies().is_empty(), "nothing may be sent unencrypted");
    // Another private CA does not do either.
    let dir = tempfile::tempdir().expect("tempdir");
    let other = TestPki::new().write_ca(dir.path(), "other-ca.pem");
    let roots = TrustRoots::from_pem_files(&[other]).expect("CA file");
    let err = Sender::new(
        RetryPolicy {
            attempts: 1,
            ..policy
        },
        "cutover",
    )
    .with_roots(roots)
    .send(&Target::parse(&sink.url("/hook")), &note())
    .expect_err("signed by another CA");
    assert!(
        err.to_string().contains("untrusted certificate")
            && err.to_string().contains("other-ca.pem"),
        "{err}"
    );
}

#[test]
fn unusable_ca_files_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("key.pem");
    std::fs::write(&key, private_key_pem()).expect("write key");
    let text = dir.path().join("text.pem");
    std::fs::write(&text, "not a certificate\n").expect("write text");
    for (file, why) in [
        (key, "private key"),
        (text, "no PEM certificate"),
        (dir.path().join("missing.pem"), "cannot read"),
    ] {
        let err = TrustRoots::from_pem_files(std::slice::from_ref(&file)).expect_err(why);
        assert!(
            matches!(&err, NotifyError::CaFile { reason, .. } if reason.contains(why)),
            "{}: {err}",
            file.display()
        );
        assert_eq!(err.exit_class(), ExitClass::Usage);
    }
    assert!(matches!(
        TrustRoots::from_pem_files(&[]),
        Ok(TrustRoots::Public)
    ));
}

//! HTTPS with granted certificate authorities: a test server with a
//! certificate of the test CA (`tests/fixtures/tls`, made by `gen.sh`).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cutover_runtime::{Denied, Grants, Origin, PluginError, StaticSecrets, TlsCa, TlsCaError};

use super::*;

// --- HTTPS with granted certificate authorities -------------------------------

fn tls_fixture(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(file)
}

/// What the test HTTPS server saw on one connection.
#[derive(Debug)]
enum TlsSeen {
    /// A request head, read after a completed handshake.
    Request(String),
    /// The handshake or the read failed.
    Failed(String),
}

/// Serves `n` connections over TLS with `server.crt` (signed by the test CA,
/// SAN 127.0.0.1): each request gets `200 ready`. Reports what it saw.
fn https_server(n: usize) -> (u16, std::sync::mpsc::Receiver<TlsSeen>) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(tls_fixture("server.crt"))
            .expect("server.crt")
            .collect::<Result<_, _>>()
            .expect("server.crt parses");
    let key = PrivateKeyDer::from_pem_file(tls_fixture("server.key")).expect("server.key");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .expect("server config"),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(n) {
            let Ok(tcp) = stream else { continue };
            let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
            let conn = rustls::ServerConnection::new(config.clone()).expect("conn");
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            let mut req = Vec::new();
            let mut buf = [0u8; 4096];
            let seen = loop {
                match tls.read(&mut buf) {
                    Ok(0) => break TlsSeen::Failed("closed before a request".into()),
                    Ok(k) => {
                        req.extend_from_slice(&buf[..k]);
                        if req.windows(4).any(|w| w == b"\r\n\r\n") {
                            break TlsSeen::Request(String::from_utf8_lossy(&req).into_owned());
                        }
                    }
                    Err(e) => break TlsSeen::Failed(e.to_string()),
                }
            };
            if matches!(seen, TlsSeen::Request(_)) {
                let _ = tls.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nready",
                );
                tls.conn.send_close_notify();
                let _ = tls.flush();
            }
            let _ = tx.send(seen);
        }
    });
    (port, rx)
}

fn https_sandbox(port: u16, ca: Option<&str>) -> Sandbox {
    let mut sb = Sandbox::with_grants(Grants {
        hosts: vec![Origin::parse_grant(&format!("https://127.0.0.1:{port}")).unwrap()],
        ..Grants::default()
    });
    sb.limits.deadline = Duration::from_secs(10);
    sb.tls_ca = ca.map(|file| Arc::new(TlsCa::load(&[tls_fixture(file)]).expect("CA loads")));
    sb
}

fn probe_https(port: u16, sb: &Sandbox) -> wit::Verdict {
    let p = load("http-probe");
    let params = format!(r#"{{"url": "https://127.0.0.1:{port}/-/ready"}}"#);
    rt().evaluate(&p, sb, &ctx(&params)).expect("probe")
}

#[test]
fn https_with_the_granted_ca_works() {
    let (port, seen) = https_server(1);
    let v = probe_https(port, &https_sandbox(port, Some("ca.crt")));
    assert_eq!(v.verdict, wit::VerdictKind::Pass, "{}", v.message);
    assert!(
        v.measurements
            .iter()
            .any(|m| m.name == "status" && m.value == 200.0)
    );
    match seen
        .recv_timeout(Duration::from_secs(5))
        .expect("server saw it")
    {
        TlsSeen::Request(head) => assert!(head.starts_with("GET /-/ready HTTP/1.1"), "{head}"),
        other => panic!("expected a request over TLS, got {other:?}"),
    }
}

#[test]
fn https_without_the_ca_is_a_typed_certificate_error() {
    // No grant: only the public web PKI roots, which do not know the test CA.
    // Granted, but another CA: the server's chain does not lead to it.
    for ca in [None, Some("other-ca.crt")] {
        let (port, seen) = https_server(1);
        let v = probe_https(port, &https_sandbox(port, ca));
        // http-probe reports an unreachable target as a failing verdict with
        // the wasi-http error code the host gave it.
        assert_eq!(v.verdict, wit::VerdictKind::Fail, "{ca:?}: {}", v.message);
        assert!(
            v.message.contains("unreachable") && v.message.contains("TlsCertificateError"),
            "{ca:?}: {}",
            v.message
        );
        match seen
            .recv_timeout(Duration::from_secs(5))
            .expect("server saw it")
        {
            // The client refused the chain and told the server so.
            TlsSeen::Failed(reason) => assert!(reason.contains("UnknownCA"), "{ca:?}: {reason}"),
            other => panic!("{ca:?}: the handshake must fail, got {other:?}"),
        }
    }
    assert_healthy();
}

#[test]
fn https_to_an_ungranted_origin_is_denied_before_tls() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    // The CA is granted, the origin is not: the grant check runs first.
    let mut sb = https_sandbox(1, Some("ca.crt"));
    sb.limits.deadline = Duration::from_secs(5);
    let p = load("hostile-net");
    let params = format!(r#"{{"url": "https://127.0.0.1:{port}/x"}}"#);
    let err = rt().evaluate(&p, &sb, &ctx(&params)).unwrap_err();
    assert!(
        matches!(&err, CallError::Denied { denied: Denied::Http(o), .. } if *o == format!("https://127.0.0.1:{port}")),
        "{err:?}"
    );
    assert!(listener.accept().is_err(), "a connection got through");
}

#[test]
fn granted_ca_files_are_validated_naming_the_file() {
    let ok = TlsCa::load(&[tls_fixture("ca.crt"), tls_fixture("other-ca.crt")]).expect("two CAs");
    assert_eq!(ok.certificates(), 2);
    assert_eq!(ok.files().len(), 2);
    let missing = tls_fixture("nope.crt");
    let err = TlsCa::load(std::slice::from_ref(&missing)).unwrap_err();
    assert!(
        matches!(&err, TlsCaError::Read { path, .. } if *path == missing),
        "{err:?}"
    );
    assert!(err.to_string().contains("nope.crt"), "{err}");
    // A key file is not a CA certificate, and must not be handed around as one.
    let err = TlsCa::load(&[tls_fixture("server.key")]).unwrap_err();
    assert!(matches!(&err, TlsCaError::Pem { .. }), "{err:?}");
    assert!(
        err.to_string().contains("server.key") && err.to_string().contains("private key"),
        "{err}"
    );
    let err = TlsCa::load(&[tls_fixture("gen.sh")]).unwrap_err();
    assert!(err.to_string().contains("no PEM certificate"), "{err}");
}

#[test]
fn a_refused_https_post_reports_the_tls_error_not_the_body_write() {
    // The guest writes a POST body while the host connects; when the
    // handshake fails, the guest must see the TLS error code every time,
    // never a failed body write that happened to come first.
    const CALLS: usize = 25;
    let (port, seen) = https_server(CALLS);
    let p = load("icinga2");
    let mut sb = https_sandbox(port, None);
    let mut grants = (*sb.grants).clone();
    grants
        .config
        .insert("url".into(), format!("https://127.0.0.1:{port}"));
    grants.secrets = vec!["icinga_user".into(), "icinga_password".into()];
    sb.grants = Arc::new(grants);
    sb.secrets = Arc::new(StaticSecrets(
        [
            ("icinga_user".to_string(), "u".to_string()),
            ("icinga_password".to_string(), "p4ssword".to_string()),
        ]
        .into(),
    ));
    let window = wit::Window {
        start: 0,
        end: i64::MAX,
    };
    for i in 0..CALLS {
        match rt().collect_alerts(&p, &sb, window) {
            Err(CallError::Plugin {
                error: PluginError::Unavailable(m),
                ..
            }) => assert!(m.contains("TlsCertificateError"), "call {i}: {m}"),
            other => panic!("call {i}: expected a TLS certificate error, got {other:?}"),
        }
        assert!(matches!(
            seen.recv_timeout(Duration::from_secs(5)),
            Ok(TlsSeen::Failed(_))
        ));
    }
}

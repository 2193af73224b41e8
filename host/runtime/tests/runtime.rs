//! Integration tests of the sandboxed runtime with real components: the
//! first-party plugins built by `scripts/build-plugins.sh` and the
//! hand-written hostile fixtures in `tests/fixtures/hostile`. Translators
//! (contract 0.1.1) are in `runtime/translators.rs`.

#[path = "runtime/translators.rs"]
mod translators;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use cutover_runtime::{
    CacheStatus, CallError, Denied, DirGrant, Grants, Limit, LoadError, Origin, Plugin,
    PluginError, Runtime, Sandbox, StaticSecrets, TlsCa, TlsCaError, World, wit,
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn plugin_path(name: &str) -> PathBuf {
    let p = root().join("target/plugins").join(format!("{name}.wasm"));
    assert!(
        p.exists(),
        "{} is missing: run scripts/build-plugins.sh first",
        p.display()
    );
    p
}

fn hostile(file: &str) -> String {
    std::fs::read_to_string(root().join("tests/fixtures/hostile").join(file))
        .unwrap_or_else(|e| panic!("fixture {file}: {e}"))
}

/// Assembles a check-world component from the template and a body fixture.
fn wat_check(name: &str, body: &str, funcs: &str, imports: &str) -> String {
    assert!(name.len() < 48);
    hostile("check-template.wat")
        .replace("@IMPORTS@", imports)
        .replace("@CORE_IMPORTS@", "")
        .replace("@WITH@", "")
        .replace("@FUNCS@", funcs)
        .replace("@BODY@", body)
        .replace("@NAMELEN@", &format!("\\{:02x}", name.len()))
        .replace("@NAME@", name)
}

fn rt() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("cutover-rt-test-{}", std::process::id()));
        Runtime::new(Some(&dir)).expect("runtime")
    })
}

fn load(name: &str) -> Plugin {
    rt().load_file(&plugin_path(name), None).expect("load")
}

fn load_wat(name: &str, body_file: &str) -> Plugin {
    let funcs = body_file
        .strip_suffix(".body.wat")
        .map(|stem| format!("{stem}.funcs.wat"))
        .filter(|f| root().join("tests/fixtures/hostile").join(f).exists())
        .map(|f| hostile(&f))
        .unwrap_or_default();
    let text = wat_check(name, &hostile(body_file), &funcs, "");
    rt().load(text.as_bytes(), body_file)
        .expect("fixture loads")
}

fn ctx(params: &str) -> wit::Context {
    wit::Context {
        plan: "test".into(),
        phase: "p".into(),
        step: "s".into(),
        run_id: "r1".into(),
        params: params.into(),
    }
}

fn quick(deadline_ms: u64) -> Sandbox {
    let mut sb = Sandbox::default();
    sb.limits.deadline = Duration::from_millis(deadline_ms);
    sb
}

/// After any hostile call the same process must still serve a normal call.
fn assert_healthy() {
    let p = load("noop-action");
    let out = rt()
        .run_action(&p, &Sandbox::default(), &ctx(r#"{"still":"ok"}"#))
        .expect("noop after hostile");
    assert_eq!(out.summary, "noop");
    assert_eq!(out.details, vec![("still".to_string(), "ok".to_string())]);
}

#[test]
fn first_party_plugins_describe_themselves() {
    for (name, world) in [
        ("noop-action", World::Action),
        ("http-probe", World::Check),
        ("file-adapter", World::Adapter),
    ] {
        let p = load(name);
        assert_eq!(p.world(), world, "{name}");
        assert_eq!(p.name(), name);
        let info = p.info();
        assert_eq!(info.contract_version.as_deref(), Some("0.1.1"));
        assert_eq!(
            info.sha256,
            cutover_runtime::sha256_hex(&std::fs::read(plugin_path(name)).unwrap())
        );
        assert!(
            info.imports
                .iter()
                .any(|i| i == "cutover:plugin/host@0.1.1")
        );
    }
    let fa = load("file-adapter");
    let dirs = &fa.descriptor().capabilities.directories;
    assert_eq!(dirs.len(), 1);
    assert_eq!(dirs[0].name, "data");
}

#[test]
fn well_behaved_wat_check_passes() {
    let p = load_wat("wat-pass", "pass.body.wat");
    let v = rt().evaluate(&p, &quick(1000), &ctx("{}")).expect("pass");
    assert_eq!(v.verdict, wit::VerdictKind::Pass);
    assert_healthy();
}

#[test]
fn infinite_loop_hits_the_deadline() {
    let p = load_wat("wat-loop", "infinite-loop.body.wat");
    let started = Instant::now();
    let err = rt().evaluate(&p, &quick(300), &ctx("{}")).unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(
            err,
            CallError::Deadline {
                deadline_ms: 300,
                ..
            }
        ),
        "{err:?}"
    );
    // The bench reports the exact overrun against the +100 ms target; here we
    // only prove the call was interrupted rather than running on.
    assert!(
        elapsed < Duration::from_millis(300 + 2_000),
        "took {elapsed:?}"
    );
    assert_healthy();
}

#[test]
fn memory_bomb_hits_the_memory_limit() {
    let p = load_wat("wat-membomb", "memory-bomb.body.wat");
    let err = rt().evaluate(&p, &quick(5_000), &ctx("{}")).unwrap_err();
    assert!(
        matches!(
            err,
            CallError::Limit {
                limit: Limit::Memory,
                ..
            }
        ),
        "{err:?}"
    );
    assert_healthy();
}

#[test]
fn deep_recursion_hits_the_stack_limit() {
    let p = load_wat("wat-recursion", "deep-recursion.body.wat");
    let err = rt().evaluate(&p, &quick(5_000), &ctx("{}")).unwrap_err();
    assert!(
        matches!(
            err,
            CallError::Limit {
                limit: Limit::Stack,
                ..
            }
        ),
        "{err:?}"
    );
    assert_healthy();
}

#[test]
fn table_growth_hits_the_table_limit() {
    let p = load_wat("wat-table", "table-growth.body.wat");
    let err = rt().evaluate(&p, &quick(5_000), &ctx("{}")).unwrap_err();
    assert!(
        matches!(
            err,
            CallError::Limit {
                limit: Limit::TableElements,
                ..
            }
        ),
        "{err:?}"
    );
    assert_healthy();
}

#[test]
fn trap_mid_call_is_a_typed_trap() {
    let p = load_wat("wat-trap", "trap.body.wat");
    let err = rt().evaluate(&p, &quick(5_000), &ctx("{}")).unwrap_err();
    assert!(matches!(err, CallError::Trap { .. }), "{err:?}");
    assert_eq!(err.kind(), "trap");
    assert_healthy();
}

#[test]
fn huge_output_hits_the_output_cap() {
    let p = load("hostile-output");
    let mut sb = quick(10_000);
    sb.limits.max_output_bytes = 1 << 20;
    let err = rt()
        .run_action(&p, &sb, &ctx(r#"{"bytes": 16777216}"#))
        .unwrap_err();
    assert!(
        matches!(
            err,
            CallError::Limit {
                limit: Limit::Output,
                ..
            }
        ),
        "{err:?}"
    );
    // Below the cap the same plugin is fine.
    let ok = rt().run_action(&p, &sb, &ctx(r#"{"bytes": 1000}"#));
    assert!(
        matches!(
            ok,
            Err(CallError::Limit {
                limit: Limit::Output,
                ..
            })
        ),
        "100k detail pairs still exceed 1 MiB: {ok:?}"
    );
    assert_healthy();
}

#[test]
fn resource_flood_hits_the_resource_table_cap() {
    let p = load("hostile-flood");
    let err = rt().evaluate(&p, &quick(10_000), &ctx("{}")).unwrap_err();
    assert!(
        matches!(
            err,
            CallError::Limit {
                limit: Limit::ResourceTable,
                ..
            }
        ),
        "{err:?}"
    );
    assert_healthy();
}

#[test]
fn filesystem_without_grant_sees_nothing() {
    let p = load("hostile-fs");
    let err = rt().evaluate(&p, &quick(5_000), &ctx("{}")).unwrap_err();
    match err {
        CallError::Plugin {
            error: PluginError::Denied(msg),
            ..
        } => assert!(!msg.contains("root:"), "{msg}"),
        other => panic!("expected the plugin to be denied, got {other:?}"),
    }
    assert_healthy();
}

#[test]
fn network_to_ungranted_host_is_denied_and_never_connects() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let p = load("hostile-net");
    let params = format!(r#"{{"url": "http://127.0.0.1:{port}/secret"}}"#);
    let err = rt().evaluate(&p, &quick(5_000), &ctx(&params)).unwrap_err();
    match &err {
        CallError::Denied { denied, .. } => {
            assert!(
                matches!(denied, Denied::Http(o) if *o == format!("http://127.0.0.1:{port}")),
                "{denied:?}"
            )
        }
        other => panic!("expected Denied, got {other:?}"),
    }
    assert!(
        listener.accept().is_err(),
        "the sandbox let a connection through"
    );
    assert_healthy();
}

/// Serves one canned HTTP response per connection, `n` times.
fn http_server(n: usize, status: u16, body: &'static str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(n) {
            let Ok(mut s) = stream else { continue };
            let mut req = Vec::new();
            let mut buf = [0u8; 4096];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let resp = format!(
                "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(resp.as_bytes());
            // Close our side, then drain what the client still sends (e.g. a
            // chunked request's last chunk): closing with unread data would
            // reset the connection before the client reads the response.
            let _ = s.shutdown(std::net::Shutdown::Write);
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
        }
    });
    port
}

#[test]
fn network_to_granted_host_works() {
    let port = http_server(1, 200, "ready");
    let p = load("http-probe");
    let grants = Grants {
        hosts: vec![Origin::parse_grant(&format!("http://127.0.0.1:{port}")).unwrap()],
        ..Grants::default()
    };
    let sb = Sandbox::with_grants(grants);
    let params = format!(r#"{{"url": "http://127.0.0.1:{port}/-/ready"}}"#);
    let v = rt().evaluate(&p, &sb, &ctx(&params)).expect("probe");
    assert_eq!(v.verdict, wit::VerdictKind::Pass, "{}", v.message);
    assert!(
        v.measurements
            .iter()
            .any(|m| m.name == "status" && m.value == 200.0)
    );
}

#[test]
fn secrets_and_environment_are_denied_and_never_leak() {
    // SAFETY: set before any thread reads this variable; the runtime never
    // passes the environment to guests.
    unsafe { std::env::set_var("CUTOVER_SECRET_DB_PASSWORD", "hunter2-leaked") };
    let p = load("hostile-env");
    let err = rt().evaluate(&p, &quick(5_000), &ctx("{}")).unwrap_err();
    match &err {
        CallError::Denied {
            denied: Denied::Secret(s),
            ..
        } => assert_eq!(s, "db_password"),
        other => panic!("expected a denied secret, got {other:?}"),
    }
    assert!(!format!("{err:?}").contains("hunter2"));
    assert_healthy();
}

#[test]
fn granted_secret_is_readable() {
    let p = load("hostile-env");
    let mut sb = quick(5_000);
    sb.grants = Arc::new(Grants {
        secrets: vec!["db_password".into()],
        ..Grants::default()
    });
    sb.secrets = Arc::new(StaticSecrets(
        [("db_password".to_string(), "s3cret-value".to_string())].into(),
    ));
    // The hostile plugin "passes" when it obtains the secret: with a grant
    // that is legitimate, and proves grants reach the guest.
    let v = rt().evaluate(&p, &sb, &ctx("{}")).expect("granted");
    assert_eq!(v.verdict, wit::VerdictKind::Pass);
}

#[test]
fn stdout_flood_is_captured_and_capped_not_fatal() {
    let p = load("hostile-stdout");
    let out = rt()
        .run_action(&p, &quick(20_000), &ctx("{}"))
        .expect("stdout flood is not an error");
    assert!(!out.summary.is_empty());
    assert_healthy();
}

#[test]
fn malformed_components_are_refused() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("garbage", b"definitely not wasm".to_vec()),
        ("core module", b"\0asm\x01\0\0\0".to_vec()),
        (
            "truncated",
            std::fs::read(plugin_path("noop-action")).unwrap()[..4096].to_vec(),
        ),
        ("bad text", b"(component (func $oops".to_vec()),
    ];
    for (what, bytes) in cases {
        match rt().load(&bytes, what) {
            Err(LoadError::Malformed { .. }) => {}
            Err(other) => panic!("{what}: expected Malformed, got {other:?}"),
            Ok(_) => panic!("{what}: loaded"),
        }
    }
    assert_healthy();
}

#[test]
fn components_of_the_wrong_world_are_refused() {
    for file in ["wrong-world.wat", "mistyped-world.wat"] {
        match rt().load(hostile(file).as_bytes(), file) {
            Err(LoadError::WrongWorld { .. }) => {}
            Err(other) => panic!("{file}: expected WrongWorld, got {other:?}"),
            Ok(_) => panic!("{file}: loaded"),
        }
    }
}

#[test]
fn incompatible_contract_versions_name_both_versions() {
    for (file, want) in [
        ("contract-0.2.imports.wat", "0.2.0"),
        ("contract-0.1.9.imports.wat", "0.1.9"),
    ] {
        let text = wat_check(
            "wat-contract",
            &hostile("pass.body.wat"),
            "",
            &hostile(file),
        );
        match rt().load(text.as_bytes(), file) {
            Err(LoadError::ContractVersion { plugin, host, .. }) => {
                assert_eq!(plugin, want);
                assert_eq!(host, "0.1.1");
            }
            Err(other) => panic!("{file}: expected ContractVersion, got {other:?}"),
            Ok(_) => panic!("{file}: loaded"),
        }
    }
}

#[test]
fn pin_mismatch_names_both_digests() {
    let path = plugin_path("noop-action");
    let actual = cutover_runtime::sha256_hex(&std::fs::read(&path).unwrap());
    let wrong = "0".repeat(64);
    match rt().load_file(&path, Some(&wrong)) {
        Err(LoadError::PinMismatch {
            expected,
            actual: a,
            ..
        }) => {
            assert_eq!(expected, wrong);
            assert_eq!(a, actual);
        }
        other => panic!(
            "expected PinMismatch, got {:?}",
            other.map(|p| p.name().to_string())
        ),
    }
    assert!(rt().load_file(&path, Some(&actual)).is_ok());
}

#[test]
fn cache_hits_and_rejects_corrupt_or_foreign_entries() {
    let dir = tempfile::tempdir().unwrap();
    let rt = Runtime::new(Some(dir.path())).unwrap();
    let bytes = std::fs::read(plugin_path("noop-action")).unwrap();
    assert_eq!(
        rt.load(&bytes, "a").unwrap().info().cache,
        CacheStatus::Miss
    );
    assert_eq!(rt.load(&bytes, "a").unwrap().info().cache, CacheStatus::Hit);
    let digest = cutover_runtime::sha256_hex(&bytes);
    let entry = rt.cache().unwrap().entry_path(&digest);
    // Corrupt: flip one byte in the payload.
    let mut e = std::fs::read(&entry).unwrap();
    let mid = e.len() / 2;
    e[mid] ^= 0x40;
    std::fs::write(&entry, &e).unwrap();
    let p = rt.load(&bytes, "a").unwrap();
    assert_eq!(p.info().cache, CacheStatus::Replaced);
    assert_eq!(
        rt.run_action(&p, &Sandbox::default(), &ctx("{}"))
            .unwrap()
            .summary,
        "noop"
    );
    assert_eq!(rt.load(&bytes, "a").unwrap().info().cache, CacheStatus::Hit);
    // Foreign: another component's entry under this digest's name.
    let other = std::fs::read(plugin_path("http-probe")).unwrap();
    rt.load(&other, "b").unwrap();
    let other_entry = rt
        .cache()
        .unwrap()
        .entry_path(&cutover_runtime::sha256_hex(&other));
    std::fs::copy(&other_entry, &entry).unwrap();
    let p = rt.load(&bytes, "a").unwrap();
    assert_eq!(p.info().cache, CacheStatus::Replaced);
    assert_eq!(p.world(), World::Action);
    // Truncated entry.
    let e = std::fs::read(&entry).unwrap();
    std::fs::write(&entry, &e[..40]).unwrap();
    assert_eq!(
        rt.load(&bytes, "a").unwrap().info().cache,
        CacheStatus::Replaced
    );
}

#[test]
fn file_adapter_streams_data_through_granted_directory() {
    let dir = tempfile::tempdir().unwrap();
    let data = "groups:\n- name: demo\n  rules: []\n".repeat(5000);
    std::fs::write(dir.path().join("alert_rules.yml"), &data).unwrap();
    let p = load("file-adapter");
    let sb = Sandbox::with_grants(Grants {
        dirs: vec![DirGrant {
            name: "data".into(),
            path: dir.path().to_path_buf(),
            write: true,
        }],
        ..Grants::default()
    });
    let out = rt()
        .export_data(&p, &sb, "alert_rules", Vec::new())
        .expect("export");
    assert_eq!(out.bytes as usize, data.len());
    assert_eq!(out.writer, data.as_bytes());
    let changed = data.replace("demo", "odem");
    let outcome = rt()
        .import_data(
            &p,
            &sb,
            "alert_rules",
            std::io::Cursor::new(changed.clone().into_bytes()),
            changed.len() as u64,
        )
        .expect("import");
    assert!(!outcome.summary.is_empty());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("alert_rules.yml")).unwrap(),
        changed
    );
    // A read-only grant makes the import fail inside the sandbox.
    let ro = Sandbox::with_grants(Grants {
        dirs: vec![DirGrant {
            name: "data".into(),
            path: dir.path().to_path_buf(),
            write: false,
        }],
        ..Grants::default()
    });
    let err = rt()
        .import_data(
            &p,
            &ro,
            "alert_rules",
            std::io::Cursor::new(b"x".to_vec()),
            1,
        )
        .unwrap_err();
    assert!(matches!(err, CallError::Plugin { .. }), "{err:?}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("alert_rules.yml")).unwrap(),
        changed
    );
    // Exports over the cap are cut off with a typed limit.
    let mut capped = sb.clone();
    capped.limits.max_export_bytes = 1024;
    let err = rt()
        .export_data(&p, &capped, "alert_rules", Vec::new())
        .unwrap_err();
    assert!(
        matches!(
            err,
            CallError::Limit {
                limit: Limit::Output,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn calling_the_wrong_world_is_typed() {
    let p = load("noop-action");
    let err = rt()
        .evaluate(&p, &Sandbox::default(), &ctx("{}"))
        .unwrap_err();
    assert!(matches!(
        err,
        CallError::WorldMismatch {
            expected: World::Check,
            found: World::Action,
            ..
        }
    ));
}

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

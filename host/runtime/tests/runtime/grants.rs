//! Grants: without one a plugin sees no file, host or secret, and nothing
//! leaks; with one it gets exactly what was granted.

use std::net::TcpListener;
use std::sync::Arc;

use cutover_runtime::{Denied, DirGrant, Grants, Origin, PluginError, StaticSecrets};
use cutover_test_kit::http::CannedServer;

use super::*;

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

#[test]
fn network_to_granted_host_works() {
    let server = CannedServer::always(200, "ready");
    let p = load("http-probe");
    let grants = Grants {
        hosts: vec![Origin::parse_grant(&server.origin()).unwrap()],
        ..Grants::default()
    };
    let sb = Sandbox::with_grants(grants);
    let params = format!(r#"{{"url": "{}"}}"#, server.url("/-/ready"));
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
    assert_eq!(limit_of(&err), Some(Limit::Output), "{err:?}");
}

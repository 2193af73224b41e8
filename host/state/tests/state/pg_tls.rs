//! TLS to the state database: `sslmode=verify-full` with the fixture's
//! private CA connects (and the server sees a TLS connection); a CA that did
//! not sign the server's certificate, or the public roots, are refused
//! before any password is sent.

use cutover_state::pg::PgConfig;
use cutover_state::{DbErrorKind, Journal, Lease, StateBackend, StateLocation};
use cutover_test_kit::pg::PgFixture;

fn location(db: &str, query: &str, password: &str) -> StateLocation {
    let pg = PgFixture::start();
    let url = format!("{}?{query}", pg.url(db));
    StateLocation::Postgres(
        PgConfig::parse(&url, "tls-plan")
            .unwrap()
            .with_password(Some(password.to_string())),
    )
}

#[test]
fn verify_full_with_the_servers_ca_connects_over_tls() {
    let pg = PgFixture::start();
    let db = pg.fresh_db();
    let ca = pg.run_dir().join("tls/ca.pem");
    let loc = location(
        &db.name,
        &format!("sslmode=verify-full&sslrootcert={}", ca.display()),
        &db.password,
    );
    let state = StateBackend::open(&loc).expect("connect over TLS");
    state.ensure().expect("schema");
    let held = state
        .lease(Some("tls test"))
        .unwrap()
        .acquire()
        .expect("lease");
    let (mut journal, _) = state.journal_for_write(&held.handle).expect("journal");
    journal
        .append("over-tls", serde_json::json!({"ok": true}))
        .expect("append");
    // The server sees this client's connections encrypted.
    let encrypted = pg.psql(
        &db.name,
        "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
         WHERE a.application_name = 'cutover' AND s.ssl",
    );
    assert!(encrypted.parse::<u32>().unwrap() >= 1, "{encrypted}");
    let plain = pg.psql(
        &db.name,
        "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
         WHERE a.application_name = 'cutover' AND NOT s.ssl",
    );
    assert_eq!(plain, "0");
    let read = state.journal_for_read().unwrap();
    let kinds: Vec<String> = read.records().unwrap().map(|r| r.unwrap().kind).collect();
    assert_eq!(kinds, ["over-tls"]);
}

#[test]
fn a_server_the_ca_did_not_sign_is_refused_before_the_password_is_sent() {
    let pg = PgFixture::start();
    let db = pg.fresh_db();
    let other = pg.run_dir().join("tls/other-ca.pem");
    for query in [
        format!("sslmode=verify-full&sslrootcert={}", other.display()),
        // The public web PKI roots did not sign a test CA either.
        "sslmode=require".to_string(),
    ] {
        let e = StateBackend::open(&location(&db.name, &query, &db.password)).unwrap_err();
        assert_eq!(e.kind, DbErrorKind::Connect, "{query}: {e}");
        assert!(
            e.to_string().to_lowercase().contains("certificate"),
            "{query}: {e}"
        );
    }
    // A CA file that is not there is a configuration error naming it.
    let e = StateBackend::open(&location(
        &db.name,
        "sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
        &db.password,
    ))
    .unwrap_err();
    assert_eq!(e.kind, DbErrorKind::Config, "{e}");
    assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
}

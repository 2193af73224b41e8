//! Database failures give clear errors of the right kind, naming the server
//! and what was being done: a wrong password, a wrong port, an unknown
//! database, and a server that stops mid-use (a private instance), after
//! which the state goes on once the server is back, with nothing lost.

use std::time::{Duration, Instant};

use cutover_state::{
    BlobError, DbError, DbErrorKind, Journal, JournalError, Lease, LeaseError, LeaseHandle,
    StateBackend, StateLocation,
};
use cutover_test_kit::pg::PgFixture;

use super::harness::{Backend, TestState, pg_config};
use super::journal::fill_journal;

fn open_err(location: &StateLocation) -> DbError {
    match StateBackend::open(location) {
        Err(e) => e,
        Ok(s) => panic!("{} opened", s.describe()),
    }
}

#[test]
fn wrong_password_is_auth_and_never_shown() {
    let ts = TestState::new(Backend::Pg);
    let db = ts.db.as_ref().unwrap();
    let bad = pg_config(db, "p").with_password(Some("not-the-password-42".into()));
    let e = open_err(&StateLocation::Postgres(bad));
    assert_eq!(e.kind, DbErrorKind::Auth, "{e}");
    let text = e.to_string();
    assert!(text.contains(&format!(
        "127.0.0.1:{}/{}",
        PgFixture::start().port(),
        db.name
    )));
    assert!(text.contains("authentication failed"), "{text}");
    assert!(!text.contains("not-the-password-42"), "{text}");
    // No password at all, where the server asks for one.
    let none = pg_config(db, "p").with_password(None);
    let e = open_err(&StateLocation::Postgres(none));
    assert_eq!(e.kind, DbErrorKind::Auth, "{e}");
}

#[test]
fn wrong_port_is_connect_and_fast() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let cfg = cutover_state::pg::PgConfig::from_url(
        &format!("postgres://cutover@127.0.0.1:{port}/x"),
        "p",
    )
    .unwrap();
    let start = Instant::now();
    let e = open_err(&StateLocation::Postgres(cfg));
    assert_eq!(e.kind, DbErrorKind::Connect, "{e}");
    assert!(
        e.to_string().contains(&format!("127.0.0.1:{port}/x")),
        "{e}"
    );
    assert!(start.elapsed() < Duration::from_secs(6));
}

#[test]
fn an_unknown_database_is_named() {
    let ts = TestState::new(Backend::Pg);
    let mut db = ts.db.clone().unwrap();
    db.url = PgFixture::start().url("no_such_db");
    let e = open_err(&StateLocation::Postgres(pg_config(&db, "p")));
    assert_eq!(e.kind, DbErrorKind::Config, "{e}");
    assert!(e.to_string().contains("no_such_db"), "{e}");
}

fn lost_or_refused(kind: DbErrorKind) -> bool {
    matches!(kind, DbErrorKind::ConnectionLost | DbErrorKind::Connect)
}

#[test]
fn a_server_stopped_mid_use_then_back_loses_nothing() {
    let server = PgFixture::start_private();
    let db = server.fresh_db();
    let location = StateLocation::Postgres(pg_config(&db, "stopped plan"));
    let state = StateBackend::open(&location).unwrap();
    state.ensure().unwrap();
    let mut held = state.lease(None).unwrap().acquire().unwrap().handle;
    let (mut j, _) = state.journal_for_write(&held).unwrap();
    let before = fill_journal(&mut j, 6);
    let blobs = state.blobs("backups", held.fence()).unwrap();
    let blob = blobs.put_bytes(b"kept across the outage").unwrap();

    server.stop();
    match j.append("during outage", serde_json::json!(1)) {
        Err(JournalError::Db(e)) => assert!(lost_or_refused(e.kind), "{e}"),
        other => panic!("append with the server down: {other:?}"),
    }
    match held.heartbeat() {
        Err(LeaseError::Db(e)) => assert!(lost_or_refused(e.kind), "{e}"),
        other => panic!("heartbeat with the server down: {other:?}"),
    }
    match blobs.list() {
        Err(BlobError::Db(e)) => {
            assert!(lost_or_refused(e.kind), "{e}");
            assert!(e.to_string().contains("listing blobs"), "{e}");
        }
        other => panic!("list with the server down: {other:?}"),
    }
    assert_eq!(open_err(&location).kind, DbErrorKind::Connect);

    server.restart();
    // The same handles reconnect; the lease (30 s) is still ours.
    held.heartbeat().unwrap();
    assert_eq!(blobs.list().unwrap(), vec![blob]);
    let next = match j.append("after outage", serde_json::json!(2)) {
        Ok(r) => r,
        // A write whose fate the client cannot know poisons the handle:
        // reopened, it reads the head back from the database.
        Err(JournalError::Poisoned) => {
            let (mut j, _) = state.journal_for_write(&held).unwrap();
            assert_eq!(j.head().unwrap().seq, 6);
            j.append("after outage", serde_json::json!(2)).unwrap()
        }
        Err(e) => panic!("append once the server is back: {e}"),
    };
    assert_eq!(next.seq, 7);
    let after: Vec<_> = state
        .journal_for_read()
        .unwrap()
        .records()
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(after[..6], before[..]);
    assert_eq!(after[6].kind, "after outage");
    assert_eq!(after.len(), 7);
}

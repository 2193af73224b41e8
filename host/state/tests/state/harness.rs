//! One suite for every backend: a test written once as `fn name(backend:
//! Backend)` is run against the state directory and against a real
//! PostgreSQL (a fresh database of the fixture's server) by
//! [`both_backends!`], as `name::dir` and `name::pg`.

use cutover_state::pg::{PgConfig, PgState};
use cutover_state::{
    AnyJournal, AnyLeaseHandle, Lease, STATE_URL_ENV, StateBackend, StateLocation,
};
use cutover_test_kit::pg::{PgDb, PgFixture};
use std::path::Path;
use std::process::Command;

/// The backend a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A state directory.
    Dir,
    /// A PostgreSQL database.
    Pg,
}

/// Plan name the suite's states belong to.
pub const PLAN: &str = "Suite plan: état/1";

/// A plan's state on one backend, with what a test needs to tamper with it.
pub struct TestState {
    pub dir: tempfile::TempDir,
    pub db: Option<PgDb>,
    pub state: StateBackend,
}

/// Runs each `fn name(Backend)` as `name::dir` and `name::pg`.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn dir() {
                super::$name($crate::harness::Backend::Dir)
            }
            #[test]
            fn pg() {
                super::$name($crate::harness::Backend::Pg)
            }
        }
    )*};
}

/// The configuration of `db` with its password (never from the process
/// environment, which tests running at once share).
pub fn pg_config(db: &PgDb, plan: &str) -> PgConfig {
    PgConfig::from_url(&db.url, plan)
        .unwrap()
        .with_password(Some(db.password.clone()))
}

impl TestState {
    pub fn new(backend: Backend) -> TestState {
        let dir = tempfile::tempdir().unwrap();
        let db = (backend == Backend::Pg).then(|| PgFixture::start().fresh_db());
        let location = match &db {
            None => StateLocation::Dir(dir.path().join("state")),
            Some(db) => StateLocation::Postgres(pg_config(db, PLAN)),
        };
        let state = StateBackend::open(&location).unwrap();
        state.ensure().unwrap();
        TestState { dir, db, state }
    }

    /// The state directory (file backend).
    pub fn state_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("state")
    }

    /// The database state (PostgreSQL backend).
    pub fn pg(&self) -> &PgState {
        match &self.state {
            StateBackend::Postgres(pg) => pg,
            StateBackend::Dir(_) => panic!("not a database state"),
        }
    }

    /// Takes the lease and opens the journal for writing under it.
    pub fn writer(&self) -> (AnyLeaseHandle, AnyJournal) {
        let lease = self.state.lease(None).unwrap().acquire().unwrap().handle;
        let (journal, _) = self.state.journal_for_write(&lease).unwrap();
        (lease, journal)
    }

    /// A connection to the test's database, to tamper with it.
    pub fn sql(&self) -> postgres::Client {
        let db = self.db.as_ref().expect("database state");
        postgres::Config::new()
            .host("127.0.0.1")
            .port(PgFixture::start().port())
            .user("cutover")
            .password(&db.password)
            .dbname(&db.name)
            .connect(postgres::NoTls)
            .unwrap()
    }

    /// Points a child process at this state: the directory for both, plus
    /// the URL and the password for a database.
    pub fn child_env(&self, cmd: &mut Command) {
        if let Some(db) = &self.db {
            cmd.env(STATE_URL_ENV, &db.url);
            for (k, v) in db.env() {
                cmd.env(k, v);
            }
        }
    }
}

/// The state a child process was pointed at ([`TestState::child_env`]).
pub fn child_state(dir: &Path) -> StateBackend {
    let url = std::env::var(STATE_URL_ENV).ok();
    let location = StateLocation::resolve(url.as_deref(), &dir.join("state"), PLAN).unwrap();
    let state = StateBackend::open(&location).unwrap();
    state.ensure().unwrap();
    state
}

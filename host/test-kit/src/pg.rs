//! A real PostgreSQL for tests (`tests/fixture/pg/start.sh`), on
//! 127.0.0.1 at a port of 19900-19949, as a non-root user, in a temporary
//! data directory.
//!
//! [`PgFixture::start`] starts one server per test binary (once) and hands
//! out a fresh database per test ([`PgFixture::fresh_db`]); a watchdog started
//! with it stops the server by PID and removes its directory once the test
//! process is gone, however it ended. [`PgFixture::start_private`] starts a
//! server of a test's own, for tests that stop and restart it; it is stopped
//! and removed when dropped. Missing PostgreSQL binaries fail the test,
//! naming `scripts/system-deps.sh`: nothing is skipped, nothing installed.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::paths::repo_path;

/// First port of the range the fixture uses.
pub const PORT_FIRST: u16 = 19900;
/// Last port of the range.
pub const PORT_LAST: u16 = 19949;

/// The environment variable the state backend reads the password from.
pub const PASSWORD_ENV: &str = "CUTOVER_STATE_PASSWORD";

/// A running PostgreSQL started by `tests/fixture/pg/start.sh`.
#[derive(Debug)]
pub struct PgFixture {
    run_dir: PathBuf,
    port: u16,
    password: String,
    bin: PathBuf,
    private: bool,
}

/// A database of its own for one test.
#[derive(Debug, Clone)]
pub struct PgDb {
    /// Database name (`t_<n>`).
    pub name: String,
    /// `postgres://cutover@127.0.0.1:<port>/<name>` (no password).
    pub url: String,
    /// The password of user `cutover`.
    pub password: String,
}

impl PgDb {
    /// What a child process needs to reach it: the password variable.
    pub fn env(&self) -> [(&'static str, String); 1] {
        [(PASSWORD_ENV, self.password.clone())]
    }
}

static SHARED: OnceLock<PgFixture> = OnceLock::new();
static RUN_SEQ: AtomicU32 = AtomicU32::new(0);
static DB_SEQ: AtomicU32 = AtomicU32::new(0);

fn port_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

impl PgFixture {
    /// The server of this test binary, started on first use.
    #[track_caller]
    pub fn start() -> &'static PgFixture {
        SHARED.get_or_init(|| PgFixture::launch(false))
    }

    /// A server of the caller's own (to stop and restart); stopped and its
    /// directory removed on drop.
    #[track_caller]
    pub fn start_private() -> PgFixture {
        PgFixture::launch(true)
    }

    #[track_caller]
    fn launch(private: bool) -> PgFixture {
        let n = RUN_SEQ.fetch_add(1, Ordering::Relaxed);
        let run_dir = std::env::temp_dir().join(format!("cutover-pg-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&run_dir);
        std::fs::create_dir_all(&run_dir)
            .unwrap_or_else(|e| panic!("pg fixture: create {}: {e}", run_dir.display()));
        let span = u32::from(PORT_LAST - PORT_FIRST) + 1;
        let offset = (std::process::id().wrapping_mul(7) + n * 13) % span;
        let mut last_err = String::new();
        for i in 0..span {
            let port = PORT_FIRST + ((offset + i) % span) as u16;
            if !port_free(port) {
                continue;
            }
            match Self::run_start(&run_dir, port) {
                Ok(()) => return Self::read_back(run_dir, port, private),
                Err((3, _)) => continue, // taken meanwhile
                Err((_, msg)) => {
                    last_err = msg;
                    break;
                }
            }
        }
        let _ = std::fs::remove_dir_all(&run_dir);
        if last_err.is_empty() {
            last_err = format!("no free port in {PORT_FIRST}-{PORT_LAST}");
        }
        panic!("pg fixture: cannot start PostgreSQL: {last_err}");
    }

    fn run_start(run_dir: &Path, port: u16) -> Result<(), (i32, String)> {
        let out = Command::new("bash")
            .arg(repo_path("tests/fixture/pg/start.sh"))
            .env("PG_PORT", port.to_string())
            .env("FIXTURE_RUN_DIR", run_dir)
            .env("FIXTURE_WATCH_PID", std::process::id().to_string())
            .env("FIXTURE_REMOVE_RUN_DIR", "1")
            .output()
            .map_err(|e| (1, format!("run start.sh: {e}")))?;
        if out.status.success() {
            Ok(())
        } else {
            Err((
                out.status.code().unwrap_or(1),
                String::from_utf8_lossy(&out.stderr).trim().to_string(),
            ))
        }
    }

    fn read_back(run_dir: PathBuf, port: u16, private: bool) -> PgFixture {
        let env = std::fs::read_to_string(run_dir.join("pg.env")).expect("pg fixture: pg.env");
        let bin = env
            .lines()
            .find_map(|l| l.strip_prefix("PG_BIN="))
            .expect("pg fixture: PG_BIN in pg.env");
        let password = std::fs::read_to_string(run_dir.join("password"))
            .expect("pg fixture: password file")
            .trim()
            .to_string();
        PgFixture {
            bin: PathBuf::from(bin),
            run_dir,
            port,
            password,
            private,
        }
    }

    /// The port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The password of user `cutover` (a superuser).
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The run directory (data, logs, pids).
    pub fn run_dir(&self) -> &Path {
        &self.run_dir
    }

    /// `postgres://cutover@127.0.0.1:<port>/<db>`.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://cutover@127.0.0.1:{}/{db}", self.port)
    }

    /// Runs `sql` with psql in database `db`; returns its unaligned output.
    #[track_caller]
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args([
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
            ])
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                "cutover",
                "-d",
                db,
                "-c",
                sql,
            ])
            .env("PGPASSWORD", &self.password)
            .output()
            .unwrap_or_else(|e| panic!("pg fixture: run psql: {e}"));
        assert!(
            out.status.success(),
            "pg fixture: psql {sql:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// A new, empty database for one test.
    #[track_caller]
    pub fn fresh_db(&self) -> PgDb {
        let name = format!("t_{}", DB_SEQ.fetch_add(1, Ordering::Relaxed));
        self.psql("postgres", &format!("CREATE DATABASE {name}"));
        PgDb {
            url: self.url(&name),
            name,
            password: self.password.clone(),
        }
    }

    /// Stops the server by PID (`stop.sh`); the data directory stays.
    pub fn stop(&self) {
        let _ = Command::new("bash")
            .arg(repo_path("tests/fixture/pg/stop.sh"))
            .env("FIXTURE_RUN_DIR", &self.run_dir)
            .output();
    }

    /// Starts the stopped server again on the same port and data.
    #[track_caller]
    pub fn restart(&self) {
        if let Err((code, msg)) = Self::run_start(&self.run_dir, self.port) {
            panic!(
                "pg fixture: restart on port {} failed ({code}): {msg}",
                self.port
            );
        }
    }
}

impl Drop for PgFixture {
    fn drop(&mut self) {
        if self.private {
            self.stop();
            let _ = std::fs::remove_dir_all(&self.run_dir);
        }
    }
}

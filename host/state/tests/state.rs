//! Integration tests for cutover-state, one binary, one suite for both
//! backends (`state/harness.rs`: each `fn name(Backend)` runs as `name::dir`
//! and `name::pg`, the latter against a real PostgreSQL started by
//! `tests/fixture/pg/start.sh`): journal integrity under SIGKILL, bit flips
//! and truncation (`state/journal.rs`) or SQL edits (`state/journal_pg.rs`),
//! the blob store (`state/blob.rs`), the lease (`state/lease.rs`) and its
//! fencing (`state/lease_pg.rs`), documents (`state/docs.rs`), database
//! failures (`state/pg_errors.rs`) and snapshots.
//!
//! Some tests re-execute this binary as a child process running an `#[ignore]`d
//! helper test selected with `--ignored --exact <name>` and an environment variable.

#[macro_use]
#[path = "state/harness.rs"]
mod harness;

#[path = "state/blob.rs"]
mod blob;
#[path = "state/docs.rs"]
mod docs;
#[path = "state/group_commit.rs"]
mod group_commit;
#[path = "state/journal.rs"]
mod journal;
#[path = "state/journal_pg.rs"]
mod journal_pg;
#[path = "state/lease.rs"]
mod lease;
#[path = "state/lease_pg.rs"]
mod lease_pg;
#[path = "state/pg_errors.rs"]
mod pg_errors;
#[path = "state/pg_tls.rs"]
mod pg_tls;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

const CHILD_DIR_ENV: &str = "CUTOVER_STATE_TEST_CHILD_DIR";

/// This binary re-executed to run only the ignored helper test `test_name`
/// (its full path, e.g. `lease::lease_child_holder`) on `dir`.
fn child_command(test_name: &str, dir: &Path) -> Command {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = Command::new(exe);
    cmd.args([
        "--ignored",
        "--exact",
        test_name,
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD_DIR_ENV, dir)
    .stdout(Stdio::piped())
    .stderr(
        if std::env::var_os("CUTOVER_STATE_TEST_CHILD_STDERR").is_some() {
            Stdio::inherit()
        } else {
            Stdio::null()
        },
    );
    cmd
}

fn child_dir() -> PathBuf {
    std::env::var_os(CHILD_DIR_ENV)
        .map(Into::into)
        .expect("helper test: run only as a child via the parent test")
}

/// Spawn `cmd`; a thread forwards each stdout line into the returned channel.
fn spawn_with_reader(mut cmd: Command) -> (Child, mpsc::Receiver<String>) {
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

//! The `cutover` binary end to end: exit codes, stdout and stderr. One test
//! binary: running, resuming and operating a plan (`cli/run_cmds.rs`), a
//! SIGKILL torture run (`cli/torture.rs`), metrics and incidents
//! (`cli/monitoring.rs`), gates (`cli/gates.rs`), rollbacks
//! (`cli/rollback.rs`), the backup commands (`cli/backup_cmds.rs`), what adapters declare (`cli/declared.rs`), `init`
//! (`cli/init.rs`), migrations (`cli/migrate.rs`), the plugin commands
//! (`cli/plugin_cmds.rs`; their limits, `cli/plugin_limits.rs`), `translate` (`cli/translate.rs`), output
//! snapshots (`cli/snapshots.rs`), `backtest` (`cli/backtest.rs`), `watch`
//! (`cli/watch.rs`), two runners on one PostgreSQL state
//! (`cli/two_runners.rs`), `state migrate` (`cli/state_cmds.rs`), waves of services (`cli/waves.rs`) and the real-system runs (`cli/e2e*.rs`;
//! `cli/e2e_torture.rs` SIGKILLs the reference migration, its rollback and
//! a second migration; `cli/e2e_canary.rs` runs the paging canary).

#[path = "cli/backtest.rs"]
mod backtest;
#[path = "cli/backup_cmds.rs"]
mod backup_cmds;
#[path = "cli/declared.rs"]
mod declared;
#[path = "cli/e2e.rs"]
mod e2e;
#[path = "cli/e2e_canary.rs"]
mod e2e_canary;
#[path = "cli/e2e_migration.rs"]
mod e2e_migration;
#[path = "cli/e2e_torture.rs"]
mod e2e_torture;
#[path = "cli/gates.rs"]
mod gates;
#[path = "cli/init.rs"]
mod init;
#[path = "cli/migrate.rs"]
mod migrate;
#[path = "cli/monitoring.rs"]
mod monitoring;
#[path = "cli/plugin_cmds.rs"]
mod plugin_cmds;
#[path = "cli/plugin_limits.rs"]
mod plugin_limits;
#[path = "cli/rollback.rs"]
mod rollback;
#[path = "cli/run_cmds.rs"]
mod run_cmds;
#[path = "cli/snapshots.rs"]
mod snapshots;
#[path = "cli/state_cmds.rs"]
mod state_cmds;
#[path = "cli/torture.rs"]
mod torture;
#[path = "cli/translate.rs"]
mod translate;
#[path = "cli/two_runners.rs"]
mod two_runners;
#[path = "cli/watch.rs"]
mod watch;
#[path = "cli/waves.rs"]
mod waves;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use cutover_base::exit::ExitClass;
use cutover_test_kit::plan::{PlanBuilder, system_dirs};
use monitoring::{free_port, scrape};

pub(crate) use cutover_test_kit::plan::{noop_step, phase, step, wait_step};
pub(crate) use cutover_test_kit::{plugins_dir, repo_root as root};

fn cutover(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cutover"));
    c.current_dir(dir)
        .env("CUTOVER_CACHE_DIR", root().join("target/engine-test-cache"))
        .env_remove("CUTOVER_LOG");
    c
}

fn run(dir: &Path, args: &[&str]) -> Output {
    cutover(dir).args(args).output().expect("spawn cutover")
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// The exit class of an exit status, if it is one.
fn class(code: i32) -> Option<ExitClass> {
    u8::try_from(code).ok().and_then(ExitClass::from_code)
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
fn expect(o: &Output, want: i32) {
    assert_eq!(
        code(o),
        want,
        "exit code\n--- stdout\n{}\n--- stderr\n{}",
        out(o),
        err(o)
    );
}

/// Writes `plan.toml` in a fresh tempdir (plugins by absolute path, data
/// directories `old`/`new` beside it) and pins it with `cutover plugin lock`.
fn fixture(body: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    system_dirs(tmp.path(), |_| "x: 1\n".into());
    PlanBuilder::new("cli-test")
        .unpinned()
        .plugin("noop", "noop-action", "")
        .file_systems()
        .write(tmp.path(), body);
    expect(
        &run(tmp.path(), &["plugin", "lock", "plan.toml"]),
        ExitClass::Ok.into(),
    );
    tmp
}

const GATED: &str = r#"
[[phases]]
id = "one"
name = "One"
risk = "low"
rollback_point = false
[[phases.steps]]
id = "s1"
kind = "action"
plugin = "noop"

[[phases]]
id = "two"
name = "Two"
risk = "low"
rollback_point = false
gate = { approvers = ["alice"], message = "ready for two?" }
[[phases.steps]]
id = "s2"
kind = "action"
plugin = "noop"
params = { x = 1 }
"#;

fn status_json(dir: &Path) -> serde_json::Value {
    let o = run(dir, &["status", "plan.toml", "--json"]);
    expect(&o, ExitClass::Ok.into());
    serde_json::from_str(&out(&o)).expect("status json")
}

/// `run` that must end with exit code `want`.
#[track_caller]
fn run_expect(dir: &Path, args: &[&str], want: i32) -> Output {
    let o = run(dir, args);
    expect(&o, want);
    o
}

/// Asserts that `text` contains `part`, showing `text` when it does not.
#[track_caller]
fn assert_has(text: &str, part: &str) {
    assert!(text.contains(part), "{text}");
}

/// Starts `cutover run plan.toml` in `dir` in the background and returns
/// once a wait step has started: the runner holds the lease then.
fn spawn_run_until_waiting(dir: &Path) -> Child {
    let child = cutover(dir)
        .args(["run", "plan.toml"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    wait_for("the wait step to start", || {
        std::fs::read_to_string(dir.join(".state/journal.log"))
            .is_ok_and(|j| j.contains("step-deadline"))
    });
    child
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !f() {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

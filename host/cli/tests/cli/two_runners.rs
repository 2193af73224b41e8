//! Two `cutover` runners with separate working directories on one plan
//! whose state is in a real PostgreSQL (issue 18, item 4): one runs, the
//! other is refused naming the holder; a SIGKILLed holder is taken over
//! after its lease expires and the run completes with nothing lost or done
//! twice; a SIGSTOPped holder woken after a takeover cannot write.

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use cutover_base::exit::ExitClass;
use cutover_test_kit::pg::{PgDb, PgFixture};

use super::*;

/// Lease time to live of the runners in these tests (their keepers
/// refresh it every third of that).
const TTL_MS: u64 = 1500;

/// `cutover` in `dir` with the plan's state in `db`.
pub(crate) fn on_db(dir: &Path, db: &PgDb) -> Command {
    let mut c = cutover(dir);
    c.env("CUTOVER_STATE_URL", &db.url)
        .envs(db.env())
        .env("CUTOVER_LEASE_TTL_MS", TTL_MS.to_string());
    c
}

pub(crate) fn db_run(dir: &Path, db: &PgDb, args: &[&str]) -> Output {
    on_db(dir, db).args(args).output().expect("spawn cutover")
}

/// The journal as `cutover history --json` reads it (chain verified).
pub(crate) fn records(dir: &Path, db: &PgDb) -> Vec<serde_json::Value> {
    let o = db_run(dir, db, &["history", "plan.toml", "--json"]);
    expect(&o, ExitClass::Ok.into());
    serde_json::from_str(&out(&o)).expect("history json")
}

/// A plan of `steps` steps: waits of 120 ms between no-op actions, every
/// other action not idempotent.
pub(crate) fn slow_plan(steps: usize) -> String {
    let mut body = String::from(
        "\n[[phases]]\nid = \"p0\"\nname = \"P0\"\nrisk = \"low\"\nrollback_point = false\n",
    );
    for s in 0..steps {
        let step = match s % 3 {
            2 => "kind = \"wait\"\nduration = \"120ms\"".to_string(),
            n => format!(
                "kind = \"action\"\nplugin = \"noop\"\nparams = {{ n = {s} }}\nidempotent = {}",
                n == 1
            ),
        };
        body.push_str(&format!("[[phases.steps]]\nid = \"s{s}\"\n{step}\n"));
    }
    body
}

pub(crate) fn spawn_run(dir: &Path, db: &PgDb, cmd: &str) -> Child {
    on_db(dir, db)
        .args([cmd, "plan.toml"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn")
}

/// Waits (at most `secs`) for `child` to exit, saying `what` otherwise;
/// its exit class and stderr.
pub(crate) fn exit_of(child: &mut Child, secs: u64, what: &str) -> (Option<ExitClass>, String) {
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            break s;
        }
        assert!(t0.elapsed() < Duration::from_secs(secs), "{what}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    if let Some(e) = child.stderr.as_mut() {
        std::io::Read::read_to_string(e, &mut stderr).expect("stderr");
    }
    (status.code().and_then(class), stderr)
}

/// Waits until the journal holds `n` finished steps.
pub(crate) fn wait_for_steps(dir: &Path, db: &PgDb, n: usize) {
    let t0 = Instant::now();
    loop {
        let done = records(dir, db)
            .iter()
            .filter(|r| r["kind"] == "step-finished")
            .count();
        if done >= n {
            return;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "the run never got to {n} steps"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `resume` until the run completes, approving interrupted non-idempotent
/// steps (needs-attention) on the way.
pub(crate) fn finish(dir: &Path, db: &PgDb) {
    for _ in 0..20 {
        let o = db_run(dir, db, &["resume", "plan.toml"]);
        match class(code(&o)) {
            Some(ExitClass::Ok) => return,
            Some(ExitClass::Paused) => {
                let s = db_run(dir, db, &["status", "plan.toml", "--json"]);
                let s: serde_json::Value = serde_json::from_str(&out(&s)).expect("status");
                let target = s["waiting_for"].as_str().expect("waiting for").to_string();
                expect(
                    &db_run(
                        dir,
                        db,
                        &["approve", "plan.toml", &target, "--by", "second"],
                    ),
                    ExitClass::Ok.into(),
                );
            }
            _ => panic!("resume failed\n{}\n{}", out(&o), err(&o)),
        }
    }
    panic!("the run did not complete in 20 resumes");
}

/// Every step finished exactly once; no non-idempotent step started twice.
pub(crate) fn assert_each_step_once(records: &[serde_json::Value], steps: usize) {
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r["seq"].as_u64(), Some(i as u64 + 1), "contiguous seqs");
    }
    for s in 0..steps {
        let id = format!("s{s}");
        let of = |kind: &str| {
            records
                .iter()
                .filter(|r| r["kind"] == kind && r["payload"]["step"] == id.as_str())
                .count()
        };
        assert_eq!(of("step-finished"), 1, "{id}: exactly one step-finished");
        if s % 3 == 0 {
            assert!(
                of("step-started") <= 1,
                "{id} (not idempotent) started twice"
            );
        }
    }
}

/// Two working directories of one plan of `steps` steps on a fresh
/// database, and a runner started in the first that has finished three
/// steps.
struct TwoRunners {
    db: PgDb,
    a: tempfile::TempDir,
    b: tempfile::TempDir,
    first: Child,
}

impl TwoRunners {
    fn start(steps: usize) -> TwoRunners {
        let db = PgFixture::start().fresh_db();
        let body = slow_plan(steps);
        let (a, b) = (fixture(&body), fixture(&body));
        let first = spawn_run(a.path(), &db, "run");
        wait_for_steps(b.path(), &db, 3);
        TwoRunners { db, a, b, first }
    }
}

#[test]
fn a_second_runner_is_refused_then_takes_over_a_killed_holder_after_expiry() {
    const STEPS: usize = 60;
    let TwoRunners {
        db,
        a,
        b,
        mut first,
    } = TwoRunners::start(STEPS);
    let (a, b) = (a.path(), b.path());
    // The second runner is refused, naming the holder.
    let o = db_run(b, &db, &["run", "plan.toml"]);
    expect(&o, ExitClass::State.into());
    assert_has(&err(&o), "lease held by");
    assert_has(&err(&o), &format!("pid {}", first.id()));

    // SIGKILL the holder: its lease lives on until it expires.
    first.kill().expect("SIGKILL");
    first.wait().expect("wait");
    let killed_at = Instant::now();
    let o = db_run(b, &db, &["resume", "plan.toml"]);
    if killed_at.elapsed() < Duration::from_millis(TTL_MS / 2) {
        expect(&o, ExitClass::State.into());
        assert_has(&err(&o), "lease held by");
    }
    std::thread::sleep(Duration::from_millis(TTL_MS + 300));
    finish(b, &db);

    let recs = records(b, &db);
    assert_each_step_once(&recs, STEPS);
    assert!(
        recs.iter().any(|r| r["kind"] == "lease-recovered"),
        "the takeover is journaled"
    );
    let status = db_run(b, &db, &["status", "plan.toml", "--json"]);
    let status: serde_json::Value = serde_json::from_str(&out(&status)).expect("status");
    assert_eq!(status["status"], "completed");
    // Neither working directory holds a journal: the state is the database's.
    for dir in [a, b] {
        assert!(!dir.join(".state/journal.log").exists());
        assert!(!dir.join(".cutover/journal.log").exists());
    }
}

#[test]
fn a_holder_stopped_past_its_lease_and_woken_after_a_takeover_cannot_write() {
    const STEPS: usize = 45;
    let TwoRunners {
        db,
        a: _a,
        b,
        mut first,
    } = TwoRunners::start(STEPS);
    let b = b.path();
    let pid = first.id().to_string();
    let signal = |sig: &str| {
        let ok = Command::new("kill")
            .args([sig, &pid])
            .status()
            .expect("kill");
        assert!(ok.success(), "kill {sig} {pid}");
    };
    signal("-STOP");
    std::thread::sleep(Duration::from_millis(TTL_MS + 500));
    finish(b, &db);
    let before = records(b, &db);
    assert_each_step_once(&before, STEPS);

    // Woken, the old holder finds its lease gone and writes nothing.
    signal("-CONT");
    let (class_of, stderr) = exit_of(&mut first, 30, "the woken holder did not stop");
    assert_eq!(
        class_of,
        Some(ExitClass::State),
        "the woken holder exits with a state error\n{stderr}"
    );
    assert!(
        stderr.contains("lost") || stderr.contains("refused"),
        "it says its lease is gone: {stderr}"
    );
    let after = records(b, &db);
    assert_eq!(after.len(), before.len(), "the woken holder wrote nothing");
    assert_eq!(after, before);
}

#[test]
fn a_pause_asked_from_another_working_directory_reaches_the_runner_through_the_database() {
    const STEPS: usize = 45;
    let TwoRunners {
        db,
        a: _a,
        b,
        mut first,
    } = TwoRunners::start(STEPS);
    let b = b.path();
    let o = db_run(
        b,
        &db,
        &[
            "pause",
            "plan.toml",
            "--reason",
            "look at checkout",
            "--by",
            "ana",
        ],
    );
    expect(&o, ExitClass::Ok.into());
    assert_has(
        &out(&o),
        "the active runner will stop at its next step boundary",
    );
    let (class_of, stderr) = exit_of(&mut first, 30, "the runner did not pause");
    assert_eq!(class_of, Some(ExitClass::Paused), "{stderr}");
    let recs = records(b, &db);
    let paused = recs
        .iter()
        .find(|r| r["kind"] == "paused")
        .expect("a paused record");
    assert_eq!(paused["payload"]["by"], "ana");
    assert_eq!(paused["payload"]["reason"], "look at checkout");
    // The request was consumed: resuming runs to the end.
    finish(b, &db);
    assert_each_step_once(&records(b, &db), STEPS);
}

/// SIGKILLs runners on the database state at random moments, each
/// successor taking over once the lease expires: nothing acknowledged is
/// lost, no step finishes twice, no non-idempotent step starts twice.
#[test]
fn runners_killed_again_and_again_on_the_database_lose_nothing() {
    const STEPS: usize = 240;
    const KILLS: usize = 12;
    let db = PgFixture::start().fresh_db();
    let tmp = fixture(&slow_plan(STEPS));
    let dir = tmp.path();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    let mut rng = cutover_test_kit::rng::Rng::seeded(seed);
    let mut kills = 0;
    let t0 = Instant::now();
    while kills < KILLS {
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "took too long (seed {seed})"
        );
        let started = db_run(dir, &db, &["history", "plan.toml", "--json"]);
        let cmd = if out(&started).contains("\"run-started\"") {
            "resume"
        } else {
            "run"
        };
        let mut child = spawn_run(dir, &db, cmd);
        std::thread::sleep(Duration::from_millis(150 + rng.below(600)));
        if matches!(child.try_wait(), Ok(None)) {
            let _ = child.kill();
            let _ = child.wait();
            kills += 1;
            // The killed holder's lease must expire before anyone takes over.
            std::thread::sleep(Duration::from_millis(TTL_MS + 100));
            continue;
        }
        let code = child.wait().expect("wait").code();
        match code.and_then(class) {
            Some(ExitClass::Ok) => break,
            // Refused (the lease of the last kill still live) or paused on
            // an interrupted step: `finish` below approves and goes on.
            Some(ExitClass::State | ExitClass::Paused) => {
                if code.and_then(class) == Some(ExitClass::Paused) {
                    let s = db_run(dir, &db, &["status", "plan.toml", "--json"]);
                    let s: serde_json::Value = serde_json::from_str(&out(&s)).expect("status");
                    let target = s["waiting_for"].as_str().expect("waiting for").to_string();
                    expect(
                        &db_run(dir, &db, &["approve", "plan.toml", &target, "--by", "t"]),
                        ExitClass::Ok.into(),
                    );
                }
            }
            other => panic!("unexpected exit {other:?} (seed {seed})"),
        }
    }
    assert_eq!(
        kills, KILLS,
        "the run ended before {KILLS} kills: make it longer (seed {seed})"
    );
    finish(dir, &db);
    let recs = records(dir, &db);
    assert_each_step_once(&recs, STEPS);
    let recovered = recs
        .iter()
        .filter(|r| r["kind"] == "lease-recovered")
        .count();
    eprintln!("database torture: {kills} kills, {recovered} takeovers, seed {seed}");
    assert!(
        recovered >= kills.min(1),
        "takeovers are journaled (seed {seed})"
    );
}

#[test]
fn unlock_force_takes_over_a_killed_holder_without_waiting_for_expiry() {
    const STEPS: usize = 45;
    let TwoRunners {
        db,
        a: _a,
        b,
        mut first,
    } = TwoRunners::start(STEPS);
    let b = b.path();
    first.kill().expect("SIGKILL");
    first.wait().expect("wait");
    let o = db_run(
        b,
        &db,
        &[
            "unlock",
            "plan.toml",
            "--force",
            "--reason",
            "its host died",
        ],
    );
    expect(&o, ExitClass::Ok.into());
    assert_has(&out(&o), "lease removed");
    // At once, well inside the dead holder's time to live.
    finish(b, &db);
    let recs = records(b, &db);
    assert_each_step_once(&recs, STEPS);
    let unlocked = recs
        .iter()
        .find(|r| r["kind"] == "unlocked")
        .expect("the unlock is journaled");
    assert_eq!(unlocked["payload"]["reason"], "its host died");
}

//! `cutover run | resume | status | approve | abort | pause | history | unlock`
//! end to end: exit codes, stdout and stderr, and a SIGKILL torture run.

#[path = "cli/declared.rs"]
mod declared;
#[path = "cli/e2e.rs"]
mod e2e;
#[path = "cli/e2e_migration.rs"]
mod e2e_migration;
#[path = "cli/gates.rs"]
mod gates;
#[path = "cli/init.rs"]
mod init;
#[path = "cli/migrate.rs"]
mod migrate;
#[path = "cli/plugin_cmds.rs"]
mod plugin_cmds;
#[path = "cli/rollback.rs"]
mod rollback;
#[path = "cli/translate.rs"]
mod translate;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn plugins_dir() -> PathBuf {
    root().join("target/plugins")
}

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

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).expect("copy");
        }
    }
}

/// Writes `plan.toml` in a fresh tempdir (plugins by absolute path, data
/// directories `old`/`new` beside it) and pins it with `cutover plugin lock`.
fn fixture(body: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    for side in ["old", "new"] {
        std::fs::create_dir_all(tmp.path().join(side)).expect("mkdir");
        std::fs::write(tmp.path().join(side).join("configurations.yml"), "x: 1\n").expect("write");
    }
    let p = plugins_dir();
    let zeros = "0".repeat(64);
    let text = format!(
        r#"[plan]
name = "cli-test"
state_dir = ".state"

[plugins.noop]
path = "{noop}"
sha256 = "{zeros}"

[plugins.file-old]
path = "{file}"
sha256 = "{zeros}"
grants = {{ dirs = [{{ name = "data", path = "old", write = true }}] }}

[plugins.file-new]
path = "{file}"
sha256 = "{zeros}"
grants = {{ dirs = [{{ name = "data", path = "new", write = true }}] }}

[systems.old]
adapter = "file-old"
label = "old"

[systems.new]
adapter = "file-new"
label = "new"
{body}"#,
        noop = p.join("noop-action.wasm").display(),
        file = p.join("file-adapter.wasm").display(),
    );
    std::fs::write(tmp.path().join("plan.toml"), text).expect("write plan");
    expect(&run(tmp.path(), &["plugin", "lock", "plan.toml"]), 0);
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
    expect(&o, 0);
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

/// A low-risk `[[phases]]` table for `fixture`: `keys` (`rollback_point`,
/// `gate`, one a line) and then its `[[phases.steps]]` tables.
fn phase(id: &str, name: &str, keys: &str, steps: &[String]) -> String {
    format!(
        "\n[[phases]]\nid = \"{id}\"\nname = \"{name}\"\nrisk = \"low\"\n{keys}\n{}",
        steps.concat()
    )
}

/// A `[[phases.steps]]` table running the noop action.
fn noop_step(id: &str) -> String {
    format!("[[phases.steps]]\nid = \"{id}\"\nkind = \"action\"\nplugin = \"noop\"\n")
}

/// A `[[phases.steps]]` table waiting `duration`.
fn wait_step(id: &str, duration: &str) -> String {
    format!("[[phases.steps]]\nid = \"{id}\"\nkind = \"wait\"\nduration = \"{duration}\"\n")
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

#[test]
fn offline_demo_runs_to_completion() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let plans = tmp.path().join("plans");
    copy_dir(&root().join("plans/demo-data"), &plans.join("demo-data"));
    let src = std::fs::read_to_string(root().join("plans/offline-demo.toml")).expect("demo plan");
    let abs = format!("{}/", plugins_dir().display());
    std::fs::write(
        plans.join("offline-demo.toml"),
        src.replace("../target/plugins/", &abs),
    )
    .expect("write");
    let plan = "plans/offline-demo.toml";
    expect(&run(tmp.path(), &["plugin", "lock", plan]), 0);

    // The demo's story (scripts/demo.sh): preparation waits for a person to
    // confirm the backups; the non-critical pilot's gate stops on the 2
    // missing alerts; the new system's corrected recording fixes it; two
    // more manual items are confirmed by name; the run completes.
    let o = run_expect(tmp.path(), &["run", plan], 5);
    assert_has(&out(&o), "critical checklist item 0");
    run_expect(
        tmp.path(),
        &["approve", plan, "preparation", "--item", "0", "--by", "op"],
        0,
    );
    let o = run_expect(tmp.path(), &["resume", plan], 5);
    assert_has(&out(&o), "missing on the new one");
    assert_has(&out(&o), "DiskAlmostFull");
    assert_has(&err(&o), "parallel-noncritical: poll 1/4");
    assert_has(&err(&o), "match rate 66.7%");
    for f in ["alerts.json", "alert_rules.yml"] {
        std::fs::copy(
            plans.join("demo-data/new-fixed").join(f),
            plans.join("demo-data/new").join(f),
        )
        .expect("fix");
    }
    run_expect(tmp.path(), &["resume", plan], 5);
    run_expect(
        tmp.path(),
        &[
            "approve",
            plan,
            "full-migration",
            "--item",
            "0",
            "--by",
            "op",
        ],
        0,
    );
    run_expect(tmp.path(), &["resume", plan], 5);
    run_expect(
        tmp.path(),
        &["approve", plan, "decommission", "--item", "0", "--by", "op"],
        0,
    );
    let o = run_expect(tmp.path(), &["resume", plan], 0);
    assert_has(&out(&o), "run completed: every phase passed");

    let o = run(tmp.path(), &["status", plan, "--json"]);
    expect(&o, 0);
    let s: serde_json::Value = serde_json::from_str(&out(&o)).expect("json");
    assert_eq!(s["status"], "completed");
    assert!(
        s["fingerprint"]
            .as_str()
            .is_some_and(|f| f.starts_with("sha256:"))
    );
    let phases = s["phases"].as_array().expect("phases");
    assert_eq!(phases.len(), 5);
    assert!(phases.iter().all(|p| p["status"] == "passed"), "{phases:?}");
    for id in ["parallel-noncritical", "parallel-core", "parallel-full"] {
        let step = phases
            .iter()
            .flat_map(|p| p["steps"].as_array().expect("steps"))
            .find(|s| s["id"] == id)
            .expect("step");
        assert_eq!(step["status"], "succeeded", "{id} gates: {step}");
    }

    let text = run(tmp.path(), &["status", plan]);
    assert!(out(&text).contains("match rate  100.0%"), "{}", out(&text));

    let h = run(tmp.path(), &["history", plan, "--json"]);
    expect(&h, 0);
    let records: Vec<serde_json::Value> = serde_json::from_str(&out(&h)).expect("history json");
    let finished: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| r["kind"] == "step-finished")
        .collect();
    assert_eq!(
        finished.len(),
        16,
        "every step of the demo finished once, the stopped pilot run twice"
    );
    let noop = finished
        .iter()
        .find(|r| r["payload"]["step"] == "route-all")
        .expect("route-all");
    assert_eq!(noop["payload"]["plugin"], "noop-action");
    assert_eq!(noop["payload"]["digest"].as_str().map(str::len), Some(64));
    let h = run(tmp.path(), &["history", plan]);
    assert!(
        out(&h).contains("pilot-core/route-core succeeded in"),
        "{}",
        out(&h)
    );

    // Running a finished plan again reports it and does nothing.
    let again = run(tmp.path(), &["run", plan]);
    expect(&again, 0);
    assert!(
        err(&again).contains("had already finished"),
        "{}",
        err(&again)
    );
    let after: Vec<serde_json::Value> =
        serde_json::from_str(&out(&run(tmp.path(), &["history", plan, "--json"]))).expect("json");
    assert_eq!(after.len(), records.len());
}

#[test]
fn gate_pauses_until_approve_and_resume() {
    let tmp = fixture(GATED);
    let dir = tmp.path();
    let o = run(dir, &["run", "plan.toml"]);
    expect(&o, 5);
    assert!(
        out(&o).contains("awaiting approval of two (ready for two?)"),
        "{}",
        out(&o)
    );
    let s = status_json(dir);
    assert_eq!(s["status"], "paused");
    assert_eq!(s["waiting_for"], "two");

    let o = run(dir, &["approve", "plan.toml", "two", "--by", "mallory"]);
    expect(&o, 2);
    assert!(
        err(&o).contains("mallory may not approve phase two"),
        "{}",
        err(&o)
    );
    let o = run(dir, &["approve", "plan.toml", "nope"]);
    expect(&o, 2);

    let o = run(dir, &["approve", "plan.toml", "two", "--by", "alice"]);
    expect(&o, 0);
    assert!(out(&o).contains("approved two by alice"), "{}", out(&o));
    let o = run(dir, &["resume", "plan.toml"]);
    expect(&o, 0);
    assert_eq!(status_json(dir)["status"], "completed");
    let h = out(&run(dir, &["history", "plan.toml"]));
    assert!(h.contains("approved") && h.contains("two by alice"), "{h}");
}

#[test]
fn resume_without_a_run_is_a_usage_error() {
    let tmp = fixture(GATED);
    let o = run(tmp.path(), &["resume", "plan.toml"]);
    expect(&o, 2);
    assert!(err(&o).contains("no run has been started"), "{}", err(&o));
}

#[test]
fn stale_plan_is_refused_and_replan_accepted() {
    let tmp = fixture(GATED);
    let dir = tmp.path();
    expect(&run(dir, &["run", "plan.toml"]), 5);
    let plan = dir.join("plan.toml");
    let text = std::fs::read_to_string(&plan).expect("read");
    std::fs::write(
        &plan,
        text.replace("params = { x = 1 }", "params = { x = 2 }"),
    )
    .expect("write");
    let o = run(dir, &["resume", "plan.toml"]);
    expect(&o, 8);
    assert!(
        err(&o).contains("phase `two`: step `s2` changed"),
        "{}",
        err(&o)
    );
    assert!(err(&o).contains("--replan"), "{}", err(&o));
    let o = run(dir, &["resume", "plan.toml", "--replan"]);
    expect(&o, 5);
    let h = out(&run(dir, &["history", "plan.toml"]));
    assert!(h.contains("replanned"), "{h}");
}

#[test]
fn corrupt_journal_is_reported_with_its_position() {
    let tmp = fixture(GATED);
    let dir = tmp.path();
    expect(&run(dir, &["run", "plan.toml"]), 5);
    let path = dir.join(".state/journal.log");
    let mut bytes = std::fs::read(&path).expect("read");
    let start = bytes[..bytes.len() - 1]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    bytes[start + 12] ^= 0x04;
    std::fs::write(&path, &bytes).expect("write");
    for args in [&["resume", "plan.toml"][..], &["status", "plan.toml"][..]] {
        let o = run(dir, args);
        expect(&o, 8);
        assert!(
            err(&o).contains(&format!("corrupt at byte offset {start}")),
            "{}",
            err(&o)
        );
    }
}

#[test]
fn abort_ends_the_run() {
    let tmp = fixture(GATED);
    let dir = tmp.path();
    expect(&run(dir, &["run", "plan.toml"]), 5);
    let o = run(dir, &["abort", "plan.toml", "--reason", "change freeze"]);
    expect(&o, 0);
    assert!(out(&o).contains("abort recorded"), "{}", out(&o));
    let o = run(dir, &["resume", "plan.toml"]);
    expect(&o, 6);
    assert!(
        out(&o).contains("run aborted: change freeze"),
        "{}",
        out(&o)
    );
    assert_eq!(status_json(dir)["status"], "aborted");
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

#[test]
fn live_runner_holds_the_lease_and_stops_on_pause() {
    let tmp = fixture(
        r#"
[[phases]]
id = "one"
name = "One"
risk = "low"
rollback_point = false
[[phases.steps]]
id = "long"
kind = "wait"
duration = "3s"
[[phases.steps]]
id = "after"
kind = "action"
plugin = "noop"
"#,
    );
    let dir = tmp.path();
    let first = spawn_run_until_waiting(dir);
    let o = run(dir, &["run", "plan.toml"]);
    expect(&o, 8);
    assert!(err(&o).contains("lease held by"), "{}", err(&o));
    assert!(
        err(&o).contains(&format!("pid {}", first.id())),
        "{}",
        err(&o)
    );

    let o = run(dir, &["pause", "plan.toml", "--reason", "lunch"]);
    expect(&o, 0);
    assert!(out(&o).contains("pause requested"), "{}", out(&o));
    let o = first.wait_with_output().expect("wait");
    expect(&o, 5);
    assert!(out(&o).contains("paused: lunch"), "{}", out(&o));
    assert_eq!(status_json(dir)["status"], "paused");

    let o = run(dir, &["resume", "plan.toml"]);
    expect(&o, 0);
    let s = status_json(dir);
    assert_eq!(s["phases"][0]["steps"][1]["status"], "succeeded");
}

#[test]
fn unlock_requires_force_and_is_journaled() {
    let tmp = fixture(GATED);
    let dir = tmp.path();
    expect(&run(dir, &["run", "plan.toml"]), 5);
    expect(&run(dir, &["unlock", "plan.toml", "--reason", "x"]), 2);
    let o = run(
        dir,
        &["unlock", "plan.toml", "--force", "--reason", "host gone"],
    );
    expect(&o, 0);
    let h = out(&run(dir, &["history", "plan.toml"]));
    assert!(h.contains("unlocked") && h.contains("host gone"), "{h}");
}

/// xorshift64*: deterministic from a printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn kill9(child: &mut Child) -> bool {
    let alive = matches!(child.try_wait(), Ok(None));
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    alive
}

#[test]
fn sigkill_torture_loses_nothing_and_never_repeats_a_non_idempotent_step() {
    const PHASES: usize = 3;
    const STEPS: usize = 120;
    let mut body = String::new();
    for p in 0..PHASES {
        body.push_str(&format!(
            "\n[[phases]]\nid = \"p{p}\"\nname = \"P{p}\"\nrisk = \"low\"\nrollback_point = false\n"
        ));
        for s in 0..STEPS {
            let step = if s % 3 == 2 {
                "kind = \"wait\"\nduration = \"25ms\"".to_string()
            } else {
                // Actions default to non-idempotent; every other one says so explicitly.
                format!(
                    "kind = \"action\"\nplugin = \"noop\"\nparams = {{ n = {s} }}\nidempotent = {}",
                    s % 3 == 1
                )
            };
            body.push_str(&format!("[[phases.steps]]\nid = \"p{p}-s{s}\"\n{step}\n"));
        }
    }
    let tmp = fixture(&body);
    let dir = tmp.path();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    eprintln!("torture seed {seed}");
    let mut rng = Rng(seed);
    let t0 = Instant::now();
    let (mut kills, mut attention, mut started) = (0, 0, false);
    let mut completed = false;
    while kills < 50 {
        assert!(
            t0.elapsed() < Duration::from_secs(150),
            "torture took too long ({kills} kills)"
        );
        // `resume` once a run exists (the first `run` may be killed before it records one).
        started = started
            || std::fs::read_to_string(dir.join(".state/journal.log"))
                .is_ok_and(|j| j.contains("\"run-started\""));
        let cmd = if started { "resume" } else { "run" };
        let mut child = cutover(dir)
            .args([cmd, "plan.toml"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(Duration::from_millis(10 + rng.next() % 120));
        if kill9(&mut child) {
            kills += 1;
            continue;
        }
        match child.wait().ok().and_then(|s| s.code()) {
            Some(0) => {
                completed = true;
                break;
            }
            Some(5) => {
                let s = status_json(dir);
                let target = s["waiting_for"].as_str().expect("waiting for").to_string();
                expect(
                    &run(dir, &["approve", "plan.toml", &target, "--by", "torture"]),
                    0,
                );
                attention += 1;
            }
            other => panic!("unexpected exit {other:?} (seed {seed})"),
        }
    }
    assert!(
        !completed || kills >= 50,
        "the run completed after only {kills} kills: make it longer"
    );
    // Finish.
    loop {
        let o = run(dir, &["resume", "plan.toml"]);
        match code(&o) {
            0 => break,
            5 => {
                let target = status_json(dir)["waiting_for"]
                    .as_str()
                    .expect("target")
                    .to_string();
                expect(
                    &run(dir, &["approve", "plan.toml", &target, "--by", "torture"]),
                    0,
                );
                attention += 1;
            }
            _ => panic!("resume failed (seed {seed})\n{}\n{}", out(&o), err(&o)),
        }
    }
    eprintln!(
        "torture: {kills} kills, {attention} needs-attention approvals, {:?}",
        t0.elapsed()
    );

    // The journal opens (hash chain verified by `history`) and tells the story.
    let h = run(dir, &["history", "plan.toml", "--json"]);
    expect(&h, 0);
    let records: Vec<serde_json::Value> = serde_json::from_str(&out(&h)).expect("json");
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r["seq"].as_u64(), Some(i as u64 + 1), "contiguous seqs");
    }
    for p in 0..PHASES {
        for s in 0..STEPS {
            let id = format!("p{p}-s{s}");
            let of = |kind: &str| {
                records
                    .iter()
                    .filter(|r| r["kind"] == kind && r["payload"]["step"] == id.as_str())
                    .collect::<Vec<_>>()
            };
            let finished = of("step-finished");
            assert_eq!(
                finished.len(),
                1,
                "{id}: exactly one step-finished (seed {seed})"
            );
            let status = finished[0]["payload"]["status"].as_str().unwrap_or("");
            let non_idempotent = s % 3 == 0;
            if non_idempotent {
                assert!(
                    of("step-started").len() <= 1,
                    "{id} (non-idempotent) started twice (seed {seed})"
                );
                assert!(matches!(status, "succeeded" | "skipped"), "{id}: {status}");
            } else {
                assert_eq!(status, "succeeded", "{id}");
            }
        }
    }
    let recovered = records
        .iter()
        .filter(|r| r["kind"] == "lease-recovered")
        .count();
    let interrupted = records
        .iter()
        .filter(|r| r["kind"] == "needs-attention")
        .count();
    eprintln!("torture: {recovered} stale leases recovered, {interrupted} needs-attention records");
    assert!(
        recovered > 0,
        "no kill landed while a runner held the lease (seed {seed})"
    );
    assert_eq!(status_json(dir)["status"], "completed");
}

// ---- monitoring: metrics scrape, incidents ----

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// GET /metrics; `None` while nothing listens.
fn scrape(port: u16) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(b"GET /metrics HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n")
        .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    Some(text)
}

fn progress_of(text: &str, phase: &str) -> Option<f64> {
    text.lines()
        .filter(|l| {
            l.starts_with("migration_progress{") && l.contains(&format!("phase=\"{phase}\""))
        })
        .find_map(|l| l.rsplit(' ').next().and_then(|v| v.parse().ok()))
}

#[test]
fn live_metrics_during_a_run_and_serve_metrics_after() {
    let off = "rollback_point = false";
    let tmp = fixture(
        &(phase("one", "One", off, &[noop_step("s1")])
            + &phase("two", "Two", off, &[wait_step("settle", "2s")])),
    );
    let port = free_port();
    let child = cutover(tmp.path())
        .args([
            "run",
            "plan.toml",
            "--metrics",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut seen = String::new();
    wait_for("phase one at progress 1 while two waits", || {
        seen = scrape(port).unwrap_or_default();
        progress_of(&seen, "one") == Some(1.0)
    });
    assert_eq!(progress_of(&seen, "two"), Some(0.0), "{seen}");
    assert!(
        seen.contains("system_availability{system=\"old\"} 1"),
        "{seen}"
    );
    let o = child.wait_with_output().expect("wait");
    expect(&o, 0);

    let port = free_port();
    let mut server = cutover(tmp.path())
        .args([
            "serve-metrics",
            "plan.toml",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut text = String::new();
    wait_for("serve-metrics folds the journal", || {
        text = scrape(port).unwrap_or_default();
        progress_of(&text, "two") == Some(1.0)
    });
    let scraped = prometheus_scrapes(tmp.path(), port);
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(progress_of(&text, "one"), Some(1.0), "{text}");
    assert!(text.contains("plugin_calls_total{"), "{text}");
    // The real Prometheus scraped and stored both phases' progress.
    assert_eq!(scraped.get("one"), Some(&1.0), "{scraped:?}");
    assert_eq!(scraped.get("two"), Some(&1.0), "{scraped:?}");
}

/// Debian's Prometheus (installed by scripts/system-deps.sh; tests never
/// install anything).
fn ensure_prometheus() -> PathBuf {
    let bin = PathBuf::from("/usr/bin/prometheus");
    assert!(
        bin.is_file(),
        "Debian's prometheus is required and {} is missing: run scripts/system-deps.sh \
         (or scripts/setup.sh) first",
        bin.display()
    );
    bin
}

/// Kills a child by PID when dropped.
struct Reap(Child);

impl Drop for Reap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a real Prometheus on 127.0.0.1 scraping `cutover serve-metrics`
/// on `port` every second; returns `migration_progress` by phase as stored.
fn prometheus_scrapes(dir: &Path, port: u16) -> std::collections::BTreeMap<String, f64> {
    let bin = ensure_prometheus();
    let prom_port = free_port();
    let cfg = dir.join("prometheus.yml");
    std::fs::write(
        &cfg,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: cutover\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
        ),
    )
    .expect("write prometheus.yml");
    let _prom = Reap(
        Command::new(bin)
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus"),
    );
    let mut found = std::collections::BTreeMap::new();
    wait_for("Prometheus stores migration_progress", || {
        found = query_progress(prom_port).unwrap_or_default();
        found.len() >= 2
    });
    found
}

fn query_progress(port: u16) -> Option<std::collections::BTreeMap<String, f64>> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(
        b"GET /api/v1/query?query=migration_progress HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n",
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let body = text.split_once("\r\n\r\n")?.1;
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let mut out = std::collections::BTreeMap::new();
    for r in v["data"]["result"].as_array()? {
        let phase = r["metric"]["phase"].as_str()?.to_string();
        let value = r["value"][1].as_str()?.parse().ok()?;
        out.insert(phase, value);
    }
    Some(out)
}

#[test]
fn incident_list_show_ack_and_resume() {
    let tmp = fixture(
        r#"
[[phases]]
id = "one"
name = "One"
risk = "low"
rollback_point = false
[[phases.steps]]
id = "pr"
kind = "parallel-run"
window = "100ms"
interval = "100ms"
tolerance = "1s"

[emergency.low-rate]
description = "New system misses alerts"
notify = ["oncall"]
steps = ["Check the routing tree", "Page the SRE lead"]
"#,
    );
    for side in ["old", "new"] {
        std::fs::copy(
            root().join(format!("plans/demo-data/{side}/alerts.json")),
            tmp.path().join(side).join("alerts.json"),
        )
        .expect("copy alerts");
    }
    let o = run(
        tmp.path(),
        &["run", "plan.toml", "--on-alert", "emergency:low-rate"],
    );
    expect(&o, 5);
    assert!(out(&o).contains("incident INC-1"), "{}", out(&o));
    assert!(
        out(&o).contains("cutover incident ack PLAN INC-1 1"),
        "{}",
        out(&o)
    );

    let o = run(tmp.path(), &["incident", "list", "plan.toml"]);
    expect(&o, 0);
    assert!(out(&o).contains("INC-1"), "{}", out(&o));
    assert!(out(&o).contains("low-rate"), "{}", out(&o));
    let o = run(tmp.path(), &["incident", "list", "plan.toml", "--json"]);
    expect(&o, 0);
    let all: serde_json::Value = serde_json::from_str(&out(&o)).expect("json");
    assert_eq!(all.as_array().map(Vec::len), Some(1));
    assert_eq!(all[0]["steps"][0]["status"], "pending");
    assert_eq!(all[0]["steps"][0]["kind"], "manual");

    let o = run(
        tmp.path(),
        &["incident", "ack", "plan.toml", "INC-1", "1", "--by", "bob"],
    );
    expect(&o, 0);
    assert!(out(&o).contains("next: step 2"), "{}", out(&o));
    // Acknowledging it twice, or a missing step or incident, is a usage error.
    expect(
        &run(tmp.path(), &["incident", "ack", "plan.toml", "INC-1", "1"]),
        2,
    );
    expect(
        &run(tmp.path(), &["incident", "ack", "plan.toml", "INC-1", "9"]),
        2,
    );
    expect(
        &run(tmp.path(), &["incident", "show", "plan.toml", "INC-7"]),
        2,
    );

    let o = run(
        tmp.path(),
        &["incident", "show", "plan.toml", "INC-1", "--json"],
    );
    expect(&o, 0);
    let inc: serde_json::Value = serde_json::from_str(&out(&o)).expect("json");
    assert_eq!(inc["steps"][0]["status"], "acked");
    assert_eq!(inc["steps"][0]["by"], "bob");
    assert!(inc["steps"][0]["at_ms"].as_i64().is_some());
    assert_eq!(inc["steps"][1]["status"], "pending");
    let o = run(tmp.path(), &["incident", "show", "plan.toml", "INC-1"]);
    assert!(out(&o).contains("status     open"), "{}", out(&o));

    // Still waiting for step 2.
    expect(
        &run(
            tmp.path(),
            &["resume", "plan.toml", "--on-alert", "emergency:low-rate"],
        ),
        5,
    );
    expect(
        &run(tmp.path(), &["incident", "ack", "plan.toml", "INC-1", "2"]),
        0,
    );
    // Fix the new system, then the resume resolves the incident and reruns the step.
    std::fs::copy(
        tmp.path().join("old/alerts.json"),
        tmp.path().join("new/alerts.json"),
    )
    .expect("copy");
    let o = run(
        tmp.path(),
        &["resume", "plan.toml", "--on-alert", "emergency:low-rate"],
    );
    expect(&o, 0);
    let o = run(
        tmp.path(),
        &["incident", "show", "plan.toml", "INC-1", "--json"],
    );
    let inc: serde_json::Value = serde_json::from_str(&out(&o)).expect("json");
    assert!(inc["resolved_ms"].as_i64().is_some(), "{inc}");
}

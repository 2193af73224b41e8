//! Engine behaviour against real plugins: checklists, shadow checks, no-data,
//! gates, lease, stale plans, interrupted steps, rollback, corrupt journals.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use cutover_engine::{
    EngineError, Event, ItemStatus, Mode, RunOptions, RunOutcome, RunStatus, Runner, StepStatus,
    ops,
};
use cutover_plan::{LoadedPlan, PluginInfo, PluginKind, PluginResolver};
use cutover_runtime::{Runtime, wit};
use cutover_state::{FileJournal, Journal};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        let cache = root().join("target/engine-test-cache");
        Runtime::new(Some(&cache)).expect("runtime")
    })
}

struct Resolver;

impl PluginResolver for Resolver {
    fn describe(&self, _id: &str, path: &Path) -> Result<PluginInfo, String> {
        let p = runtime().load_file(path, None).map_err(|e| e.to_string())?;
        let d = p.descriptor();
        Ok(PluginInfo {
            kind: match d.kind {
                wit::PluginKind::Action => PluginKind::Action,
                wit::PluginKind::Check => PluginKind::Check,
                wit::PluginKind::Adapter => PluginKind::Adapter,
            },
            name: d.name.clone(),
            version: d.version.clone(),
            hosts: d.capabilities.hosts.clone(),
            dirs: d
                .capabilities
                .directories
                .iter()
                .map(|r| (r.name.clone(), r.writable))
                .collect(),
            secrets: d.capabilities.secrets.clone(),
            config_keys: d.capabilities.config_keys.clone(),
        })
    }
}

fn plugin(name: &str) -> (String, String) {
    let path = root().join("target/plugins").join(format!("{name}.wasm"));
    let bytes = std::fs::read(&path).expect("built plugin (scripts/build-plugins.sh)");
    (
        path.display().to_string(),
        cutover_runtime::sha256_hex(&bytes),
    )
}

/// A local HTTP server answering 200 to everything; returns its origin.
fn http_server() -> String {
    static ORIGIN: OnceLock<String> = OnceLock::new();
    ORIGIN
        .get_or_init(|| {
            let l = TcpListener::bind("127.0.0.1:0").expect("bind");
            let origin = format!("http://127.0.0.1:{}", l.local_addr().expect("addr").port());
            std::thread::spawn(move || {
                for mut s in l.incoming().flatten() {
                    std::thread::spawn(move || {
                        let mut got = Vec::new();
                        let mut buf = [0u8; 1024];
                        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                            match s.read(&mut buf) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => got.extend_from_slice(&buf[..n]),
                            }
                        }
                        let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
                        // Let the client close first: closing with unread bytes resets.
                        let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(5)));
                        while let Ok(n) = s.read(&mut buf) {
                            if n == 0 {
                                break;
                            }
                        }
                    });
                }
            });
            origin
        })
        .clone()
}

/// Plan header: noop action, http probe granted the local server, two file
/// adapters over `old` and `new` directories of the plan's directory.
fn header(dir: &Path, alerts: bool) -> String {
    for side in ["old", "new"] {
        let d = dir.join(side);
        std::fs::create_dir_all(&d).expect("mkdir");
        std::fs::write(d.join("configurations.yml"), format!("system: {side}\n")).expect("write");
        if alerts {
            std::fs::copy(
                root().join(format!("plans/demo-data/{side}/alerts.json")),
                d.join("alerts.json"),
            )
            .expect("copy alerts");
        }
    }
    let (noop, noop_sha) = plugin("noop-action");
    let (probe, probe_sha) = plugin("http-probe");
    let (file, file_sha) = plugin("file-adapter");
    let origin = http_server();
    format!(
        r#"
[plan]
name = "t"
state_dir = ".state"

[plugins.noop]
path = "{noop}"
sha256 = "{noop_sha}"

[plugins.probe]
path = "{probe}"
sha256 = "{probe_sha}"
grants = {{ hosts = ["{origin}"] }}

[plugins.file-old]
path = "{file}"
sha256 = "{file_sha}"
grants = {{ dirs = [{{ name = "data", path = "old", write = true }}] }}

[plugins.file-new]
path = "{file}"
sha256 = "{file_sha}"
grants = {{ dirs = [{{ name = "data", path = "new", write = true }}] }}

[systems.old]
adapter = "file-old"
label = "old"

[systems.new]
adapter = "file-new"
label = "new"
"#
    )
}

fn pass_params() -> String {
    format!(r#"{{ url = "{}/ok" }}"#, http_server())
}

fn fail_params() -> String {
    format!(r#"{{ url = "{}/ok", expect_status = 204 }}"#, http_server())
}

struct Fixture {
    _tmp: tempfile::TempDir,
    path: PathBuf,
}

impl Fixture {
    fn new(body: &str) -> Fixture {
        Self::with(body, false)
    }

    fn with(body: &str, alerts: bool) -> Fixture {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("plan.toml");
        let text = format!("{}{body}", header(tmp.path(), alerts));
        std::fs::write(&path, text).expect("write plan");
        Fixture { _tmp: tmp, path }
    }

    fn load(&self) -> LoadedPlan {
        match cutover_plan::load(&self.path, &Resolver) {
            Ok(l) => l,
            Err(d) => panic!("invalid test plan:\n{}", d.render_plain()),
        }
    }

    fn run(&self, mode: Mode) -> Result<RunOutcome, EngineError> {
        let plan = self.load();
        let mut r = Runner::open(runtime(), &plan, mode, RunOptions::default())?;
        r.execute()
    }

    fn state_dir(&self) -> PathBuf {
        self.path.parent().expect("dir").join(".state")
    }

    fn events(&self) -> Vec<Event> {
        ops::history(&self.state_dir())
            .expect("history")
            .iter()
            .filter_map(|r| Event::from_record(&r.kind, &r.payload))
            .collect()
    }
}

fn item_statuses(events: &[Event]) -> Vec<(usize, ItemStatus)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::ChecklistItem { index, status, .. } => Some((*index, *status)),
            _ => None,
        })
        .collect()
}

#[test]
fn critical_checklist_failure_halts_and_stops_the_checklist() {
    let fx = Fixture::new(&format!(
        r#"
[[phases]]
id = "one"
name = "One"
risk = "low"
[[phases.steps]]
id = "s1"
kind = "action"
plugin = "noop"
[[phases.checklist]]
item = "probe ok"
critical = true
check = "probe"
params = {fail}
on_failure = "halt"
[[phases.checklist]]
item = "never evaluated"
critical = true
check = "probe"
params = {pass}

[[phases]]
id = "two"
name = "Two"
risk = "low"
[[phases.steps]]
id = "s2"
kind = "action"
plugin = "noop"
"#,
        fail = fail_params(),
        pass = pass_params()
    ));
    let out = fx.run(Mode::Run).expect("run");
    assert!(
        matches!(&out, RunOutcome::Failed { phase, step: None, .. } if phase == "one"),
        "{out:?}"
    );
    let view = ops::status(&fx.state_dir()).expect("status");
    assert_eq!(view.status, RunStatus::Failed);
    assert_eq!(
        view.step_status("s2"),
        StepStatus::Pending,
        "phase two must not start"
    );
    assert_eq!(item_statuses(&fx.events()), vec![(0, ItemStatus::Failed)]);
    // A finished run stays finished.
    assert!(matches!(
        fx.run(Mode::Resume).expect("resume"),
        RunOutcome::Failed { .. }
    ));
}

#[test]
fn non_critical_failure_passes_and_shadow_never_gates() {
    let fx = Fixture::new(&format!(
        r#"
[[phases]]
id = "one"
name = "One"
risk = "low"
[[phases.steps]]
id = "shadow-check"
kind = "check"
plugin = "probe"
params = {fail}
shadow = true
[[phases.steps]]
id = "s1"
kind = "action"
plugin = "noop"
[[phases.checklist]]
item = "non-critical failing"
critical = false
check = "probe"
params = {fail}
on_failure = "halt"
[[phases.checklist]]
item = "shadow failing"
critical = true
check = "probe"
params = {fail}
shadow = true
on_failure = "halt"
[[phases.checklist]]
item = "manual confirmation"
critical = true
"#,
        fail = fail_params(),
    ));
    let out = fx.run(Mode::Run).expect("run");
    assert_eq!(out, RunOutcome::Completed);
    let view = ops::status(&fx.state_dir()).expect("status");
    assert_eq!(view.step_status("shadow-check"), StepStatus::Shadow);
    assert_eq!(view.steps["shadow-check"].verdict.as_deref(), Some("fail"));
    assert_eq!(view.step_status("s1"), StepStatus::Succeeded);
    assert_eq!(
        item_statuses(&fx.events()),
        vec![
            (0, ItemStatus::Failed),
            (1, ItemStatus::Shadow),
            (2, ItemStatus::Manual)
        ]
    );
}

#[test]
fn failing_check_step_fails_the_run() {
    let fx = Fixture::new(&format!(
        r#"
[[phases]]
id = "one"
name = "One"
risk = "low"
[[phases.steps]]
id = "c"
kind = "check"
plugin = "probe"
params = {fail}
"#,
        fail = fail_params()
    ));
    let out = fx.run(Mode::Run).expect("run");
    assert!(
        matches!(&out, RunOutcome::Failed { step: Some(s), .. } if s == "c"),
        "{out:?}"
    );
}

#[test]
fn parallel_run_without_data_is_not_a_pass_unless_shadow() {
    let body = |shadow: bool| {
        format!(
            r#"
[[phases]]
id = "one"
name = "One"
risk = "low"
[[phases.steps]]
id = "pr"
kind = "parallel-run"
window = "200ms"
interval = "100ms"
min_match_rate = 0.0
shadow = {shadow}
"#
        )
    };
    let fx = Fixture::new(&body(false));
    let out = fx.run(Mode::Run).expect("run");
    assert!(
        matches!(&out, RunOutcome::Failed { step: Some(s), .. } if s == "pr"),
        "{out:?}"
    );
    let view = ops::status(&fx.state_dir()).expect("status");
    assert_eq!(view.steps["pr"].verdict.as_deref(), Some("no-data"));

    let fx = Fixture::new(&body(true));
    assert_eq!(fx.run(Mode::Run).expect("run"), RunOutcome::Completed);
    let view = ops::status(&fx.state_dir()).expect("status");
    assert_eq!(view.step_status("pr"), StepStatus::Shadow);
}

#[test]
fn parallel_run_records_polls_and_match_rate() {
    let fx = Fixture::with(
        r#"
[[phases]]
id = "one"
name = "One"
risk = "low"
[[phases.steps]]
id = "pr"
kind = "parallel-run"
window = "300ms"
interval = "100ms"
tolerance = "1s"
rename = { ServiceDown = "InstanceDown" }
min_match_rate = 0.6
"#,
        true,
    );
    assert_eq!(fx.run(Mode::Run).expect("run"), RunOutcome::Completed);
    let polls: Vec<(usize, usize)> = fx
        .events()
        .iter()
        .filter_map(|e| match e {
            Event::ParallelPoll { old, new, .. } => Some((old.len(), new.len())),
            _ => None,
        })
        .collect();
    assert!(polls.len() >= 3, "{polls:?}");
    assert_eq!(polls[0], (6, 4), "first poll sees every episode");
    assert!(
        polls[1..].iter().all(|p| *p == (0, 0)),
        "later polls record only new episodes"
    );
    let view = ops::status(&fx.state_dir()).expect("status");
    let rate = view.match_rate.expect("rate");
    assert!((rate - 4.0 / 6.0).abs() < 1e-9, "{rate}");
}

const GATED: &str = r#"
[[phases]]
id = "one"
name = "One"
risk = "low"
[[phases.steps]]
id = "s1"
kind = "action"
plugin = "noop"

[[phases]]
id = "two"
name = "Two"
risk = "low"
gate = { approvers = ["alice"], message = "go?" }
[[phases.steps]]
id = "s2"
kind = "action"
plugin = "noop"
params = { x = 1 }
"#;

#[test]
fn gate_pauses_until_approved_by_an_approver() {
    let fx = Fixture::new(GATED);
    let out = fx.run(Mode::Run).expect("run");
    assert_eq!(
        out,
        RunOutcome::AwaitingApproval {
            target: "two".into(),
            message: "go?".into()
        }
    );
    // Resuming without approval waits again.
    assert!(matches!(
        fx.run(Mode::Resume).expect("resume"),
        RunOutcome::AwaitingApproval { .. }
    ));
    let plan = fx.load();
    let err = ops::approve(&plan, "two", "mallory", false).expect_err("not an approver");
    assert!(matches!(err, EngineError::Operator(_)), "{err}");
    ops::approve(&plan, "two", "alice", false).expect("approve");
    assert_eq!(fx.run(Mode::Resume).expect("resume"), RunOutcome::Completed);
    let view = ops::status(&fx.state_dir()).expect("status");
    assert_eq!(view.step_status("s2"), StepStatus::Succeeded);
    assert_eq!(view.steps["s1"].attempts, 1, "s1 is not run again");
}

#[test]
fn second_runner_is_refused_while_the_lease_is_held() {
    let fx = Fixture::new(GATED);
    let plan = fx.load();
    let _first = Runner::open(runtime(), &plan, Mode::Run, RunOptions::default()).expect("first");
    let err = Runner::open(runtime(), &plan, Mode::Run, RunOptions::default())
        .err()
        .expect("second refused");
    let msg = err.to_string();
    assert!(
        matches!(
            err,
            EngineError::Lease(cutover_state::LeaseError::Held { .. })
        ),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("pid {}", std::process::id())),
        "{msg}"
    );
    assert!(err.is_state());
}

#[test]
fn stale_plan_is_refused_and_replan_is_recorded() {
    let fx = Fixture::new(GATED);
    assert!(matches!(
        fx.run(Mode::Run).expect("run"),
        RunOutcome::AwaitingApproval { .. }
    ));
    let text = std::fs::read_to_string(&fx.path).expect("read");
    std::fs::write(
        &fx.path,
        text.replace("params = { x = 1 }", "params = { x = 2 }"),
    )
    .expect("write");
    let err = fx.run(Mode::Resume).expect_err("stale");
    match &err {
        EngineError::StalePlan { diff, .. } => {
            assert_eq!(diff, &vec!["phase `two`: step `s2` changed".to_string()])
        }
        other => panic!("{other}"),
    }
    let plan = fx.load();
    let mut r = Runner::open(
        runtime(),
        &plan,
        Mode::Resume,
        RunOptions {
            replan: true,
            ..RunOptions::default()
        },
    )
    .expect("replan");
    assert_eq!(
        r.view().fingerprint.as_deref(),
        Some(plan.fingerprint().as_str())
    );
    assert!(matches!(
        r.execute().expect("exec"),
        RunOutcome::AwaitingApproval { .. }
    ));
    drop(r);
    assert!(
        fx.events()
            .iter()
            .any(|e| matches!(e, Event::Replanned { diff, .. } if diff.len() == 1))
    );
    // Bound to the new fingerprint now: no --replan needed.
    assert!(matches!(
        fx.run(Mode::Resume).expect("resume"),
        RunOutcome::AwaitingApproval { .. }
    ));
}

const TWO_ACTIONS: &str = r#"
[[phases]]
id = "one"
name = "One"
risk = "low"
[[phases.steps]]
id = "a"
kind = "action"
plugin = "noop"
[[phases.steps]]
id = "b"
kind = "action"
plugin = "noop"
idempotent = false
[[phases.steps]]
id = "c"
kind = "action"
plugin = "noop"
idempotent = true
"#;

/// Simulates a crash inside step `step`: a `step-started` without `step-finished`.
fn crash_inside(fx: &Fixture, phase: &str, step: &str, idempotent: bool) {
    let mut j = FileJournal::open(&fx.state_dir()).expect("journal");
    let (k, p) = Event::StepStarted {
        phase: phase.into(),
        step: step.into(),
        step_kind: "action".into(),
        idempotent,
    }
    .to_record();
    j.append(&k, p).expect("append");
}

fn finishes(fx: &Fixture, step: &str) -> Vec<StepStatus> {
    fx.events()
        .iter()
        .filter_map(|e| match e {
            Event::StepFinished {
                step: s, status, ..
            } if s == step => Some(*status),
            _ => None,
        })
        .collect()
}

#[test]
fn interrupted_non_idempotent_step_needs_attention_then_mark_done() {
    let fx = Fixture::new(TWO_ACTIONS);
    // Start a run, stop it before anything runs, then fake a crash inside `b`
    // after `a` finished.
    {
        let plan = fx.load();
        let _r = Runner::open(runtime(), &plan, Mode::Run, RunOptions::default()).expect("open");
    }
    crash_inside(&fx, "one", "b", false);
    let out = fx.run(Mode::Resume).expect("resume");
    assert!(
        matches!(&out, RunOutcome::NeedsAttention { target, .. } if target == "one/b"),
        "{out:?}"
    );
    assert!(out.describe().contains("--retry"));
    // Still needs attention on a second resume, and `b` was not run.
    assert!(matches!(
        fx.run(Mode::Resume).expect("resume"),
        RunOutcome::NeedsAttention { .. }
    ));
    assert!(finishes(&fx, "b").is_empty());
    ops::approve(&fx.load(), "one/b", "bob", false).expect("approve");
    assert_eq!(fx.run(Mode::Resume).expect("resume"), RunOutcome::Completed);
    assert_eq!(
        finishes(&fx, "b"),
        vec![StepStatus::Skipped],
        "marked done, not run"
    );
    assert_eq!(finishes(&fx, "c"), vec![StepStatus::Succeeded]);
}

#[test]
fn interrupted_steps_retry_or_rerun_when_idempotent() {
    let fx = Fixture::new(TWO_ACTIONS);
    {
        let plan = fx.load();
        let _r = Runner::open(runtime(), &plan, Mode::Run, RunOptions::default()).expect("open");
    }
    crash_inside(&fx, "one", "a", false);
    // `a` has the default for actions: not idempotent.
    assert!(matches!(
        fx.run(Mode::Resume).expect("resume"),
        RunOutcome::NeedsAttention { .. }
    ));
    ops::approve(&fx.load(), "one/a", "bob", true).expect("approve --retry");
    // Retry reruns `a`; then crash inside the idempotent `c`, which simply reruns.
    let plan = fx.load();
    let out = Runner::open(runtime(), &plan, Mode::Resume, RunOptions::default())
        .expect("open")
        .execute()
        .expect("exec");
    assert_eq!(out, RunOutcome::Completed);
    assert_eq!(finishes(&fx, "a"), vec![StepStatus::Succeeded]);
    let fx2 = Fixture::new(TWO_ACTIONS);
    {
        let plan = fx2.load();
        let _r = Runner::open(runtime(), &plan, Mode::Run, RunOptions::default()).expect("open");
    }
    crash_inside(&fx2, "one", "c", true);
    assert_eq!(
        fx2.run(Mode::Resume).expect("resume"),
        RunOutcome::Completed
    );
    let view = ops::status(&fx2.state_dir()).expect("status");
    assert_eq!(
        view.steps["c"].attempts, 2,
        "idempotent step rerun after the crash"
    );
}

#[test]
fn checklist_pause_waits_for_approval() {
    let fx = Fixture::new(&format!(
        r#"
[[phases]]
id = "one"
name = "One"
risk = "low"
[[phases.steps]]
id = "s1"
kind = "action"
plugin = "noop"
[[phases.checklist]]
item = "probe"
critical = true
check = "probe"
params = {fail}
on_failure = "pause"
"#,
        fail = fail_params()
    ));
    let out = fx.run(Mode::Run).expect("run");
    assert!(matches!(out, RunOutcome::Paused { .. }), "{out:?}");
    assert!(matches!(
        fx.run(Mode::Resume).expect("resume"),
        RunOutcome::Paused { .. }
    ));
    ops::approve(&fx.load(), "one", "carol", false).expect("approve");
    assert_eq!(fx.run(Mode::Resume).expect("resume"), RunOutcome::Completed);
    assert_eq!(
        item_statuses(&fx.events()),
        vec![(0, ItemStatus::Failed)],
        "item evaluated once"
    );
}

#[test]
fn checklist_rollback_restores_the_point() {
    let fx = Fixture::new(&format!(
        r#"
[[phases]]
id = "one"
name = "One"
risk = "low"
[[phases.steps]]
id = "point"
kind = "rollback-point"
name = "before"
[[phases.steps]]
id = "s1"
kind = "action"
plugin = "noop"
[[phases.checklist]]
item = "probe"
critical = true
check = "probe"
params = {fail}
on_failure = "rollback"
"#,
        fail = fail_params()
    ));
    let out = fx.run(Mode::Run).expect("run");
    assert_eq!(
        out,
        RunOutcome::RolledBack {
            phase: "one".into(),
            point: "before".into()
        }
    );
    let view = ops::status(&fx.state_dir()).expect("status");
    assert_eq!(view.status, RunStatus::RolledBack);
    assert!(
        fx.events()
            .iter()
            .any(|e| matches!(e, Event::RolledBack { point, .. } if point == "before"))
    );
}

#[test]
fn pause_and_abort_without_a_live_runner_are_journaled() {
    let fx = Fixture::new(GATED);
    assert!(matches!(
        fx.run(Mode::Run).expect("run"),
        RunOutcome::AwaitingApproval { .. }
    ));
    let dir = fx.state_dir();
    assert_eq!(
        ops::abort(&dir, "dave", "change freeze").expect("abort"),
        ops::Delivery::Journaled
    );
    assert_eq!(
        fx.run(Mode::Resume).expect("resume"),
        RunOutcome::Aborted {
            reason: "change freeze".into()
        }
    );
    assert!(matches!(
        ops::pause(&dir, "dave", "x"),
        Err(EngineError::Operator(_))
    ));
}

#[test]
fn corrupt_journal_is_refused_with_its_position() {
    let fx = Fixture::new(GATED);
    assert!(matches!(
        fx.run(Mode::Run).expect("run"),
        RunOutcome::AwaitingApproval { .. }
    ));
    let path = fx.state_dir().join("journal.log");
    let mut bytes = std::fs::read(&path).expect("read");
    let last_line = bytes[..bytes.len() - 1]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    bytes[last_line + 10] ^= 0x01;
    std::fs::write(&path, &bytes).expect("write");
    let err = fx.run(Mode::Resume).expect_err("corrupt");
    assert!(err.is_state());
    match &err {
        EngineError::Journal(cutover_state::JournalError::Corrupt { offset, .. }) => {
            assert_eq!(*offset, last_line as u64)
        }
        other => panic!("{other}"),
    }
    assert!(
        err.to_string()
            .contains(&format!("byte offset {last_line}")),
        "{err}"
    );
}

#[test]
fn torn_tail_is_cut_and_noted() {
    let fx = Fixture::new(GATED);
    assert!(matches!(
        fx.run(Mode::Run).expect("run"),
        RunOutcome::AwaitingApproval { .. }
    ));
    let path = fx.state_dir().join("journal.log");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("open");
    f.write_all(b"{\"seq\":99,\"ts_").expect("write");
    drop(f);
    let plan = fx.load();
    let r = Runner::open(runtime(), &plan, Mode::Resume, RunOptions::default()).expect("open");
    assert!(
        r.notes().iter().any(|n| n.contains("torn")),
        "{:?}",
        r.notes()
    );
}

#[test]
fn approval_step_waits_for_its_approvers() {
    let fx = Fixture::new(
        r#"
[[phases]]
id = "one"
name = "One"
risk = "low"
[[phases.steps]]
id = "ok"
kind = "approval"
message = "traffic looks fine?"
approvers = ["erin"]
[[phases.steps]]
id = "after"
kind = "action"
plugin = "noop"
"#,
    );
    assert_eq!(
        fx.run(Mode::Run).expect("run"),
        RunOutcome::AwaitingApproval {
            target: "one/ok".into(),
            message: "traffic looks fine?".into()
        }
    );
    let view = ops::status(&fx.state_dir()).expect("status");
    assert_eq!(view.waiting_for.as_deref(), Some("one/ok"));
    assert_eq!(view.step_status("after"), StepStatus::Pending);
    let plan = fx.load();
    assert!(ops::approve(&plan, "one/ok", "frank", false).is_err());
    assert!(
        ops::approve(&plan, "one/after", "erin", false).is_err(),
        "not waiting"
    );
    ops::approve(&plan, "one/ok", "erin", false).expect("approve");
    assert_eq!(fx.run(Mode::Resume).expect("resume"), RunOutcome::Completed);
    let view = ops::status(&fx.state_dir()).expect("status");
    assert_eq!(view.steps["ok"].summary, "approved by erin");
}

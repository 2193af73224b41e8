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
use cutover_runtime::Runtime;
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
        Ok(cutover_engine::plugin_info(p.descriptor()))
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

/// Phase `one` (low risk) holding `body`: its `[[phases.steps]]` and
/// `[[phases.checklist]]` tables.
fn phase_one(body: &str) -> String {
    format!("\n[[phases]]\nid = \"one\"\nname = \"One\"\nrisk = \"low\"\n{body}")
}

/// A `[[phases.steps]]` table: `id`, `kind`, then `keys` (one a line).
fn step(id: &str, kind: &str, keys: &str) -> String {
    format!("[[phases.steps]]\nid = \"{id}\"\nkind = \"{kind}\"\n{keys}")
}

/// A critical checklist item whose probe fails, then `on_failure`.
fn failing_probe_item(on_failure: &str) -> String {
    format!(
        "[[phases.checklist]]\nitem = \"probe\"\ncritical = true\ncheck = \"probe\"\n\
         params = {}\non_failure = \"{on_failure}\"\n",
        fail_params()
    )
}

/// Phase one: a gating parallel run `pr` of `window` over the demo data
/// (4 of 6 old episodes matched, minimum 0.6), `keys` added to the step.
fn demo_parallel_run(window: &str, keys: &str) -> String {
    let keys = format!(
        "window = \"{window}\"\ninterval = \"100ms\"\ntolerance = \"1s\"\n\
         rename = {{ ServiceDown = \"InstanceDown\" }}\nmin_match_rate = 0.6\n\
         max_missing = 2\n{keys}"
    );
    phase_one(&step("pr", "parallel-run", &keys))
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
    // The critical item without a check is a manual confirmation: the phase
    // waits for a person, who confirms it by name.
    let out = fx.run(Mode::Run).expect("run");
    assert!(
        matches!(&out, RunOutcome::Paused { reason } if reason.contains("needs a person")),
        "{out:?}"
    );
    let view = ops::status(&fx.state_dir()).expect("status");
    assert!(!view.phases["one"].overall_passed());
    ops::confirm_item(&fx.load(), "one", 2, "carol").expect("confirm");
    let out = fx.run(Mode::Resume).expect("resume");
    assert_eq!(out, RunOutcome::Completed);
    let view = ops::status(&fx.state_dir()).expect("status");
    assert!(view.phases["one"].overall_passed());
    assert_eq!(
        view.phases["one"].items[2].confirmed_by.as_deref(),
        Some("carol")
    );
    assert_eq!(view.step_status("shadow-check"), StepStatus::Shadow);
    assert_eq!(view.steps["shadow-check"].verdict.as_deref(), Some("fail"));
    assert_eq!(view.step_status("s1"), StepStatus::Succeeded);
    assert_eq!(
        item_statuses(&fx.events()),
        vec![
            (0, ItemStatus::Failed),
            (1, ItemStatus::Shadow),
            (2, ItemStatus::AwaitingConfirmation)
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
    // A quiet window is inconclusive: neither a pass nor a failure.
    let fx = Fixture::new(&body(false));
    let out = fx.run(Mode::Run).expect("run");
    assert!(
        matches!(&out, RunOutcome::Inconclusive { target, .. } if target == "one/pr"),
        "{out:?}"
    );
    let view = ops::status(&fx.state_dir()).expect("status");
    assert_eq!(view.step_status("pr"), StepStatus::Running);
    assert!(view.steps["pr"].inconclusive_seq.is_some());
    assert_eq!(view.waiting_for.as_deref(), Some("one/pr"));

    let fx = Fixture::new(&body(true));
    assert_eq!(fx.run(Mode::Run).expect("run"), RunOutcome::Completed);
    let view = ops::status(&fx.state_dir()).expect("status");
    assert_eq!(view.step_status("pr"), StepStatus::Shadow);
}

#[test]
fn parallel_run_records_polls_and_match_rate() {
    let fx = Fixture::with(&demo_parallel_run("800ms", ""), true);
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

// ---- monitoring: alert policies, incidents, notifications, risk gating ----

/// A webhook sink on 127.0.0.1 answering the first `fail` requests with 500;
/// returns its base URL and the bodies received.
fn sink(
    fail: usize,
) -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>,
) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://127.0.0.1:{}", l.local_addr().expect("addr").port());
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = got.clone();
    std::thread::spawn(move || {
        let mut n = 0;
        for mut s in l.incoming().flatten() {
            let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(5)));
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let body = loop {
                if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break buf[end + 4..end + 4 + len].to_vec();
                    }
                }
                match s.read(&mut chunk) {
                    Ok(0) | Err(_) => break Vec::new(),
                    Ok(k) => buf.extend_from_slice(&chunk[..k]),
                }
            };
            if let Ok(v) = serde_json::from_slice(&body) {
                seen.lock().expect("lock").push(v);
            }
            n += 1;
            let answer: &[u8] = if n <= fail {
                b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            } else {
                b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
            };
            let _ = s.write_all(answer);
        }
    });
    (url, got)
}

fn fast_retry() -> cutover_notify::RetryPolicy {
    cutover_notify::RetryPolicy {
        attempts: 3,
        timeout: std::time::Duration::from_millis(300),
        backoff: std::time::Duration::from_millis(10),
        max_backoff: std::time::Duration::from_millis(20),
        budget: std::time::Duration::from_secs(3),
    }
}

impl Fixture {
    fn run_with(&self, mode: Mode, opts: RunOptions) -> Result<RunOutcome, EngineError> {
        let plan = self.load();
        let mut r = Runner::open(runtime(), &plan, mode, opts)?;
        r.execute()
    }
}

/// A gating parallel run over the demo data without a minimum: its match
/// rate is below the default 0.9 until `fix_data` makes both sides equal.
const LOW_RATE: &str = r#"
[[phases]]
id = "one"
name = "One"
risk = "low"
[[phases.steps]]
id = "point"
kind = "rollback-point"
name = "before"
[[phases.steps]]
id = "pr"
kind = "parallel-run"
window = "100ms"
interval = "100ms"
tolerance = "1s"
min_match_rate = 0.9
# the 3 missing alerts are allowed: this run stops on its match rate alone
max_missing = 3
[[phases.steps]]
id = "after"
kind = "action"
plugin = "noop"
"#;

/// Makes the new system fire exactly what the old one does.
fn fix_data(fx: &Fixture) {
    let dir = fx.path.parent().expect("dir");
    std::fs::copy(dir.join("old/alerts.json"), dir.join("new/alerts.json")).expect("copy");
}

/// Value of the first sample of `name` whose labels contain `label`.
fn sample(text: &str, name: &str, label: &str) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) && l.contains(label))
        .find_map(|l| l.rsplit(' ').next().and_then(|v| v.parse().ok()))
}

#[test]
fn low_match_rate_pauses_and_feeds_metrics() {
    let fx = Fixture::with(LOW_RATE, true);
    let metrics = std::sync::Arc::new(cutover_ops::MigrationMetrics::new());
    let opts = RunOptions {
        metrics: Some(metrics.clone()),
        ..RunOptions::default()
    };
    let out = fx.run_with(Mode::Run, opts.clone()).expect("run");
    assert!(
        matches!(&out, RunOutcome::Paused { reason } if reason.contains("match rate")),
        "{out:?}"
    );
    let evs = fx.events();
    let alert = evs.iter().find_map(|e| match e {
        Event::AlertTriggered {
            alert,
            value,
            threshold,
            policy,
            step,
            ..
        } => Some((
            alert.clone(),
            *value,
            *threshold,
            policy.clone(),
            step.clone(),
        )),
        _ => None,
    });
    let (name, value, threshold, policy, step) = alert.expect("alert journaled");
    assert_eq!(name, "match-rate-low");
    assert!(value < 0.9, "{value}");
    assert!((threshold - 0.9).abs() < 1e-9);
    assert_eq!((policy.as_str(), step.as_deref()), ("pause", Some("pr")));
    let health: Vec<(String, bool)> = evs
        .iter()
        .filter_map(|e| match e {
            Event::HealthChecked {
                system, available, ..
            } => Some((system.clone(), *available)),
            _ => None,
        })
        .collect();
    assert_eq!(health, vec![("old".into(), true), ("new".into(), true)]);
    let text = metrics.encode();
    // 1 of 3 steps done in phase one (the parallel run failed).
    let progress =
        sample(&text, "migration_progress", "phase=\"one\",service=\"all\"").expect("progress");
    assert!((progress - 1.0 / 3.0).abs() < 1e-9, "{text}");
    let rate = sample(&text, "alert_match_rate", "service=\"all\"").expect("rate");
    assert!((rate - value).abs() < 1e-9, "{text}");
    // Per service: the one service the recordings name fired on both sides.
    assert_eq!(
        sample(&text, "alert_match_rate", "service=\"checkout\""),
        Some(1.0),
        "{text}"
    );
    let checkout = sample(&text, "migration_progress", "service=\"checkout\"");
    assert_eq!(checkout, Some(progress), "{text}");
    assert_eq!(
        sample(&text, "system_availability", "\"new\""),
        Some(1.0),
        "{text}"
    );
    // A resume runs the failed step again: still low, paused again.
    assert!(matches!(
        fx.run_with(Mode::Resume, opts.clone()).expect("resume"),
        RunOutcome::Paused { .. }
    ));
    fix_data(&fx);
    assert_eq!(
        fx.run_with(Mode::Resume, opts).expect("resume"),
        RunOutcome::Completed
    );
    let text = metrics.encode();
    assert_eq!(
        sample(&text, "migration_progress", "phase=\"one\""),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "alert_match_rate", "service=\"all\""),
        Some(1.0),
        "{text}"
    );
}

#[test]
fn rollback_policy_rolls_back_to_the_latest_point() {
    let fx = Fixture::with(LOW_RATE, true);
    let opts = RunOptions {
        policy: cutover_engine::AlertPolicy::Rollback,
        ..RunOptions::default()
    };
    assert_eq!(
        fx.run_with(Mode::Run, opts).expect("run"),
        RunOutcome::RolledBack {
            phase: "one".into(),
            point: "before".into()
        }
    );
    assert_eq!(
        ops::status(&fx.state_dir()).expect("status").status,
        RunStatus::RolledBack
    );
}

#[test]
fn emergency_procedure_runs_automated_steps_waits_for_acks_and_escalates() {
    let (url, got) = sink(0);
    let body = format!(
        r#"{LOW_RATE}
[emergency.low-rate]
description = "New system misses alerts"
notify = ["am+{url}/hook", "oncall"]
steps = ["action: noop", "Check the routing tree", "pause"]
"#
    );
    let fx = Fixture::with(&body, true);
    let opts = RunOptions {
        policy: cutover_engine::AlertPolicy::Emergency("low-rate".into()),
        escalation: Some(std::time::Duration::ZERO),
        notify_retry: Some(fast_retry()),
        ..RunOptions::default()
    };
    let out = fx.run_with(Mode::Run, opts.clone()).expect("run");
    assert!(
        matches!(&out, RunOutcome::Paused { reason } if reason.contains("INC-1") && reason.contains("step 2")),
        "{out:?}"
    );
    let inc = cutover_engine::incident::show(&fx.state_dir(), "INC-1").expect("incident");
    let statuses: Vec<&str> = inc.steps.iter().map(|s| s.status.as_str()).collect();
    assert_eq!(statuses, vec!["done", "pending", "pending"]);
    assert_eq!(inc.procedure, "low-rate");
    // The ack escalates first: the escalation time (0) has passed.
    let ack = cutover_engine::incident::ack(&fx.state_dir(), "INC-1", 2, "bob", "routes ok")
        .expect("ack");
    assert_eq!(ack.escalated, vec!["INC-1".to_string()]);
    assert_eq!(ack.next, Some((3, "pause".to_string())));
    // Settled and automated steps cannot be acked; step 4 does not exist.
    for step in [2, 3, 4] {
        assert!(cutover_engine::incident::ack(&fx.state_dir(), "INC-1", step, "bob", "").is_err());
    }
    let bodies = got.lock().expect("lock").clone();
    let alertnames: Vec<String> = bodies
        .iter()
        .map(|b| {
            b["alerts"][0]["labels"]["alertname"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert_eq!(
        alertnames,
        vec![
            "cutover-incident".to_string(),
            "cutover-escalation".to_string()
        ]
    );
    assert_eq!(bodies[1]["version"], "4");
    // Step 3 pauses the run; the next resume resolves the incident, runs
    // the failed step again and completes.
    fix_data(&fx);
    let out = fx.run_with(Mode::Resume, opts.clone()).expect("resume");
    assert!(
        matches!(&out, RunOutcome::Paused { reason } if reason.contains("paused by step 3")),
        "{out:?}"
    );
    assert_eq!(
        fx.run_with(Mode::Resume, opts).expect("resume"),
        RunOutcome::Completed
    );
    let inc = cutover_engine::incident::show(&fx.state_dir(), "INC-1").expect("incident");
    assert_eq!(inc.status(), "resolved");
    assert!(inc.steps.iter().all(|s| s.at_ms.is_some()));
}

#[test]
fn notifications_retry_and_failures_are_journaled() {
    let (flaky, flaky_got) = sink(2);
    // Accepts connections and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_url = format!(
        "http://127.0.0.1:{}",
        silent.local_addr().expect("addr").port()
    );
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in silent.incoming().flatten() {
            held.push(s);
        }
    });
    let fx = Fixture::new(&format!(
        r#"
[[phases]]
id = "one"
name = "One"
risk = "low"
[[phases.steps]]
id = "tell"
kind = "notify"
message = "cutover starts"
target = "slack+{flaky}/x"
[[phases.steps]]
id = "tell-silent"
kind = "notify"
message = "nobody listens"
target = "{silent_url}/y"

[[phases]]
id = "two"
name = "Two"
risk = "low"
gate = {{ approvers = ["alice"], message = "go?" }}
[[phases.steps]]
id = "s2"
kind = "action"
plugin = "noop"
"#
    ));
    let (am, am_got) = sink(0);
    let opts = RunOptions {
        notify: vec![format!("am+{am}/hook")],
        notify_retry: Some(fast_retry()),
        ..RunOptions::default()
    };
    let t0 = std::time::Instant::now();
    let out = fx.run_with(Mode::Run, opts).expect("run");
    assert!(
        matches!(out, RunOutcome::AwaitingApproval { .. }),
        "{out:?}"
    );
    assert!(t0.elapsed() < std::time::Duration::from_secs(20));
    let evs = fx.events();
    let sent: Vec<(String, u32)> = evs
        .iter()
        .filter_map(|e| match e {
            Event::NotificationSent {
                target, attempts, ..
            } => Some((target.clone(), *attempts)),
            _ => None,
        })
        .collect();
    assert!(sent.contains(&(format!("slack+{flaky}/x"), 3)), "{sent:?}");
    let failed: Vec<(String, u32)> = evs
        .iter()
        .filter_map(|e| match e {
            Event::NotificationFailed {
                target, attempts, ..
            } => Some((target.clone(), *attempts)),
            _ => None,
        })
        .collect();
    assert_eq!(failed, vec![(format!("{silent_url}/y"), 3)]);
    assert_eq!(
        flaky_got
            .lock()
            .expect("lock")
            .last()
            .and_then(|v| v["text"].as_str().map(str::to_string)),
        Some("[INFO] cutover starts\n(phase=one, plan=t, step=tell)".to_string())
    );
    // Phase one started and passed, gate two waits: three AM notifications.
    let kinds: Vec<String> = am_got
        .lock()
        .expect("lock")
        .iter()
        .map(|b| {
            b["alerts"][0]["labels"]["alertname"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            "cutover-phase-transition",
            "cutover-phase-transition",
            "cutover-gate-waiting"
        ]
    );
}

#[test]
fn unmitigated_high_risk_blocks_the_phase_until_approved() {
    let fx = Fixture::new(
        r#"
[[phases]]
id = "one"
name = "One"
risk = "low"
max_risk = "medium"
[[phases.steps]]
id = "s1"
kind = "action"
plugin = "noop"

[[risks]]
id = "r1"
name = "Pages lost"
probability = "high"
impact = "high"
mitigation = ""
owner = "sre"
"#,
    );
    let out = fx.run(Mode::Run).expect("run");
    assert!(
        matches!(&out, RunOutcome::Paused { reason } if reason.contains("`r1`")),
        "{out:?}"
    );
    assert_eq!(
        ops::status(&fx.state_dir())
            .expect("status")
            .step_status("s1"),
        StepStatus::Pending
    );
    // Still blocked on resume without an approval.
    assert!(matches!(
        fx.run(Mode::Resume).expect("resume"),
        RunOutcome::Paused { .. }
    ));
    ops::approve(&fx.load(), "one", "carol", false).expect("approve the risk");
    assert_eq!(fx.run(Mode::Resume).expect("resume"), RunOutcome::Completed);
}

#[test]
fn automatic_rollback_verifies_both_points_before_touching_either_system() {
    let fx = Fixture::new(&phase_one(
        &[
            step("point", "rollback-point", "name = \"before\"\n"),
            step(
                "hold",
                "approval",
                "message = \"checked?\"\napprovers = [\"erin\"]\n",
            ),
            failing_probe_item("rollback"),
        ]
        .concat(),
    ));
    let dir = fx.path.parent().expect("dir").to_path_buf();
    let state = |side: &str| dir.join(side).join("state/configurations.json");
    for (side, v) in [("old", r#"{"o":1}"#), ("new", r#"{"n":1}"#)] {
        std::fs::create_dir_all(dir.join(side).join("state")).expect("mkdir");
        std::fs::write(state(side), v).expect("write");
    }
    assert!(matches!(
        fx.run(Mode::Run).expect("run"),
        RunOutcome::AwaitingApproval { .. }
    ));
    for side in ["old", "new"] {
        std::fs::write(state(side), r#"{"changed":2}"#).expect("change");
    }
    // Corrupt the new system's configurations blob: the old system comes
    // first and must not be rolled back either.
    let point: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fx.state_dir().join("points/before.new.json")).expect("point"),
    )
    .expect("point json");
    let digest = point["body"]["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["kind"] == "configurations")
        .and_then(|r| r["digest"].as_str())
        .expect("digest")
        .to_string();
    let blob = fx
        .state_dir()
        .join("backups/blobs")
        .join(&digest[..2])
        .join(&digest[2..]);
    let mut perms = std::fs::metadata(&blob).expect("blob").permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&blob, perms).expect("chmod");
    std::fs::write(&blob, r#"{"n":9}"#).expect("corrupt");

    ops::approve(&fx.load(), "one/hold", "erin", false).expect("approve");
    match fx.run(Mode::Resume).expect("resume") {
        RunOutcome::Failed { reason, .. } => assert!(
            reason.contains(
                "rollback to before refused, nothing applied: point:before.new configurations is corrupt"
            ),
            "{reason}"
        ),
        other => panic!("expected a failed run, got {other:?}"),
    }
    for side in ["old", "new"] {
        assert_eq!(
            std::fs::read_to_string(state(side)).expect("state"),
            r#"{"changed":2}"#,
            "{side} untouched"
        );
    }
    assert!(
        !fx.events()
            .iter()
            .any(|e| matches!(e, Event::RolledBack { .. }))
    );
}

/// Noise calibration of parallel runs: the old system against a second read
/// of itself or a declared secondary, next to the old-vs-new result.
mod noise_floor {
    use super::*;

    /// The demo data's gating parallel run with `noise` set to `noise`;
    /// `extra` is appended to the plan (e.g. the secondary's plugin table).
    fn plan(noise: &str, extra: &str) -> String {
        demo_parallel_run("300ms", &format!("noise = \"{noise}\"\n")) + extra
    }

    /// `[plugins.replica]`: the file adapter over the plan's `dir` directory.
    fn replica(dir: &str) -> String {
        let (file, file_sha) = plugin("file-adapter");
        format!(
            r#"
[plugins.replica]
path = "{file}"
sha256 = "{file_sha}"
grants = {{ dirs = [{{ name = "data", path = "{dir}", write = true }}] }}
"#
        )
    }

    fn finished(fx: &Fixture) -> (StepStatus, String, serde_json::Value) {
        fx.events()
            .into_iter()
            .rev()
            .find_map(|e| match e {
                Event::StepFinished {
                    step,
                    status,
                    summary,
                    details,
                    ..
                } if step == "pr" => Some((status, summary, details)),
                _ => None,
            })
            .expect("pr finished")
    }

    /// Noise episodes journaled per poll.
    fn noise_polls(fx: &Fixture) -> Vec<(usize, Option<String>)> {
        fx.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::ParallelPoll {
                    noise, noise_error, ..
                } => Some((noise.len(), noise_error)),
                _ => None,
            })
            .collect()
    }

    fn report_json(fx: &Fixture) -> serde_json::Value {
        let text = std::fs::read_to_string(fx.state_dir().join("reports/pr.json")).expect("report");
        serde_json::from_str(&text).expect("json")
    }

    /// Checks that the step's `summary` says `says` and that its report
    /// holds a noise floor with `missing` and `extra`; returns the report.
    fn reported_floor(
        fx: &Fixture,
        summary: &str,
        says: &str,
        missing: u64,
        extra: u64,
    ) -> serde_json::Value {
        assert!(summary.contains(says), "{summary}");
        let report = report_json(fx);
        assert_eq!(report["noise_floor"]["missing"], missing);
        assert_eq!(report["noise_floor"]["extra"], extra);
        report
    }

    /// `pr`'s summary, details and noise floor, once its old-vs-new result
    /// is checked to be the one a run without `noise` gets.
    fn floor(fx: &Fixture) -> (String, serde_json::Value, serde_json::Value) {
        let (status, summary, details) = finished(fx);
        assert_eq!(status, StepStatus::Succeeded, "{details}");
        let rate = details["match_rate"].as_f64().expect("rate");
        assert!((rate - 4.0 / 6.0).abs() < 1e-9, "{rate}");
        assert_eq!(
            (&details["matched"], &details["missing"], &details["extra"]),
            (&4.into(), &2.into(), &0.into())
        );
        let n = details["noise_floor"].clone();
        (summary, details, n)
    }

    /// `floor`, checked to be available and read from `source`.
    fn available_floor(
        fx: &Fixture,
        source: &str,
    ) -> (String, serde_json::Value, serde_json::Value) {
        let (summary, details, n) = floor(fx);
        assert_eq!(n["source"], source);
        assert_eq!(n["available"], true);
        (summary, details, n)
    }

    #[test]
    fn second_read_of_a_stable_old_system_is_a_full_match() {
        let fx = Fixture::with(&plan("second-read", ""), true);
        let opts = RunOptions {
            progress: true,
            ..RunOptions::default()
        };
        assert_eq!(
            fx.run_with(Mode::Run, opts).expect("run"),
            RunOutcome::Completed
        );
        let polls = noise_polls(&fx);
        assert!(!polls.is_empty(), "at least one poll");
        assert_eq!(
            polls[0],
            (6, None),
            "first poll reads every old episode again"
        );
        assert!(polls[1..].iter().all(|p| *p == (0, None)), "{polls:?}");
        let (summary, details, n) = available_floor(&fx, "second-read");
        assert_eq!(n["match_rate"], 1.0);
        assert_eq!((&n["missing"], &n["extra"]), (&0.into(), &0.into()));
        assert_eq!(
            (&n["total_noise"], &n["failed_reads"]),
            (&6.into(), &0.into())
        );
        let says = "noise floor 100.0% against a second read of the old system";
        let report = reported_floor(&fx, &summary, says, 0, 0);
        assert_eq!(report["noise_floor"]["match_rate"], 1.0);
        assert_eq!(report["match_rate"], details["match_rate"]);
        let view = ops::status(&fx.state_dir()).expect("status");
        assert_eq!(view.steps["pr"].seen_noise.len(), 6);
        let md = std::fs::read_to_string(fx.state_dir().join("reports/pr.md")).expect("md");
        assert!(md.to_lowercase().contains("noise floor"), "{md}");
    }

    #[test]
    fn declared_secondary_that_differs_by_one_alert_shows_in_the_floor() {
        let fx = Fixture::with(&plan("replica", &replica("replica")), true);
        // The replica holds the old system's alerts, one renamed: one old
        // episode is missing from it and one is extra.
        let dir = fx.path.parent().expect("dir");
        let text = std::fs::read_to_string(dir.join("old/alerts.json")).expect("old alerts");
        let mut alerts: Vec<serde_json::Value> = serde_json::from_str(&text).expect("json");
        alerts[1]["labels"]["alertname"] = "OnlyOnTheReplica".into();
        std::fs::create_dir_all(dir.join("replica")).expect("mkdir");
        std::fs::write(
            dir.join("replica/alerts.json"),
            serde_json::to_string(&alerts).expect("json"),
        )
        .expect("write replica");
        assert_eq!(fx.run(Mode::Run).expect("run"), RunOutcome::Completed);
        let (summary, details, n) = available_floor(&fx, "replica");
        assert_eq!(details["compare_verdict"], "fail", "{details}");
        assert_eq!((&n["missing"], &n["extra"]), (&1.into(), &1.into()), "{n}");
        let rate = n["match_rate"].as_f64().expect("noise rate");
        assert!((rate - 5.0 / 6.0).abs() < 1e-9, "{rate}");
        let says = "noise floor 83.3% against adapter `replica` (1 missing, 1 extra)";
        let report = reported_floor(&fx, &summary, says, 1, 1);
        assert_eq!(
            report["missing"], 2,
            "old-vs-new counts are not the noise's"
        );
    }

    #[test]
    fn unreadable_noise_source_is_noted_and_changes_nothing_else() {
        // The replica's directory does not exist: every read of it fails.
        let fx = Fixture::with(&plan("replica", &replica("no-such-dir")), true);
        assert_eq!(fx.run(Mode::Run).expect("run"), RunOutcome::Completed);
        let polls = noise_polls(&fx);
        assert!(!polls.is_empty(), "at least one poll");
        assert!(
            polls
                .iter()
                .all(|(n, e)| *n == 0 && e.as_deref().is_some_and(|e| e.contains("replica"))),
            "{polls:?}"
        );
        let (summary, details, n) = floor(&fx);
        assert_eq!(n["available"], false);
        assert!(n["match_rate"].is_null() && n["missing"].is_null(), "{n}");
        assert_eq!(n["failed_reads"], details["polls"]);
        assert!(n["error"].as_str().is_some_and(|e| !e.is_empty()), "{n}");
        assert!(
            summary.contains("noise floor against adapter `replica` unavailable"),
            "{summary}"
        );
        assert!(report_json(&fx)["noise_floor"].is_null());
        let md = std::fs::read_to_string(fx.state_dir().join("reports/pr.md")).expect("md");
        assert!(!md.to_lowercase().contains("noise floor"), "{md}");
        // Calibration only: no health record, no alert policy.
        let evs = fx.events();
        assert!(
            !evs.iter()
                .any(|e| matches!(e, Event::AlertTriggered { .. }))
        );
        assert!(!evs.iter().any(|e| matches!(
            e,
            Event::HealthChecked {
                available: false,
                ..
            }
        )));
    }

    #[test]
    fn resume_keeps_the_noise_episodes_already_journaled() {
        let fx = Fixture::with(&plan("second-read", ""), true);
        // A run that crashed inside the parallel run after one poll, whose
        // noise read saw an episode the old system no longer reports.
        {
            let plan = fx.load();
            let _r =
                Runner::open(runtime(), &plan, Mode::Run, RunOptions::default()).expect("open");
        }
        let gone = cutover_engine::SeenAlert {
            labels: [("alertname".to_string(), "Flapped".to_string())].into(),
            starts_at: 1,
            ends_at: None,
            state: "active".into(),
            fingerprint: "flapped".into(),
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis() as i64;
        let mut j = FileJournal::open(&fx.state_dir()).expect("journal");
        for ev in [
            Event::StepStarted {
                phase: "one".into(),
                step: "pr".into(),
                step_kind: "parallel-run".into(),
                idempotent: true,
            },
            Event::StepDeadline {
                step: "pr".into(),
                started_ms: now,
                deadline_ms: now + 300,
            },
            Event::ParallelPoll {
                step: "pr".into(),
                poll: 1,
                old: Vec::new(),
                new: Vec::new(),
                match_rate: None,
                noise: vec![gone],
                noise_error: None,
            },
        ] {
            let (k, p) = ev.to_record();
            j.append(&k, p).expect("append");
        }
        drop(j);
        assert_eq!(fx.run(Mode::Resume).expect("resume"), RunOutcome::Completed);
        let polls: Vec<u32> = fx
            .events()
            .iter()
            .filter_map(|e| match e {
                Event::ParallelPoll { poll, .. } => Some(*poll),
                _ => None,
            })
            .collect();
        assert_eq!(polls[..2], [1, 2], "the window went on: {polls:?}");
        let (_, _, n) = floor(&fx);
        // 6 episodes read after the resume plus the journaled one.
        assert_eq!(n["total_noise"], 7, "{n}");
        assert_eq!((&n["missing"], &n["extra"]), (&0.into(), &1.into()), "{n}");
        assert_eq!(n["match_rate"], 1.0);
    }
}

#[path = "engine/schedule_incident.rs"]
mod schedule_incident;

#[path = "engine/declared.rs"]
mod declared;

//! Engine behaviour against real plugins, one binary: checklists, checks
//! and approvals (`engine/checklist.rs`), gates, the lease, stale plans,
//! interrupted steps and journals (`engine/lifecycle.rs`), parallel runs
//! and alert policies (`engine/parallel.rs`), incidents, notifications and
//! risks (`engine/monitoring.rs`), noise floors (`engine/noise_floor.rs`),
//! schedules (`engine/schedule_incident.rs`), backtests through the
//! prometheus adapter (`engine/backtest.rs`), what adapters declare
//! (`engine/declared.rs`), the plugin bridge (`engine/bridge.rs`), operator
//! backup commands (`engine/backup_cmds.rs`), the watcher of `cutover watch`
//! (`engine/watch.rs`) and journals of earlier versions
//! (`engine/journal_compat.rs`).

#[path = "engine/backtest.rs"]
mod backtest;
#[path = "engine/backup_cmds.rs"]
mod backup_cmds;
#[path = "engine/bridge.rs"]
mod bridge;
#[path = "engine/checklist.rs"]
mod checklist;
#[path = "engine/declared.rs"]
mod declared;
#[path = "engine/journal_compat.rs"]
mod journal_compat;
#[path = "engine/lifecycle.rs"]
mod lifecycle;
#[path = "engine/monitoring.rs"]
mod monitoring;
#[path = "engine/noise_floor.rs"]
mod noise_floor;
#[path = "engine/parallel.rs"]
mod parallel;
#[path = "engine/schedule_incident.rs"]
mod schedule_incident;
#[path = "engine/snapshot.rs"]
mod snapshot;
#[path = "engine/watch.rs"]
mod watch;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use cutover_engine::{
    EngineError, Event, ItemStatus, Mode, PluginBridge, RunOptions, RunOutcome, RunStatus, Runner,
    StepStatus, operator,
};
use cutover_plan::LoadedPlan;
use cutover_runtime::Runtime;
use cutover_test_kit::http::CannedServer;
use cutover_test_kit::plan::{PlanBuilder, checklist_item, phase, step, system_dirs};
pub(crate) use cutover_test_kit::{plugin_pin as plugin, repo_root as root};

pub(crate) fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        let cache = root().join("target/engine-test-cache");
        Runtime::new(Some(&cache)).expect("runtime")
    })
}

/// The plugins of a test plan, as validation and runs see them.
fn bridge() -> PluginBridge<'static> {
    PluginBridge::new(runtime())
}

/// The local HTTP server the `probe` plugin is granted: 200 to everything.
fn probe_server() -> &'static CannedServer {
    static SERVER: OnceLock<CannedServer> = OnceLock::new();
    SERVER.get_or_init(|| CannedServer::always(200, "ok"))
}

/// Plan header: noop action, http probe granted the local server, two file
/// adapters over `old` and `new` directories of the plan's directory.
fn header(dir: &Path, alerts: bool) -> String {
    system_dirs(dir, |side| format!("system: {side}\n"));
    if alerts {
        for side in ["old", "new"] {
            std::fs::copy(
                root().join(format!("plans/demo-data/{side}/alerts.json")),
                dir.join(side).join("alerts.json"),
            )
            .expect("copy alerts");
        }
    }
    let hosts = format!("grants = {{ hosts = [\"{}\"] }}", probe_server().origin());
    PlanBuilder::new("t")
        .plugin("noop", "noop-action", "")
        .plugin("probe", "http-probe", &hosts)
        .file_systems()
        .build("")
}

fn pass_params() -> String {
    format!(r#"{{ url = "{}" }}"#, probe_server().url("/ok"))
}

fn fail_params() -> String {
    format!(
        r#"{{ url = "{}", expect_status = 204 }}"#,
        probe_server().url("/ok")
    )
}

/// Phase `one` (low risk) holding `body`: its `[[phases.steps]]` and
/// `[[phases.checklist]]` tables.
fn phase_one(body: &str) -> String {
    phase("one", "One", "", &[body.to_string()])
}

/// A critical checklist item whose probe fails, then `on_failure`.
fn failing_probe_item(on_failure: &str) -> String {
    probe_item("probe", true, &fail_params(), on_failure)
}

/// A checklist item `item` checked by the probe with `params`, then
/// `on_failure` (none when empty).
fn probe_item(item: &str, critical: bool, params: &str, on_failure: &str) -> String {
    let mut keys = format!("check = \"probe\"\nparams = {params}\n");
    if !on_failure.is_empty() {
        keys.push_str(&format!("on_failure = \"{on_failure}\"\n"));
    }
    checklist_item(item, critical, &keys)
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
        match cutover_plan::load(&self.path, &bridge()) {
            Ok(l) => l,
            Err(d) => panic!("invalid test plan:\n{}", d.render_plain()),
        }
    }

    fn run(&self, mode: Mode) -> Result<RunOutcome, EngineError> {
        self.run_with(mode, RunOptions::default())
    }

    fn run_with(&self, mode: Mode, opts: RunOptions) -> Result<RunOutcome, EngineError> {
        let plan = self.load();
        let mut r = Runner::open(runtime(), &plan, mode, opts)?;
        r.execute()
    }

    /// Opens a runner and drops it before anything runs: a run exists.
    fn start_and_stop(&self) {
        let plan = self.load();
        let _r = Runner::open(runtime(), &plan, Mode::Run, RunOptions::default()).expect("open");
    }

    fn state_dir(&self) -> PathBuf {
        self.path.parent().expect("dir").join(".state")
    }

    fn events(&self) -> Vec<Event> {
        operator::history(&self.state_dir())
            .expect("history")
            .iter()
            .filter_map(|r| Event::from_record(&r.kind, &r.payload))
            .collect()
    }

    fn status(&self) -> cutover_engine::RunView {
        operator::status(&self.state_dir()).expect("status")
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

/// Phase one with a noop step `s1`; phase two, behind a gate for `alice`
/// ("go?"), with a noop step `s2` holding `params = { x = 1 }`.
fn gated() -> String {
    let s2 = step("s2", "action", "plugin = \"noop\"\nparams = { x = 1 }");
    phase_one(&cutover_test_kit::plan::noop_step("s1"))
        + &phase(
            "two",
            "Two",
            "gate = { approvers = [\"alice\"], message = \"go?\" }",
            &[s2],
        )
}

//! Operator commands of a migration run: `run`, `resume`, `status`, `abort`,
//! `pause`, `approve`, `history`, `unlock`, `incident`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Subcommand};
use cutover_base::exit::ExitClass;
use cutover_base::time::now_ms;
use cutover_engine::{AlertPolicy, Mode, RunOptions, RunOutcome, RunView, Runner, operator};

use super::usage;
use crate::exit;
use cutover_engine::PluginBridge;

#[path = "incident.rs"]
pub mod incident;

/// Migration run commands.
#[derive(Subcommand)]
pub enum MigrateCmd {
    /// Run a plan (or continue its unfinished run) phase by phase, durably.
    Run(RunArgs),
    /// Continue an interrupted, paused or approved run.
    Resume(ResumeArgs),
    /// Show the run's phases, current step, match rate and fingerprint.
    Status(StatusArgs),
    /// Abort the run (a live runner stops at its next step boundary).
    Abort(AbortArgs),
    /// Pause the run (a live runner stops at its next step boundary).
    Pause(PauseArgs),
    /// Approve a gate (PHASE), an approval step or an interrupted step (PHASE/STEP).
    Approve(ApproveArgs),
    /// Audit trail: every transition, operator action and plugin invocation.
    History(HistoryArgs),
    /// Remove the run's lease by force (the holder is dead or wedged).
    Unlock(UnlockArgs),
    /// Incidents of emergency procedures: list, show, ack, escalate.
    #[command(subcommand)]
    Incident(incident::IncidentCmd),
}

/// Monitoring options of `run` and `resume`.
#[derive(Args)]
pub struct MonitorArgs {
    /// Serve live metrics at http://ADDR/metrics while running (loopback
    /// only; default: $CUTOVER_METRICS_ADDR).
    #[arg(long)]
    pub metrics: Option<SocketAddr>,
    /// Notification target for gates, phase transitions, alerts and incidents
    /// (repeatable): am+http://..., slack+http://..., http(s)://... (Slack
    /// JSON); added to the plan's `[plan] notify`; $CUTOVER_NOTIFY
    /// (comma-separated) adds more.
    #[arg(long = "notify")]
    pub notify: Vec<String>,
    /// What a migration alert does: pause, rollback or emergency:NAME
    /// (default: $CUTOVER_ON_ALERT, else the plan's `[plan] on_alert`, else
    /// pause).
    #[arg(long)]
    pub on_alert: Option<String>,
}

/// Arguments of `run`.
#[derive(Args)]
pub struct RunArgs {
    /// The plan file (TOML).
    pub plan: PathBuf,
    /// Accept a plan or plugin that changed since the run started (journaled).
    #[arg(long)]
    pub replan: bool,
    /// Print the outcome and state as JSON.
    #[arg(long)]
    pub json: bool,
    /// Monitoring.
    #[command(flatten)]
    pub monitor: MonitorArgs,
}

/// Arguments of `resume`.
#[derive(Args)]
pub struct ResumeArgs {
    /// The plan file (TOML).
    pub plan: PathBuf,
    /// Accept a plan or plugin that changed since the run started (journaled).
    #[arg(long)]
    pub replan: bool,
    /// Print the outcome and state as JSON.
    #[arg(long)]
    pub json: bool,
    /// Monitoring.
    #[command(flatten)]
    pub monitor: MonitorArgs,
}

/// Arguments of `status`.
#[derive(Args)]
pub struct StatusArgs {
    /// The plan file (TOML).
    pub plan: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `abort`.
#[derive(Args)]
pub struct AbortArgs {
    /// The plan file (TOML).
    pub plan: PathBuf,
    /// Why (journaled).
    #[arg(long)]
    pub reason: String,
    /// Who (default: $USER).
    #[arg(long)]
    pub by: Option<String>,
}

/// Arguments of `pause`.
#[derive(Args)]
pub struct PauseArgs {
    /// The plan file (TOML).
    pub plan: PathBuf,
    /// Why (journaled).
    #[arg(long, default_value = "paused by operator")]
    pub reason: String,
    /// Who (default: $USER).
    #[arg(long)]
    pub by: Option<String>,
}

/// Arguments of `approve`.
#[derive(Args)]
pub struct ApproveArgs {
    /// The plan file (TOML).
    pub plan: PathBuf,
    /// PHASE (gate, checklist pause), PHASE/STEP (approval step, interrupted
    /// step) or rollback:POINT (a requested rollback).
    pub target: String,
    /// Who approves (default: $USER).
    #[arg(long)]
    pub by: Option<String>,
    /// For an interrupted step: run it again instead of marking it done.
    #[arg(long)]
    pub retry: bool,
    /// Confirm manual checklist item N of PHASE (a checklist item with no
    /// check, or one whose check could not judge).
    #[arg(long, value_name = "N", conflicts_with_all = ["retry", "extend"])]
    pub item: Option<usize>,
    /// For an inconclusive parallel run (PHASE/STEP): extend its window by
    /// this long from now (e.g. 1h) instead of accepting it.
    #[arg(long, value_name = "DURATION", conflicts_with = "retry")]
    pub extend: Option<String>,
}

/// Arguments of `history`.
#[derive(Args)]
pub struct HistoryArgs {
    /// The plan file (TOML).
    pub plan: PathBuf,
    /// Print JSON (every record with its payload and hash).
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `unlock`.
#[derive(Args)]
pub struct UnlockArgs {
    /// The plan file (TOML).
    pub plan: PathBuf,
    /// Required: removing a live runner's lease is dangerous.
    #[arg(long)]
    pub force: bool,
    /// Why (journaled).
    #[arg(long)]
    pub reason: String,
}

/// Runs one migration command.
pub fn run(cmd: MigrateCmd) -> anyhow::Result<u8> {
    match cmd {
        MigrateCmd::Run(a) => execute(&a.plan, Mode::Run, a.replan, a.json, a.monitor),
        MigrateCmd::Resume(a) => execute(&a.plan, Mode::Resume, a.replan, a.json, a.monitor),
        MigrateCmd::Incident(c) => incident::run(c),
        MigrateCmd::Status(a) => status(&a.plan, a.json),
        MigrateCmd::Abort(a) => {
            let dir = PlanOutline::read(&a.plan)?.state_dir;
            let d = operator::abort(&dir, &by(a.by), &a.reason)?;
            report_delivery("abort", d);
            Ok(exit::OK)
        }
        MigrateCmd::Pause(a) => {
            let dir = PlanOutline::read(&a.plan)?.state_dir;
            let d = operator::pause(&dir, &by(a.by), &a.reason)?;
            report_delivery("pause", d);
            Ok(exit::OK)
        }
        MigrateCmd::Approve(a) => approve(a),
        MigrateCmd::History(a) => history(&a.plan, a.json),
        MigrateCmd::Unlock(a) => {
            if !a.force {
                return Err(usage(
                    "unlock removes the lease of a possibly live runner: pass --force",
                ));
            }
            let dir = PlanOutline::read(&a.plan)?.state_dir;
            match operator::unlock(&dir, &a.reason)? {
                Some(prev) => println!("lease removed (was: {})", prev.trim()),
                None => println!("no lease was held"),
            }
            Ok(exit::OK)
        }
    }
}

/// The state directory of a plan, read without validating the plan.
pub(crate) fn state_dir_of(plan: &Path) -> anyhow::Result<PathBuf> {
    Ok(PlanOutline::read(plan)?.state_dir)
}

pub(crate) fn by(given: Option<String>) -> String {
    given
        .or_else(|| std::env::var("USER").ok())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "operator".to_string())
}

fn report_delivery(what: &str, d: operator::Delivery) {
    match d {
        operator::Delivery::Journaled => println!("{what} recorded"),
        operator::Delivery::Posted => {
            println!("{what} requested: the active runner will stop at its next step boundary")
        }
    }
}

/// Exit class of a run outcome.
pub fn exit_class(o: &RunOutcome) -> ExitClass {
    match o {
        RunOutcome::Completed => ExitClass::Ok,
        RunOutcome::Failed { .. } => ExitClass::Failed,
        RunOutcome::Inconclusive { .. } => ExitClass::Inconclusive,
        RunOutcome::AwaitingApproval { .. }
        | RunOutcome::Paused { .. }
        | RunOutcome::NeedsAttention { .. } => ExitClass::Paused,
        RunOutcome::Aborted { .. } | RunOutcome::RolledBack { .. } => ExitClass::Aborted,
    }
}

fn load(plan: &Path, bridge: &PluginBridge<'_>) -> anyhow::Result<cutover_plan::LoadedPlan> {
    cutover_plan::load(plan, bridge).map_err(|diags| {
        eprint!("{}", diags.render_auto());
        usage(format!(
            "{} is not a valid plan (see above)",
            plan.display()
        ))
    })
}

fn execute(
    plan: &Path,
    mode: Mode,
    replan: bool,
    json: bool,
    monitor: MonitorArgs,
) -> anyhow::Result<u8> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let rt = super::runtime()?;
    let bridge = PluginBridge::new(&rt);
    let loaded = load(plan, &bridge)?;
    let meta = &loaded.plan.meta;
    // --on-alert, else CUTOVER_ON_ALERT, else the plan's on_alert, else pause.
    let on_alert = monitor
        .on_alert
        .or_else(|| env("CUTOVER_ON_ALERT"))
        .or_else(|| meta.on_alert.clone())
        .unwrap_or_else(|| "pause".to_string());
    let policy = AlertPolicy::parse(&on_alert).map_err(usage)?;
    let metrics_addr = match (monitor.metrics, env("CUTOVER_METRICS_ADDR")) {
        (Some(a), _) => Some(a),
        (None, Some(text)) => Some(
            text.trim()
                .parse::<SocketAddr>()
                .map_err(|e| usage(format!("CUTOVER_METRICS_ADDR `{text}`: {e}")))?,
        ),
        (None, None) => None,
    };
    // The plan's targets, plus --notify and CUTOVER_NOTIFY.
    let mut targets = meta.notify.clone();
    targets.extend(monitor.notify);
    if let Some(more) = env("CUTOVER_NOTIFY") {
        targets.extend(more.split(',').map(|t| t.trim().to_string()));
    }
    targets.dedup();
    let metrics = metrics_addr.map(|_| Arc::new(cutover_ops::MigrationMetrics::new()));
    let _server = match (metrics_addr, &metrics) {
        (Some(addr), Some(m)) => {
            let server = cutover_ops::serve(m.clone(), addr).map_err(|e| usage(e.to_string()))?;
            eprintln!(
                "serving live metrics at http://{}/metrics",
                server.local_addr()
            );
            Some(server)
        }
        _ => None,
    };
    let opts = RunOptions {
        replan,
        progress: true,
        metrics,
        policy,
        notify: targets
            .into_iter()
            .filter(|t| !t.trim().is_empty())
            .collect(),
        ..RunOptions::default()
    };
    // The run uses the plugins validation loaded.
    let mut runner = Runner::open_with(bridge, &loaded, mode, opts)?;
    for note in runner.notes() {
        eprintln!("note: {note}");
    }
    if runner.view().status.is_finished() {
        eprintln!(
            "note: this run had already finished; nothing was run (remove {} to start a new run)",
            loaded.state_dir().display()
        );
    }
    let outcome = runner.execute()?;
    let code = exit_class(&outcome).code();
    if json {
        let doc =
            serde_json::json!({ "outcome": outcome, "exit_code": code, "state": runner.view() });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        println!("{}", outcome.describe());
    }
    Ok(code)
}

fn approve(a: ApproveArgs) -> anyhow::Result<u8> {
    let rt = super::runtime()?;
    let loaded = load(&a.plan, &PluginBridge::new(&rt))?;
    let who = by(a.by);
    if let Some(point) = a.target.strip_prefix("rollback:") {
        if a.retry {
            return Err(usage(
                "--retry applies to an interrupted step, not a rollback",
            ));
        }
        let seq = cutover_engine::rollback::approve(&loaded, point, &who)?;
        println!(
            "approved rollback:{point} by {who} (journal seq {seq}); apply it with `cutover rollback --plan {} --to {point}`",
            a.plan.display()
        );
        return Ok(exit::OK);
    }
    if let Some(index) = a.item {
        let seq = operator::confirm_item(&loaded, &a.target, index, &who)?;
        println!(
            "confirmed checklist item {index} of {} by {who} (journal seq {seq}); continue with `cutover resume {}`",
            a.target,
            a.plan.display()
        );
        return Ok(exit::OK);
    }
    if let Some(text) = &a.extend {
        let ms = cutover_base::time::parse_duration_ms(text)
            .map_err(|e| usage(format!("--extend {text:?}: {e}")))?;
        let until = operator::extend_window(&loaded, &a.target, &who, ms)?;
        println!(
            "extended the window of {} by {text} (until unix ms {until}), by {who}; continue with `cutover resume {}`",
            a.target,
            a.plan.display()
        );
        return Ok(exit::OK);
    }
    let ap = operator::approve(&loaded, &a.target, &who, a.retry)?;
    println!(
        "approved {} by {}{} (journal seq {}); continue with `cutover resume {}`",
        ap.target,
        ap.by,
        if ap.retry { " (retry)" } else { "" },
        ap.seq,
        a.plan.display()
    );
    Ok(exit::OK)
}

/// What the operator commands need from a plan without validating it (so
/// they work even when the plan no longer validates).
struct PlanOutline {
    state_dir: PathBuf,
    phases: Vec<(String, Vec<String>)>,
    /// Each phase's `duration` as written and its maximum in ms.
    durations: std::collections::BTreeMap<String, (String, u64)>,
}

impl PlanOutline {
    fn read(plan: &Path) -> anyhow::Result<PlanOutline> {
        let src = super::read_input(plan, "plan")?;
        let doc: toml_edit::DocumentMut = src
            .parse()
            .map_err(|e| usage(format!("{}: {e}", plan.display())))?;
        let dir = doc
            .get("plan")
            .and_then(|p| p.get("state_dir"))
            .and_then(|v| v.as_str())
            .unwrap_or(".cutover");
        let base = plan.parent().unwrap_or(Path::new(""));
        let str_of =
            |t: &toml_edit::Table, k: &str| t.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let durations = doc
            .get("phases")
            .and_then(|p| p.as_array_of_tables())
            .map(|a| {
                a.iter()
                    .filter_map(|ph| {
                        let text = str_of(ph, "duration")?;
                        let (_, max) = cutover_plan::duration::parse_duration_range(&text).ok()?;
                        Some((str_of(ph, "id")?, (text, max)))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let phases = doc
            .get("phases")
            .and_then(|p| p.as_array_of_tables())
            .map(|a| {
                a.iter()
                    .map(|ph| {
                        let steps = ph
                            .get("steps")
                            .and_then(|s| s.as_array_of_tables())
                            .map(|s| s.iter().filter_map(|st| str_of(st, "id")).collect())
                            .unwrap_or_default();
                        (str_of(ph, "id").unwrap_or_default(), steps)
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(PlanOutline {
            state_dir: base.join(dir),
            phases,
            durations,
        })
    }

    /// Whether phase `id` is behind schedule: as journaled by a runner, or
    /// (between runner invocations) still running or paused past the maximum
    /// of its `duration`. `(duration as written, elapsed ms)`.
    fn behind_schedule(&self, view: &RunView, id: &str) -> Option<(String, u64)> {
        let phase = view.phases.get(id)?;
        if let Some(b) = &phase.behind_schedule {
            let elapsed = phase.overdue_at(b.max_ms, now_ms()).unwrap_or(b.elapsed_ms);
            return Some((b.duration.clone(), elapsed));
        }
        let (text, max) = self.durations.get(id)?;
        let elapsed = phase.overdue_at(*max, now_ms())?;
        Some((text.clone(), elapsed))
    }
}

pub(crate) fn pct(r: Option<f64>) -> String {
    r.map_or("n/a".to_string(), |r| format!("{:.1}%", r * 100.0))
}

fn status(plan: &Path, json: bool) -> anyhow::Result<u8> {
    let outline = PlanOutline::read(plan)?;
    let view = operator::status(&outline.state_dir)?;
    if json {
        let phases: Vec<serde_json::Value> = outline
            .phases
            .iter()
            .map(|(id, steps)| {
                serde_json::json!({
                    "id": id,
                    "status": view.phase_status(id).as_str(),
                    "duration": outline.durations.get(id).map(|(t, _)| t),
                    "started_ms": view.phases.get(id).and_then(|p| p.started_ms),
                    "behind_schedule": outline.behind_schedule(&view, id).map(|(d, e)| {
                        serde_json::json!({ "duration": d, "elapsed_ms": e })
                    }),
                    "overall_passed": view.phases.get(id).is_none_or(|p| p.overall_passed()),
                    "checklist": view.phases.get(id).map(|p| &p.items),
                    "steps": steps.iter().map(|s| serde_json::json!({
                        "id": s,
                        "status": view.step_status(s).as_str(),
                        "summary": view.steps.get(s).map(|v| v.summary.clone()),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let doc = serde_json::json!({
            "plan": plan.display().to_string(),
            "state_dir": outline.state_dir.display().to_string(),
            "run_id": view.run_id,
            "status": view.status.as_str(),
            "fingerprint": view.fingerprint,
            "current": view.current.as_ref().map(|(p, s)| format!("{p}/{s}")),
            "waiting_for": view.waiting_for,
            "reason": view.reason,
            "match_rate": view.match_rate,
            "open_incident": view.open_incident().map(|i| i.id.clone()),
            "rollbacks": view.rollbacks,
            "rollback_requests": pending_rollbacks(&view),
            "records": view.records,
            "phases": phases,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(exit::OK);
    }
    print_status(plan, &outline, &view);
    Ok(exit::OK)
}

fn print_status(plan: &Path, outline: &PlanOutline, view: &RunView) {
    println!("plan        {}", plan.display());
    println!("run         {}", view.run_id.as_deref().unwrap_or("(none)"));
    println!("status      {}", view.status.as_str());
    println!(
        "fingerprint {}",
        view.fingerprint.as_deref().unwrap_or("(none)")
    );
    if let Some((p, s)) = &view.current {
        println!("current     {p}/{s} ({})", view.step_status(s).as_str());
    }
    if let Some(w) = &view.waiting_for {
        println!("waiting for {w}");
    }
    if let Some(r) = &view.reason {
        println!("reason      {r}");
    }
    println!("match rate  {}", pct(view.match_rate));
    if let Some(r) = view.rollbacks.last() {
        println!(
            "rollback    to {} by {}{}: {}",
            r.point,
            r.by,
            if r.now { " (--now)" } else { "" },
            match &r.error {
                None => "done".to_string(),
                Some(e) => format!("FAILED: {e}"),
            }
        );
    }
    for r in pending_rollbacks(view) {
        println!(
            "rollback    to {} requested by {}, awaiting approval: cutover approve {} rollback:{} --by <{}>",
            r.point,
            r.by,
            plan.display(),
            r.point,
            r.approvers.join("|")
        );
    }
    if let Some(i) = view.open_incident() {
        println!(
            "incident    {} ({}, {}): see `cutover incident show {} {}`",
            i.id,
            i.procedure,
            i.status(),
            plan.display(),
            i.id
        );
    }
    for (id, steps) in &outline.phases {
        match outline.behind_schedule(view, id) {
            Some((planned, elapsed)) => println!(
                "phase {id:<24} {:<15} behind schedule: {} since its start, planned {planned}",
                view.phase_status(id).as_str(),
                // Whole seconds once it is a minute or more.
                cutover_plan::duration::format_duration_ms(if elapsed >= 60_000 {
                    elapsed / 1000 * 1000
                } else {
                    elapsed
                })
            ),
            None => println!("phase {id:<24} {}", view.phase_status(id).as_str()),
        }
        for s in steps {
            let st = view.step_status(s);
            let summary = view.steps.get(s).map(|v| v.summary.as_str()).unwrap_or("");
            println!("  {s:<26} {:<15} {summary}", st.as_str());
        }
        if let Some(p) = view.phases.get(id).filter(|p| !p.items.is_empty()) {
            for i in &p.items {
                let item = format!("checklist #{}", i.index);
                println!("  {item:<26} {:<15} {}", i.status.as_str(), i.message);
            }
            if !p.overall_passed() {
                println!(
                    "  {:<26} a critical item has not passed",
                    "overall_passed false"
                );
            }
        }
    }
}

/// Rollback requests not yet settled by a completed rollback (latest per point).
fn pending_rollbacks(view: &RunView) -> Vec<&cutover_engine::RollbackRequestView> {
    let mut points: Vec<&str> = Vec::new();
    for r in &view.rollback_requests {
        if !points.contains(&r.point.as_str()) {
            points.push(&r.point);
        }
    }
    points
        .into_iter()
        .filter_map(|p| view.pending_rollback(p))
        .filter(|r| view.rollback_approval(&r.point).is_none())
        .collect()
}

fn history(plan: &Path, json: bool) -> anyhow::Result<u8> {
    let outline = PlanOutline::read(plan)?;
    let records = operator::history(&outline.state_dir)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&records)?);
        return Ok(exit::OK);
    }
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for r in &records {
        if writeln!(
            out,
            "{:>5} {} {:<16} {}",
            r.seq,
            r.ts_ms,
            r.kind,
            super::history::describe(&r.kind, &r.payload)
        )
        .is_err()
        {
            break;
        }
    }
    Ok(exit::OK)
}

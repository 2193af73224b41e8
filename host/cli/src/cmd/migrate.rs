//! Operator commands of a migration run: `run`, `resume`, `status`, `abort`,
//! `pause`, `approve`, `history`, `unlock`, `incident`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Subcommand};
use cutover_base::exit::ExitClass;
use cutover_engine::{AlertPolicy, Mode, RunOptions, RunOutcome, Runner, StateAt, operator};

use super::status::{PlanOutline, history, status};
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
            let state = PlanOutline::read(&a.plan)?.state;
            let d = operator::abort(&state, &by(a.by), &a.reason)?;
            report_delivery("abort", d);
            Ok(exit::OK)
        }
        MigrateCmd::Pause(a) => {
            let state = PlanOutline::read(&a.plan)?.state;
            let d = operator::pause(&state, &by(a.by), &a.reason)?;
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
            let state = PlanOutline::read(&a.plan)?.state;
            match operator::unlock(&state, &a.reason)? {
                Some(prev) => println!("lease removed (was: {})", prev.trim()),
                None => println!("no lease was held"),
            }
            Ok(exit::OK)
        }
    }
}

/// Where a plan's state lives, read without validating the plan.
pub(crate) fn state_of(plan: &Path) -> anyhow::Result<StateAt> {
    Ok(PlanOutline::read(plan)?.state)
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
    // The plan's targets, plus --notify and CUTOVER_NOTIFY (checked here
    // as validation checks the plan's: one that can never work is refused).
    let mut extra = monitor.notify;
    if let Some(more) = env("CUTOVER_NOTIFY") {
        extra.extend(
            more.split(',')
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty()),
        );
    }
    for t in &extra {
        cutover_notify::Target::check(t)
            .map_err(|e| usage(format!("--notify / CUTOVER_NOTIFY: {e}")))?;
    }
    let mut targets = meta.notify.clone();
    targets.extend(extra);
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

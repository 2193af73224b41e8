//! `cutover`: the operator and plugin-author command line.

mod cmd;
mod exit;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use cutover_base::exit::ExitClass;

/// Move alerting from an old system to a new one in safe, resumable phases.
#[derive(Parser)]
#[command(name = "cutover", version, about)]
struct Cli {
    /// Log filter (also CUTOVER_LOG), e.g. `info` or `cutover::plugin=debug`.
    #[arg(long, global = true, default_value = "warn")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Plugin author tools: inspect, run, lock.
    #[command(subcommand)]
    Plugin(cmd::plugin::PluginCmd),
    /// Write a starter plan into DIR: five phases with their checklists,
    /// risks and emergency procedures, plugins pinned; it validates as written.
    Init(cmd::init::InitArgs),
    /// Check a plan and report every problem with its location.
    Validate(cmd::plan::ValidateArgs),
    /// Dry-run preview of a plan: phases, steps, grants, backups, gates, fingerprint.
    Plan(cmd::plan::PlanArgs),
    /// Compare alerts fired by the old and the new system (offline dumps).
    Compare(cmd::compare::Args),
    /// Predict what an old and a new rule set would have fired over a
    /// Prometheus's recorded history, and compare them like a parallel run.
    Backtest(cmd::backtest::BacktestArgs),
    /// Run a translator on files (offline) and print its report: every
    /// input item ok, warning or untranslatable, with the reason.
    Translate(cmd::translate::TranslateArgs),
    /// Backups: create, list, show, verify, restore, prune.
    #[command(subcommand)]
    Backup(cmd::backup::BackupCmd),
    /// Roll a system back to a rollback point (verified first).
    Rollback(cmd::backup::RollbackArgs),
    #[command(flatten)]
    Migrate(cmd::migrate::MigrateCmd),
    /// Prometheus alerting rules for the migration itself (YAML).
    Rules(cmd::artifacts::RulesArgs),
    /// The plan's risk register, scored and sorted.
    Risks(cmd::artifacts::RisksArgs),
    /// A Markdown runbook an operator can follow without the tool.
    Runbook(cmd::artifacts::RunbookArgs),
    /// Serve the migration metrics at http://ADDR/metrics (loopback only),
    /// folded from the plan's journal and refreshed every second.
    ServeMetrics(cmd::artifacts::ServeMetricsArgs),
    /// Where a plan's state lives: move it into PostgreSQL.
    #[command(subcommand)]
    State(cmd::state::StateCmd),
    /// Watch a paused or waiting run: escalate its incidents on time, send
    /// their notifications and serve /metrics, until SIGTERM or Ctrl-C.
    /// It never runs steps; `cutover resume` works while it watches.
    Watch(cmd::watch::WatchArgs),
}

fn main() -> ExitCode {
    // Rust ignores SIGPIPE, so printing into a closed pipe (`cutover status
    // | head`) would panic; end quietly like other command-line tools.
    // SAFETY: called first thing, before any thread exists; SIG_DFL is a
    // valid disposition for SIGPIPE.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let filter = std::env::var("CUTOVER_LOG").unwrap_or_else(|_| cli.log.clone());
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&filter).unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let code = match cli.command {
        Command::Plugin(c) => cmd::plugin::run(c),
        Command::Init(a) => cmd::init::init(a),
        Command::Validate(a) => cmd::plan::validate(a),
        Command::Plan(a) => cmd::plan::preview(a),
        Command::Compare(a) => cmd::compare::run(a),
        Command::Backtest(a) => cmd::backtest::run(a),
        Command::Translate(a) => cmd::translate::run(a),
        Command::Backup(c) => cmd::backup::run(c),
        Command::Rollback(a) => cmd::backup::rollback(a),
        Command::Migrate(c) => cmd::migrate::run(c),
        Command::Rules(a) => cmd::artifacts::rules(a),
        Command::Risks(a) => cmd::artifacts::risks(a),
        Command::Runbook(a) => cmd::artifacts::runbook(a),
        Command::ServeMetrics(a) => cmd::artifacts::serve_metrics(a),
        Command::Watch(a) => cmd::watch::watch(a),
        Command::State(c) => cmd::state::run(c),
    };
    let e = match code {
        Ok(c) => return ExitCode::from(c),
        Err(e) => e,
    };
    eprintln!("error: {e:#}");
    match cmd::exit_class_of(&e) {
        Some(class) => class.into(),
        None => {
            let internal = ExitClass::Internal;
            eprintln!(
                "error: this error has no exit class, a bug in cutover (please report it); exiting {} ({})",
                internal.code(),
                internal.meaning()
            );
            internal.into()
        }
    }
}

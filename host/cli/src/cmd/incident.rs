//! `cutover incident list|show|open|ack|escalate`: incidents of emergency
//! procedures, opened by an alert policy during a run or by an operator.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use cutover_engine::{IncidentView, incident};

use crate::exit;

/// Incident commands.
#[derive(Subcommand)]
pub enum IncidentCmd {
    /// List the run's incidents.
    List(ListArgs),
    /// Show one incident with its steps.
    Show(ShowArgs),
    /// Open an emergency procedure of the plan by hand (e.g. system_failure):
    /// journaled as an incident of the run, which pauses until it is worked through.
    Open(OpenArgs),
    /// Acknowledge a manual (or failed automated) step of an incident.
    Ack(AckArgs),
    /// Escalate incidents past their escalation time (for a scheduler while paused).
    Escalate(ListArgs),
}

/// Arguments of `incident list` / `incident escalate`.
#[derive(Args)]
pub struct ListArgs {
    /// The plan file (TOML).
    pub plan: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `incident show`.
#[derive(Args)]
pub struct ShowArgs {
    /// The plan file (TOML).
    pub plan: PathBuf,
    /// Incident id (e.g. INC-1).
    pub id: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `incident open`.
#[derive(Args)]
pub struct OpenArgs {
    /// The plan file (TOML).
    pub plan: PathBuf,
    /// The emergency procedure to open: a name under `[emergency]` in the plan.
    #[arg(value_name = "TYPE")]
    pub procedure: String,
    /// What happened (journaled and sent with the notification).
    #[arg(long)]
    pub details: String,
    /// Who opens it (default: $USER).
    #[arg(long)]
    pub by: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `incident ack`.
#[derive(Args)]
pub struct AckArgs {
    /// The plan file (TOML).
    pub plan: PathBuf,
    /// Incident id (e.g. INC-1).
    pub id: String,
    /// Step number (1-based, as shown by `incident show`).
    pub step: usize,
    /// Who acknowledges (default: $USER).
    #[arg(long)]
    pub by: Option<String>,
    /// A note for the journal.
    #[arg(long, default_value = "")]
    pub note: String,
}

fn time(ms: Option<i64>) -> String {
    ms.map_or("-".to_string(), |m| m.to_string())
}

fn print_one(i: &IncidentView) {
    println!("incident   {}", i.id);
    println!("procedure  {}", i.procedure);
    println!("phase      {}", i.phase);
    if !i.opened_by.is_empty() {
        println!("opened by  {}", i.opened_by);
    }
    println!("status     {}", i.status());
    println!("reason     {}", i.reason);
    println!("opened     {} (unix ms)", i.opened_ms);
    println!(
        "escalation after {} s to {}",
        i.escalation_ms / 1000,
        if i.notify.is_empty() {
            "(no targets)".to_string()
        } else {
            i.notify.join(", ")
        }
    );
    println!("escalated  {}", time(i.escalated_ms));
    println!("resolved   {}", time(i.resolved_ms));
    for s in &i.steps {
        let kind = if s.spec.kind.is_automated() {
            "auto"
        } else {
            "manual"
        };
        println!(
            "  {:>2}. [{:<7}] {:<6} {}{}",
            s.step,
            s.status.as_str(),
            kind,
            s.spec.text,
            match (&s.by, s.at_ms) {
                (Some(by), Some(at)) => format!(" (by {by} at {at})"),
                _ => String::new(),
            }
        );
    }
}

/// Runs one incident command.
pub fn run(cmd: IncidentCmd) -> anyhow::Result<u8> {
    match cmd {
        IncidentCmd::List(a) => {
            let dir = super::state_of(&a.plan)?;
            let all = incident::list(&dir)?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&all)?);
            } else if all.is_empty() {
                println!("no incidents");
            } else {
                for i in &all {
                    let next = i.next_step().map_or("-".to_string(), |s| {
                        format!("step {}: {}", s.step, s.spec.text)
                    });
                    println!(
                        "{:<8} {:<10} {:<20} phase {:<16} next {next}",
                        i.id,
                        i.status(),
                        i.procedure,
                        i.phase
                    );
                }
            }
            Ok(exit::OK)
        }
        IncidentCmd::Show(a) => {
            let dir = super::state_of(&a.plan)?;
            let i = incident::show(&dir, &a.id)?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&i)?);
            } else {
                print_one(&i);
            }
            Ok(exit::OK)
        }
        IncidentCmd::Open(a) => open(a),
        IncidentCmd::Ack(a) => {
            let outline = crate::cmd::status::PlanOutline::read(&a.plan)?;
            let who = super::by(a.by);
            let ack = incident::ack(
                &outline.state,
                &a.id,
                a.step,
                &who,
                &a.note,
                &outline.notify_tls_ca,
            )?;
            for id in &ack.escalated {
                eprintln!("note: incident {id} was past its escalation time and was escalated");
            }
            match ack.next {
                Some((n, text)) => println!(
                    "acknowledged step {} of {} by {who} (journal seq {}); next: step {n}: {text}",
                    a.step, a.id, ack.seq
                ),
                None => println!(
                    "acknowledged step {} of {} by {who} (journal seq {}); every step is settled: `cutover resume {}` resolves the incident and continues",
                    a.step,
                    a.id,
                    ack.seq,
                    a.plan.display()
                ),
            }
            Ok(exit::OK)
        }
        IncidentCmd::Escalate(a) => {
            let outline = crate::cmd::status::PlanOutline::read(&a.plan)?;
            let ids =
                incident::escalate(&outline.state, "", &super::by(None), &outline.notify_tls_ca)?;
            if a.json {
                println!("{}", serde_json::to_string(&ids)?);
            } else if ids.is_empty() {
                println!("nothing to escalate");
            } else {
                println!("escalated: {}", ids.join(", "));
            }
            Ok(exit::OK)
        }
    }
}

fn open(a: OpenArgs) -> anyhow::Result<u8> {
    let rt = crate::cmd::runtime()?;
    let loaded = super::load(&a.plan, &cutover_engine::PluginBridge::new(&rt))?;
    let who = super::by(a.by);
    let opened = incident::open(&loaded, &a.procedure, &a.details, &who)?;
    if a.json {
        let i = incident::show(&cutover_engine::StateAt::of_plan(&loaded)?, &opened.id)?;
        println!("{}", serde_json::to_string_pretty(&i)?);
        return Ok(exit::OK);
    }
    let plan = a.plan.display();
    println!(
        "opened {} ({}) in phase {} by {who} (journal seq {}); the run is paused",
        opened.id,
        a.procedure,
        if opened.phase.is_empty() {
            "-"
        } else {
            &opened.phase
        },
        opened.seq
    );
    if let Some((n, text)) = &opened.next {
        println!("next: step {n}: {text}");
    }
    println!(
        "work through it: `cutover resume {plan}` runs its automated steps, `cutover incident ack {plan} {} N` acknowledges a manual one",
        opened.id
    );
    Ok(exit::OK)
}

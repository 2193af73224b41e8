//! `cutover rollback --to POINT`: the command-line front of
//! [`cutover_engine::rollback`].

use clap::Args;
use cutover_backup::RollbackReport;
use cutover_engine::bridge::PluginBridge;

use super::backup::{PlanOpt, print_json, print_types, result_line};
use crate::exit;

/// `cutover rollback --to POINT`.
#[derive(Args)]
pub struct RollbackArgs {
    #[command(flatten)]
    pub opt: PlanOpt,
    /// Rollback point name (`NAME`, or the pair `NAME.old`/`NAME.new` a
    /// phase captures).
    #[arg(long)]
    pub to: String,
    /// Incident fast path: skip the approval gate (journaled). Never skips
    /// verification.
    #[arg(long, conflicts_with = "dry_run")]
    pub now: bool,
    /// Verify the point and show what would be restored; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Who rolls back (default: $USER); journaled.
    #[arg(long)]
    pub by: Option<String>,
    /// Why (journaled with a request for approval).
    #[arg(long)]
    pub reason: Option<String>,
    /// Comma-separated categories (default: every captured category).
    #[arg(long, value_delimiter = ',')]
    pub categories: Vec<String>,
}

/// Runs `cutover rollback --to POINT`: verify every checksum, pass the
/// approval gate (unless `--now`), apply, journal.
pub fn rollback(a: RollbackArgs) -> anyhow::Result<u8> {
    use cutover_engine::rollback::{self as rb, Outcome};
    let rt = super::runtime()?;
    let loaded = {
        let resolver = PluginBridge::new(&rt);
        match cutover_plan::load(&a.opt.plan, &resolver) {
            Ok(l) => l,
            Err(diags) => {
                eprint!("{}", diags.render_auto());
                return Ok(exit::USAGE);
            }
        }
    };
    let req = rb::Request {
        point: a.to.clone(),
        by: super::migrate::by(a.by.clone()),
        reason: a.reason.clone(),
        now: a.now,
        dry_run: a.dry_run,
        categories: a.categories.clone(),
    };
    // Each error says its exit class (a plugin that cannot load: 3).
    let done = rb::rollback(&rt, &loaded, &req)?;
    for note in &done.notes {
        eprintln!("note: {note}");
    }
    let plan = a.opt.plan.display();
    let code = match &done.outcome {
        Outcome::Corrupt { .. } => exit::STATE,
        Outcome::DryRun { .. } | Outcome::RolledBack { .. } => exit::OK,
        Outcome::AwaitingApproval { .. } => exit::PAUSED,
        Outcome::Failed { .. } => exit::FAILED,
    };
    if a.opt.json {
        let mut doc = serde_json::to_value(&done)?;
        doc["exit_code"] = code.into();
        print_json(&doc)?;
    }
    match &done.outcome {
        Outcome::Corrupt { targets, bad } => {
            if !a.opt.json {
                print_targets(targets, "would restore");
                for i in bad {
                    println!(
                        "  CORRUPT {} {}: {}",
                        i.id,
                        i.kind,
                        i.problem.as_deref().unwrap_or("")
                    );
                }
            }
            for i in bad {
                eprintln!(
                    "error: refusing to roll back to {}: {} {} is corrupt ({}); nothing was applied",
                    a.to,
                    i.id,
                    i.kind,
                    i.problem.as_deref().unwrap_or("")
                );
            }
        }
        Outcome::DryRun {
            targets,
            approvers,
            approved_by,
        } if !a.opt.json => {
            print_targets(targets, "would restore");
            match (approvers.is_empty(), approved_by) {
                (true, _) => {}
                (false, Some(by)) => println!("approval: given by {by}"),
                (false, None) => println!(
                    "approval: needed from one of {} (or --now)",
                    approvers.join(", ")
                ),
            }
            println!("verified; nothing changed (dry run)");
        }
        Outcome::AwaitingApproval {
            point,
            approvers,
            seq,
            requested_now,
            ..
        } => {
            if !a.opt.json {
                println!(
                    "rollback to {point} {} (journal seq {seq}); it needs an approval by one of: {}",
                    if *requested_now {
                        "requested"
                    } else {
                        "already requested"
                    },
                    approvers.join(", ")
                );
                println!("approve with:");
                for who in approvers {
                    println!("  cutover approve {plan} rollback:{point} --by {who}");
                }
                println!("then apply it with: cutover rollback --plan {plan} --to {point}");
            }
            eprintln!("paused: rollback to {point} awaits approval; nothing was applied");
        }
        Outcome::RolledBack {
            point,
            systems,
            gate,
            seq,
        } => {
            if !a.opt.json {
                let mut unsupported = Vec::new();
                for s in systems {
                    if let Some(r) = &s.report {
                        print_rollback(&s.system, r);
                        let kinds: Vec<&str> = r.unsupported().map(|t| t.kind.as_str()).collect();
                        if !kinds.is_empty() {
                            unsupported.push(format!("{}: {}", s.system, kinds.join(", ")));
                        }
                    }
                }
                println!(
                    "rolled back to {point} by {}{} (journal seq {seq})",
                    req.by,
                    gate_text(gate)
                );
                if !unsupported.is_empty() {
                    println!(
                        "not restored, the adapter cannot (kept as evidence): {}",
                        unsupported.join("; ")
                    );
                }
            }
        }
        Outcome::Failed {
            point,
            systems,
            error,
            ..
        } => {
            if !a.opt.json {
                for s in systems {
                    match &s.report {
                        Some(r) => print_rollback(&s.system, r),
                        None => println!(
                            "{} system ({}): {}",
                            s.system,
                            s.point,
                            s.error.as_deref().unwrap_or("")
                        ),
                    }
                }
            }
            eprintln!(
                "error: rollback to {point} incomplete: {error}; run the same command again to resume"
            );
        }
        Outcome::DryRun { .. } => {}
    }
    Ok(code)
}

fn gate_text(g: &cutover_engine::rollback::Gate) -> String {
    use cutover_engine::rollback::Gate;
    match g {
        Gate::NotRequired => String::new(),
        Gate::Skipped { .. } => ", --now: approval gate skipped".into(),
        Gate::Approved { by, .. } => format!(", approved by {by}"),
    }
}

fn print_targets(targets: &[cutover_engine::rollback::Target], verb: &str) {
    for t in targets {
        match &t.point {
            Some(p) => {
                println!(
                    "rollback point {} ({} system, captured {})",
                    p.name, p.system, p.created_at
                );
                for r in p.results.iter().filter(|r| t.categories.contains(&r.kind)) {
                    println!("  {verb} {:<18} {}", r.kind, result_line(r));
                }
            }
            None => println!("rollback point {} (unreadable)", t.name),
        }
    }
}

fn print_rollback(system: &str, r: &RollbackReport) {
    println!("{system} system: {} (verified before applying)", r.point);
    for c in &r.resumed {
        println!("  done    {c:<20} (applied by an earlier, interrupted rollback)");
    }
    print_types(&r.results);
}

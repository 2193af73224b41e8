//! `cutover backup create|list|show|verify|restore|prune` and `cutover rollback`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use cutover_backup::{
    BackupManifest, BackupStore, Lineage, RestoreReport, RestoreStatus, RollbackReport,
    TypeRestore, TypeResult,
};
use cutover_engine::bridge::PluginBridge;
use cutover_plan::{LoadedPlan, StepAction, SystemSide};
use cutover_runtime::{Plugin, Runtime, Sandbox};
use serde::Serialize;

use super::usage;
use crate::exit;

/// The plan whose state directory and adapters are used.
#[derive(Args)]
pub struct PlanOpt {
    /// The plan file (TOML).
    #[arg(long)]
    pub plan: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `cutover backup ...`.
#[derive(Subcommand)]
pub enum BackupCmd {
    /// Back up data types of one system through its adapter.
    Create {
        #[command(flatten)]
        opt: PlanOpt,
        /// `old` or `new`.
        #[arg(long)]
        system: String,
        /// Comma-separated data types (default: the plan's backup steps for this system).
        #[arg(long, value_delimiter = ',')]
        types: Vec<String>,
    },
    /// List backups, oldest first.
    List {
        #[command(flatten)]
        opt: PlanOpt,
    },
    /// Show one backup's manifest.
    Show {
        /// Backup id.
        id: String,
        #[command(flatten)]
        opt: PlanOpt,
    },
    /// Re-hash every blob and check every manifest and point (or one backup, or `point:NAME`).
    Verify {
        /// Backup id or `point:NAME` (default: everything).
        id: Option<String>,
        #[command(flatten)]
        opt: PlanOpt,
    },
    /// Verify a backup, then restore it into its system through the adapter.
    /// A named type the backup lacks fails (exit 1); the others still restore.
    Restore {
        /// Backup id.
        id: String,
        #[command(flatten)]
        opt: PlanOpt,
        /// Comma-separated types to restore (default: every stored type).
        #[arg(long, value_delimiter = ',')]
        types: Vec<String>,
    },
    /// Capture a rollback point of one system (`capture-state` per category).
    Point {
        #[command(flatten)]
        opt: PlanOpt,
        /// `old` or `new`.
        #[arg(long)]
        system: String,
        /// Point name.
        #[arg(long)]
        name: String,
        /// Comma-separated categories (default: configurations, active_alerts,
        /// system_metrics, user_permissions).
        #[arg(long, value_delimiter = ',')]
        categories: Vec<String>,
    },
    /// Keep the newest backups and points; delete the rest and unreferenced blobs.
    Prune {
        #[command(flatten)]
        opt: PlanOpt,
        /// Backups to keep.
        #[arg(long)]
        keep: usize,
        /// Rollback points to keep (default: all).
        #[arg(long)]
        keep_points: Option<usize>,
    },
}

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

/// A loaded plan with its runtime, the plugins validation loaded, and the
/// backup store.
struct Ctx {
    rt: Runtime,
    loaded: LoadedPlan,
    plugins: BTreeMap<PathBuf, Arc<Plugin>>,
    store: BackupStore,
}

impl Ctx {
    fn open(plan: &Path) -> anyhow::Result<Result<Ctx, u8>> {
        let rt = super::runtime()?;
        let resolver = PluginBridge::new(&rt);
        let loaded = match cutover_plan::load(plan, &resolver) {
            Ok(l) => l,
            Err(diags) => {
                eprint!("{}", diags.render_auto());
                return Ok(Err(exit::USAGE));
            }
        };
        let plugins = resolver.into_loaded();
        let store = BackupStore::open(&loaded.state_dir())?;
        Ok(Ok(Ctx {
            rt,
            loaded,
            plugins,
            store,
        }))
    }

    /// The adapter plugin and sandbox of system `side`.
    fn adapter(&self, side: &str) -> anyhow::Result<(Arc<Plugin>, Sandbox)> {
        // The adapter validation loaded, not loaded again.
        let bridge = PluginBridge::with_loaded(&self.rt, self.plugins.clone());
        // A bridge error says its exit class (a plugin that cannot load: 3).
        let (_, l) = bridge
            .adapter(&self.loaded, side)
            .with_context(|| format!("the adapter of the {side} system"))?;
        Ok((l.plugin, l.sandbox))
    }
}

macro_rules! open_or_return {
    ($plan:expr) => {
        match Ctx::open($plan)? {
            Ok(c) => c,
            Err(code) => return Ok(code),
        }
    };
}

fn print_json<T: Serialize>(v: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// Runs `cutover backup ...`.
pub fn run(c: BackupCmd) -> anyhow::Result<u8> {
    match c {
        BackupCmd::Create { opt, system, types } => create(&opt, &system, types),
        BackupCmd::List { opt } => {
            let ctx = open_or_return!(&opt.plan);
            let all = ctx.store.list()?;
            if opt.json {
                print_json(&all)?;
            } else if all.is_empty() {
                println!("no backups in {}", ctx.loaded.state_dir().display());
            } else {
                for m in &all {
                    let ok = m.results.iter().filter(|r| r.ok).count();
                    println!(
                        "{}  {}  {:<3}  {}/{} types  {} bytes",
                        m.id,
                        m.created_at,
                        m.system,
                        ok,
                        m.results.len(),
                        m.total_size()
                    );
                }
            }
            Ok(exit::OK)
        }
        BackupCmd::Show { id, opt } => {
            let ctx = open_or_return!(&opt.plan);
            let m = ctx.store.show(&id)?;
            if opt.json {
                print_json(&m)?;
            } else {
                print_manifest(&m);
            }
            Ok(exit::OK)
        }
        BackupCmd::Verify { id, opt } => {
            let ctx = open_or_return!(&opt.plan);
            let items = ctx.store.verify(id.as_deref())?;
            let bad = items.iter().filter(|i| !i.ok).count();
            if opt.json {
                print_json(&items)?;
            } else {
                for i in &items {
                    match &i.problem {
                        None => println!("ok       {} {}", i.id, i.kind),
                        Some(p) => println!("CORRUPT  {} {}: {p}", i.id, i.kind),
                    }
                }
                println!("{} checked, {bad} problem(s)", items.len());
            }
            Ok(if bad == 0 { exit::OK } else { exit::STATE })
        }
        BackupCmd::Restore { id, opt, types } => {
            let ctx = open_or_return!(&opt.plan);
            let m = ctx.store.show(&id)?;
            let (plugin, sb) = ctx.adapter(&m.system)?;
            let sel = (!types.is_empty()).then_some(types.as_slice());
            let report = ctx.store.restore(&ctx.rt, &plugin, &sb, &id, sel)?;
            print_restore(&opt, &report)?;
            Ok(if report.ok() { exit::OK } else { exit::FAILED })
        }
        BackupCmd::Point {
            opt,
            system,
            name,
            categories,
        } => {
            let ctx = open_or_return!(&opt.plan);
            let (plugin, sb) = ctx.adapter(&system)?;
            let lineage = Lineage {
                plan_fingerprint: ctx.loaded.fingerprint(),
                journal_seq: 0,
            };
            let p = ctx.store.capture_point(
                &ctx.rt,
                &plugin,
                &sb,
                &system,
                &name,
                &categories,
                lineage,
            )?;
            let ok = p.results.iter().all(|r| r.ok);
            if opt.json {
                print_json(&p)?;
            } else {
                println!(
                    "rollback point {} ({} system, captured {})",
                    p.name, p.system, p.created_at
                );
                for r in &p.results {
                    println!("  {:<20} {}", r.kind, result_line(r));
                }
            }
            Ok(if ok { exit::OK } else { exit::FAILED })
        }
        BackupCmd::Prune {
            opt,
            keep,
            keep_points,
        } => {
            let ctx = open_or_return!(&opt.plan);
            let keep_points = match keep_points {
                Some(k) => k,
                None => ctx.store.point_names()?.len(),
            };
            let r = ctx.store.prune(keep, keep_points)?;
            if opt.json {
                print_json(&r)?;
            } else {
                println!(
                    "deleted {} backup(s), {} point(s), {} blob(s) ({} bytes); kept {} blob(s)",
                    r.deleted_backups.len(),
                    r.deleted_points.len(),
                    r.deleted_blobs,
                    r.freed_bytes,
                    r.kept_blobs
                );
            }
            Ok(exit::OK)
        }
    }
}

/// The data types the plan's backup steps name for `side`.
fn plan_types(loaded: &LoadedPlan, side: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for step in loaded.plan.phases.iter().flat_map(|p| &p.steps) {
        if let StepAction::Backup { system, types } = &step.action {
            let s = match system {
                SystemSide::Old => "old",
                SystemSide::New => "new",
            };
            if s == side {
                for t in types {
                    if !out.contains(t) {
                        out.push(t.clone());
                    }
                }
            }
        }
    }
    out
}

fn create(opt: &PlanOpt, system: &str, types: Vec<String>) -> anyhow::Result<u8> {
    let ctx = open_or_return!(&opt.plan);
    let (plugin, sb) = ctx.adapter(system)?;
    let types = if types.is_empty() {
        plan_types(&ctx.loaded, system)
    } else {
        types
    };
    if types.is_empty() {
        return Err(usage(format!(
            "no --types given and the plan has no backup step for the {system} system"
        )));
    }
    let lineage = Lineage {
        plan_fingerprint: ctx.loaded.fingerprint(),
        journal_seq: 0,
    };
    let m = ctx
        .store
        .backup(&ctx.rt, &plugin, &sb, system, &types, lineage)?;
    if opt.json {
        print_json(&m)?;
    } else {
        print_manifest(&m);
    }
    Ok(if m.complete() { exit::OK } else { exit::FAILED })
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

fn result_line(r: &TypeResult) -> String {
    match (&r.digest, &r.error) {
        (Some(d), _) if r.ok => format!("{} bytes sha256:{}", r.size, &d[..16.min(d.len())]),
        (_, e) => format!("FAILED: {}", e.as_deref().unwrap_or("unknown error")),
    }
}

fn print_manifest(m: &BackupManifest) {
    println!("backup {}", m.id);
    println!("  created   {}", m.created_at);
    println!("  system    {}", m.system);
    println!(
        "  adapter   {} (sha256 {})",
        m.adapter.name, m.adapter.digest
    );
    println!(
        "  plan      {} (journal seq {})",
        m.lineage.plan_fingerprint, m.lineage.journal_seq
    );
    for r in &m.results {
        println!("  {:<20} {}", r.kind, result_line(r));
    }
}

/// One line per type or category: `ok`, `FAILED` or `unsupported`, with
/// what the adapter said or why not.
fn print_types(results: &[TypeRestore]) {
    for r in results {
        let status = match r.status {
            RestoreStatus::Ok => "ok",
            RestoreStatus::Failed => "FAILED",
            RestoreStatus::Unsupported => "unsupported",
        };
        let text = match (&r.outcome, &r.reason) {
            (Some(o), _) if r.is_ok() => o.summary.as_str(),
            (_, reason) => reason.as_deref().unwrap_or(""),
        };
        println!("  {status:<7} {:<20} {text}", r.kind);
    }
}

/// The per-type results of a restore (JSON: the report, each type with
/// `status` `ok` or `failed` and its `reason`); failures also on stderr.
fn print_restore(opt: &PlanOpt, r: &RestoreReport) -> anyhow::Result<()> {
    if opt.json {
        print_json(r)?;
    } else {
        println!("restore of backup {} (verified before applying)", r.id);
        print_types(&r.results);
        let restored = r.results.iter().filter(|t| t.is_ok()).count();
        println!("{restored} of {} types restored", r.results.len());
    }
    let failed: Vec<&str> = r.failed().map(|t| t.kind.as_str()).collect();
    if !failed.is_empty() {
        eprintln!(
            "error: restore of backup {} incomplete: {} not restored",
            r.id,
            failed.join(", ")
        );
    }
    Ok(())
}

fn print_rollback(system: &str, r: &RollbackReport) {
    println!("{system} system: {} (verified before applying)", r.point);
    for c in &r.resumed {
        println!("  done    {c:<20} (applied by an earlier, interrupted rollback)");
    }
    print_types(&r.results);
}

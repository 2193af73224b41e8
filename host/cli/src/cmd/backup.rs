//! `cutover backup create|list|show|verify|restore|prune|point`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Subcommand};
use cutover_backup::{
    BackupManifest, BackupStore, RestoreReport, RestoreStatus, TypeRestore, TypeResult,
};
use cutover_engine::backup_cmd;
use cutover_engine::bridge::PluginBridge;
use cutover_plan::{LoadedPlan, StepAction, SystemSide};
use cutover_runtime::{Plugin, Runtime};
use serde::Serialize;

pub use super::rollback::{RollbackArgs, rollback};
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
    /// Back up data types of one system through its adapter (under the
    /// plan's lease; journaled).
    Create {
        #[command(flatten)]
        opt: PlanOpt,
        /// `old` or `new`.
        #[arg(long)]
        system: String,
        /// Comma-separated data types (default: the plan's backup steps for this system).
        #[arg(long, value_delimiter = ',')]
        types: Vec<String>,
        /// Who (default: $USER); journaled.
        #[arg(long)]
        by: Option<String>,
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
    /// Verify a backup, then restore it into its system through the adapter
    /// (under the plan's lease; journaled).
    /// A named type the backup lacks fails (exit 1); the others still restore.
    Restore {
        /// Backup id.
        id: String,
        #[command(flatten)]
        opt: PlanOpt,
        /// Comma-separated types to restore (default: every stored type).
        #[arg(long, value_delimiter = ',')]
        types: Vec<String>,
        /// Who (default: $USER); journaled.
        #[arg(long)]
        by: Option<String>,
    },
    /// Capture a rollback point of one system (`capture-state` per
    /// category; under the plan's lease; journaled).
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
        /// Who (default: $USER); journaled.
        #[arg(long)]
        by: Option<String>,
    },
    /// Keep the newest backups and points; delete the rest and unreferenced
    /// blobs (under the plan's lease; journaled; never while a backup is
    /// being written).
    Prune {
        #[command(flatten)]
        opt: PlanOpt,
        /// Backups to keep.
        #[arg(long)]
        keep: usize,
        /// Rollback points to keep (default: all).
        #[arg(long)]
        keep_points: Option<usize>,
        /// Who (default: $USER); journaled.
        #[arg(long)]
        by: Option<String>,
    },
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
        let store = cutover_engine::backup_cmd::open_store(&loaded)?;
        Ok(Ok(Ctx {
            rt,
            loaded,
            plugins,
            store,
        }))
    }

    /// A bridge over the plugins validation loaded (not loaded again).
    fn bridge(&self) -> PluginBridge<'_> {
        PluginBridge::with_loaded(&self.rt, self.plugins.clone())
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

pub(crate) fn print_json<T: Serialize>(v: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// Runs `cutover backup ...`.
pub fn run(c: BackupCmd) -> anyhow::Result<u8> {
    match c {
        BackupCmd::Create {
            opt,
            system,
            types,
            by,
        } => create(&opt, &system, types, by),
        BackupCmd::List { opt } => {
            let ctx = open_or_return!(&opt.plan);
            let all = ctx.store.list()?;
            if opt.json {
                print_json(&all)?;
            } else if all.is_empty() {
                println!(
                    "no backups in {}",
                    cutover_engine::StateAt::of_plan(&ctx.loaded)?.describe()
                );
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
        BackupCmd::Restore { id, opt, types, by } => {
            let ctx = open_or_return!(&opt.plan);
            let by = super::migrate::by(by);
            // Each error says its exit class (unknown id: 2, corrupt or lease held: 8).
            let done = backup_cmd::restore(&ctx.bridge(), &ctx.loaded, &id, &types, &by)?;
            notes(&done.notes);
            print_restore(&opt, &done.value)?;
            if !opt.json {
                print_journaled(&done, &by);
            }
            Ok(if done.value.ok() {
                exit::OK
            } else {
                exit::FAILED
            })
        }
        BackupCmd::Point {
            opt,
            system,
            name,
            categories,
            by,
        } => {
            let ctx = open_or_return!(&opt.plan);
            let by = super::migrate::by(by);
            let done =
                backup_cmd::point(&ctx.bridge(), &ctx.loaded, &system, &name, &categories, &by)?;
            notes(&done.notes);
            let p = &done.value;
            let ok = p.results.iter().all(|r| r.ok);
            if opt.json {
                print_json(p)?;
            } else {
                println!(
                    "rollback point {} ({} system, captured {}, journal seq {})",
                    p.name, p.system, p.created_at, p.lineage.journal_seq
                );
                for r in &p.results {
                    println!("  {:<20} {}", r.kind, result_line(r));
                }
                print_journaled(&done, &by);
            }
            Ok(if ok { exit::OK } else { exit::FAILED })
        }
        BackupCmd::Prune {
            opt,
            keep,
            keep_points,
            by,
        } => {
            let ctx = open_or_return!(&opt.plan);
            let by = super::migrate::by(by);
            let done = backup_cmd::prune(&ctx.loaded, keep, keep_points, &by)?;
            notes(&done.notes);
            let r = &done.value;
            if opt.json {
                print_json(r)?;
            } else {
                println!(
                    "deleted {} backup(s), {} point(s), {} blob(s) ({} bytes); kept {} blob(s)",
                    r.deleted_backups.len(),
                    r.deleted_points.len(),
                    r.deleted_blobs,
                    r.freed_bytes,
                    r.kept_blobs
                );
                for id in &r.deleted_backups {
                    println!("  deleted backup {id}");
                }
                for name in &r.deleted_points {
                    println!("  deleted point {name}");
                }
                for id in &r.abandoned {
                    println!("  cleared {id}: its writer died before committing it");
                }
                print_journaled(&done, &by);
            }
            Ok(exit::OK)
        }
    }
}

fn notes(notes: &[String]) {
    for n in notes {
        eprintln!("note: {n}");
    }
}

/// `journaled as seq N..M by WHO`.
fn print_journaled<T>(done: &backup_cmd::Journaled<T>, by: &str) {
    println!(
        "journaled by {by}: backup-started seq {}, backup-finished seq {}",
        done.started_seq, done.finished_seq
    );
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

fn create(
    opt: &PlanOpt,
    system: &str,
    types: Vec<String>,
    by: Option<String>,
) -> anyhow::Result<u8> {
    let ctx = open_or_return!(&opt.plan);
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
    let by = super::migrate::by(by);
    // Each error says its exit class (a plugin that cannot load: 3, lease held: 8).
    let done = backup_cmd::create(&ctx.bridge(), &ctx.loaded, system, &types, &by)?;
    notes(&done.notes);
    let m = &done.value;
    if opt.json {
        print_json(m)?;
    } else {
        print_manifest(m);
        print_journaled(&done, &by);
    }
    Ok(if m.complete() { exit::OK } else { exit::FAILED })
}

pub(crate) fn result_line(r: &TypeResult) -> String {
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
pub(crate) fn print_types(results: &[TypeRestore]) {
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

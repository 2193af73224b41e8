//! `cutover backup create|list|show|verify|restore|prune` and `cutover rollback`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use cutover_backup::{
    BackupManifest, BackupStore, Lineage, RestoreReport, RollbackReport, TypeRestore, TypeResult,
};
use cutover_plan::{LoadedPlan, StepAction, SystemSide};
use cutover_runtime::{Plugin, Runtime, Sandbox};
use serde::Serialize;

use super::usage;
use crate::exit;
use crate::resolver::RuntimeResolver;

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
    /// Rollback point name.
    #[arg(long)]
    pub to: String,
    /// Apply now. Without it the point is verified and the categories that
    /// would be restored are shown, and nothing is changed.
    #[arg(long)]
    pub now: bool,
    /// Comma-separated categories (default: every captured category).
    #[arg(long, value_delimiter = ',')]
    pub categories: Vec<String>,
}

/// A loaded plan with its runtime and backup store.
struct Ctx {
    rt: Runtime,
    loaded: LoadedPlan,
    store: BackupStore,
}

impl Ctx {
    fn open(plan: &Path) -> anyhow::Result<Result<Ctx, u8>> {
        let rt = super::runtime()?;
        let loaded = {
            let resolver = RuntimeResolver::new(&rt);
            match cutover_plan::load(plan, &resolver) {
                Ok(l) => l,
                Err(diags) => {
                    eprint!("{}", diags.render_auto());
                    return Ok(Err(exit::USAGE));
                }
            }
        };
        let store = BackupStore::open(&loaded.state_dir())?;
        Ok(Ok(Ctx { rt, loaded, store }))
    }

    /// The adapter plugin and sandbox of system `side`.
    fn adapter(&self, side: &str) -> anyhow::Result<(Arc<Plugin>, Sandbox)> {
        let id =
            cutover_backup::adapter_id(&self.loaded, side).map_err(|e| usage(e.to_string()))?;
        let path = self
            .loaded
            .plugin_path(id)
            .ok_or_else(|| usage(format!("plan has no plugin `{id}`")))?;
        let pin = self.loaded.plan.plugins.get(id).map(|p| p.sha256.as_str());
        let plugin = self
            .rt
            .load_file(&path, pin)
            .with_context(|| format!("loading adapter `{id}` of the {side} system"))?;
        Ok((
            Arc::new(plugin),
            cutover_backup::sandbox_for(&self.loaded, id)?,
        ))
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

/// Stored point names for `--to NAME`: `NAME` itself, else the per-system
/// points `NAME.old` / `NAME.new` the runner captures for a phase.
fn stored_points(store: &BackupStore, name: &str) -> Vec<String> {
    if store.point_path(name).exists() {
        return vec![name.to_string()];
    }
    ["old", "new"]
        .iter()
        .map(|side| format!("{name}.{side}"))
        .filter(|n| store.point_path(n).exists())
        .collect()
}

/// Runs `cutover rollback --to POINT`.
pub fn rollback(a: RollbackArgs) -> anyhow::Result<u8> {
    let ctx = open_or_return!(&a.opt.plan);
    let mut names = stored_points(&ctx.store, &a.to);
    if names.is_empty() {
        names.push(a.to.clone()); // reported as not found (or invalid) below
    }
    let sel = (!a.categories.is_empty()).then_some(a.categories.as_slice());
    // Every point and blob is verified before any system is touched.
    let mut points = Vec::new();
    let mut bad = Vec::new();
    for name in &names {
        let point = ctx.store.point(name)?;
        let items = ctx.store.verify(Some(&format!("point:{name}")))?;
        bad.extend(items.iter().filter(|i| !i.ok).cloned());
        points.push((point, items));
    }
    if !a.now || !bad.is_empty() {
        if a.opt.json {
            let shown: Vec<_> = points
                .iter()
                .map(|(p, items)| serde_json::json!({"point": p, "verify": items}))
                .collect();
            print_json(&serde_json::json!({"points": shown, "applied": false}))?;
        } else {
            for (point, _) in &points {
                println!(
                    "rollback point {} ({} system, captured {})",
                    point.name, point.system, point.created_at
                );
                for r in &point.results {
                    if sel.is_none_or(|s| s.contains(&r.kind)) {
                        println!("  would restore {:<18} {}", r.kind, result_line(r));
                    }
                }
            }
            for i in &bad {
                println!(
                    "  CORRUPT {} {}: {}",
                    i.id,
                    i.kind,
                    i.problem.as_deref().unwrap_or("")
                );
            }
            if a.now {
                println!("nothing changed: the point is corrupt");
            } else {
                println!("nothing changed; run again with --now to roll back");
            }
        }
        return Ok(if bad.is_empty() {
            exit::OK
        } else {
            exit::STATE
        });
    }
    let mut reports = Vec::new();
    for (point, _) in &points {
        let (plugin, sb) = ctx.adapter(&point.system)?;
        reports.push(
            ctx.store
                .rollback(&ctx.rt, &plugin, &sb, &point.name, sel)?,
        );
    }
    if a.opt.json {
        print_json(&reports)?;
    } else {
        for r in &reports {
            print_rollback(r);
        }
    }
    Ok(if reports.iter().all(|r| r.ok()) {
        exit::OK
    } else {
        exit::FAILED
    })
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

fn print_types(results: &[TypeRestore]) {
    for r in results {
        match (&r.outcome, &r.error) {
            (Some(o), _) if r.ok => println!("  ok      {:<20} {}", r.kind, o.summary),
            (_, e) => println!("  FAILED  {:<20} {}", r.kind, e.as_deref().unwrap_or("")),
        }
    }
}

fn print_restore(opt: &PlanOpt, r: &RestoreReport) -> anyhow::Result<()> {
    if opt.json {
        return print_json(r);
    }
    println!("restored from {} (verified before applying)", r.id);
    print_types(&r.results);
    Ok(())
}

fn print_rollback(r: &RollbackReport) {
    println!("rolled back to {} (verified before applying)", r.point);
    for c in &r.resumed {
        println!("  done    {c:<20} (applied by an earlier, interrupted rollback)");
    }
    print_types(&r.results);
}

/// Exit code of a backup-store error.
pub fn exit_code(e: &cutover_backup::BackupError) -> u8 {
    use cutover_backup::BackupError as E;
    match e {
        E::Corrupt { .. } | E::Io { .. } | E::File(_) | E::Blob(_) => exit::STATE,
        E::NotFound { .. } | E::NotRestorable { .. } | E::InvalidName { .. } | E::Plan(_) => {
            exit::USAGE
        }
    }
}

//! Operator rollbacks (`cutover rollback --to POINT`): every checksum is
//! verified before any system is touched, the plan's approval gate
//! (`[plan] rollback_approvers`) is passed unless `--now`, then each
//! category is applied through the system's adapter and the result is
//! journaled in the run's journal.
//!
//! The plan's lease is held from the first read of the journal to the last
//! record, so no rollback runs while a runner is active (a dead runner's
//! lease is recovered and journaled as `lease-recovered`). Progress per
//! category is kept by the backup store, so a rollback that failed or was
//! interrupted resumes at the next `rollback` to the same point without
//! re-applying what was done.
//!
//! `--to NAME` names a stored point `NAME` (one system, captured with
//! `cutover backup point`) or the pair `NAME.old` / `NAME.new` the runner
//! captures at the end of a phase.

use std::sync::Arc;

use cutover_backup::{BackupError, BackupStore, PointManifest, RollbackReport, VerifyItem};
use cutover_base::exit::{ExitClass, HasExitClass};
use cutover_plan::LoadedPlan;
use cutover_runtime::{Plugin, Runtime, Sandbox};
use cutover_state::{AnyJournal, Journal, LeaseHandle};
use serde::Serialize;

use crate::bridge::{BridgeError, PluginBridge};
use crate::details::{RollbackResults, SystemRollback};
use crate::error::EngineError;
use crate::event::{Event, PhaseStatus, RunEnd};
use crate::journal::{StateAt, backup_store, open_journal, take_lease};
use crate::view::RunView;

/// Why a rollback could not be started or recorded. Problems of the point
/// itself (corrupt, category failed) are [`Outcome`]s, not errors.
#[derive(Debug, thiserror::Error)]
pub enum RollbackError {
    /// The journal or the lease (held by a live runner, unreadable).
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The backup store (point not found, not restorable, I/O).
    #[error(transparent)]
    Backup(#[from] BackupError),
    /// An adapter could not be loaded; nothing was applied.
    #[error("the adapter of the {system} system")]
    Adapter {
        /// `old` or `new`.
        system: String,
        /// Why.
        #[source]
        source: BridgeError,
    },
}

/// The class of what stopped the rollback: the engine's, the backup
/// store's or the adapter bridge's.
impl HasExitClass for RollbackError {
    fn exit_class(&self) -> ExitClass {
        match self {
            RollbackError::Engine(e) => e.exit_class(),
            RollbackError::Backup(e) => e.exit_class(),
            RollbackError::Adapter { source, .. } => source.exit_class(),
        }
    }
}

impl From<cutover_state::JournalError> for RollbackError {
    fn from(e: cutover_state::JournalError) -> Self {
        RollbackError::Engine(e.into())
    }
}

impl From<cutover_state::LeaseError> for RollbackError {
    fn from(e: cutover_state::LeaseError) -> Self {
        RollbackError::Engine(e.into())
    }
}

/// What the operator asked for.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// Point name as given (`NAME`, or the pair `NAME.old` / `NAME.new`).
    pub point: String,
    /// Who.
    pub by: String,
    /// Why (journaled with a request for approval).
    pub reason: Option<String>,
    /// Skip the approval gate (never the verification).
    pub now: bool,
    /// Verify and show what would be restored; change nothing.
    pub dry_run: bool,
    /// Categories to restore (empty: every captured category).
    pub categories: Vec<String>,
}

/// One stored point the rollback covers, with its verification.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    /// Stored name (`NAME`, `NAME.old`, `NAME.new`).
    pub name: String,
    /// The point's manifest (`None` when it cannot be read: see `verify`).
    pub point: Option<PointManifest>,
    /// Every check made: the manifest and each captured blob.
    pub verify: Vec<VerifyItem>,
    /// Categories that would be / were restored.
    pub categories: Vec<String>,
}

/// How the approval gate was passed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "gate", rename_all = "kebab-case")]
pub enum Gate {
    /// The plan names no rollback approvers.
    NotRequired,
    /// `--now`: the gate was skipped.
    Skipped {
        /// Who would have had to approve.
        approvers: Vec<String>,
    },
    /// Approved by one of the approvers.
    Approved {
        /// Who.
        by: String,
        /// Journal seq of the approval.
        seq: u64,
    },
}

/// The rollback of one system.
#[derive(Debug, Clone, Serialize)]
pub struct SystemResult {
    /// `old` or `new` (the point's system).
    pub system: String,
    /// Stored point name.
    pub point: String,
    /// What the store did; `None` when the store refused (see `error`).
    pub report: Option<RollbackReport>,
    /// Why the store refused, if it did.
    pub error: Option<String>,
}

impl SystemResult {
    fn ok(&self) -> bool {
        self.error.is_none() && self.report.as_ref().is_some_and(RollbackReport::ok)
    }
}

/// How a rollback request ended.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// A point or blob failed verification: nothing was applied or journaled.
    Corrupt {
        /// The points, with every check.
        targets: Vec<Target>,
        /// The failed checks.
        bad: Vec<VerifyItem>,
    },
    /// `--dry-run`: verified; nothing changed.
    DryRun {
        /// What would be restored.
        targets: Vec<Target>,
        /// Whether an approval would be needed first (approvers), if any.
        approvers: Vec<String>,
        /// Whether the pending request is already approved.
        approved_by: Option<String>,
    },
    /// An approval is needed first: `cutover approve PLAN rollback:POINT`.
    AwaitingApproval {
        /// Point name.
        point: String,
        /// Who may approve.
        approvers: Vec<String>,
        /// Journal seq of the request.
        seq: u64,
        /// Whether this call journaled the request (else it was pending).
        requested_now: bool,
        /// What was verified.
        targets: Vec<Target>,
    },
    /// Every category of every system was applied; `rolled-back` journaled.
    RolledBack {
        /// Point name.
        point: String,
        /// Per system.
        systems: Vec<SystemResult>,
        /// How the gate was passed.
        gate: Gate,
        /// Journal seq of `rolled-back`.
        seq: u64,
    },
    /// Some category failed; `rollback-failed` journaled; progress kept so
    /// the next rollback to the point resumes.
    Failed {
        /// Point name.
        point: String,
        /// Per system.
        systems: Vec<SystemResult>,
        /// How the gate was passed.
        gate: Gate,
        /// What failed.
        error: String,
        /// Journal seq of `rollback-failed`.
        seq: u64,
    },
}

/// A rollback's outcome and notes for the operator (torn journal tail cut,
/// stale lease recovered).
#[derive(Debug, Clone, Serialize)]
pub struct Rollback {
    /// The outcome.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Notes.
    pub notes: Vec<String>,
}

/// Verifies every stored point `--to` stands for, and that the selected
/// categories were captured in each.
fn verify(store: &BackupStore, req: &Request) -> Result<Vec<Target>, BackupError> {
    let mut targets = Vec::new();
    for name in store.resolve_point(&req.point)? {
        let verify = store.verify(Some(&format!("point:{name}")))?;
        let point = store.point(&name).ok();
        let categories = match &point {
            None => Vec::new(),
            Some(p) if req.categories.is_empty() => p
                .results
                .iter()
                .filter(|r| r.ok)
                .map(|r| r.kind.clone())
                .collect(),
            Some(p) => {
                for c in &req.categories {
                    match p.results.iter().find(|r| &r.kind == c) {
                        Some(r) if r.ok => {}
                        Some(r) => {
                            return Err(BackupError::NotRestorable {
                                id: format!("point:{name}"),
                                kind: c.clone(),
                                why: format!(
                                    "was not captured: {}",
                                    r.error.as_deref().unwrap_or("unknown error")
                                ),
                            });
                        }
                        None => {
                            return Err(BackupError::NotRestorable {
                                id: format!("point:{name}"),
                                kind: c.clone(),
                                why: "is not part of it".into(),
                            });
                        }
                    }
                }
                req.categories.clone()
            }
        };
        targets.push(Target {
            name,
            point,
            verify,
            categories,
        });
    }
    Ok(targets)
}

/// The phase the run is in (running or paused), if any.
fn active_phase(view: &RunView) -> Option<String> {
    view.phases
        .iter()
        .filter(|(_, p)| matches!(p.status, PhaseStatus::Running | PhaseStatus::Paused))
        .map(|(id, _)| id.clone())
        .next_back()
}

/// Rolls the plan's systems back to `req.point`: verifies every checksum
/// first (a corrupt point is refused, nothing applied), passes the approval
/// gate unless `req.now`, applies each category through the adapters while
/// holding the plan's lease, and journals the result. `req.dry_run` only
/// verifies and reports.
pub fn rollback(rt: &Runtime, plan: &LoadedPlan, req: &Request) -> Result<Rollback, RollbackError> {
    let state = StateAt::of_plan(plan)?;
    let backend = state.open()?;
    let approvers = plan.plan.meta.rollback_approvers.clone();
    if req.dry_run {
        let store = backup_store(&backend, &state.dir, None)?;
        let targets = verify(&store, req)?;
        let bad = bad_items(&targets);
        if !bad.is_empty() {
            return Ok(Rollback {
                outcome: Outcome::Corrupt { targets, bad },
                notes: Vec::new(),
            });
        }
        let view = crate::journal::status_summary(&state)?;
        let approved_by = view.rollback_approval(&req.point).map(|a| a.by.clone());
        return Ok(Rollback {
            outcome: Outcome::DryRun {
                targets,
                approvers,
                approved_by,
            },
            notes: Vec::new(),
        });
    }

    // The lease first: no rollback while a runner is active.
    let acquired = take_lease(&backend, Some("cutover rollback"))?;
    let mut lease = acquired.handle;
    let (mut journal, mut view, note) = open_journal(&backend, &lease)?;
    let mut notes: Vec<String> = note.into_iter().collect();
    if let Some(rec) = acquired.recovered {
        notes.push(format!(
            "recovered a stale lease of pid {} on {} ({:?})",
            rec.previous.pid, rec.previous.host, rec.reason
        ));
        journal_recovery(&mut journal, &mut view, rec)?;
    }

    // Every checksum before any system is touched.
    let store = backup_store(&backend, &state.dir, lease.fence())?;
    let targets = verify(&store, req)?;
    let bad = bad_items(&targets);
    if !bad.is_empty() {
        return Ok(Rollback {
            outcome: Outcome::Corrupt { targets, bad },
            notes,
        });
    }

    // The approval gate.
    let gate = if approvers.is_empty() {
        Gate::NotRequired
    } else if req.now {
        Gate::Skipped {
            approvers: approvers.clone(),
        }
    } else if let Some(a) = view.rollback_approval(&req.point) {
        Gate::Approved {
            by: a.by.clone(),
            seq: a.seq,
        }
    } else {
        let (seq, requested_now) = match view.pending_rollback(&req.point) {
            Some(r) => (r.seq, false),
            None => {
                let seqs = append(
                    &mut journal,
                    &mut view,
                    vec![Event::RollbackRequested {
                        point: req.point.clone(),
                        by: req.by.clone(),
                        reason: req.reason.clone(),
                        approvers: approvers.clone(),
                    }],
                )?;
                (seqs[0], true)
            }
        };
        return Ok(Rollback {
            outcome: Outcome::AwaitingApproval {
                point: req.point.clone(),
                approvers,
                seq,
                requested_now,
                targets,
            },
            notes,
        });
    };

    // Load every adapter before applying anything.
    let bridge = PluginBridge::new(rt);
    let mut adapters: Vec<(Target, String, Arc<Plugin>, Sandbox)> = Vec::new();
    for t in targets {
        let system = t
            .point
            .as_ref()
            .map(|p| p.system.clone())
            .unwrap_or_default();
        let (_, l) = bridge
            .adapter(plan, &system)
            .map_err(|source| RollbackError::Adapter {
                system: system.clone(),
                source,
            })?;
        adapters.push((t, system, l.plugin, l.sandbox));
    }

    let mut systems = Vec::new();
    for (t, system, plugin, sandbox) in &adapters {
        lease.heartbeat()?;
        let sel = (!req.categories.is_empty()).then_some(req.categories.as_slice());
        let r = store.rollback(rt, plugin, sandbox, &t.name, sel);
        systems.push(match r {
            Ok(report) => SystemResult {
                system: system.clone(),
                point: t.name.clone(),
                report: Some(report),
                error: None,
            },
            Err(e) => SystemResult {
                system: system.clone(),
                point: t.name.clone(),
                report: None,
                error: Some(e.to_string()),
            },
        });
    }
    lease.heartbeat()?;

    let results = results_of(&systems);
    let phase = active_phase(&view);
    let failed = failures(&systems);
    let outcome = if failed.is_empty() {
        let mut evs = vec![Event::RolledBack {
            phase: phase.clone().unwrap_or_default(),
            point: req.point.clone(),
            results,
            by: req.by.clone(),
            now: req.now,
        }];
        if view.run_id.is_some() && !view.status.is_finished() {
            if let Some(phase) = phase {
                evs.push(Event::PhaseFinished {
                    phase,
                    status: PhaseStatus::RolledBack,
                });
            }
            evs.push(Event::RunFinished {
                status: RunEnd::RolledBack,
            });
        }
        let seqs = append(&mut journal, &mut view, evs)?;
        Outcome::RolledBack {
            point: req.point.clone(),
            systems,
            gate,
            seq: seqs[0],
        }
    } else {
        let error = failed.join("; ");
        let seqs = append(
            &mut journal,
            &mut view,
            vec![Event::RollbackFailed {
                phase: phase.unwrap_or_default(),
                point: req.point.clone(),
                results,
                by: req.by.clone(),
                now: req.now,
                error: error.clone(),
            }],
        )?;
        Outcome::Failed {
            point: req.point.clone(),
            systems,
            gate,
            error,
            seq: seqs[0],
        }
    };
    drop(lease);
    Ok(Rollback { outcome, notes })
}

/// Records the approval of a pending rollback request for `point`
/// (`cutover approve PLAN rollback:POINT`); `by` must be one of the plan's
/// `rollback_approvers`. Takes the lease. Returns the approval's seq.
pub fn approve(plan: &LoadedPlan, point: &str, by: &str) -> Result<u64, EngineError> {
    let approvers = &plan.plan.meta.rollback_approvers;
    if approvers.is_empty() {
        return Err(EngineError::Operator(
            "the plan names no rollback_approvers: a rollback needs no approval".into(),
        ));
    }
    if !approvers.iter().any(|a| a == by) {
        return Err(EngineError::Operator(format!(
            "{by} may not approve rollback:{point}: rollback approvers are {}",
            approvers.join(", ")
        )));
    }
    let backend = StateAt::of_plan(plan)?.open()?;
    let acquired = take_lease(&backend, Some("cutover rollback approve"))?;
    let (mut journal, mut view, _) = open_journal(&backend, &acquired.handle)?;
    if let Some(rec) = acquired.recovered {
        journal_recovery(&mut journal, &mut view, rec)?;
    }
    if view.pending_rollback(point).is_none() {
        return Err(EngineError::Operator(format!(
            "no rollback to {point} is waiting for approval; request it with `cutover rollback --to {point}`"
        )));
    }
    let seqs = append(
        &mut journal,
        &mut view,
        vec![Event::Approved {
            target: format!("rollback:{point}"),
            by: by.to_string(),
            retry: false,
        }],
    )?;
    drop(acquired.handle);
    Ok(seqs[0])
}

/// Journals the recovery of a stale lease (`lease-recovered`).
pub(crate) fn journal_recovery(
    journal: &mut AnyJournal,
    view: &mut RunView,
    rec: cutover_state::StaleRecovery,
) -> Result<(), EngineError> {
    append(
        journal,
        view,
        vec![Event::LeaseRecovered {
            holder: rec.previous.holder,
            pid: rec.previous.pid,
            host: rec.previous.host,
            reason: format!("{:?}", rec.reason),
        }],
    )
    .map(|_| ())
}

pub(crate) fn append(
    journal: &mut AnyJournal,
    view: &mut RunView,
    evs: Vec<Event>,
) -> Result<Vec<u64>, EngineError> {
    let refs = journal.append_batch(evs.iter().map(Event::to_record).collect())?;
    let mut seqs = Vec::new();
    for (ev, r) in evs.iter().zip(&refs) {
        view.records += 1;
        view.head_seq = r.seq;
        view.apply(r.seq, ev);
        seqs.push(r.seq);
    }
    Ok(seqs)
}

fn bad_items(targets: &[Target]) -> Vec<VerifyItem> {
    targets
        .iter()
        .flat_map(|t| t.verify.iter().filter(|i| !i.ok).cloned())
        .collect()
}

fn failures(systems: &[SystemResult]) -> Vec<String> {
    let mut out = Vec::new();
    for s in systems {
        if let Some(e) = &s.error {
            out.push(format!("{} system: {e}", s.system));
        }
        for r in s.report.iter().flat_map(RollbackReport::failed) {
            out.push(format!(
                "{} system: {}: {}",
                s.system,
                r.kind,
                r.reason.as_deref().unwrap_or("unknown error")
            ));
        }
    }
    out
}

/// The `results` payload: per system, each category with its result, the
/// categories applied and those the adapter could not restore, the
/// categories done by an earlier interrupted attempt, and the stored point.
fn results_of(systems: &[SystemResult]) -> RollbackResults {
    systems
        .iter()
        .map(|s| {
            (
                s.system.clone(),
                SystemRollback::of(&s.point, s.ok(), s.report.as_ref(), s.error.clone()),
            )
        })
        .collect()
}

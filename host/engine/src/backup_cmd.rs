//! Operator backup commands (`cutover backup create|point|restore|prune`)
//! under the plan's lease and in the run's journal.
//!
//! Each command takes the same lease `cutover run` and `resume` take (so a
//! runner and a backup command never run at once: the second is refused
//! with the holder named), keeps it alive with a heartbeat however long its
//! adapter takes, journals `backup-started` (what, by whom) before it
//! touches the store or a system, and `backup-finished` (what it did, or
//! why it failed) after. A backup or rollback point records the seq of its
//! `backup-started` record as its lineage's journal position.
//!
//! Bad input found before anything is done (an unknown backup id, a corrupt
//! manifest, an adapter that cannot load) is refused without a record.

use cutover_backup::{
    BackupError, BackupManifest, BackupStore, Lineage, PointManifest, PruneReport, RestoreReport,
    TypeRestore,
};
use cutover_base::exit::{ExitClass, HasExitClass};
use cutover_plan::LoadedPlan;
use cutover_state::AnyJournal;
use serde::{Deserialize, Serialize};

use crate::bridge::{BridgeError, Loaded, PluginBridge};
use crate::details::BackupTypeDetails;
use crate::error::EngineError;
use crate::event::Event;
use crate::journal::{StateAt, backup_store, open_journal, take_lease};
use crate::lease_keeper::LeaseKeeper;
use crate::view::RunView;

/// Why a backup command could not be started or recorded. Per-type adapter
/// failures are not errors: they are in the result (and the record).
#[derive(Debug, thiserror::Error)]
pub enum BackupCmdError {
    /// The plan's lease is held (by a runner or another command), or
    /// could not be handled; nothing was done.
    #[error("cannot take the plan's lease, nothing was done: {0}")]
    Lease(cutover_state::LeaseError),
    /// The journal.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The backup store (unknown id, corrupt manifest, in progress, I/O).
    #[error(transparent)]
    Backup(#[from] BackupError),
    /// The system's adapter could not be loaded; nothing was done.
    #[error("the adapter of the {system} system")]
    Adapter {
        /// `old` or `new`.
        system: String,
        /// Why.
        #[source]
        source: BridgeError,
    },
}

/// The engine's, the store's or the adapter bridge's class.
impl HasExitClass for BackupCmdError {
    fn exit_class(&self) -> ExitClass {
        match self {
            BackupCmdError::Lease(e) => e.exit_class(),
            BackupCmdError::Engine(e) => e.exit_class(),
            BackupCmdError::Backup(e) => e.exit_class(),
            BackupCmdError::Adapter { source, .. } => source.exit_class(),
        }
    }
}

impl From<cutover_state::JournalError> for BackupCmdError {
    fn from(e: cutover_state::JournalError) -> Self {
        BackupCmdError::Engine(e.into())
    }
}

/// Not a source: the lease error's text is the message's end, said once.
impl From<cutover_state::LeaseError> for BackupCmdError {
    fn from(e: cutover_state::LeaseError) -> Self {
        BackupCmdError::Lease(e)
    }
}

/// What a `backup-started` record says an operator began.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case")]
pub enum BackupOp {
    /// `cutover backup create`.
    Create {
        /// The backup's id.
        id: String,
        /// `old` or `new`.
        system: String,
        /// Data types asked for.
        types: Vec<String>,
    },
    /// `cutover backup point`.
    Point {
        /// Point name.
        name: String,
        /// `old` or `new`.
        system: String,
        /// Categories asked for (empty: the defaults).
        categories: Vec<String>,
    },
    /// `cutover backup restore`.
    Restore {
        /// The backup restored.
        id: String,
        /// Its system.
        system: String,
        /// Types asked for (empty: every stored type).
        types: Vec<String>,
    },
    /// `cutover backup prune`.
    Prune {
        /// Backups to keep.
        keep: usize,
        /// Points to keep.
        keep_points: usize,
    },
}

/// `backup-started`: an operator backup command began.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupStarted {
    /// What.
    pub op: BackupOp,
    /// Who.
    pub by: String,
}

/// What a backup command did, per command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case")]
pub enum BackupDone {
    /// A backup was committed.
    Create {
        /// Its id.
        id: String,
        /// Per type.
        results: Vec<BackupTypeDetails>,
    },
    /// A rollback point was committed.
    Point {
        /// Its name.
        name: String,
        /// Per category.
        results: Vec<BackupTypeDetails>,
    },
    /// A backup was restored.
    Restore {
        /// Its id.
        id: String,
        /// Per type.
        results: Vec<TypeRestore>,
    },
    /// Backups, points and blobs were deleted.
    Prune {
        /// Backups deleted.
        deleted_backups: Vec<String>,
        /// Points deleted.
        deleted_points: Vec<String>,
        /// Blobs deleted.
        deleted_blobs: usize,
        /// Bytes freed.
        freed_bytes: u64,
        /// Abandoned (never committed) backups cleared.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        abandoned: Vec<String>,
    },
}

/// `backup-finished`: how the command begun at `started_seq` ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupFinished {
    /// Seq of its `backup-started` record.
    pub started_seq: u64,
    /// Who.
    pub by: String,
    /// Whether everything asked for was done.
    pub ok: bool,
    /// What was done (`None` when the store refused: see `error`).
    pub done: Option<BackupDone>,
    /// Why it failed, if it did.
    pub error: Option<String>,
}

/// A command's result with its journal positions and notes for the
/// operator (a torn journal tail cut, a stale lease recovered).
#[derive(Debug, Clone, Serialize)]
pub struct Journaled<T> {
    /// What the store returned.
    pub value: T,
    /// Seq of `backup-started` (a backup's or point's journal position).
    pub started_seq: u64,
    /// Seq of `backup-finished`.
    pub finished_seq: u64,
    /// Notes.
    pub notes: Vec<String>,
}

/// The lease and the journal, held for one command.
struct Session {
    lease: LeaseKeeper,
    journal: AnyJournal,
    view: RunView,
    notes: Vec<String>,
    store: BackupStore,
    by: String,
}

impl Session {
    /// Takes the plan's lease (refused while a runner or another command
    /// holds it) and opens the journal and the store.
    fn open(plan: &LoadedPlan, command: &str, by: &str) -> Result<Session, BackupCmdError> {
        let state = StateAt::of_plan(plan)?;
        let backend = state.open()?;
        let acquired = take_lease(&backend, Some(&format!("cutover backup {command} by {by}")))
            .map_err(|e| match e {
                EngineError::Lease(l) => BackupCmdError::Lease(l),
                other => BackupCmdError::Engine(other),
            })?;
        let (mut journal, mut view, note) = open_journal(&backend, &acquired.handle)?;
        let mut notes: Vec<String> = note.into_iter().collect();
        if let Some(rec) = acquired.recovered {
            notes.push(format!(
                "recovered a stale lease of pid {} on {} ({:?})",
                rec.previous.pid, rec.previous.host, rec.reason
            ));
            crate::rollback::journal_recovery(&mut journal, &mut view, rec)?;
        }
        let store = backup_store(&backend, &state.dir, acquired.handle.fence())?;
        Ok(Session {
            lease: LeaseKeeper::start(acquired.handle),
            journal,
            view,
            notes,
            store,
            by: by.to_string(),
        })
    }

    fn append(&mut self, ev: Event) -> Result<u64, BackupCmdError> {
        // Never a record after the lease was lost: someone else may write.
        self.lease.check()?;
        let seqs = crate::rollback::append(&mut self.journal, &mut self.view, vec![ev])?;
        Ok(seqs[0])
    }

    fn start(&mut self, op: BackupOp) -> Result<u64, BackupCmdError> {
        self.append(Event::BackupStarted(BackupStarted {
            op,
            by: self.by.clone(),
        }))
    }

    /// Journals how the command begun at `started_seq` ended and returns
    /// its result, or the store's error (journaled as the failure).
    fn finish<T>(
        mut self,
        started_seq: u64,
        result: Result<T, BackupError>,
        done: impl FnOnce(&T) -> (bool, BackupDone),
    ) -> Result<Journaled<T>, BackupCmdError> {
        let (ok, done, error) = match &result {
            Ok(v) => {
                let (ok, d) = done(v);
                (ok, Some(d), None)
            }
            Err(e) => (false, None, Some(e.to_string())),
        };
        let finished_seq = self.append(Event::BackupFinished(BackupFinished {
            started_seq,
            by: self.by.clone(),
            ok,
            done,
            error,
        }))?;
        self.lease.stop()?;
        Ok(Journaled {
            value: result?,
            started_seq,
            finished_seq,
            notes: self.notes,
        })
    }
}

fn adapter(
    bridge: &PluginBridge,
    plan: &LoadedPlan,
    system: &str,
) -> Result<Loaded, BackupCmdError> {
    bridge
        .adapter(plan, system)
        .map(|(_, l)| l)
        .map_err(|source| BackupCmdError::Adapter {
            system: system.to_string(),
            source,
        })
}

fn lineage(plan: &LoadedPlan, seq: u64) -> Lineage {
    Lineage {
        plan_fingerprint: plan.fingerprint(),
        journal_seq: seq,
    }
}

fn type_details(results: &[cutover_backup::TypeResult]) -> Vec<BackupTypeDetails> {
    results.iter().map(BackupTypeDetails::from).collect()
}

/// Backs up `types` of `system` (`cutover backup create`).
pub fn create(
    bridge: &PluginBridge,
    plan: &LoadedPlan,
    system: &str,
    types: &[String],
    by: &str,
) -> Result<Journaled<BackupManifest>, BackupCmdError> {
    let mut s = Session::open(plan, "create", by)?;
    let l = adapter(bridge, plan, system)?;
    let store = s.store.clone();
    let pending = store.begin_backup()?;
    let seq = s.start(BackupOp::Create {
        id: pending.id().to_string(),
        system: system.to_string(),
        types: types.to_vec(),
    })?;
    let result = pending.write(
        bridge.runtime(),
        &l.plugin,
        &l.sandbox,
        system,
        types,
        lineage(plan, seq),
    );
    s.finish(seq, result, |m| {
        (
            m.complete(),
            BackupDone::Create {
                id: m.id.clone(),
                results: type_details(&m.results),
            },
        )
    })
}

/// Captures rollback point `name` of `system` (`cutover backup point`).
pub fn point(
    bridge: &PluginBridge,
    plan: &LoadedPlan,
    system: &str,
    name: &str,
    categories: &[String],
    by: &str,
) -> Result<Journaled<PointManifest>, BackupCmdError> {
    let mut s = Session::open(plan, "point", by)?;
    let l = adapter(bridge, plan, system)?;
    let seq = s.start(BackupOp::Point {
        name: name.to_string(),
        system: system.to_string(),
        categories: categories.to_vec(),
    })?;
    let result = s.store.capture_point(
        bridge.runtime(),
        &l.plugin,
        &l.sandbox,
        system,
        name,
        categories,
        lineage(plan, seq),
    );
    s.finish(seq, result, |p| {
        (
            p.results.iter().all(|r| r.ok),
            BackupDone::Point {
                name: p.name.clone(),
                results: type_details(&p.results),
            },
        )
    })
}

/// Verifies backup `id`, then restores it (all stored types, or `types`)
/// into its system (`cutover backup restore`). An unknown id or a corrupt
/// manifest is refused before anything is journaled.
pub fn restore(
    bridge: &PluginBridge,
    plan: &LoadedPlan,
    id: &str,
    types: &[String],
    by: &str,
) -> Result<Journaled<RestoreReport>, BackupCmdError> {
    let mut s = Session::open(plan, "restore", by)?;
    let m = s.store.show(id)?;
    let l = adapter(bridge, plan, &m.system)?;
    let seq = s.start(BackupOp::Restore {
        id: id.to_string(),
        system: m.system.clone(),
        types: types.to_vec(),
    })?;
    let sel = (!types.is_empty()).then_some(types);
    let result = s
        .store
        .restore(bridge.runtime(), &l.plugin, &l.sandbox, id, sel);
    s.finish(seq, result, |r| {
        (
            r.ok(),
            BackupDone::Restore {
                id: r.id.clone(),
                results: r.results.clone(),
            },
        )
    })
}

/// Keeps the newest `keep` backups and `keep_points` points (default: all)
/// and deletes the rest and unreferenced blobs (`cutover backup prune`).
pub fn prune(
    plan: &LoadedPlan,
    keep: usize,
    keep_points: Option<usize>,
    by: &str,
) -> Result<Journaled<PruneReport>, BackupCmdError> {
    let mut s = Session::open(plan, "prune", by)?;
    let keep_points = match keep_points {
        Some(k) => k,
        None => s.store.point_names()?.len(),
    };
    let seq = s.start(BackupOp::Prune { keep, keep_points })?;
    let result = s.store.prune(keep, keep_points);
    s.finish(seq, result, |r| {
        (
            true,
            BackupDone::Prune {
                deleted_backups: r.deleted_backups.clone(),
                deleted_points: r.deleted_points.clone(),
                deleted_blobs: r.deleted_blobs,
                freed_bytes: r.freed_bytes,
                abandoned: r.abandoned.clone(),
            },
        )
    })
}

/// The plan's backup store for reading (`backup list`, `show`, `verify`):
/// no lease is taken, and a database-backed store refuses writes.
pub fn open_store(plan: &LoadedPlan) -> Result<BackupStore, EngineError> {
    let state = StateAt::of_plan(plan)?;
    backup_store(&state.open()?, &state.dir, None)
}

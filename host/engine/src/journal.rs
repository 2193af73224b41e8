//! The run's state as the engine reads it: where it lives ([`StateAt`]),
//! the journal opened (a torn last line cut), read back chain-verified and
//! folded into a [`RunView`]. Everything that reads or appends to a run's
//! journal starts here, below the runner.

use std::path::{Path, PathBuf};

use cutover_plan::LoadedPlan;
use cutover_state::{
    Acquired, AnyJournal, AnyLeaseHandle, Journal, JournalError, Lease, Record, StateBackend,
    StateLocation,
};

use crate::error::EngineError;
use crate::view::RunView;

pub(crate) use cutover_base::time::now_ms;

/// Where a plan's state lives: the local working directory (reports,
/// metrics, control requests; and everything else for the file backend)
/// and the backend that holds the journal, lease and backups.
#[derive(Debug, Clone)]
pub struct StateAt {
    /// The plan's state directory on this machine.
    pub dir: PathBuf,
    /// The state directory itself, or the team's database.
    pub location: StateLocation,
}

impl StateAt {
    /// The state of `plan`: `CUTOVER_STATE_URL` or `[plan] state` when set,
    /// else its state directory.
    pub fn of_plan(plan: &LoadedPlan) -> Result<StateAt, EngineError> {
        StateAt::new(
            &plan.state_dir(),
            plan.state_url().as_deref(),
            &plan.plan.meta.name,
        )
    }

    /// The state of plan `name` at `url` (a database) or else in `dir`.
    pub fn new(dir: &Path, url: Option<&str>, name: &str) -> Result<StateAt, EngineError> {
        Ok(StateAt {
            dir: dir.to_path_buf(),
            location: StateLocation::resolve(url, dir, name)?,
        })
    }

    /// Connects to the backend (creating nothing).
    pub fn open(&self) -> Result<StateBackend, EngineError> {
        Ok(StateBackend::open(&self.location)?)
    }

    /// The directory, or `postgres host:port/db`, for messages.
    pub fn describe(&self) -> String {
        self.location.describe()
    }
}

/// The file backend in a state directory.
impl From<&Path> for StateAt {
    fn from(dir: &Path) -> StateAt {
        StateAt {
            dir: dir.to_path_buf(),
            location: StateLocation::Dir(dir.to_path_buf()),
        }
    }
}

/// The file backend in a state directory.
impl From<&PathBuf> for StateAt {
    fn from(dir: &PathBuf) -> StateAt {
        StateAt::from(dir.as_path())
    }
}

impl From<&StateAt> for StateAt {
    fn from(state: &StateAt) -> StateAt {
        state.clone()
    }
}

/// Takes the lease of `state` for `purpose`, creating the state when needed.
pub(crate) fn take_lease(
    state: &StateBackend,
    purpose: Option<&str>,
) -> Result<Acquired<AnyLeaseHandle>, EngineError> {
    // A directory whose state moved to a database is never written again:
    // two journals of one plan would fork it.
    if let StateBackend::Dir(dir) = state
        && let Some(moved) = crate::state_migrate::moved_to(dir)
    {
        return Err(EngineError::Moved {
            dir: dir.display().to_string(),
            to: moved.to,
        });
    }
    state.ensure()?;
    Ok(state.lease(purpose)?.acquire()?)
}

/// Opens the journal of `state` for writing under `lease` (cutting a torn
/// last line of a file journal, which was never acknowledged) and folds it.
pub(crate) fn open_journal(
    state: &StateBackend,
    lease: &AnyLeaseHandle,
) -> Result<(AnyJournal, RunView, Option<String>), EngineError> {
    let (journal, repair) = state.journal_for_write(lease).map_err(|e| match e {
        JournalError::NotRepairable(inner) => *inner,
        other => other,
    })?;
    let note = repair.map(|r| {
        format!(
            "journal: cut a torn last line of {} bytes at byte offset {} (saved to {})",
            r.cut_len,
            r.offset,
            r.saved_to.display()
        )
    });
    let view = cutover_state::fold(&journal, RunView::default(), |mut v, r| {
        v.apply_record(r.seq, &r.kind, &r.payload);
        v
    })?;
    Ok((journal, view, note))
}

fn read_records(state: &StateBackend) -> Result<Vec<Record>, EngineError> {
    let read =
        || -> Result<Vec<Record>, JournalError> { state.journal_for_read()?.records()?.collect() };
    // A live runner may append to a file journal while the chain is
    // verified: retry briefly.
    let mut last = None;
    for _ in 0..20 {
        match read() {
            Ok(r) => return Ok(r),
            Err(e @ JournalError::ConcurrentWriter { .. }) => last = Some(e),
            Err(JournalError::Corrupt {
                reason: cutover_state::CorruptReason::TornTail { .. },
                ..
            }) if last.is_none() => last = None,
            Err(e) => return Err(e.into()),
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    match last {
        Some(e) => Err(e.into()),
        None => Ok(read()?),
    }
}

/// Every record of the run's journal, chain-verified (empty when no run).
pub fn history(state: impl Into<StateAt>) -> Result<Vec<Record>, EngineError> {
    let backend = state.into().open()?;
    if !backend.journal_exists()? {
        return Ok(Vec::new());
    }
    read_records(&backend)
}

/// The current state folded from the whole journal, every step with its
/// details (not started when no run).
pub fn status(state: impl Into<StateAt>) -> Result<RunView, EngineError> {
    let mut view = RunView::default();
    for r in history(state)? {
        view.apply_record(r.seq, &r.kind, &r.payload);
    }
    Ok(view)
}

/// What `cutover status` shows, fast however long the journal: the current
/// state with settled steps' details left out ([`RunView::settled_for_status`];
/// `history` and [`status`] have them). It is the runner's last status
/// snapshot with the records after it folded in, or, without a usable
/// snapshot, the whole journal folded. The snapshot is checksummed and
/// anchored: the journal must still hold the record it covers, and what
/// follows must link to it. (`history` and every writer verify the whole
/// chain; the summary trusts the part a snapshot covers.)
pub fn status_summary(state: impl Into<StateAt>) -> Result<RunView, EngineError> {
    let backend = state.into().open()?;
    if !backend.journal_exists()? {
        return Ok(RunView::default());
    }
    if let Some(view) = from_snapshot(&backend)? {
        return Ok(view.settled_for_status());
    }
    let mut view = RunView::default();
    for r in read_records(&backend)? {
        view.apply_record(r.seq, &r.kind, &r.payload);
    }
    Ok(view.settled_for_status())
}

/// The snapshot's view brought up to the journal's head, if the snapshot
/// is there, decodes and is still anchored in the journal.
fn from_snapshot(backend: &StateBackend) -> Result<Option<RunView>, EngineError> {
    let Some(bytes) = backend.docs(None)?.get(crate::runner::SNAPSHOT_DOC)? else {
        return Ok(None);
    };
    let Some(snap) = crate::runner::StatusSnapshot::decode(&bytes) else {
        return Ok(None);
    };
    let records = match backend.records_after_anchor(&snap.anchor) {
        Ok(Some(records)) => records,
        // Not anchored (a journal rewritten since) or a record appended
        // while we read: fold the whole journal, which says what is wrong.
        Ok(None) | Err(_) => return Ok(None),
    };
    let mut view = snap.view;
    for r in records {
        view.apply_record(r.seq, &r.kind, &r.payload);
    }
    Ok(Some(view))
}

/// The backup store of `state`: blobs and documents from the backend,
/// lock files in the local `dir`. Writes to a database need the `fence`
/// of the lease they are made under.
pub(crate) fn backup_store(
    state: &StateBackend,
    dir: &Path,
    fence: Option<cutover_state::Fence>,
) -> Result<cutover_backup::BackupStore, EngineError> {
    match state {
        // The file backend keeps today's layout under the state directory.
        StateBackend::Dir(root) => Ok(cutover_backup::BackupStore::open(root)?),
        StateBackend::Postgres(_) => Ok(cutover_backup::BackupStore::on(
            state
                .blobs("backups", fence)
                .map_err(cutover_backup::BackupError::from)?,
            state.docs(fence)?,
            dir,
        )?),
    }
}

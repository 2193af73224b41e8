//! Typed engine errors.

use cutover_base::exit::{ExitClass, HasExitClass};
use cutover_state::{JournalError, LeaseError};

/// Why the engine could not run or change a run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The journal is damaged, unreadable or could not be written.
    #[error("journal: {0}")]
    Journal(#[from] JournalError),
    /// Another runner holds the lease, or the lease could not be handled.
    /// (Transparent: "lease held by ..." says it once, not once per cause.)
    #[error(transparent)]
    Lease(#[from] LeaseError),
    /// The plan or a plugin changed since the run started.
    #[error(
        "the plan changed since the run started (bound to {bound}, now {current}):\n  - {}\nrerun with --replan to accept the changes",
        diff.join("\n  - ")
    )]
    StalePlan {
        /// Fingerprint the run is bound to.
        bound: String,
        /// Fingerprint of the plan now.
        current: String,
        /// What changed.
        diff: Vec<String>,
    },
    /// `resume` (or an operator command) found no run in the state directory.
    #[error("no run has been started in {0}; start one with `cutover run`")]
    NoRun(String),
    /// The operator named something that is not waiting, or is not allowed.
    #[error("{0}")]
    Operator(String),
    /// The state database failed: unreachable, refused, a table missing,
    /// gone away mid-run. (Transparent: the error names the database.)
    #[error(transparent)]
    StateDb(#[from] cutover_state::DbError),
    /// The state directory's state was moved to a database
    /// (`cutover state migrate`): it is not written again.
    #[error(
        "the state in {dir} was moved to {to}: set [plan] state or CUTOVER_STATE_URL to that database"
    )]
    Moved {
        /// The directory.
        dir: String,
        /// Where its state went.
        to: String,
    },
    /// The backup store could not be opened.
    #[error("backup store: {0}")]
    BackupStore(#[from] cutover_backup::BackupError),
    /// A blob (backup or rollback point data) could not be read or written.
    #[error("state blob: {0}")]
    Blob(#[from] cutover_state::BlobError),
    /// A state document (backup manifest, point) could not be read or written.
    #[error("state document: {0}")]
    Doc(#[from] cutover_state::DocError),
    /// A state file other than the journal could not be read or written.
    #[error("state file: {0}")]
    File(#[from] cutover_state::FileError),
    /// The plan asks a system's adapter for backup types or rollback
    /// categories it does not declare in `describe()`; nothing was run.
    #[error(
        "the plan asks for what the systems' adapters do not declare; nothing was changed:\n  - {}\nask only for what each adapter declares (`cutover validate` shows where)",
        .0.iter().map(undeclared_line).collect::<Vec<_>>().join("\n  - ")
    )]
    Undeclared(Vec<cutover_plan::Undeclared>),
}

/// `phase `p` step `s`: system `old` adapter ... does not declare ...`.
fn undeclared_line(u: &cutover_plan::Undeclared) -> String {
    match &u.step {
        Some(step) => format!("phase `{}` step `{step}`: {u}", u.phase),
        None => format!("phase `{}` rollback point: {u}", u.phase),
    }
}

impl EngineError {
    /// A stable machine-readable kind: `journal`, `lease`, `stale-plan`,
    /// `no-run`, `operator`, `file`, `state-db`, `state-doc`, `undeclared`.
    pub fn kind(&self) -> &'static str {
        match self {
            EngineError::Journal(_) => "journal",
            EngineError::Lease(_) => "lease",
            EngineError::StalePlan { .. } => "stale-plan",
            EngineError::NoRun(_) => "no-run",
            EngineError::Operator(_) => "operator",
            EngineError::File(_) => "file",
            EngineError::StateDb(_) => "state-db",
            EngineError::Doc(_) => "state-doc",
            EngineError::BackupStore(_) => "backup-store",
            EngineError::Moved { .. } => "state-moved",
            EngineError::Blob(_) => "state-blob",
            EngineError::Undeclared(_) => "undeclared",
        }
    }

    /// Whether this is a state problem (journal corrupt, lease held, stale
    /// plan) rather than an operator mistake.
    pub fn is_state(&self) -> bool {
        self.exit_class() == ExitClass::State
    }
}

/// State for a journal, lease or state file problem and a stale plan; usage
/// for what the operator asked that cannot be done (no run, nothing to
/// approve, backup types or categories the adapters do not declare).
impl HasExitClass for EngineError {
    fn exit_class(&self) -> ExitClass {
        match self {
            EngineError::Journal(_)
            | EngineError::Lease(_)
            | EngineError::StalePlan { .. }
            | EngineError::File(_)
            | EngineError::StateDb(_)
            | EngineError::Doc(_)
            | EngineError::Moved { .. }
            | EngineError::Blob(_) => ExitClass::State,
            EngineError::BackupStore(e) => e.exit_class(),
            EngineError::NoRun(_) | EngineError::Operator(_) | EngineError::Undeclared(_) => {
                ExitClass::Usage
            }
        }
    }
}

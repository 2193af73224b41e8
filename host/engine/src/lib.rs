//! cutover-engine: runs a validated plan as a durable phase state machine.
//!
//! Every transition is a record in the hash-chained journal of the plan's
//! state directory ([`Event`]); the current state is a fold over it
//! ([`RunView`]). A [`Runner`] holds the single-writer lease for the whole
//! run, binds the run to the plan's fingerprint and resumes after a crash at
//! the first incomplete step: an interrupted idempotent step runs again, an
//! interrupted non-idempotent one needs an operator ([`operator::approve`]).
//!
//! ```no_run
//! # fn demo(rt: &cutover_runtime::Runtime, plan: &cutover_plan::LoadedPlan) -> Result<(), cutover_engine::EngineError> {
//! use cutover_engine::{Mode, RunOptions, Runner};
//! let mut runner = Runner::open(rt, plan, Mode::Run, RunOptions::default())?;
//! let outcome = runner.execute()?;
//! println!("{}", outcome.describe());
//! # Ok(()) }
//! ```

pub mod backtest;
pub mod backup_cmd;
mod backups;
pub mod bridge;
mod canary;
mod checklist;
pub mod consistency;
pub mod control;
pub mod details;
mod emergency;
mod episodes;
mod error;
mod event;
pub mod gate;
mod health;
pub mod incident;
mod journal;
mod lease_keeper;
pub mod migrate;
pub mod monitor;
mod notifications;
pub mod operator;
mod outcome;
mod parallel;
mod parallel_verdict;
mod plugins;
mod policies;
pub mod policy;
pub mod rollback;
mod runner;
mod schedule;
pub mod state_migrate;
mod status;
mod step_ctx;
mod steps;
mod support;
mod view;
pub mod watch;

pub use bridge::{PluginBridge, plugin_info};
pub use details::StepDetails;
pub use episodes::{compare_seen, options_of};
pub use error::EngineError;
pub use event::{
    Event, IncidentStepKind, IncidentStepSpec, IncidentStepStatus, ItemStatus, PhaseStatus, RunEnd,
    SeenAlert, StepStatus,
};
pub use journal::StateAt;
pub use monitor::JournalMetrics;
pub use outcome::RunOutcome;
pub use policy::AlertPolicy;
pub use runner::{
    GROUP_COMMIT_WINDOW, HEARTBEAT_EVERY, Mode, RunOptions, Runner, SNAPSHOT_DOC, SNAPSHOT_EVERY,
};
pub use view::{
    ApprovalView, BehindScheduleView, IncidentStepView, IncidentView, ItemView, PhaseView,
    PointView, RollbackRequestView, RollbackView, RunStatus, RunView, StepView,
};

//! The narrow context a step executor gets instead of the whole runner.

use std::path::Path;

use cutover_plan::LoadedPlan;

use crate::plugins::Plugins;
use crate::runner::Runner;
use crate::view::RunView;

/// What an executor of a single plugin call (action, check, backup,
/// restore) may use: the plan, the plan's plugins, the run as folded so far
/// (read only) and the state directory. It cannot journal, hold the lease
/// or change the run: the runner journals the `StepExec` it returns.
pub(crate) struct StepCtx<'r, 'a> {
    /// The plan.
    pub plan: &'a LoadedPlan,
    /// Its plugins, loaded on first use.
    pub plugins: &'r mut Plugins<'a>,
    /// The run so far.
    pub view: &'r RunView,
    /// The plan's local state directory (reports, backup lock files).
    pub state_dir: &'r Path,
    /// Where the backups live.
    pub backend: &'r cutover_state::StateBackend,
    /// The run's fence: backup writes to a database present it.
    pub fence: Option<cutover_state::Fence>,
}

impl<'a> Runner<'a> {
    /// The context of a step executor.
    pub(crate) fn step_ctx(&mut self) -> StepCtx<'_, 'a> {
        StepCtx {
            plan: self.plan,
            plugins: &mut self.plugins,
            view: &self.view,
            state_dir: &self.state_dir,
            backend: &self.backend,
            fence: self.lease.fence(),
        }
    }
}

//! Before a run changes anything: the plan asks each system's adapter only
//! for the backup types and rollback categories the adapter declares in
//! `describe()` (see [`cutover_plan::support`]). Validation checks the same
//! with located errors; this holds the line for a plan validated by another
//! resolver, or a plugin whose declarations changed since.

use cutover_plan::{AdapterSupport, undeclared};

use crate::error::EngineError;
use crate::runner::Runner;

impl Runner<'_> {
    /// [`EngineError::Undeclared`] listing everything the plan asks of an
    /// adapter that does not declare it. An adapter that cannot be loaded is
    /// left to the step that uses it (which fails naming the load error).
    pub(crate) fn check_declared_support(&mut self) -> Result<(), EngineError> {
        let systems = &self.plan.plan.systems;
        let mut known = Vec::new();
        for id in [&systems.old.adapter, &systems.new.adapter] {
            if let Ok(l) = self.plugins.get(id) {
                let declared = AdapterSupport::from_description(&l.plugin.descriptor().description);
                known.push((id.clone(), declared));
            }
        }
        let support = |id: &str| known.iter().find(|(k, _)| k == id).map(|(_, s)| s.clone());
        let found = undeclared(systems, &self.plan.plan.phases, &support);
        if found.is_empty() {
            Ok(())
        } else {
            Err(EngineError::Undeclared(found))
        }
    }
}

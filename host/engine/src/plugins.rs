//! Plugins of a run: each loaded once by id through the [`PluginBridge`].

use std::collections::BTreeMap;

use cutover_plan::{LoadedPlan, SystemSide};
use cutover_runtime::Runtime;

use crate::bridge::{BridgeError, Loaded, PluginBridge};

/// Lazily loads the plan's plugins.
pub struct Plugins<'a> {
    bridge: PluginBridge<'a>,
    plan: &'a LoadedPlan,
    loaded: BTreeMap<String, Loaded>,
}

impl<'a> Plugins<'a> {
    /// Plugins of `plan`, loaded on first use.
    pub fn new(runtime: &'a Runtime, plan: &'a LoadedPlan) -> Self {
        Self::with_bridge(PluginBridge::new(runtime), plan)
    }

    /// Plugins of `plan` through `bridge`: the plugins it loaded to
    /// validate the plan are not loaded again.
    pub fn with_bridge(bridge: PluginBridge<'a>, plan: &'a LoadedPlan) -> Self {
        Plugins {
            bridge,
            plan,
            loaded: BTreeMap::new(),
        }
    }

    /// The runtime.
    pub fn runtime(&self) -> &'a Runtime {
        self.bridge.runtime()
    }

    /// The adapter of system `side`: its plugin id and the plugin. The
    /// error is one line, for a step's summary.
    pub fn adapter(&mut self, side: SystemSide) -> Result<(String, Loaded), String> {
        let id = &self.plan.plan.systems.side(side).adapter;
        let l = self.get(id).map_err(|e| e.to_string())?;
        Ok((id.clone(), l))
    }

    /// Plugin `id`, pinned and sandboxed by the plan.
    pub fn get(&mut self, id: &str) -> Result<Loaded, BridgeError> {
        if let Some(l) = self.loaded.get(id) {
            return Ok(l.clone());
        }
        let l = self.bridge.load(self.plan, id)?;
        self.loaded.insert(id.to_string(), l.clone());
        Ok(l)
    }
}

//! Plugins of a plan: loaded once (pinned), with the sandbox the plan grants.

use std::collections::BTreeMap;
use std::sync::Arc;

use cutover_plan::{AdapterSupport, LoadedPlan, PluginInfo, PluginKind};
use cutover_runtime::{Descriptor, Plugin, Runtime, Sandbox, World};

/// A loaded plugin with its sandbox and digest.
#[derive(Clone)]
pub struct Loaded {
    /// The plugin.
    pub plugin: Arc<Plugin>,
    /// Grants and limits from the plan.
    pub sandbox: Sandbox,
    /// sha256 of the component.
    pub digest: String,
}

/// Lazily loads the plan's plugins.
pub struct Plugins<'a> {
    runtime: &'a Runtime,
    plan: &'a LoadedPlan,
    loaded: BTreeMap<String, Loaded>,
}

impl<'a> Plugins<'a> {
    /// Plugins of `plan`, loaded on first use.
    pub fn new(runtime: &'a Runtime, plan: &'a LoadedPlan) -> Self {
        Plugins {
            runtime,
            plan,
            loaded: BTreeMap::new(),
        }
    }

    /// The runtime.
    pub fn runtime(&self) -> &'a Runtime {
        self.runtime
    }

    /// Loads plugin `id`, verifying its pin. The error is a one-line message.
    pub fn get(&mut self, id: &str) -> Result<Loaded, String> {
        if let Some(l) = self.loaded.get(id) {
            return Ok(l.clone());
        }
        let spec = self
            .plan
            .plan
            .plugins
            .get(id)
            .ok_or_else(|| format!("plugin `{id}` is not declared in the plan"))?;
        let path = self
            .plan
            .plugin_path(id)
            .ok_or_else(|| format!("plugin `{id}` has no path"))?;
        let pin = Some(spec.sha256.as_str()).filter(|s| !s.is_empty());
        let plugin = self
            .runtime
            .load_file(&path, pin)
            .map_err(|e| format!("cannot load plugin `{id}`: {e}"))?;
        let digest = plugin.info().sha256.clone();
        let sandbox = cutover_backup::sandbox_for(self.plan, id).map_err(|e| e.to_string())?;
        let l = Loaded {
            plugin: Arc::new(plugin),
            sandbox,
            digest,
        };
        self.loaded.insert(id.to_string(), l.clone());
        Ok(l)
    }
}

/// What plan validation knows of a plugin, from its `describe()`: kind,
/// requested capabilities, declared support (adapters) and kinds
/// (translators). The one conversion every resolver uses.
pub fn plugin_info(d: &Descriptor) -> PluginInfo {
    let c = &d.capabilities;
    PluginInfo {
        kind: match d.kind {
            World::Action => PluginKind::Action,
            World::Check => PluginKind::Check,
            World::Adapter => PluginKind::Adapter,
            World::Translator => PluginKind::Translator,
        },
        name: d.name.clone(),
        version: d.version.clone(),
        hosts: c.hosts.clone(),
        dirs: c
            .directories
            .iter()
            .map(|r| (r.name.clone(), r.writable))
            .collect(),
        secrets: c.secrets.clone(),
        config_keys: c.config_keys.clone(),
        support: AdapterSupport::from_description(&d.description),
        kinds: d.kinds.clone(),
    }
}

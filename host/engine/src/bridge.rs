//! The one bridge from a plan's plugin entry to a sandboxed plugin.
//!
//! Path, pin, load and sandbox are decided here and nowhere else: the
//! runner, rollbacks, the CLI's backup and validation commands, tests and
//! benches all go through a [`PluginBridge`].
//!
//! - **Validation** calls [`PluginBridge`] as a [`PluginResolver`]: each file
//!   is loaded once and its `describe()` answered in the sandbox.
//! - **Running** calls [`PluginBridge::load`]: the file must match the plan's
//!   sha256 pin (a plan without a pin never validates, and a plugin entry
//!   whose pin is empty is refused here too, never loaded unpinned), and it
//!   gets the sandbox the plan grants ([`sandbox_for`]). A plugin already
//!   loaded for validation is reused when its digest is the pin.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use cutover_base::adapter_support::AdapterSupport;
use cutover_base::exit::{ExitClass, HasExitClass};
use cutover_plan::{LoadedPlan, PluginInfo, PluginKind, PluginResolver, SystemSide};
use cutover_runtime::{
    DirGrant, EnvSecrets, Grants, Limits, LoadError, MAX_MEMORY_BYTES, Origin, Plugin, Runtime,
    Sandbox, TlsCa, World,
};

/// Why a plan's plugin entry could not become a sandboxed plugin.
#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    /// The plan has no plugin with this id.
    #[error("plugin `{id}` is not declared in the plan")]
    NotDeclared {
        /// The plugin id.
        id: String,
    },
    /// The plugin entry has no sha256 pin (validation refuses such a plan).
    #[error("plugin `{id}` has no sha256 pin: refusing to load it unpinned")]
    Unpinned {
        /// The plugin id.
        id: String,
    },
    /// A grant of the plugin cannot be turned into a sandbox.
    #[error("plugin `{id}`: {detail}")]
    Grant {
        /// The plugin id.
        id: String,
        /// What is wrong with the grant.
        detail: String,
    },
    /// A system side other than `old` or `new`.
    #[error("unknown system {side:?} (expected old or new)")]
    UnknownSystem {
        /// What was asked.
        side: String,
    },
    /// The component could not be loaded. The load error is part of the
    /// message (not a separate cause, so a chain never says it twice).
    #[error("cannot load plugin `{id}`: {cause}")]
    Load {
        /// The plugin id.
        id: String,
        /// Why.
        cause: Box<LoadError>,
    },
}

/// A plugin that could not be loaded; usage when the plan's entry for it
/// cannot be used (not declared, not pinned, a bad grant, an unknown system).
impl HasExitClass for BridgeError {
    fn exit_class(&self) -> ExitClass {
        match self {
            BridgeError::Load { .. } => ExitClass::PluginLoad,
            BridgeError::NotDeclared { .. }
            | BridgeError::Unpinned { .. }
            | BridgeError::Grant { .. }
            | BridgeError::UnknownSystem { .. } => ExitClass::Usage,
        }
    }
}

/// A plugin loaded for a run, with its sandbox and digest.
#[derive(Clone)]
pub struct Loaded {
    /// The plugin.
    pub plugin: Arc<Plugin>,
    /// Grants and limits from the plan.
    pub sandbox: Sandbox,
    /// sha256 of the component.
    pub digest: String,
}

/// Loads plugins through the runtime, each file once.
pub struct PluginBridge<'r> {
    runtime: &'r Runtime,
    by_path: RefCell<BTreeMap<PathBuf, Arc<Plugin>>>,
}

impl<'r> PluginBridge<'r> {
    /// A bridge over `runtime`.
    pub fn new(runtime: &'r Runtime) -> Self {
        PluginBridge {
            runtime,
            by_path: RefCell::default(),
        }
    }

    /// A bridge over `runtime` that starts with the plugins `loaded` (by
    /// path), e.g. those another bridge loaded to validate the plan.
    pub fn with_loaded(runtime: &'r Runtime, loaded: BTreeMap<PathBuf, Arc<Plugin>>) -> Self {
        PluginBridge {
            runtime,
            by_path: RefCell::new(loaded),
        }
    }

    /// The plugins loaded so far, by path.
    pub fn into_loaded(self) -> BTreeMap<PathBuf, Arc<Plugin>> {
        self.by_path.into_inner()
    }

    /// The runtime.
    pub fn runtime(&self) -> &'r Runtime {
        self.runtime
    }

    /// Plugin `id` of `plan`, pinned and sandboxed as the plan says.
    pub fn load(&self, plan: &LoadedPlan, id: &str) -> Result<Loaded, BridgeError> {
        let spec = plan
            .plan
            .plugins
            .get(id)
            .ok_or_else(|| BridgeError::NotDeclared { id: id.into() })?;
        if spec.sha256.is_empty() {
            return Err(BridgeError::Unpinned { id: id.into() });
        }
        let path = plan
            .plugin_path(id)
            .ok_or_else(|| BridgeError::NotDeclared { id: id.into() })?;
        let sandbox = sandbox_for(plan, id)?;
        let cached = self.by_path.borrow().get(&path).cloned();
        let plugin = match cached {
            Some(p) if p.info().sha256 == spec.sha256 => p,
            _ => {
                let p = self
                    .runtime
                    .load_file_with(&path, Some(&spec.sha256), &sandbox.limits)
                    .map_err(|e| BridgeError::Load {
                        id: id.into(),
                        cause: Box::new(e),
                    })?;
                let p = Arc::new(p);
                self.by_path.borrow_mut().insert(path, p.clone());
                p
            }
        };
        Ok(Loaded {
            digest: plugin.info().sha256.clone(),
            sandbox,
            plugin,
        })
    }

    /// The adapter of system `side` (`old` or `new`): its id and the plugin.
    pub fn adapter(&self, plan: &LoadedPlan, side: &str) -> Result<(String, Loaded), BridgeError> {
        let id = adapter_id(plan, side)?;
        Ok((id.to_string(), self.load(plan, id)?))
    }

    /// The plugin validation loaded from `path`, if it did.
    pub fn loaded_from(&self, path: &Path) -> Option<Arc<Plugin>> {
        self.by_path.borrow().get(path).cloned()
    }
}

impl PluginBridge<'_> {
    /// The plugin at `path`, loaded once (under `limits`, the first time).
    fn describe_under(&self, path: &Path, limits: &Limits) -> Result<PluginInfo, String> {
        if let Some(p) = self.loaded_from(path) {
            return Ok(plugin_info(&p));
        }
        // Validation checks the pin itself (and says how to fix it); here the
        // file only has to be a plugin.
        let plugin = self
            .runtime
            .load_file_with(path, None, limits)
            .map_err(|e| e.to_string())?;
        let info = plugin_info(&plugin);
        self.by_path
            .borrow_mut()
            .insert(path.to_path_buf(), Arc::new(plugin));
        Ok(info)
    }
}

impl PluginResolver for PluginBridge<'_> {
    fn describe(&self, _plugin_id: &str, path: &Path) -> Result<PluginInfo, String> {
        self.describe_under(path, &Limits::default())
    }

    /// `describe()` within the plan's deadline and memory for the plugin.
    fn describe_within(
        &self,
        _plugin_id: &str,
        path: &Path,
        limits: &cutover_plan::Limits,
    ) -> Result<PluginInfo, String> {
        self.describe_under(path, &runtime_limits(limits))
    }
}

/// The most a plan may let one call hand the host: 2 GiB.
pub const MAX_OUTPUT_BYTES: usize = 2 << 30;

/// The runtime's limits for a plan's plugin limits: its deadline (at least
/// 1 ms), memory (at most [`MAX_MEMORY_BYTES`]) and output (at most
/// [`MAX_OUTPUT_BYTES`]); the rest host policy.
pub fn runtime_limits(limits: &cutover_plan::Limits) -> Limits {
    let memory = usize::try_from(limits.memory_bytes)
        .unwrap_or(MAX_MEMORY_BYTES)
        .min(MAX_MEMORY_BYTES);
    let base = Limits::default();
    let output = limits.output_bytes.map_or(base.max_output_bytes, |o| {
        usize::try_from(o)
            .unwrap_or(MAX_OUTPUT_BYTES)
            .min(MAX_OUTPUT_BYTES)
    });
    Limits {
        deadline: Duration::from_millis(limits.deadline_ms.max(1)),
        memory_bytes: memory,
        max_output_bytes: output,
        ..base
    }
}

/// The sandbox the plan gives plugin `plugin_id`: its host, directory
/// (resolved against the plan's directory), secret and config grants, its
/// effective deadline and memory limits, and its granted CA certificates
/// (`tls_ca`, loaded and checked here, so a bad file fails before any call,
/// naming the file). Secrets resolve from the environment.
pub fn sandbox_for(plan: &LoadedPlan, plugin_id: &str) -> Result<Sandbox, BridgeError> {
    let spec = plan
        .plan
        .plugins
        .get(plugin_id)
        .ok_or_else(|| BridgeError::NotDeclared {
            id: plugin_id.into(),
        })?;
    let grant_error = |detail: String| BridgeError::Grant {
        id: plugin_id.into(),
        detail,
    };
    let g = &spec.grants;
    let hosts = g
        .hosts
        .iter()
        .map(|h| Origin::parse_grant(h).map_err(|e| grant_error(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let dirs = g
        .dirs
        .iter()
        .map(|d| DirGrant {
            name: d.name.clone(),
            path: plan.base_dir.join(&d.path),
            write: d.write,
        })
        .collect();
    let tls_ca = if g.tls_ca.is_empty() {
        None
    } else {
        let files: Vec<_> = g.tls_ca.iter().map(|f| plan.base_dir.join(f)).collect();
        let ca = TlsCa::load(&files).map_err(|e| grant_error(e.to_string()))?;
        Some(Arc::new(ca))
    };
    Ok(Sandbox {
        grants: Arc::new(Grants {
            hosts,
            dirs,
            secrets: g.secrets.clone(),
            config: g.config.clone(),
        }),
        limits: runtime_limits(&spec.limits),
        secrets: Arc::new(EnvSecrets),
        progress: None,
        http_replay: None,
        tls_ca,
    })
}

/// The adapter plugin id of system `side` (`old` or `new`).
pub fn adapter_id<'a>(plan: &'a LoadedPlan, side: &str) -> Result<&'a str, BridgeError> {
    let side = match side {
        "old" => SystemSide::Old,
        "new" => SystemSide::New,
        other => return Err(BridgeError::UnknownSystem { side: other.into() }),
    };
    Ok(&plan.plan.systems.side(side).adapter)
}

/// What plan validation knows of a plugin, from its `describe()`: kind,
/// requested capabilities, declared support (adapters) and kinds
/// (translators), and from its exports whether it answers `query-range`.
/// The one conversion every resolver uses.
pub fn plugin_info(plugin: &Plugin) -> PluginInfo {
    let d = plugin.descriptor();
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
        history: plugin.answers_query_range(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plans_output_limit_reaches_the_runtime_capped() {
        let mut plan = cutover_plan::Limits::default();
        assert_eq!(
            runtime_limits(&plan).max_output_bytes,
            Limits::default().max_output_bytes
        );
        plan.output_bytes = Some(256 << 20);
        assert_eq!(runtime_limits(&plan).max_output_bytes, 256 << 20);
        plan.output_bytes = Some(100 << 30);
        assert_eq!(runtime_limits(&plan).max_output_bytes, MAX_OUTPUT_BYTES);
    }
}

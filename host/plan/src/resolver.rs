//! What validation needs to know about a plugin, and how it is obtained.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::support::AdapterSupport;

/// Which world a plugin implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PluginKind {
    /// A phase action.
    Action,
    /// A validation check.
    Check,
    /// An alerting system adapter.
    Adapter,
    /// A translator of configuration (rules, routes, silences).
    Translator,
}

impl fmt::Display for PluginKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PluginKind::Action => "action",
            PluginKind::Check => "check",
            PluginKind::Adapter => "adapter",
            PluginKind::Translator => "translator",
        })
    }
}

/// A plugin's self-description (its `describe()` result).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginInfo {
    /// World.
    pub kind: PluginKind,
    /// Plugin name.
    pub name: String,
    /// Plugin version.
    pub version: String,
    /// Requested HTTP targets (`scheme://host:port` or `config:KEY`).
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Requested directories: (logical name, writable).
    #[serde(default)]
    pub dirs: Vec<(String, bool)>,
    /// Requested secrets.
    #[serde(default)]
    pub secrets: Vec<String>,
    /// Config keys the plugin reads.
    #[serde(default)]
    pub config_keys: Vec<String>,
    /// What an adapter declares it backs up and rolls back (empty for other
    /// kinds, and for an adapter that declares nothing).
    #[serde(default)]
    pub support: AdapterSupport,
    /// The data kinds a translator accepts (empty for other plugins).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<String>,
    /// An adapter that also answers `query-range` (contract 0.1.2, world
    /// `history-adapter`): backtests can read its system's history.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub history: bool,
}

/// Describes plugins for validation. The real implementation instantiates the
/// component and calls `describe()`.
pub trait PluginResolver {
    /// Describes the plugin `plugin_id` stored at `path` (already resolved
    /// against the plan's directory). The error says why it could not.
    fn describe(&self, plugin_id: &str, path: &Path) -> Result<PluginInfo, String>;

    /// [`PluginResolver::describe`] under the limits the plan gives the
    /// plugin (its `deadline` and `memory`): a resolver that runs
    /// `describe()` runs it within them. Validation calls this one; by
    /// default the limits are not needed.
    fn describe_within(
        &self,
        plugin_id: &str,
        path: &Path,
        limits: &crate::model::Limits,
    ) -> Result<PluginInfo, String> {
        let _ = limits;
        self.describe(plugin_id, path)
    }
}

/// Resolver reading a JSON [`PluginInfo`] from `<plugin path>.describe.json`;
/// for tests and for plugins whose description is shipped beside them.
#[derive(Debug, Clone, Copy, Default)]
pub struct DescriptorFileResolver;

impl DescriptorFileResolver {
    /// Where the descriptor of `path` lives.
    pub fn descriptor_path(path: &Path) -> PathBuf {
        let mut name = path.as_os_str().to_owned();
        name.push(".describe.json");
        PathBuf::from(name)
    }
}

impl PluginResolver for DescriptorFileResolver {
    fn describe(&self, _plugin_id: &str, path: &Path) -> Result<PluginInfo, String> {
        let file = Self::descriptor_path(path);
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))
    }
}

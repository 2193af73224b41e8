//! What the engine's benches share: a plugin resolver that loads each
//! component and reports its own `describe()`.

use std::path::Path;

use cutover_plan::{PluginInfo, PluginKind, PluginResolver};
use cutover_runtime::{Runtime, World};

/// Describes plugins by loading them into `.0`.
pub struct Resolver<'a>(pub &'a Runtime);

impl PluginResolver for Resolver<'_> {
    fn describe(&self, _id: &str, path: &Path) -> Result<PluginInfo, String> {
        let p = self.0.load_file(path, None).map_err(|e| e.to_string())?;
        let d = p.descriptor();
        Ok(PluginInfo {
            kind: match d.kind {
                World::Action => PluginKind::Action,
                World::Check => PluginKind::Check,
                World::Adapter => PluginKind::Adapter,
                World::Translator => PluginKind::Translator,
            },
            name: p.name().to_string(),
            version: d.version.clone(),
            hosts: d.capabilities.hosts.clone(),
            dirs: d
                .capabilities
                .directories
                .iter()
                .map(|r| (r.name.clone(), r.writable))
                .collect(),
            secrets: d.capabilities.secrets.clone(),
            config_keys: d.capabilities.config_keys.clone(),
            support: cutover_plan::AdapterSupport::from_description(&d.description),
            kinds: d.kinds.clone(),
        })
    }
}

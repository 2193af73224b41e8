//! What the engine's benches share: a plugin resolver that loads each
//! component and reports its own `describe()`.

use std::path::Path;

use cutover_plan::{PluginInfo, PluginResolver};
use cutover_runtime::Runtime;

/// Describes plugins by loading them into `.0`.
pub struct Resolver<'a>(pub &'a Runtime);

impl PluginResolver for Resolver<'_> {
    fn describe(&self, _id: &str, path: &Path) -> Result<PluginInfo, String> {
        let p = self.0.load_file(path, None).map_err(|e| e.to_string())?;
        Ok(cutover_engine::plugin_info(p.descriptor()))
    }
}

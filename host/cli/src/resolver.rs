//! Plan validation's view of plugins, answered by loading them for real and
//! calling `describe()` in the sandbox.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cutover_engine::plugin_info;
use cutover_plan::{PluginInfo, PluginResolver};
use cutover_runtime::{Plugin, Runtime};

/// Loads each plugin once and remembers it.
pub struct RuntimeResolver<'a> {
    runtime: &'a Runtime,
    loaded: RefCell<BTreeMap<PathBuf, Arc<Plugin>>>,
}

impl<'a> RuntimeResolver<'a> {
    pub fn new(runtime: &'a Runtime) -> Self {
        Self {
            runtime,
            loaded: RefCell::default(),
        }
    }

    /// The plugin loaded from `path`, if validation loaded it.
    #[allow(dead_code)]
    pub fn plugin(&self, path: &Path) -> Option<Arc<Plugin>> {
        self.loaded.borrow().get(path).cloned()
    }
}

impl PluginResolver for RuntimeResolver<'_> {
    fn describe(&self, _plugin_id: &str, path: &Path) -> Result<PluginInfo, String> {
        if let Some(p) = self.loaded.borrow().get(path) {
            return Ok(plugin_info(p.descriptor()));
        }
        let plugin = self
            .runtime
            .load_file(path, None)
            .map_err(|e| e.to_string())?;
        let info = plugin_info(plugin.descriptor());
        self.loaded
            .borrow_mut()
            .insert(path.to_path_buf(), Arc::new(plugin));
        Ok(info)
    }
}

//! The plugin worlds of the contract: the kind of plugin a component is,
//! named by load errors, call errors and descriptors alike.

use serde::Serialize;

/// The world a component implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum World {
    /// `cutover:plugin/action`.
    Action,
    /// `cutover:plugin/check`.
    Check,
    /// `cutover:plugin/adapter`.
    Adapter,
    /// `cutover:plugin/translator` (contract 0.1.1).
    Translator,
}

impl World {
    /// The world's name in the contract.
    pub fn as_str(self) -> &'static str {
        match self {
            World::Action => "action",
            World::Check => "check",
            World::Adapter => "adapter",
            World::Translator => "translator",
        }
    }
}

impl std::fmt::Display for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

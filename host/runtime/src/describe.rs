//! `describe()` of every world, as one host-side [`Descriptor`].
//!
//! The `action`, `check` and `adapter` worlds return the contract's
//! `descriptor` (with a `plugin-kind`); the `translator` world (0.1.1)
//! returns a `translator-descriptor`, because `plugin-kind` cannot gain a
//! case compatibly (see `wit/plugin.wit`). Both become a [`Descriptor`]
//! whose `kind` is the [`World`].

use serde::Serialize;

use crate::bindings::wit;
use crate::world::World;

/// What a plugin says about itself (its `describe()`), for any world.
#[derive(Debug, Clone, Serialize)]
pub struct Descriptor {
    /// Plugin name (never empty).
    pub name: String,
    /// Plugin version.
    pub version: String,
    /// The world the plugin implements (its kind).
    pub kind: World,
    /// What it would like to be granted (nothing is granted automatically).
    pub capabilities: wit::Capabilities,
    /// One-line description.
    pub description: String,
    /// The data kinds a translator accepts (`alert_rules`, `routes`, ...);
    /// empty for the other worlds.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<String>,
}

impl Descriptor {
    /// Whether this translator accepts data kind `kind`.
    pub fn translates(&self, kind: &str) -> bool {
        self.kinds.iter().any(|k| k == kind)
    }

    pub(crate) fn placeholder(world: World) -> Self {
        Descriptor {
            name: String::new(),
            version: String::new(),
            kind: world,
            capabilities: wit::Capabilities {
                hosts: vec![],
                directories: vec![],
                config_keys: vec![],
                secrets: vec![],
            },
            description: String::new(),
            kinds: vec![],
        }
    }
}

impl From<wit::Descriptor> for Descriptor {
    fn from(d: wit::Descriptor) -> Self {
        Descriptor {
            name: d.name,
            version: d.version,
            kind: match d.kind {
                wit::PluginKind::Action => World::Action,
                wit::PluginKind::Check => World::Check,
                wit::PluginKind::Adapter => World::Adapter,
            },
            capabilities: d.capabilities,
            description: d.description,
            kinds: vec![],
        }
    }
}

impl From<wit::TranslatorDescriptor> for Descriptor {
    fn from(d: wit::TranslatorDescriptor) -> Self {
        Descriptor {
            name: d.name,
            version: d.version,
            kind: World::Translator,
            capabilities: d.capabilities,
            description: d.description,
            kinds: d.kinds,
        }
    }
}

/// What is wrong with a descriptor, if anything: an empty name, or a
/// translator without data kinds, with an empty or a repeated one.
pub(crate) fn problem(d: &Descriptor) -> Option<String> {
    if d.name.trim().is_empty() {
        return Some("describe() returned an empty name".into());
    }
    if d.kind != World::Translator {
        return None;
    }
    if d.kinds.is_empty() {
        return Some("a translator's describe() must list at least one data kind".into());
    }
    for (i, k) in d.kinds.iter().enumerate() {
        if k.trim().is_empty() {
            return Some(format!("describe() lists an empty data kind (kinds[{i}])"));
        }
        if d.kinds[..i].contains(k) {
            return Some(format!("describe() lists data kind {k:?} twice"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn translator(kinds: &[&str]) -> Descriptor {
        Descriptor {
            name: "t".into(),
            kinds: kinds.iter().map(|k| k.to_string()).collect(),
            ..Descriptor::placeholder(World::Translator)
        }
    }

    #[test]
    fn translators_must_name_distinct_non_empty_kinds() {
        assert_eq!(problem(&translator(&["alert_rules", "routes"])), None);
        assert!(problem(&translator(&[])).is_some());
        assert!(problem(&translator(&["a", " "])).is_some());
        assert!(problem(&translator(&["a", "a"])).is_some());
        let unnamed = Descriptor {
            name: " ".into(),
            ..translator(&["a"])
        };
        assert!(problem(&unnamed).is_some());
        assert!(translator(&["a", "b"]).translates("b"));
        assert!(!translator(&["a"]).translates("b"));
    }

    #[test]
    fn other_worlds_need_only_a_name() {
        let d = Descriptor {
            name: "x".into(),
            ..Descriptor::placeholder(World::Check)
        };
        assert_eq!(problem(&d), None);
        let json = serde_json::to_value(&d).expect("json");
        assert_eq!(json["kind"], "check");
        assert!(json.get("kinds").is_none(), "{json}");
    }
}

//! What an adapter declares it can back up and roll back.
//!
//! The contract's `descriptor` record (`cutover:plugin@0.1.0`) has no typed
//! field for this, so an adapter declares it in the description its
//! `describe()` returns, one line each (the Rust SDK writes them with
//! `cutover_plugin_sdk::declare_support`):
//!
//! ```text
//! backup types: configurations, silences
//! rollback categories: configurations, silences
//! capture-only categories: active_alerts
//! ```
//!
//! * `backup types`: the kinds `export-data` and `import-data` accept;
//! * `rollback categories`: the categories `capture-state` and
//!   `restore-state` accept;
//! * `capture-only categories`: categories `capture-state` accepts but
//!   `restore-state` does not (what was captured is kept as evidence; a
//!   rollback reports them `unsupported`).
//!
//! A line that is not one of these is description text. An adapter without
//! these lines declares nothing: a plan may not ask it for any backup type or
//! rollback category. [`AdapterSupport::from_description`] is the one place
//! that reads the lines, so a typed field in a later contract changes only it.

use serde::{Deserialize, Serialize};

/// Prefix of the line declaring backup types.
pub const BACKUP_TYPES_LINE: &str = "backup types:";
/// Prefix of the line declaring rollback categories (captured and restored).
pub const ROLLBACK_CATEGORIES_LINE: &str = "rollback categories:";
/// Prefix of the line declaring capture-only rollback categories.
pub const CAPTURE_ONLY_LINE: &str = "capture-only categories:";

/// What an adapter declares in `describe()` (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdapterSupport {
    /// Data kinds `export-data` and `import-data` accept.
    #[serde(default)]
    pub backup_types: Vec<String>,
    /// Categories `capture-state` and `restore-state` accept.
    #[serde(default)]
    pub rollback_categories: Vec<String>,
    /// Categories `capture-state` accepts and `restore-state` does not.
    #[serde(default)]
    pub capture_only: Vec<String>,
}

impl AdapterSupport {
    /// Reads the declaration lines of a `describe()` description.
    pub fn from_description(text: &str) -> AdapterSupport {
        let mut s = AdapterSupport::default();
        for line in text.lines().map(str::trim) {
            let (list, rest) = if let Some(r) = line.strip_prefix(BACKUP_TYPES_LINE) {
                (&mut s.backup_types, r)
            } else if let Some(r) = line.strip_prefix(ROLLBACK_CATEGORIES_LINE) {
                (&mut s.rollback_categories, r)
            } else if let Some(r) = line.strip_prefix(CAPTURE_ONLY_LINE) {
                (&mut s.capture_only, r)
            } else {
                continue;
            };
            for name in rest.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                if !list.iter().any(|n| n == name) {
                    list.push(name.to_string());
                }
            }
        }
        s
    }

    /// Whether the adapter backs up (and restores) data type `kind`.
    pub fn declares_backup_type(&self, kind: &str) -> bool {
        self.backup_types.iter().any(|t| t == kind)
    }

    /// Whether the adapter captures `category` (restorable or capture only).
    pub fn declares_category(&self, category: &str) -> bool {
        self.restores_category(category) || self.capture_only.iter().any(|c| c == category)
    }

    /// Whether the adapter restores `category` in a rollback.
    pub fn restores_category(&self, category: &str) -> bool {
        self.rollback_categories.iter().any(|c| c == category)
    }

    /// Every category the adapter captures: restorable ones, then capture-only ones.
    pub fn categories(&self) -> Vec<String> {
        let mut all = self.rollback_categories.clone();
        all.extend(
            self.capture_only
                .iter()
                .filter(|c| !all.contains(c))
                .cloned()
                .collect::<Vec<_>>(),
        );
        all
    }
}

//! What an alert of Prometheus's `/api/v1/alerts` and of Alertmanager's
//! `/api/v2/alerts` answers has in common: its labels and annotations, and
//! the still-firing WIT alert made of them.

use std::collections::BTreeMap;

use cutover_plugin_sdk::{Alert, AlertState};
use serde::Deserialize;

/// An alert's labels and annotations as both APIs write them (flattened
/// into the answer's alert object; absent = empty).
#[derive(Debug, Default, Deserialize)]
pub struct Tags {
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

impl Tags {
    /// The WIT alert with these labels and annotations, sorted by name.
    /// `ends-at` is empty: the alert is still firing (the APIs' end times
    /// are only estimates).
    pub fn firing(self, starts_at: i64, state: AlertState, fingerprint: String) -> Alert {
        Alert {
            labels: self.labels.into_iter().collect(),
            annotations: self.annotations.into_iter().collect(),
            starts_at,
            ends_at: None,
            state,
            fingerprint,
        }
    }
}

//! The normalised alert model every parser produces.

use serde::Serialize;
use std::collections::BTreeMap;

/// State of an alert at the time the dump was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    /// Firing and notifying.
    Active,
    /// Firing but silenced or inhibited (still counts as fired).
    Suppressed,
    /// Fired during the window and has since ended.
    Resolved,
}

/// One alert episode: a label set that started firing at `starts_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    /// Identifying labels, including `alertname`.
    pub labels: BTreeMap<String, String>,
    /// Non-identifying annotations (summary, description, runbook...).
    pub annotations: BTreeMap<String, String>,
    /// Start of the episode, unix milliseconds.
    pub starts_at: i64,
    /// End of the episode, unix milliseconds; `None` while still active.
    pub ends_at: Option<i64>,
    /// State at dump time.
    pub state: AlertState,
    /// System the alert came from (file name or the export's `system`).
    pub source: String,
    /// Fingerprint from the source, or a stable hash of the labels.
    pub fingerprint: String,
}

impl Alert {
    /// The `alertname` label, or an empty string when absent.
    pub fn alertname(&self) -> &str {
        self.labels
            .get("alertname")
            .map(String::as_str)
            .unwrap_or("")
    }
}

/// A stable 64-bit FNV-1a fingerprint of a label set, as 16 hex digits.
/// Used when the source does not provide one (Prometheus v1 API).
pub fn label_fingerprint(labels: &BTreeMap<String, String>) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (k, v) in labels {
        for b in k.bytes().chain([0xff]).chain(v.bytes()).chain([0xfe]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_depends_on_labels() {
        let mut a = BTreeMap::new();
        a.insert("alertname".to_string(), "X".to_string());
        let mut b = a.clone();
        assert_eq!(label_fingerprint(&a), label_fingerprint(&b));
        b.insert("a".into(), "b".into());
        assert_ne!(label_fingerprint(&a), label_fingerprint(&b));
    }
}

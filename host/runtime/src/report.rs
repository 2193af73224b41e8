//! A translator's report, as the host keeps it once it has checked it.

use serde::{Deserialize, Serialize};

/// How one input item fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// Translated as asked, or deliberately left out (e.g. out of scope).
    Ok,
    /// Needs a person's review.
    Warning,
    /// Could not be translated; not in the output.
    Untranslatable,
}

impl ItemStatus {
    /// `ok`, `warning` or `untranslatable`.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Ok => "ok",
            ItemStatus::Warning => "warning",
            ItemStatus::Untranslatable => "untranslatable",
        }
    }
}

impl std::fmt::Display for ItemStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One input item of a translation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportItem {
    /// Unique within the report.
    pub id: String,
    /// `alert_rule`, `recording_rule`, `route`, `receiver`, `inhibit_rule`,
    /// `silence`, or translator-defined.
    pub kind: String,
    /// How it fared.
    pub status: ItemStatus,
    /// Why.
    pub reason: String,
}

/// Items per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Summary {
    /// `ok` items.
    pub ok: u64,
    /// `warning` items.
    pub warning: u64,
    /// `untranslatable` items.
    pub untranslatable: u64,
}

impl Summary {
    /// Counts `items` by status.
    pub fn of(items: &[ReportItem]) -> Summary {
        let mut s = Summary::default();
        for i in items {
            match i.status {
                ItemStatus::Ok => s.ok += 1,
                ItemStatus::Warning => s.warning += 1,
                ItemStatus::Untranslatable => s.untranslatable += 1,
            }
        }
        s
    }

    /// All items.
    pub fn total(&self) -> u64 {
        self.ok + self.warning + self.untranslatable
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ok, {} warning, {} untranslatable",
            self.ok, self.warning, self.untranslatable
        )
    }
}

/// Every input item of a translation and the count per status; serializes
/// as `{"items": [{"id", "kind", "status", "reason"}], "summary": {"ok",
/// "warning", "untranslatable"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranslationReport {
    /// One per input item, in the translator's order.
    pub items: Vec<ReportItem>,
    /// Equal to [`Summary::of`] the items (checked by the host).
    pub summary: Summary,
}

impl TranslationReport {
    /// Whether any item could not be translated.
    pub fn has_untranslatable(&self) -> bool {
        self.summary.untranslatable > 0
    }
}

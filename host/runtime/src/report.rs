//! A translator's report, as the host keeps it once it has checked it.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::bindings::wit;
use crate::error::TranslateError;

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

impl From<wit::ItemStatus> for ItemStatus {
    fn from(s: wit::ItemStatus) -> Self {
        match s {
            wit::ItemStatus::Ok => ItemStatus::Ok,
            wit::ItemStatus::Warning => ItemStatus::Warning,
            wit::ItemStatus::Untranslatable => ItemStatus::Untranslatable,
        }
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

/// Checks a report from translator `plugin` and converts it: every item has
/// an id and a kind, ids are unique, the summary equals the counts, and
/// there are at least `expected` items when the caller counted its input.
pub(crate) fn check(
    plugin: &str,
    report: wit::TranslationReport,
    expected: Option<u64>,
) -> Result<TranslationReport, TranslateError> {
    let mut first_index: HashMap<&str, usize> = HashMap::with_capacity(report.items.len());
    for (index, item) in report.items.iter().enumerate() {
        let invalid = |detail: &str| TranslateError::InvalidItem {
            plugin: plugin.to_string(),
            index,
            id: item.id.clone(),
            detail: detail.to_string(),
        };
        if item.id.trim().is_empty() {
            return Err(invalid("has an empty id"));
        }
        if item.kind.trim().is_empty() {
            return Err(invalid("has an empty kind"));
        }
        if let Some(first) = first_index.insert(&item.id, index) {
            return Err(TranslateError::DuplicateItem {
                plugin: plugin.to_string(),
                id: item.id.clone(),
                first,
                second: index,
            });
        }
    }
    let items: Vec<ReportItem> = report
        .items
        .into_iter()
        .map(|i| ReportItem {
            id: i.id,
            kind: i.kind,
            status: i.status.into(),
            reason: i.reason,
        })
        .collect();
    let counted = Summary::of(&items);
    let reported = Summary {
        ok: report.summary.ok.into(),
        warning: report.summary.warning.into(),
        untranslatable: report.summary.untranslatable.into(),
    };
    if reported != counted {
        return Err(TranslateError::SummaryMismatch {
            plugin: plugin.to_string(),
            reported,
            counted,
        });
    }
    if let Some(expected) = expected
        && counted.total() < expected
    {
        return Err(TranslateError::MissingItems {
            plugin: plugin.to_string(),
            reported: counted.total(),
            expected,
        });
    }
    Ok(TranslationReport {
        items,
        summary: counted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, status: wit::ItemStatus) -> wit::ReportItem {
        wit::ReportItem {
            id: id.into(),
            kind: "alert_rule".into(),
            status,
            reason: String::new(),
        }
    }

    fn report(
        items: Vec<wit::ReportItem>,
        ok: u32,
        warning: u32,
        bad: u32,
    ) -> wit::TranslationReport {
        wit::TranslationReport {
            items,
            summary: wit::ReportSummary {
                ok,
                warning,
                untranslatable: bad,
            },
        }
    }

    #[test]
    fn a_consistent_report_is_accepted_and_serializes_as_documented() {
        let r = report(
            vec![
                item("a", wit::ItemStatus::Ok),
                item("b", wit::ItemStatus::Warning),
                item("c", wit::ItemStatus::Untranslatable),
            ],
            1,
            1,
            1,
        );
        let r = check("t", r, Some(3)).expect("valid");
        assert!(r.has_untranslatable());
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "items": [
                    {"id": "a", "kind": "alert_rule", "status": "ok", "reason": ""},
                    {"id": "b", "kind": "alert_rule", "status": "warning", "reason": ""},
                    {"id": "c", "kind": "alert_rule", "status": "untranslatable", "reason": ""},
                ],
                "summary": {"ok": 1, "warning": 1, "untranslatable": 1},
            })
        );
    }

    #[test]
    fn inconsistent_reports_are_typed_errors() {
        let dup = report(
            vec![
                item("a", wit::ItemStatus::Ok),
                item("a", wit::ItemStatus::Ok),
            ],
            2,
            0,
            0,
        );
        assert!(matches!(
            check("t", dup, None),
            Err(TranslateError::DuplicateItem { first: 0, second: 1, ref id, .. }) if id == "a"
        ));
        let lie = report(vec![item("a", wit::ItemStatus::Warning)], 1, 0, 0);
        assert!(matches!(
            check("t", lie, None),
            Err(TranslateError::SummaryMismatch {
                reported: Summary { ok: 1, .. },
                counted: Summary { warning: 1, .. },
                ..
            })
        ));
        let short = report(vec![item("a", wit::ItemStatus::Ok)], 1, 0, 0);
        assert!(matches!(
            check("t", short, Some(2)),
            Err(TranslateError::MissingItems {
                reported: 1,
                expected: 2,
                ..
            })
        ));
        let unnamed = report(vec![item(" ", wit::ItemStatus::Ok)], 1, 0, 0);
        assert!(matches!(
            check("t", unnamed, None),
            Err(TranslateError::InvalidItem { index: 0, .. })
        ));
        let mut kindless = item("a", wit::ItemStatus::Ok);
        kindless.kind.clear();
        assert!(matches!(
            check("t", report(vec![kindless], 1, 0, 0), None),
            Err(TranslateError::InvalidItem { index: 0, ref id, .. }) if id == "a"
        ));
    }
}

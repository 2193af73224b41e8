//! Calling a translator: documents in through a `data-source`, documents
//! out through a `data-sink` (both in the JSON Lines framing of
//! [`Document`]), and a report the host checks before anyone uses it.

use std::collections::HashMap;
use std::io::Cursor;

use serde::Serialize;
use wasmtime::component::Resource;

use crate::api::{plugin_err, wrong_world};
use crate::bindings::wit;
use crate::call::Sandbox;
use crate::data::{DataSink, DataSource};
use crate::documents::{self, Document};
use crate::error::TranslateError;
use crate::plugin::{Plugin, Pre};
use crate::report::{ItemStatus, ReportItem, Summary, TranslationReport};
use crate::runtime::Runtime;
use crate::world::World;

/// What to translate.
#[derive(Debug, Clone, Copy)]
pub struct TranslateRequest<'a> {
    /// The data kind (`alert_rules`, `routes`, `silences`, ...); must be one
    /// of the translator's `describe().kinds`.
    pub kind: &'a str,
    /// The translator's parameters, a JSON object as text (`{}` when none).
    pub params: &'a str,
    /// The input documents (plain, distinct file names).
    pub documents: &'a [Document],
    /// The number of input items (rules, routes, silences...) when the
    /// caller can count them: a report with fewer items is refused with
    /// [`TranslateError::MissingItems`]. `None` when it cannot.
    pub expected_items: Option<u64>,
}

impl<'a> TranslateRequest<'a> {
    /// A request with no item count.
    pub fn new(kind: &'a str, params: &'a str, documents: &'a [Document]) -> Self {
        Self {
            kind,
            params,
            documents,
            expected_items: None,
        }
    }

    /// The same request, refusing reports with fewer than `n` items.
    pub fn expecting(self, n: u64) -> Self {
        Self {
            expected_items: Some(n),
            ..self
        }
    }
}

/// A checked translation: the output documents and the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Translation {
    /// The output documents, in the order the translator wrote them.
    pub documents: Vec<Document>,
    /// One item per input item.
    pub report: TranslationReport,
}

impl Runtime {
    /// Runs translator `p` on `req` in a fresh sandboxed instance and checks
    /// what it returns. Nothing is returned unless the output framing, the
    /// document names and the report are all sound.
    pub fn translate(
        &self,
        p: &Plugin,
        sb: &Sandbox,
        req: &TranslateRequest<'_>,
    ) -> Result<Translation, TranslateError> {
        let Pre::Translator(pre) = &p.pre else {
            return Err(wrong_world(p, World::Translator).into());
        };
        let kinds = &p.descriptor().kinds;
        if !kinds.iter().any(|k| k == req.kind) {
            return Err(TranslateError::UnsupportedKind {
                plugin: p.name.clone(),
                kind: req.kind.to_string(),
                supported: kinds.clone(),
            });
        }
        documents::check_names(req.documents.iter().map(|d| d.name.as_str())).map_err(
            |(name, detail)| TranslateError::Input {
                plugin: p.name.clone(),
                name,
                detail,
            },
        )?;
        let input = documents::encode(req.documents);
        let size = input.len() as u64;
        let cap = sb.limits.max_translation_bytes;
        let (result, sink) = self.call(&p.name, sb, |store| {
            let inst = pre.instantiate(&mut *store)?;
            let table = &mut store.data_mut().table;
            let src = table.push(DataSource::new(Box::new(Cursor::new(input)), size))?;
            let sink = table.push(DataSink::new(Box::new(Vec::<u8>::new()), cap))?;
            let result = inst.call_translate(
                &mut *store,
                req.kind,
                req.params,
                Resource::new_borrow(src.rep()),
                Resource::new_borrow(sink.rep()),
            );
            let table = &mut store.data_mut().table;
            table.delete(src)?;
            let sink = table.delete(sink)?;
            Ok((result?, sink))
        })?;
        let (bytes, _) = sink.finish::<Vec<u8>>(&p.name)?;
        let report = result.map_err(|e| plugin_err(p, e))?;
        let report = check_report(&p.name, report, req.expected_items)?;
        let documents = documents::decode(&bytes).map_err(|e| TranslateError::MalformedOutput {
            plugin: p.name.clone(),
            line: e.line,
            name: e.name,
            detail: e.detail,
        })?;
        Ok(Translation { documents, report })
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

/// Checks a report from translator `plugin` and converts it: every item has
/// an id and a kind, ids are unique, the summary equals the counts, and
/// there are at least `expected` items when the caller counted its input.
fn check_report(
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
    use crate::report::Summary;

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
        let r = check_report("t", r, Some(3)).expect("valid");
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
            check_report("t", dup, None),
            Err(TranslateError::DuplicateItem { first: 0, second: 1, ref id, .. }) if id == "a"
        ));
        let lie = report(vec![item("a", wit::ItemStatus::Warning)], 1, 0, 0);
        assert!(matches!(
            check_report("t", lie, None),
            Err(TranslateError::SummaryMismatch {
                reported: Summary { ok: 1, .. },
                counted: Summary { warning: 1, .. },
                ..
            })
        ));
        let short = report(vec![item("a", wit::ItemStatus::Ok)], 1, 0, 0);
        assert!(matches!(
            check_report("t", short, Some(2)),
            Err(TranslateError::MissingItems {
                reported: 1,
                expected: 2,
                ..
            })
        ));
        let unnamed = report(vec![item(" ", wit::ItemStatus::Ok)], 1, 0, 0);
        assert!(matches!(
            check_report("t", unnamed, None),
            Err(TranslateError::InvalidItem { index: 0, .. })
        ));
        let mut kindless = item("a", wit::ItemStatus::Ok);
        kindless.kind.clear();
        assert!(matches!(
            check_report("t", report(vec![kindless], 1, 0, 0), None),
            Err(TranslateError::InvalidItem { index: 0, ref id, .. }) if id == "a"
        ));
    }
}

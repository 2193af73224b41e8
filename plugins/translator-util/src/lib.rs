//! What the first-party translators (`prometheus-rules`,
//! `alertmanager-routes`, `alertmanager-silences`) share: the `translate`
//! export around a pure function over documents, translate-core's errors as
//! the contract's `plugin-error`, and its items as report items.

use cutover_plugin_sdk::{
    ChunkSink, ChunkSource, Document, ItemStatus, PluginError, ReportItem, TranslationReport,
    failed, invalid_input, read_documents, report, unsupported, write_documents,
};
use translate_core::{Item, Status, TranslateError};

/// What a translation computed: output documents and one item per input item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// The output documents.
    pub documents: Vec<Document>,
    /// One per input item.
    pub items: Vec<Item>,
}

/// The contract's error for a translate-core error: bad params or a
/// document that does not parse are `invalid-input`, a bug is `failed`.
pub fn plugin_error(e: TranslateError) -> PluginError {
    match e {
        TranslateError::Internal(_) => failed(e.to_string()),
        TranslateError::Params { .. }
        | TranslateError::Yaml { .. }
        | TranslateError::Invalid { .. } => invalid_input(e.to_string()),
    }
}

/// The report item for a translate-core item.
pub fn report_item(i: Item) -> ReportItem {
    ReportItem {
        id: i.id,
        kind: i.kind.as_str().to_owned(),
        status: match i.status {
            Status::Ok => ItemStatus::Ok,
            Status::Warning => ItemStatus::Warning,
            Status::Untranslatable => ItemStatus::Untranslatable,
        },
        reason: i.reason,
    }
}

/// Params as the host passes them, with an empty string read as `{}`.
pub fn params_text(params: &str) -> &str {
    if params.trim().is_empty() {
        "{}"
    } else {
        params
    }
}

/// The `translate` export: refuses kinds other than `accepted` as
/// `unsupported`, reads the input documents, runs `f`, writes its output
/// documents and reports its items.
pub fn serve<Src, Snk>(
    kind: &str,
    accepted: &[&str],
    source: &Src,
    sink: &Snk,
    f: impl FnOnce(Vec<Document>) -> Result<Output, PluginError>,
) -> Result<TranslationReport, PluginError>
where
    Src: ChunkSource + ?Sized,
    Snk: ChunkSink + ?Sized,
{
    if !accepted.contains(&kind) {
        return Err(unsupported(format!(
            "data kind `{kind}`: this translator translates {}",
            accepted.join(", ")
        )));
    }
    let out = f(read_documents(source)?)?;
    write_documents(sink, &out.documents)?;
    Ok(report(out.items.into_iter().map(report_item).collect()))
}

/// The one document a kind takes, or `invalid-input` naming what was given.
pub fn single(kind: &str, mut documents: Vec<Document>) -> Result<Document, PluginError> {
    if documents.len() != 1 {
        let names: Vec<&str> = documents.iter().map(|d| d.name.as_str()).collect();
        return Err(invalid_input(format!(
            "`{kind}` takes exactly one document, got {} ({})",
            documents.len(),
            names.join(", ")
        )));
    }
    Ok(documents.remove(0))
}

/// A first-party translator guest with one data kind: `describe()` names
/// it, `translate()` serves `run(params, documents)` for that kind, and the
/// component exports it.
///
/// ```ignore
/// cutover_translator_util::translator_guest!(Rules {
///     name: "prometheus-rules",
///     description: "Prometheus rule files in, ...",
///     kind: KIND,
///     run: run,
/// });
/// ```
#[macro_export]
macro_rules! translator_guest {
    ($ty:ident { name: $name:expr, description: $desc:expr, kind: $kind:expr, run: $run:path $(,)? }) => {
        struct $ty;

        impl cutover_plugin_sdk::translator::Guest for $ty {
            fn describe() -> cutover_plugin_sdk::TranslatorDescriptor {
                cutover_plugin_sdk::translator_descriptor(
                    $name,
                    env!("CARGO_PKG_VERSION"),
                    $desc,
                    &[$kind],
                )
            }

            fn translate(
                kind: String,
                params: String,
                source: &cutover_plugin_sdk::DataSource,
                sink: &cutover_plugin_sdk::DataSink,
            ) -> Result<cutover_plugin_sdk::TranslationReport, cutover_plugin_sdk::PluginError>
            {
                $crate::serve(&kind, &[$kind], source, sink, |docs| $run(&params, docs))
            }
        }

        cutover_plugin_sdk::export_translator!($ty);
    };
}

#[cfg(test)]
mod tests {
    use cutover_plugin_sdk::memory::{MemorySink, MemorySource};
    use cutover_plugin_sdk::{encode_documents, parse_documents};
    use translate_core::ItemKind;

    use super::*;

    fn item(id: &str, status: Status) -> Item {
        Item {
            id: id.into(),
            kind: ItemKind::AlertRule,
            status,
            reason: "why".into(),
        }
    }

    #[test]
    fn serve_reads_runs_writes_and_reports() {
        let input = encode_documents(&[Document::new("a.yml", "x")]);
        let src = MemorySource::new(input);
        let sink = MemorySink::default();
        let r = serve("alert_rules", &["alert_rules"], &src, &sink, |docs| {
            assert_eq!(docs, vec![Document::new("a.yml", "x")]);
            Ok(Output {
                documents: vec![Document::new("a.yml", "y")],
                items: vec![item("1", Status::Ok), item("2", Status::Untranslatable)],
            })
        })
        .expect("serve");
        assert_eq!((r.summary.ok, r.summary.untranslatable), (1, 1));
        assert_eq!(r.items[1].kind, "alert_rule");
        assert_eq!(r.items[1].status, ItemStatus::Untranslatable);
        let written = parse_documents(&sink.into_bytes()).unwrap();
        assert_eq!(written, vec![Document::new("a.yml", "y")]);
    }

    #[test]
    fn other_kinds_are_unsupported_and_errors_map_by_cause() {
        let src = MemorySource::new(Vec::new());
        let err = serve(
            "routes",
            &["alert_rules"],
            &src,
            &MemorySink::default(),
            |_| unreachable!("not called"),
        )
        .unwrap_err();
        assert!(matches!(err, PluginError::Unsupported(m) if m.contains("alert_rules")));
        let params = TranslateError::Params {
            path: "scope".into(),
            message: "bad".into(),
        };
        assert!(
            matches!(plugin_error(params), PluginError::InvalidInput(m) if m.contains("scope"))
        );
        assert!(matches!(
            plugin_error(TranslateError::Internal("bug".into())),
            PluginError::Failed(_)
        ));
        assert_eq!(params_text(" "), "{}");
        assert!(single("silences", vec![]).is_err());
        let two = vec![Document::new("a", ""), Document::new("b", "")];
        assert!(
            matches!(single("silences", two), Err(PluginError::InvalidInput(m)) if m.contains("a, b"))
        );
    }
}

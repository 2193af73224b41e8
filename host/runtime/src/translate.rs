//! Calling a translator: documents in through a `data-source`, documents
//! out through a `data-sink` (both in the JSON Lines framing of
//! [`Document`]), and a report the host checks before anyone uses it.

use std::io::Cursor;

use serde::Serialize;
use wasmtime::component::Resource;

use crate::api::{plugin_err, wrong_world};
use crate::call::Sandbox;
use crate::data::{DataSink, DataSource};
use crate::documents::{self, Document};
use crate::error::{CallError, TranslateError};
use crate::limits::Limit;
use crate::plugin::{Plugin, Pre, World};
use crate::report::{self, TranslationReport};
use crate::runtime::Runtime;

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
        let (result, sink) = self.call(p, sb, |store| {
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
        if let Some(detail) = sink.error {
            return Err(CallError::Limit {
                plugin: p.name.clone(),
                limit: Limit::Output,
                detail,
            }
            .into());
        }
        let report = result.map_err(|e| plugin_err(p, e))?;
        let report = report::check(&p.name, report, req.expected_items)?;
        let bytes = sink
            .target
            .into_any()
            .downcast::<Vec<u8>>()
            .map_err(|_| CallError::Host {
                plugin: p.name.clone(),
                detail: "the translation sink changed type".into(),
            })?;
        let documents = documents::decode(&bytes).map_err(|e| TranslateError::MalformedOutput {
            plugin: p.name.clone(),
            line: e.line,
            name: e.name,
            detail: e.detail,
        })?;
        Ok(Translation { documents, report })
    }
}

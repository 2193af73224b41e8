//! Helpers for translators (`translator` world, contract 0.1.1): the
//! document framing of the `data-source` / `data-sink` streams, and reports
//! whose summary is counted from their items.
//!
//! The framing is JSON Lines: one document per line, the object
//! `{"name": "<plain file name>", "text": "<UTF-8 text>"}`, ended by `\n`.
//! The host checks what a translator writes: a malformed line, a name that
//! is not a plain file name or a repeated name fails the translation.

use std::io::{Read, Write};

use serde::{Deserialize, Serialize};

use crate::io::{ChunkSink, ChunkSource, SinkWriter, SourceReader};
use crate::{
    Capabilities, ItemStatus, PluginError, ReportItem, ReportSummary, TranslationReport,
    TranslatorDescriptor,
};

/// One named text document of a translator's input or output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// A plain file name, unique within the stream.
    pub name: String,
    /// The content.
    pub text: String,
}

impl Document {
    /// A document.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            text: text.into(),
        }
    }
}

/// Parses a stream of documents (JSON Lines); the error names the line.
pub fn parse_documents(bytes: &[u8]) -> Result<Vec<Document>, String> {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    if body.is_empty() {
        return Ok(Vec::new());
    }
    let mut docs: Vec<Document> = Vec::new();
    for (i, line) in body.split(|b| *b == b'\n').enumerate() {
        let doc: Document = serde_json::from_slice(line).map_err(|e| {
            format!(
                "input documents: line {}: not a {{\"name\", \"text\"}} object: {e}",
                i + 1
            )
        })?;
        if docs.iter().any(|d| d.name == doc.name) {
            return Err(format!(
                "input documents: line {}: document {:?} given twice",
                i + 1,
                doc.name
            ));
        }
        docs.push(doc);
    }
    Ok(docs)
}

/// The JSON Lines of `docs`.
pub fn encode_documents(docs: &[Document]) -> Vec<u8> {
    let mut out = Vec::new();
    for d in docs {
        // Two strings always serialize.
        if serde_json::to_writer(&mut out, d).is_ok() {
            out.push(b'\n');
        }
    }
    out
}

/// Reads every input document from the host's `data-source`. A source that
/// fails or does not follow the framing is `invalid-input`.
pub fn read_documents<S: ChunkSource + ?Sized>(source: &S) -> Result<Vec<Document>, PluginError> {
    let mut bytes = Vec::new();
    SourceReader::new(source)
        .read_to_end(&mut bytes)
        .map_err(|e| PluginError::InvalidInput(format!("input documents: {e}")))?;
    parse_documents(&bytes).map_err(PluginError::InvalidInput)
}

/// Writes `docs` into the host's `data-sink`. A refusal (e.g. the size cap)
/// is `failed`.
pub fn write_documents<S: ChunkSink + ?Sized>(
    sink: &S,
    docs: &[Document],
) -> Result<(), PluginError> {
    SinkWriter::new(sink)
        .write_all(&encode_documents(docs))
        .map_err(|e| PluginError::Failed(format!("writing the output documents: {e}")))
}

/// A report item.
pub fn item(
    id: impl Into<String>,
    kind: impl Into<String>,
    status: ItemStatus,
    reason: impl Into<String>,
) -> ReportItem {
    ReportItem {
        id: id.into(),
        kind: kind.into(),
        status,
        reason: reason.into(),
    }
}

/// A report over `items`, with the summary counted from them.
pub fn report(items: Vec<ReportItem>) -> TranslationReport {
    let mut summary = ReportSummary {
        ok: 0,
        warning: 0,
        untranslatable: 0,
    };
    for i in &items {
        let n = match i.status {
            ItemStatus::Ok => &mut summary.ok,
            ItemStatus::Warning => &mut summary.warning,
            ItemStatus::Untranslatable => &mut summary.untranslatable,
        };
        *n = n.saturating_add(1);
    }
    TranslationReport { items, summary }
}

/// A [`TranslatorDescriptor`] with no capabilities, translating `kinds`.
pub fn translator_descriptor(
    name: &str,
    version: &str,
    description: &str,
    kinds: &[&str],
) -> TranslatorDescriptor {
    TranslatorDescriptor {
        name: name.to_owned(),
        version: version.to_owned(),
        capabilities: Capabilities::none(),
        description: description.to_owned(),
        kinds: kinds.iter().map(|k| (*k).to_owned()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{MemorySink, MemorySource};

    #[test]
    fn documents_round_trip_through_sink_and_source() {
        let docs = vec![
            Document::new("a.yml", "groups: []\n"),
            Document::new("b.yml", "x: \"q\\\"\"\n\tü"),
        ];
        let sink = MemorySink::default();
        write_documents(&sink, &docs).unwrap();
        let bytes = sink.into_bytes();
        assert_eq!(String::from_utf8(bytes.clone()).unwrap().lines().count(), 2);
        let source = MemorySource::new(bytes);
        assert_eq!(read_documents(&source).unwrap(), docs);
    }

    #[test]
    fn bad_framing_is_invalid_input_naming_the_line() {
        let src = MemorySource::new(
            b"{\"name\":\"a\",\"text\":\"\"}\n{\"name\":\"a\",\"text\":\"\"}\n".to_vec(),
        );
        match read_documents(&src) {
            Err(PluginError::InvalidInput(m)) => assert!(m.contains("line 2"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert!(parse_documents(b"[]").unwrap_err().contains("line 1"));
        assert_eq!(parse_documents(b"").unwrap(), vec![]);
    }

    #[test]
    fn report_counts_its_items() {
        let r = report(vec![
            item("a", "alert_rule", ItemStatus::Ok, ""),
            item("b", "alert_rule", ItemStatus::Warning, "why"),
            item("c", "alert_rule", ItemStatus::Warning, "why"),
            item("d", "route", ItemStatus::Untranslatable, "why"),
        ]);
        assert_eq!(
            (r.summary.ok, r.summary.warning, r.summary.untranslatable),
            (1, 2, 1)
        );
        let d = translator_descriptor("t", "1", "d", &["alert_rules"]);
        assert_eq!(d.kinds, vec!["alert_rules".to_owned()]);
    }
}

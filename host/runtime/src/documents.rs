//! The framing of a translator's input and output streams: named text
//! documents as JSON Lines.
//!
//! Each document is one line, the JSON object `{"name": ..., "text": ...}`
//! (exactly these two fields), ended by `\n` (optional after the last one).
//! Names are unique within a stream and plain file names, so a caller can
//! write the documents into a directory as they are.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

/// One named text document given to or produced by a translator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// A plain file name (see [`Document::check_name`]).
    pub name: String,
    /// The content (YAML, JSON, ...).
    pub text: String,
}

/// Longest document name, in bytes (a file name on common file systems).
pub const MAX_DOCUMENT_NAME: usize = 255;

impl Document {
    /// A document.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            text: text.into(),
        }
    }

    /// Why `name` is not a plain file name, if it is not: empty, longer than
    /// [`MAX_DOCUMENT_NAME`] bytes, `.` or `..`, or holding `/`, `\` or a
    /// control character.
    pub fn check_name(name: &str) -> Result<(), String> {
        if name.is_empty() {
            return Err("the name is empty".into());
        }
        if name.len() > MAX_DOCUMENT_NAME {
            return Err(format!(
                "the name is {} bytes long, at most {MAX_DOCUMENT_NAME} are allowed",
                name.len()
            ));
        }
        if name == "." || name == ".." {
            return Err("the name is not a file name".into());
        }
        if let Some(c) = name
            .chars()
            .find(|c| *c == '/' || *c == '\\' || c.is_control())
        {
            return Err(format!(
                "the name holds {c:?}; document names are plain file names"
            ));
        }
        Ok(())
    }
}

/// Where a stream of documents breaks the framing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FramingError {
    /// 1-based line.
    pub line: usize,
    /// The document's name, when the line named one.
    pub name: Option<String>,
    /// What is wrong.
    pub detail: String,
}

/// Checks that names are valid and distinct; the error names the document.
pub(crate) fn check_names<'a>(
    names: impl IntoIterator<Item = &'a str>,
) -> Result<(), (String, String)> {
    let mut seen = HashSet::new();
    for name in names {
        Document::check_name(name).map_err(|e| (name.to_string(), e))?;
        if !seen.insert(name) {
            return Err((name.to_string(), "two documents have this name".into()));
        }
    }
    Ok(())
}

/// The JSON Lines of `docs`.
pub(crate) fn encode(docs: &[Document]) -> Vec<u8> {
    let mut out = Vec::with_capacity(docs.iter().map(|d| d.text.len() + 32).sum());
    for d in docs {
        // Serializing two strings into a Vec cannot fail.
        if serde_json::to_writer(&mut out, d).is_ok() {
            out.push(b'\n');
        }
    }
    out
}

/// Parses JSON Lines into documents, checking names.
pub(crate) fn decode(bytes: &[u8]) -> Result<Vec<Document>, FramingError> {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    if body.is_empty() {
        return Ok(Vec::new());
    }
    let mut docs: Vec<Document> = Vec::new();
    let mut seen = HashSet::new();
    for (i, line) in body.split(|b| *b == b'\n').enumerate() {
        let at = |name: Option<&str>, detail: String| FramingError {
            line: i + 1,
            name: name.map(str::to_string),
            detail,
        };
        if line.iter().all(u8::is_ascii_whitespace) {
            return Err(at(None, "empty line (one document per line)".into()));
        }
        let doc: Document = serde_json::from_slice(line).map_err(|e| {
            at(
                None,
                format!(
                    "not a {{\"name\", \"text\"}} JSON object: {e} (column {})",
                    e.column()
                ),
            )
        })?;
        Document::check_name(&doc.name).map_err(|e| at(Some(&doc.name), e))?;
        if !seen.insert(doc.name.clone()) {
            return Err(at(
                Some(&doc.name),
                "a document of this name was written before".into(),
            ));
        }
        docs.push(doc);
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_order_and_any_text() {
        let docs = vec![
            Document::new("b.yml", "groups:\n- name: x\n"),
            Document::new("a.yaml", "quote \" backslash \\ tab \t nl \n ünïcode"),
            Document::new("empty", ""),
        ];
        let bytes = encode(&docs);
        assert_eq!(bytes.iter().filter(|b| **b == b'\n').count(), 3);
        assert_eq!(decode(&bytes).unwrap(), docs);
        // The final newline is optional; no documents is an empty stream.
        assert_eq!(decode(&bytes[..bytes.len() - 1]).unwrap(), docs);
        assert_eq!(decode(b"").unwrap(), vec![]);
        assert_eq!(decode(b"\n").unwrap(), vec![]);
    }

    #[test]
    fn malformed_lines_are_located() {
        let e = decode(b"{\"name\":\"a\",\"text\":\"\"}\nnot json\n").unwrap_err();
        assert_eq!((e.line, e.name.as_deref()), (2, None));
        let e = decode(b"{\"name\":\"a\",\"text\":\"\"}\n\n{\"name\":\"b\",\"text\":\"\"}")
            .unwrap_err();
        assert_eq!(e.line, 2);
        let e = decode(b"{\"name\":\"a\",\"text\":\"\",\"x\":1}").unwrap_err();
        assert!(e.detail.contains("unknown field"), "{}", e.detail);
        let e = decode(b"{\"name\":\"a\"}").unwrap_err();
        assert!(e.detail.contains("text"), "{}", e.detail);
    }

    #[test]
    fn names_must_be_plain_and_distinct() {
        let e = decode(b"{\"name\":\"a\",\"text\":\"1\"}\n{\"name\":\"a\",\"text\":\"2\"}")
            .unwrap_err();
        assert_eq!((e.line, e.name.as_deref()), (2, Some("a")));
        for bad in ["", ".", "..", "../x", "a/b", "a\\b", "a\u{0}", "x\ny"] {
            assert!(Document::check_name(bad).is_err(), "{bad:?}");
            let line = encode(&[Document::new(bad, "")]);
            assert_eq!(decode(&line).unwrap_err().line, 1, "{bad:?}");
        }
        assert!(Document::check_name(&"x".repeat(256)).is_err());
        for good in ["rules.yml", "old", ".hidden", "a b", "ünï"] {
            assert_eq!(Document::check_name(good), Ok(()), "{good:?}");
        }
        assert_eq!(check_names(["a", "b"]), Ok(()));
        assert_eq!(check_names(["a", "a"]).unwrap_err().0, "a");
        assert_eq!(check_names(["a/b"]).unwrap_err().0, "a/b");
    }
}

//! JSON decoding whose errors say where the text went wrong: line, column
//! and JSON path (`data.alerts[3].activeAt`). Plugins read API answers,
//! dumps and parameters with it, so every such error reads the same way.

use std::fmt;

use serde::de::DeserializeOwned;

/// A JSON text that did not decode into the wanted type.
#[derive(Debug)]
pub struct JsonError {
    /// The JSON path of the offending value (`.` for the top level).
    pub path: String,
    /// What serde_json said, with its position (`line`, `column`).
    pub inner: serde_json::Error,
}

impl JsonError {
    /// 1-based line of the error.
    pub fn line(&self) -> usize {
        self.inner.line()
    }

    /// 1-based column of the error.
    pub fn column(&self) -> usize {
        self.inner.column()
    }
}

/// `line L, column C, at `path`: what serde_json said`.
impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}, at `{}`: {}",
            self.line(),
            self.column(),
            self.path,
            self.inner
        )
    }
}

impl std::error::Error for JsonError {}

/// Decodes `text` into `T`, tracking the JSON path of a failure.
pub fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, JsonError> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| JsonError {
        path: e.path().to_string(),
        inner: e.into_inner(),
    })
}

/// [`from_json`] with the error as text naming `what` was read:
/// `<what>: line L, column C, at `path`: ...`.
pub fn decode_json<T: DeserializeOwned>(what: &str, text: &str) -> Result<T, String> {
    from_json(text).map_err(|e| format!("{what}: {e}"))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn errors_name_what_line_column_and_path() {
        let text = "{\"a\": {\"b\": [1,\n \"x\"]}}";
        let err = decode_json::<BTreeMap<String, BTreeMap<String, Vec<u8>>>>("the dump", text)
            .unwrap_err();
        assert!(
            err.starts_with("the dump: line 2, column 4, at `a.b[1]`: invalid type: string"),
            "{err}"
        );
        let e = from_json::<Vec<u8>>("[1, -1]").unwrap_err();
        assert_eq!((e.path.as_str(), e.line(), e.column()), ("[1]", 1, 6));
    }

    #[test]
    fn good_text_decodes() {
        let v: Vec<u8> = decode_json("list", "[1, 2]").unwrap();
        assert_eq!(v, [1, 2]);
    }
}

//! JSON Schema of the plan file.

use crate::fingerprint::sort_keys;
use crate::raw::RawFile;

/// The JSON Schema of the plan format, pretty-printed with sorted keys
/// (stable across builds) and a trailing newline.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(RawFile);
    let value = serde_json::to_value(&schema).unwrap_or(serde_json::Value::Null);
    let mut text = serde_json::to_string_pretty(&sort_keys(value)).unwrap_or_default();
    text.push('\n');
    text
}

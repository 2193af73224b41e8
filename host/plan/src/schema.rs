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

/// Adds per-kind rules to the step schema: for each `kind`, the keys it
/// requires and the kind-specific keys it must not have.
pub(crate) fn step_kind_rules(schema: &mut schemars::Schema) {
    use crate::model::StepKind;
    use crate::validate::{STEP_FIELDS, allowed_fields, required_fields};
    use serde_json::json;
    let rules: Vec<serde_json::Value> = StepKind::ALL
        .iter()
        .map(|&kind| {
            let allowed = allowed_fields(kind);
            let forbidden: Vec<serde_json::Value> = STEP_FIELDS
                .iter()
                .filter(|f| !allowed.contains(f))
                .map(|f| json!({ "required": [f] }))
                .collect();
            json!({
                "if": { "properties": { "kind": { "const": kind.as_str() } }, "required": ["kind"] },
                "then": {
                    "required": required_fields(kind),
                    "not": { "anyOf": forbidden }
                }
            })
        })
        .collect();
    schema.insert("allOf".to_string(), serde_json::Value::Array(rules));
}

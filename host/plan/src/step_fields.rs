//! Which keys each step kind allows and requires: the one table both
//! validation (with spans) and the JSON Schema's per-kind rules are built
//! from.

use serde_json::json;

use crate::model::StepKind;

/// Keys a step of `kind` may have.
pub(crate) fn allowed_fields(kind: StepKind) -> Vec<&'static str> {
    let mut v = vec!["id", "kind", "idempotent", "description"];
    v.extend_from_slice(match kind {
        StepKind::Action => &["plugin", "params"][..],
        StepKind::Check | StepKind::Canary => &["plugin", "params", "shadow"],
        StepKind::Backup => &["system", "types"],
        StepKind::Restore => &["backup", "types"],
        StepKind::RollbackPoint => &["name", "categories"],
        StepKind::ParallelRun => &[
            "window",
            "interval",
            "tolerance",
            "ignore_labels",
            "rename",
            "min_match_rate",
            "shadow",
            "noise",
            "max_missing",
            "min_alerts",
            "noise_tolerant",
            "allow_missing",
            "by",
        ],
        StepKind::Approval => &["message", "approvers"],
        StepKind::Wait => &["duration"],
        StepKind::Notify => &["message", "target"],
        StepKind::Backtest => &[
            "system",
            "history",
            "step",
            "translate",
            "params",
            "scope",
            "tolerance",
            "ignore_labels",
            "rename",
            "min_match_rate",
            "max_missing",
            "shadow",
        ],
        StepKind::Migrate => &[
            "from",
            "to",
            "types",
            "translate",
            "params",
            "scope",
            "allow_untranslatable",
        ],
    });
    v
}

/// Keys a step of `kind` must have.
fn required_fields(kind: StepKind) -> &'static [&'static str] {
    match kind {
        StepKind::Action | StepKind::Check => &["plugin"],
        StepKind::Canary => &["plugin", "params"],
        StepKind::Backup => &["system"],
        StepKind::Restore => &["backup"],
        StepKind::RollbackPoint => &["name"],
        StepKind::ParallelRun => &["window", "interval"],
        StepKind::Approval | StepKind::Notify => &["message"],
        StepKind::Wait => &["duration"],
        StepKind::Migrate => &["from", "to", "types"],
        StepKind::Backtest => &["history"],
    }
}

/// Every kind-specific step key.
const STEP_FIELDS: [&str; 30] = [
    "plugin",
    "params",
    "shadow",
    "system",
    "types",
    "backup",
    "name",
    "categories",
    "window",
    "history",
    "step",
    "interval",
    "tolerance",
    "ignore_labels",
    "rename",
    "min_match_rate",
    "noise",
    "max_missing",
    "min_alerts",
    "noise_tolerant",
    "allow_missing",
    "message",
    "approvers",
    "duration",
    "target",
    "from",
    "to",
    "translate",
    "scope",
    "allow_untranslatable",
];

/// Adds per-kind rules to the step schema: for each `kind`, the keys it
/// requires and the kind-specific keys it must not have.
pub(crate) fn step_kind_rules(schema: &mut schemars::Schema) {
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

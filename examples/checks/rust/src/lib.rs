//! `example-check-rust`: every alerting rule of a Prometheus rule set has a
//! `runbook_url` annotation and a `severity` label.
//!
//! Same behaviour as the JavaScript, Python and C versions beside it (see
//! `examples/checks/README.md` for the exact verdicts and messages).

mod judge;

use cutover_plugin_sdk::serde_json::{self, Value};
use cutover_plugin_sdk::{
    Context, Descriptor, PluginError, PluginKind, Verdict, check, invalid_input, log,
};

pub use judge::judge;

const NAME: &str = "example-check-rust";

struct RunbookCheck;

impl check::Guest for RunbookCheck {
    fn describe() -> Descriptor {
        cutover_plugin_sdk::descriptor(
            NAME,
            env!("CARGO_PKG_VERSION"),
            PluginKind::Check,
            "Every alerting rule has a runbook_url annotation and a severity label (Rust).",
        )
    }

    fn evaluate(ctx: Context) -> Result<Verdict, PluginError> {
        let verdict = evaluate_params(&ctx.params)?;
        let total = verdict.measurements.first().map_or(0.0, |m| m.value);
        log::log_with(
            cutover_plugin_sdk::LogLevel::Info,
            format!("checked {total} alerting rules"),
            &[("plugin", NAME)],
        );
        Ok(verdict)
    }
}

/// Validates the step parameters (`{"rules": "<JSON text>"}`) and judges the rules.
pub fn evaluate_params(params: &str) -> Result<Verdict, PluginError> {
    let params: Value = serde_json::from_str(params)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| invalid_input("params: expected a JSON object"))?;
    let rules = params.get("rules").and_then(Value::as_str).ok_or_else(|| {
        invalid_input("params.rules: expected a string holding the rule set as JSON")
    })?;
    judge(rules)
}

cutover_plugin_sdk::export_check!(RunbookCheck);

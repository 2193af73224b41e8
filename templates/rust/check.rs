//! `{{name}}`: a cutover check.

use cutover_plugin_sdk::serde_json::{Map, Value};
use cutover_plugin_sdk::{
    Context, Descriptor, Measurement, PluginError, PluginKind, Verdict, VerdictKind, check, log,
};

struct Plugin;

impl check::Guest for Plugin {
    fn describe() -> Descriptor {
        cutover_plugin_sdk::descriptor(
            "{{name}}",
            env!("CARGO_PKG_VERSION"),
            PluginKind::Check,
            "TODO: what this check verifies.",
        )
    }

    fn evaluate(ctx: Context) -> Result<Verdict, PluginError> {
        let params: Map<String, Value> = cutover_plugin_sdk::params(&ctx)?;
        log::info(format!("{} params", params.len()));
        Ok(judge(&ctx.params))
    }
}

/// The check itself: replace with real logic.
pub fn judge(params: &str) -> Verdict {
    Verdict {
        verdict: VerdictKind::Pass,
        message: "{{name}}: ok".to_owned(),
        measurements: vec![Measurement {
            name: "params_bytes".to_owned(),
            value: params.len() as f64,
        }],
    }
}

cutover_plugin_sdk::export_check!(Plugin);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_and_measures_params() {
        let v = judge(r#"{"a":1}"#);
        assert_eq!(v.verdict, VerdictKind::Pass);
        assert_eq!(v.measurements[0].value, 7.0);
    }
}

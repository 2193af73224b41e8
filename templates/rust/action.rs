//! `{{name}}`: a cutover action.

use cutover_plugin_sdk::serde_json::{Map, Value};
use cutover_plugin_sdk::{Context, Descriptor, Outcome, PluginError, PluginKind, action, log};

struct Plugin;

impl action::Guest for Plugin {
    fn describe() -> Descriptor {
        cutover_plugin_sdk::descriptor(
            "{{name}}",
            env!("CARGO_PKG_VERSION"),
            PluginKind::Action,
            "TODO: what this action does.",
        )
    }

    fn run(ctx: Context) -> Result<Outcome, PluginError> {
        let params: Map<String, Value> = cutover_plugin_sdk::params(&ctx)?;
        log::info(format!("{} params", params.len()));
        Ok(act(&ctx.params))
    }
}

/// The action itself: replace with real logic.
pub fn act(params: &str) -> Outcome {
    Outcome {
        summary: "{{name}}: done".to_owned(),
        details: vec![("params_bytes".to_owned(), params.len().to_string())],
    }
}

cutover_plugin_sdk::export_action!(Plugin);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_params_size() {
        let o = act("{}");
        assert_eq!(o.details, vec![("params_bytes".to_owned(), "2".to_owned())]);
    }
}

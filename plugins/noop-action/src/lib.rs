//! `noop-action`: logs its params and returns them as details.

use cutover_plugin_sdk::serde_json::{Map, Value};
use cutover_plugin_sdk::{Context, Outcome, PluginError, log};

cutover_plugin_sdk::action_guest!(Noop {
    name: "noop-action",
    description: "Logs its params and does nothing; details echo the params.",
    run: run,
});

fn run(ctx: Context) -> Result<Outcome, PluginError> {
    let params: Map<String, Value> = cutover_plugin_sdk::params(&ctx)?;
    log::info(format!(
        "noop in plan `{}` phase `{}` step `{}`: params {}",
        ctx.plan,
        ctx.phase,
        ctx.step,
        Value::Object(params.clone())
    ));
    Ok(Outcome {
        summary: "noop".to_owned(),
        details: details(&params),
    })
}

/// Params as ordered key/value pairs; strings verbatim, anything else as JSON.
fn details(params: &Map<String, Value>) -> Vec<(String, String)> {
    params
        .iter()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_stringify_values() {
        let v: Value =
            cutover_plugin_sdk::serde_json::from_str(r#"{"b":"text","a":1,"c":{"x":[true]}}"#)
                .unwrap();
        let Value::Object(m) = v else {
            panic!("not an object")
        };
        let d = details(&m);
        assert!(d.contains(&("b".into(), "text".into())));
        assert!(d.contains(&("a".into(), "1".into())));
        assert!(d.contains(&("c".into(), r#"{"x":[true]}"#.into())));
        assert_eq!(d.len(), 3);
    }
}

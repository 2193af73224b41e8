//! Typed helpers over the host imports (`config-get`, `secret-get`,
//! `progress`) and over the call context.

use serde::de::DeserializeOwned;

use crate::action::cutover::plugin::host;
use crate::json::from_json;
use crate::{Capabilities, Context, Descriptor, PluginError, PluginKind};

/// Parses the step parameters (`ctx.params`, a JSON object as text) into `T`.
///
/// An empty `params` string is read as `{}`. Errors are
/// `plugin-error::invalid-input` naming the JSON path, line and column.
pub fn params<T: DeserializeOwned>(ctx: &Context) -> Result<T, PluginError> {
    parse_params(&ctx.params)
}

/// [`params`] on raw text; split out so it can be tested without a context.
pub(crate) fn parse_params<T: DeserializeOwned>(text: &str) -> Result<T, PluginError> {
    let text = if text.trim().is_empty() { "{}" } else { text };
    from_json(text).map_err(|e| {
        PluginError::InvalidInput(format!(
            "params: at JSON path `{}` (line {}, column {}): {}",
            e.path,
            e.line(),
            e.column(),
            e.inner
        ))
    })
}

/// A plan-scoped config value granted to this plugin, or `None`.
pub fn config(key: &str) -> Option<String> {
    host::config_get(key)
}

/// A secret granted to this plugin; a refusal is `plugin-error::denied`.
pub fn secret(name: &str) -> Result<String, PluginError> {
    host::secret_get(name).map_err(|e| PluginError::Denied(format!("secret `{name}`: {e}")))
}

/// Reports progress of a long operation to the host.
pub fn progress(done: u64, total: u64, message: &str) {
    host::progress(done, total, message);
}

/// A [`Descriptor`] with the given identity and no capabilities.
///
/// Add capabilities with struct update syntax:
/// `Descriptor { capabilities: ..., ..descriptor("x", env!("CARGO_PKG_VERSION"), PluginKind::Check, "...") }`.
pub fn descriptor(name: &str, version: &str, kind: PluginKind, description: &str) -> Descriptor {
    Descriptor {
        name: name.to_owned(),
        version: version.to_owned(),
        kind,
        capabilities: Capabilities::none(),
        description: description.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct P {
        url: String,
        expect_status: Option<u16>,
    }

    #[test]
    fn parses_params() {
        let p: P = parse_params(r#"{"url":"http://x:1","expect_status":204}"#).unwrap();
        assert_eq!(p.url, "http://x:1");
        assert_eq!(p.expect_status, Some(204));
    }

    #[test]
    fn empty_params_read_as_empty_object() {
        let v: serde_json::Value = parse_params("  ").unwrap();
        assert_eq!(v, serde_json::json!({}));
    }

    #[test]
    fn bad_params_name_path_and_position() {
        let err = parse_params::<P>("{\n \"url\": \"u\", \"expect_status\": \"x\"}").unwrap_err();
        match err {
            PluginError::InvalidInput(m) => {
                assert!(m.contains("expect_status"), "{m}");
                assert!(m.contains("line 2"), "{m}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

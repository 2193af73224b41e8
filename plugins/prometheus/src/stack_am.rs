//! The stack's Alertmanager as data: kind `routes` (its configuration
//! file, in the granted `alertmanager` directory, named by config
//! `alertmanager_config_file`) and kind `silences` (its API v2 silences).
//! Both need config `alertmanager_url`; `routes` also needs the directory
//! grant. Without them these kinds fail naming what is missing, and
//! everything else (rules, alerts, health) works as before.
//!
//! The behaviour is the `alertmanager` adapter's, shared through
//! `cutover_adapter_util::{am_config, am_silences}`.

use std::path::Path;

use cutover_adapter_util::am_config::{self, ConfigFile};
use cutover_adapter_util::am_silences;
use cutover_adapter_util::client::Client;
use cutover_plugin_sdk::{
    DataSink, DataSource, ExportInfo, Outcome, PluginError, denied, invalid_input,
};

/// The directory grant holding the Alertmanager configuration file.
pub const GRANT: &str = "alertmanager";
/// Where that grant is mounted.
const DIR: &str = "/alertmanager";
/// Config key naming the file in it (default `alertmanager.yml`).
pub const FILE_KEY: &str = "alertmanager_config_file";
/// Config key of the Alertmanager's base URL.
const URL_KEY: &str = "alertmanager_url";

/// Why `kind` cannot be served, when config `alertmanager_url` is unset
/// (`url_set` false) or, for a kind that needs the file (`needs_dir`), the
/// directory is not granted; `None` when everything is there.
fn missing(kind: &str, url_set: bool, needs_dir: bool, dir_granted: bool) -> Option<PluginError> {
    let grant_hint = format!(
        "grant it in the plan: dirs = [{{ name = \"{GRANT}\", path = \"<the Alertmanager \
         configuration directory>\", write = true }}]"
    );
    let what = if needs_dir {
        "the stack's Alertmanager configuration file"
    } else {
        "the stack's Alertmanager's silences"
    };
    let set_url = "set it to that Alertmanager's URL (and grant its origin as a host)";
    match (url_set, needs_dir && !dir_granted) {
        (true, false) => None,
        (false, false) => Some(invalid_input(format!(
            "data kind `{kind}` is {what}, and config `{URL_KEY}` is not set: {set_url}"
        ))),
        (true, true) => Some(denied(format!(
            "data kind `{kind}` is {what}, and the directory `{GRANT}` is not granted: \
             {grant_hint}"
        ))),
        (false, true) => Some(invalid_input(format!(
            "data kind `{kind}` is {what}, config `{URL_KEY}` is not set and the directory \
             `{GRANT}` is not granted: {set_url}; {grant_hint}"
        ))),
    }
}

/// The stack's Alertmanager client for `kind`, or the error naming what
/// the plan lacks (`needs_dir`: the kind needs the configuration directory).
fn client_for(kind: &str, needs_dir: bool) -> Result<Client, PluginError> {
    let am = crate::alertmanager()?;
    let dir_granted = needs_dir && Path::new(DIR).is_dir();
    let lacking = missing(kind, am.is_some(), needs_dir, dir_granted);
    match (am, lacking) {
        (_, Some(e)) => Err(e),
        (Some(am), None) => Ok(am),
        (None, None) => Err(invalid_input(format!("config `{URL_KEY}` is not set"))),
    }
}

/// The client and the configuration file for kind `routes`.
fn routes_file() -> Result<(Client, ConfigFile), PluginError> {
    let am = client_for("routes", true)?;
    Ok((am, ConfigFile::from_config(DIR, FILE_KEY)?))
}

/// Export (or capture) of `routes`: the configuration file's bytes.
pub fn export_routes(sink: &DataSink) -> Result<ExportInfo, PluginError> {
    let (_, file) = routes_file()?;
    am_config::export(&file, sink)
}

/// Import (or restore) of `routes`: written atomically, Alertmanager
/// reloaded, the previous file put back if it rejects the new one.
pub fn import_routes(source: &DataSource) -> Result<Outcome, PluginError> {
    let (am, file) = routes_file()?;
    am_config::import(&file, &am, source)
}

/// Export (or capture) of `silences`.
pub fn export_silences(sink: &DataSink) -> Result<ExportInfo, PluginError> {
    let am = client_for("silences", false)?;
    am_silences::export(&am, sink)
}

/// Import of `silences`: creates those not already live.
pub fn import_silences(source: &DataSource) -> Result<Outcome, PluginError> {
    let am = client_for("silences", false)?;
    am_silences::import(&am, source)
}

/// Restore of `silences`: back to the captured set (missing ones created,
/// those created since the capture expired).
pub fn rollback_silences(source: &DataSource) -> Result<Outcome, PluginError> {
    let am = client_for("silences", false)?;
    am_silences::rollback(&am, source)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(e: PluginError) -> (String, String) {
        let kind = match &e {
            PluginError::InvalidInput(_) => "invalid-input",
            PluginError::Denied(_) => "denied",
            _ => "other",
        };
        (kind.to_owned(), cutover_adapter_util::client::describe(&e))
    }

    #[test]
    fn nothing_missing_when_url_and_grant_are_there() {
        assert!(missing("routes", true, true, true).is_none());
        // Silences need no directory.
        assert!(missing("silences", true, false, false).is_none());
    }

    #[test]
    fn missing_grant_and_config_are_named() {
        let (kind, m) = text(missing("routes", true, true, false).unwrap());
        assert_eq!(kind, "denied");
        assert!(
            m.contains("`routes`") && m.contains("directory `alertmanager`"),
            "{m}"
        );
        assert!(
            m.contains("name = \"alertmanager\"") && m.contains("write = true"),
            "{m}"
        );
        let (kind, m) = text(missing("silences", false, false, false).unwrap());
        assert_eq!(kind, "invalid-input");
        assert!(
            m.contains("`silences`") && m.contains("config `alertmanager_url`"),
            "{m}"
        );
        assert!(!m.contains("directory"), "{m}");
        let (kind, m) = text(missing("routes", false, true, false).unwrap());
        assert_eq!(kind, "invalid-input");
        assert!(
            m.contains("config `alertmanager_url`") && m.contains("directory `alertmanager`"),
            "{m}"
        );
    }
}

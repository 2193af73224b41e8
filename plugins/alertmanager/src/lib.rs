//! `alertmanager`: an adapter for a real Prometheus Alertmanager (API v2).
//!
//! Config keys: `url` (required, e.g. `http://127.0.0.1:9093`; grant it as a
//! host), `config_file` (name of the configuration file in the granted
//! `config` directory, default `alertmanager.yml`), `timeout_ms` (10000),
//! `auth` (`none` | `basic`; `basic` reads the secrets `alertmanager_user`
//! and `alertmanager_password`).
//!
//! Data kinds: `configurations` and its alias `routes` (the config file,
//! from `/config`, exported byte for byte; never `/api/v2/status`, which
//! masks secrets) and `silences` (JSON array). Rollback categories:
//! `configurations`, `routes`, `silences`, `active_alerts` (capture only).
//! Importing silences adds the missing ones (a merge); restoring the
//! `silences` state also expires the silences created since the capture, so
//! the live set equals the captured one. The shared implementation lives in
//! `cutover_adapter_util::{am_config, am_silences}`.
//!
//! A `streaming-adapter` (contract 0.1.3): `collect-alerts-into` writes the
//! alerts `collect-alerts` returns into the host's sink in the alert
//! framing (`cutover_adapter_util::am_alerts::stream`), which hosts of
//! 0.1.3 read instead of lifting a `list<alert>`.

use std::time::Instant;

use cutover_adapter_util::am_alerts;
use cutover_adapter_util::am_config::{self, ConfigFile};
use cutover_adapter_util::am_silences;
use cutover_adapter_util::client::Client;
use cutover_adapter_util::data::write_all;
use cutover_plugin_sdk::streaming_adapter::Guest;
use cutover_plugin_sdk::{
    Alert, Capabilities, DataSink, DataSource, Descriptor, DirectoryRequest, ExportInfo,
    HealthReport, Outcome, PluginError, PluginKind, Window, invalid_input, log, unavailable,
    unsupported,
};

/// Secret name prefix for basic auth: `alertmanager_user`, `alertmanager_password`.
const SECRETS: &str = "alertmanager";

/// Where the granted `config` directory is mounted.
const CONFIG_DIR: &str = "/config";

/// What `describe()` declares: the data kinds and rollback categories below.
/// `routes` is the configuration file under the name migrate steps use.
const SUPPORT: cutover_plugin_sdk::Support = cutover_plugin_sdk::Support {
    backup_types: &["configurations", "routes", "silences"],
    rollback_categories: &["configurations", "routes", "silences"],
    capture_only: &["active_alerts"],
};

struct Alertmanager;

fn client() -> Result<Client, PluginError> {
    Client::from_config(SECRETS, false)
}

/// The configuration file: config `config_file` in `/config`.
fn config_file() -> Result<ConfigFile, PluginError> {
    ConfigFile::from_config(CONFIG_DIR, "config_file")
}

fn export_config(sink: &DataSink) -> Result<ExportInfo, PluginError> {
    am_config::export(&config_file()?, sink)
}

fn import_config(source: &DataSource) -> Result<Outcome, PluginError> {
    let am = client()?;
    am_config::import(&config_file()?, &am, source)
}

fn capture_alerts(sink: &DataSink) -> Result<ExportInfo, PluginError> {
    let am = client()?;
    let body = am.get_ok("/api/v2/alerts")?;
    let n = am_alerts::parse(
        &body,
        &Window {
            start: i64::MIN,
            end: i64::MAX,
        },
    )
    .map_err(unavailable)?
    .len();
    write_all(sink, body.as_bytes(), "the alerts capture")?;
    Ok(ExportInfo {
        content_type: "application/json".to_owned(),
        metadata: vec![("count".into(), n.to_string())],
    })
}

/// The alerts of `GET /api/v2/alerts` that started before the window ends.
fn collect(window: &Window) -> Result<Vec<Alert>, PluginError> {
    if window.start > window.end {
        return Err(invalid_input(format!(
            "window start {} is after end {}",
            window.start, window.end
        )));
    }
    let body = client()?.get_ok("/api/v2/alerts")?;
    am_alerts::parse(&body, window).map_err(unavailable)
}

impl Guest for Alertmanager {
    fn describe() -> Descriptor {
        Descriptor {
            capabilities: Capabilities {
                hosts: vec!["config:url".to_owned()],
                directories: vec![DirectoryRequest {
                    name: "config".to_owned(),
                    writable: true,
                }],
                config_keys: ["url", "config_file", "timeout_ms", "auth"]
                    .map(String::from)
                    .to_vec(),
                secrets: vec![
                    "alertmanager_user".to_owned(),
                    "alertmanager_password".to_owned(),
                ],
            },
            ..cutover_plugin_sdk::descriptor(
                "alertmanager",
                env!("CARGO_PKG_VERSION"),
                PluginKind::Adapter,
                &cutover_plugin_sdk::declare_support(
                    "Prometheus Alertmanager (API v2) at config `url`: alerts, health, silences, \
                     and the configuration file in the granted `config` directory (reload with \
                     rollback). Secrets only when config `auth` = basic.",
                    &SUPPORT,
                ),
            )
        }
    }

    fn health() -> Result<HealthReport, PluginError> {
        let am = client()?;
        let started = Instant::now();
        let result = am.send(cutover_plugin_sdk::http::HttpMethod::GET, "/-/ready", None);
        let latency_ms = u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX);
        match result {
            Ok(r) if r.status == 200 => Ok(HealthReport {
                available: true,
                latency_ms,
                message: "ready".to_owned(),
            }),
            Ok(r) => Ok(HealthReport {
                available: false,
                latency_ms,
                message: format!("/-/ready answered HTTP {}: {}", r.status, r.text().trim()),
            }),
            Err(PluginError::Unavailable(m)) => Ok(HealthReport {
                available: false,
                latency_ms,
                message: m,
            }),
            Err(e) => Err(e),
        }
    }

    fn collect_alerts(window: Window) -> Result<Vec<Alert>, PluginError> {
        let alerts = collect(&window)?;
        log::info(format!("collected {} alerts", alerts.len()));
        Ok(alerts)
    }

    fn collect_alerts_into(window: Window, sink: &DataSink) -> Result<u64, PluginError> {
        let n = am_alerts::stream(&collect(&window)?, sink)?;
        log::info(format!("collected {n} alerts (streamed)"));
        Ok(n)
    }

    fn export_data(kind: String, sink: &DataSink) -> Result<ExportInfo, PluginError> {
        match kind.as_str() {
            "configurations" | "routes" => export_config(sink),
            "silences" => am_silences::export(&client()?, sink),
            other => Err(unsupported(format!(
                "export of `{other}`: this adapter exports `configurations` (alias `routes`) \
                 and `silences`"
            ))),
        }
    }

    fn import_data(kind: String, source: &DataSource) -> Result<Outcome, PluginError> {
        match kind.as_str() {
            "configurations" | "routes" => import_config(source),
            "silences" => am_silences::import(&client()?, source),
            other => Err(unsupported(format!(
                "import of `{other}`: this adapter imports `configurations` (alias `routes`) \
                 and `silences`"
            ))),
        }
    }

    fn capture_state(category: String, sink: &DataSink) -> Result<ExportInfo, PluginError> {
        match category.as_str() {
            "configurations" | "routes" => export_config(sink),
            "silences" => am_silences::export(&client()?, sink),
            "active_alerts" => capture_alerts(sink),
            "user_permissions" => Err(unsupported(
                "user_permissions: Alertmanager has no users or permissions",
            )),
            other => Err(unsupported(format!(
                "capture of `{other}`: supported are configurations (alias routes), silences, \
                 active_alerts"
            ))),
        }
    }

    fn restore_state(category: String, source: &DataSource) -> Result<Outcome, PluginError> {
        match category.as_str() {
            "configurations" | "routes" => import_config(source),
            "silences" => am_silences::rollback(&client()?, source),
            "active_alerts" => Err(unsupported(
                "active_alerts: alerts are re-sent by Prometheus after a restore; \
                 the capture is kept for comparison only",
            )),
            other => Err(unsupported(format!(
                "restore of `{other}`: supported are configurations (alias routes), silences"
            ))),
        }
    }
}

cutover_plugin_sdk::export_streaming_adapter!(Alertmanager);

#[cfg(test)]
mod tests {
    use super::*;

    /// `routes` is declared wherever `configurations` is (the same file);
    /// the behaviour behind both lives in `cutover_adapter_util` and is
    /// tested there.
    #[test]
    fn routes_is_declared_beside_configurations() {
        let text = cutover_plugin_sdk::declare_support("x", &SUPPORT);
        assert!(
            text.contains("\nbackup types: configurations, routes, silences\n"),
            "{text}"
        );
        assert!(
            text.contains("\nrollback categories: configurations, routes, silences\n"),
            "{text}"
        );
        assert!(
            text.ends_with("\ncapture-only categories: active_alerts"),
            "{text}"
        );
    }
}

//! `icinga2`: an adapter for a legacy Icinga 2 system over its REST API.
//!
//! Config keys: `url` (required, e.g. `https://icinga.example:5665`; grant it
//! as a host), `timeout_ms` (10000). Secrets: `icinga_user`,
//! `icinga_password` (HTTP basic auth, always required).
//!
//! `collect-alerts` returns current hard problems (non-OK services in a hard
//! state with a check result); `health` calls `/v1/status/IcingaApplication`.
//! Data export/import and state capture are not supported.
//!
//! TLS: the host's HTTP client validates server certificates against the
//! public web PKI roots only, so an Icinga API with a certificate from the
//! Icinga (private) CA is refused at the TLS layer (`unavailable`). Put the
//! API behind a proxy with a publicly trusted certificate, or an `http://`
//! loopback proxy, until the host supports custom CA bundles.

mod problems;

use std::time::Instant;

use cutover_adapter_util::client::{Client, ok_text};
use cutover_plugin_sdk::adapter::Guest;
use cutover_plugin_sdk::http::HttpMethod;
use cutover_plugin_sdk::{
    Alert, Capabilities, DataSink, DataSource, Descriptor, ExportInfo, HealthReport, Outcome,
    PluginError, PluginKind, Window, invalid_input, log, unavailable, unsupported,
};

/// Secret name prefix: `icinga_user`, `icinga_password`.
const SECRETS: &str = "icinga";

struct Icinga2;

fn client() -> Result<Client, PluginError> {
    Client::from_config(SECRETS, true)
}

impl Guest for Icinga2 {
    fn describe() -> Descriptor {
        Descriptor {
            capabilities: Capabilities {
                hosts: vec!["config:url".to_owned()],
                directories: Vec::new(),
                config_keys: ["url", "timeout_ms"].map(String::from).to_vec(),
                secrets: vec!["icinga_user".to_owned(), "icinga_password".to_owned()],
            },
            ..cutover_plugin_sdk::descriptor(
                "icinga2",
                env!("CARGO_PKG_VERSION"),
                PluginKind::Adapter,
                "Icinga 2 REST API at config `url` (basic auth from secrets icinga_user / \
                 icinga_password): hard service problems as alerts, health. Server \
                 certificates must chain to a public root (no private CA support yet).",
            )
        }
    }

    fn health() -> Result<HealthReport, PluginError> {
        let icinga = client()?;
        let started = Instant::now();
        let headers = [("accept", "application/json")];
        let result = icinga.send_with(
            HttpMethod::GET,
            "/v1/status/IcingaApplication",
            &headers,
            None,
        );
        let latency_ms = u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX);
        Ok(match result {
            Ok(r) if r.status == 200 => HealthReport {
                available: true,
                latency_ms,
                message: "API answered".to_owned(),
            },
            Ok(r) => HealthReport {
                available: false,
                latency_ms,
                message: format!("/v1/status answered HTTP {}", r.status),
            },
            Err(PluginError::Unavailable(m)) => HealthReport {
                available: false,
                latency_ms,
                message: m,
            },
            Err(e) => return Err(e),
        })
    }

    fn collect_alerts(window: Window) -> Result<Vec<Alert>, PluginError> {
        if window.start > window.end {
            return Err(invalid_input(format!(
                "window start {} is after end {}",
                window.start, window.end
            )));
        }
        let icinga = client()?;
        let path = "/v1/objects/services";
        let headers = [
            ("accept", "application/json"),
            ("content-type", "application/json"),
            ("x-http-method-override", "GET"),
        ];
        let r = icinga.send_with(
            HttpMethod::POST,
            path,
            &headers,
            Some(problems::query_body().into_bytes()),
        )?;
        let body = ok_text(&icinga.url(path), "POST", r)?;
        let alerts = problems::parse(&body, &window).map_err(unavailable)?;
        log::info(format!("collected {} hard problems", alerts.len()));
        Ok(alerts)
    }

    fn export_data(kind: String, _sink: &DataSink) -> Result<ExportInfo, PluginError> {
        Err(unsupported(format!(
            "export of `{kind}`: the icinga2 adapter is read-only (alerts and health)"
        )))
    }

    fn import_data(kind: String, _source: &DataSource) -> Result<Outcome, PluginError> {
        Err(unsupported(format!(
            "import of `{kind}`: the icinga2 adapter is read-only"
        )))
    }

    fn capture_state(category: String, _sink: &DataSink) -> Result<ExportInfo, PluginError> {
        Err(unsupported(format!(
            "capture of `{category}`: the icinga2 adapter is read-only"
        )))
    }

    fn restore_state(category: String, _source: &DataSource) -> Result<Outcome, PluginError> {
        Err(unsupported(format!(
            "restore of `{category}`: the icinga2 adapter is read-only"
        )))
    }
}

cutover_plugin_sdk::export_adapter!(Icinga2);

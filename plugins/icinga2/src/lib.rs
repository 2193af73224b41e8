//! `icinga2`: an adapter for a legacy Icinga 2 system over its REST API.
//!
//! Config keys: `url` (required, e.g. `https://icinga.example:5665`; grant it
//! as a host), `timeout_ms` (10000), `label_vars` (optional comma-separated
//! custom variables that become labels; default: every scalar variable).
//! Secrets: `icinga_user`, `icinga_password` (HTTP basic auth, always
//! required).
//!
//! `collect-alerts` returns current hard problems (non-OK services in a hard
//! state with a check result); `health` calls `/v1/status/IcingaApplication`.
//! Data export/import and state capture are not supported.
//!
//! TLS: the Icinga API serves a certificate from the Icinga (private) CA.
//! Grant that CA to the plugin (`tls_ca = ["./icinga-ca.crt"]` next to the
//! `https://` host grant); without it the handshake fails and calls end in
//! `unavailable` naming the TLS certificate error.
mod problems;

use std::time::Instant;

use cutover_adapter_util::client::{Client, ok_text};
use cutover_plugin_sdk::adapter::Guest;
use cutover_plugin_sdk::http::HttpMethod;
use cutover_plugin_sdk::{
    Alert, Capabilities, DataSink, DataSource, Descriptor, ExportInfo, HealthReport, Outcome,
    PluginError, PluginKind, Window, config, denied, invalid_input, log, unavailable, unsupported,
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
                config_keys: ["url", "timeout_ms", "label_vars"]
                    .map(String::from)
                    .to_vec(),
                secrets: vec!["icinga_user".to_owned(), "icinga_password".to_owned()],
            },
            ..cutover_plugin_sdk::descriptor(
                "icinga2",
                env!("CARGO_PKG_VERSION"),
                PluginKind::Adapter,
                "Icinga 2 REST API at config `url` (basic auth from secrets icinga_user / \
                 icinga_password): hard service problems as alerts, health. Grant the \
                 Icinga CA with `tls_ca` for its certificate to be trusted.",
            )
        }
    }

    fn health() -> Result<HealthReport, PluginError> {
        let icinga = client()?;
        let started = Instant::now();
        let headers = [("accept", "application/json")];
        let path = "/v1/status/IcingaApplication";
        let result = icinga
            .send_with(HttpMethod::GET, path, &headers, None)
            .map_err(explain_transport);
        let latency_ms = u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX);
        let down = |message| HealthReport {
            available: false,
            latency_ms,
            message,
        };
        Ok(match result {
            Ok(r) if r.status == 200 => HealthReport {
                available: true,
                latency_ms,
                message: match problems::version(&r.text()) {
                    Some(v) => format!("Icinga {v} API answered"),
                    None => "API answered".to_owned(),
                },
            },
            Ok(r) if r.status == 401 || r.status == 403 => down(auth_refused(r.status)),
            Ok(r) => down(format!("{path} answered HTTP {}", r.status)),
            Err(PluginError::Unavailable(m)) => down(m),
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
        let label_vars = problems::LabelVars::from_config(config("label_vars").as_deref());
        let icinga = client()?;
        let path = "/v1/objects/services";
        let headers = [
            ("accept", "application/json"),
            ("content-type", "application/json"),
            ("x-http-method-override", "GET"),
        ];
        let r = icinga
            .send_with(
                HttpMethod::POST,
                path,
                &headers,
                Some(problems::query_body().into_bytes()),
            )
            .map_err(explain_transport)?;
        if r.status == 401 || r.status == 403 {
            return Err(denied(auth_refused(r.status)));
        }
        let body = ok_text(&icinga.url(path), "POST", r)?;
        let alerts = problems::parse(&body, &window, &label_vars).map_err(unavailable)?;
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

/// The API refused the credentials: names the secrets, never their values.
fn auth_refused(status: u16) -> String {
    format!(
        "the Icinga API refused the credentials from secrets `{SECRETS}_user` / \
         `{SECRETS}_password` (HTTP {status}): check the ApiUser and its permissions"
    )
}

/// Adds the remedy to a TLS certificate failure (the host reports the
/// wasi-http error code `TLS-certificate-error`).
fn explain_transport(e: PluginError) -> PluginError {
    match e {
        PluginError::Unavailable(m) if m.contains("TlsCertificateError") => unavailable(format!(
            "{m}: the server's certificate is not trusted; grant the CA that signed it \
             (usually the Icinga CA, /var/lib/icinga2/certs/ca.crt) with `tls_ca`"
        )),
        other => other,
    }
}

cutover_plugin_sdk::export_adapter!(Icinga2);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_failures_name_the_remedy() {
        let e = explain_transport(unavailable(
            "HTTP request to `https://h:5665/v1` failed: ErrorCode::TlsCertificateError",
        ));
        assert!(
            matches!(&e, PluginError::Unavailable(m) if m.contains("TlsCertificateError") && m.contains("tls_ca")),
            "{e:?}"
        );
        let other = explain_transport(unavailable("connection refused"));
        assert!(matches!(&other, PluginError::Unavailable(m) if m == "connection refused"));
        assert!(matches!(
            explain_transport(denied("x")),
            PluginError::Denied(_)
        ));
    }

    #[test]
    fn refused_credentials_name_the_secrets() {
        let m = auth_refused(401);
        assert!(m.contains("icinga_user") && m.contains("icinga_password") && m.contains("401"));
    }
}

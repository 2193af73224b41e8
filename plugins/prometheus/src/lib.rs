//! `prometheus`: an adapter for a real Prometheus server.
//!
//! Config keys: `url` (required, e.g. `http://127.0.0.1:9090`; grant it as a
//! host; the server must run with `--web.enable-lifecycle` for reloads),
//! `timeout_ms` (10000), `auth` (`none` | `basic`; `basic` reads the secrets
//! `prometheus_user`/`prometheus_password`), `alertmanager_url` (optional),
//! `alertmanager_auth` (`none` | `basic` for that Alertmanager: the secrets
//! `alertmanager_user`/`alertmanager_password`, granted in the plan).
//!
//! It is a `history-adapter` (contract 0.1.2): `query-range` evaluates an
//! expression over the server's recorded history (`/api/v1/query_range`,
//! see `range`), which backtests read.
//!
//! With `alertmanager_url` the adapter speaks for the whole stack
//! (Prometheus evaluating the rules, the Alertmanager it sends to):
//! `collect-alerts` reads what that Alertmanager holds (`/api/v2/alerts`,
//! suppressed alerts included: what the stack would page), and `health`
//! needs both servers ready. Grant that origin as a host too. Without it alerts come from Prometheus' `/api/v1/alerts`.
//!
//! The granted `rules` directory (`/rules`) holds the rule files
//! (`*.yml`, `*.yaml`) that Prometheus loads. Data kind `alert_rules` and
//! rollback categories `alert_rules` and `configurations` are a JSON bundle
//! `{ "<file>": "<YAML text>" }`; importing one replaces the rule files
//! atomically and reloads Prometheus, putting the old files back if it
//! rejects them. Rollback category `active_alerts` is capture only.
//!
//! The stack's Alertmanager as data (see `stack_am`), with config
//! `alertmanager_url`: data kind and rollback category `routes` is its
//! configuration file in the granted `alertmanager` directory (config
//! `alertmanager_config_file`, default `alertmanager.yml`), exported byte
//! for byte, imported atomically with a reload and rollback on rejection;
//! `silences` is its API v2 silence list (import creates only the missing
//! ones; restore also expires those created since the capture). Without
//! the grant or the URL these two kinds fail naming what is missing.

mod alerts;
mod bundle;
mod range;
mod stack_am;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;
use std::time::Instant;

use cutover_adapter_util::am_alerts;
use cutover_adapter_util::client::{Client, describe};
use cutover_adapter_util::files::{list, read_optional};
use cutover_adapter_util::reload::{ApplyError, apply_with_rollback};
use cutover_plugin_sdk::history_adapter::Guest;
use cutover_plugin_sdk::http::HttpMethod;
use cutover_plugin_sdk::{
    Alert, Capabilities, DataSink, DataSource, Descriptor, DirectoryRequest, ExportInfo,
    HealthReport, Outcome, PluginError, PluginKind, RangeSeries, SinkWriter, SourceReader, Window,
    config, failed, invalid_input, log, unavailable, unsupported,
};

/// Where the granted `rules` directory is mounted.
const RULES_DIR: &str = "/rules";
/// Secret name prefix for basic auth.
const SECRETS: &str = "prometheus";

/// What `describe()` declares: the data kinds and rollback categories below
/// (`routes` and `silences` are the stack's Alertmanager's; `configurations`
/// and `alert_rules` are both the rule files).
const SUPPORT: cutover_plugin_sdk::Support = cutover_plugin_sdk::Support {
    backup_types: &["alert_rules", "routes", "silences"],
    rollback_categories: &["configurations", "alert_rules", "routes", "silences"],
    capture_only: &["active_alerts"],
};

struct Prometheus;

fn client() -> Result<Client, PluginError> {
    Client::from_config(SECRETS, false)
}

/// The stack's Alertmanager, when config `alertmanager_url` is set.
fn alertmanager() -> Result<Option<Client>, PluginError> {
    match config("alertmanager_url") {
        Some(u) if !u.trim().is_empty() => Client::from_config_keys(
            "alertmanager_url",
            "alertmanager_auth",
            "alertmanager",
            false,
        )
        .map(Some),
        _ => Ok(None),
    }
}

/// `GET /-/ready` of one server as a health report.
fn ready(what: &str, c: &Client) -> Result<HealthReport, PluginError> {
    let started = Instant::now();
    let result = c.send(HttpMethod::GET, "/-/ready", None);
    let latency_ms = u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX);
    match result {
        Ok(r) if r.status == 200 => Ok(HealthReport {
            available: true,
            latency_ms,
            message: format!("{what} ready"),
        }),
        Ok(r) => Ok(HealthReport {
            available: false,
            latency_ms,
            message: format!(
                "{what} /-/ready answered HTTP {}: {}",
                r.status,
                r.text().trim()
            ),
        }),
        Err(e @ PluginError::Unavailable(_)) => Ok(HealthReport {
            available: false,
            latency_ms,
            message: format!("{what}: {}", describe(&e)),
        }),
        Err(e) => Err(e),
    }
}

fn read_rules() -> Result<BTreeMap<String, String>, PluginError> {
    let dir = Path::new(RULES_DIR);
    let mut files = BTreeMap::new();
    for name in list(dir, bundle::SUFFIXES).map_err(failed)? {
        let bytes = read_optional(dir, &name)
            .map_err(failed)?
            .ok_or_else(|| failed(format!("{RULES_DIR}/{name} vanished while reading")))?;
        let text = String::from_utf8(bytes)
            .map_err(|e| failed(format!("{RULES_DIR}/{name} is not UTF-8: {e}")))?;
        files.insert(name, text);
    }
    Ok(files)
}

fn export_rules(sink: &DataSink) -> Result<ExportInfo, PluginError> {
    let files = read_rules()?;
    let json = bundle::to_json(&files);
    SinkWriter::new(sink)
        .write_all(json.as_bytes())
        .map_err(|e| failed(format!("writing the export: {e}")))?;
    log::info(format!("exported {} rule files", files.len()));
    Ok(ExportInfo {
        content_type: "application/json".to_owned(),
        metadata: vec![
            ("format".into(), "cutover-rules-bundle".into()),
            (
                "files".into(),
                files.keys().cloned().collect::<Vec<_>>().join(","),
            ),
        ],
    })
}

fn import_rules(source: &DataSource) -> Result<Outcome, PluginError> {
    let prom = client()?;
    let mut text = String::new();
    SourceReader::new(source)
        .read_to_string(&mut text)
        .map_err(|e| invalid_input(format!("reading the rules bundle: {e}")))?;
    let wanted = bundle::parse(&text).map_err(invalid_input)?;
    let existing = list(Path::new(RULES_DIR), bundle::SUFFIXES).map_err(failed)?;
    let remove: Vec<String> = existing
        .into_iter()
        .filter(|n| !wanted.contains_key(n))
        .collect();
    let files: Vec<(String, Vec<u8>)> = wanted
        .into_iter()
        .map(|(n, t)| (n, t.into_bytes()))
        .collect();
    let reload = || prom.reload();
    match apply_with_rollback(Path::new(RULES_DIR), &files, &remove, reload) {
        Ok(applied) => {
            log::info(format!(
                "rules restored ({} written, {} removed); Prometheus reloaded",
                applied.written.len(),
                applied.removed.len()
            ));
            Ok(Outcome {
                summary: format!("{} rule files restored and reloaded", applied.written.len()),
                details: vec![
                    ("written".into(), applied.written.join(",")),
                    ("removed".into(), applied.removed.join(",")),
                ],
            })
        }
        Err(ApplyError::Rejected { answer, rollback }) => {
            let kept = match rollback {
                None => "the previous rule files were put back and are still in use".to_owned(),
                Some(r) => format!("ROLLBACK INCOMPLETE: {r}"),
            };
            log::warn(format!("Prometheus rejected the rules; {kept}"));
            Err(failed(format!(
                "Prometheus rejected the rule files: {} ({kept})",
                answer.body.trim()
            )))
        }
        Err(e @ ApplyError::Unreachable { .. }) => {
            Err(unavailable(format!("Prometheus reload: {e}")))
        }
        Err(e @ ApplyError::Io { .. }) => Err(failed(format!("rule files: {e}"))),
    }
}

fn capture_alerts(sink: &DataSink) -> Result<ExportInfo, PluginError> {
    let prom = client()?;
    let body = prom.get_ok("/api/v1/alerts")?;
    let all = Window {
        start: i64::MIN,
        end: i64::MAX,
    };
    let n = alerts::parse(&body, &all).map_err(unavailable)?.len();
    SinkWriter::new(sink)
        .write_all(body.as_bytes())
        .map_err(|e| failed(format!("writing the capture: {e}")))?;
    Ok(ExportInfo {
        content_type: "application/json".to_owned(),
        metadata: vec![("firing".into(), n.to_string())],
    })
}

impl Guest for Prometheus {
    fn describe() -> Descriptor {
        Descriptor {
            capabilities: Capabilities {
                // `alertmanager_url` is optional, so it is not requested here.
                hosts: vec!["config:url".to_owned()],
                directories: vec![
                    DirectoryRequest {
                        name: "rules".to_owned(),
                        writable: true,
                    },
                    DirectoryRequest {
                        name: stack_am::GRANT.to_owned(),
                        writable: true,
                    },
                ],
                config_keys: [
                    "url",
                    "timeout_ms",
                    "auth",
                    "alertmanager_url",
                    "alertmanager_auth",
                    stack_am::FILE_KEY,
                ]
                .map(String::from)
                .to_vec(),
                secrets: vec![
                    "prometheus_user".to_owned(),
                    "prometheus_password".to_owned(),
                ],
            },
            ..cutover_plugin_sdk::descriptor(
                "prometheus",
                env!("CARGO_PKG_VERSION"),
                PluginKind::Adapter,
                &cutover_plugin_sdk::declare_support(
                    "Prometheus server at config `url`: firing alerts, health, and the rule \
                     files in the granted `rules` directory (export as a JSON bundle; import \
                     replaces them and reloads, with rollback). With config `alertmanager_url`, \
                     its stack's Alertmanager too: `routes` (the configuration file in the \
                     granted `alertmanager` directory, reload with rollback) and `silences`. \
                     Secrets only when config `auth` = basic.",
                    &SUPPORT,
                ),
            )
        }
    }

    fn health() -> Result<HealthReport, PluginError> {
        let prom = ready("Prometheus", &client()?)?;
        let Some(am) = alertmanager()? else {
            return Ok(prom);
        };
        let am = ready("Alertmanager", &am)?;
        Ok(HealthReport {
            available: prom.available && am.available,
            latency_ms: prom.latency_ms.max(am.latency_ms),
            message: format!("{}; {}", prom.message, am.message),
        })
    }

    fn collect_alerts(window: Window) -> Result<Vec<Alert>, PluginError> {
        if window.start > window.end {
            return Err(invalid_input(format!(
                "window start {} is after end {}",
                window.start, window.end
            )));
        }
        if let Some(am) = alertmanager()? {
            let body = am.get_ok("/api/v2/alerts")?;
            let alerts = am_alerts::parse(&body, &window).map_err(unavailable)?;
            log::info(format!(
                "collected {} alerts from the stack's Alertmanager",
                alerts.len()
            ));
            return Ok(alerts);
        }
        let body = client()?.get_ok("/api/v1/alerts")?;
        let alerts = alerts::parse(&body, &window).map_err(unavailable)?;
        log::info(format!("collected {} firing alerts", alerts.len()));
        Ok(alerts)
    }

    fn export_data(kind: String, sink: &DataSink) -> Result<ExportInfo, PluginError> {
        match kind.as_str() {
            "alert_rules" => export_rules(sink),
            "routes" => stack_am::export_routes(sink),
            "silences" => stack_am::export_silences(sink),
            other => Err(unsupported(format!(
                "export of `{other}`: this adapter exports `alert_rules`, `routes`, `silences`"
            ))),
        }
    }

    fn import_data(kind: String, source: &DataSource) -> Result<Outcome, PluginError> {
        match kind.as_str() {
            "alert_rules" => import_rules(source),
            "routes" => stack_am::import_routes(source),
            "silences" => stack_am::import_silences(source),
            other => Err(unsupported(format!(
                "import of `{other}`: this adapter imports `alert_rules`, `routes`, `silences`"
            ))),
        }
    }

    fn capture_state(category: String, sink: &DataSink) -> Result<ExportInfo, PluginError> {
        match category.as_str() {
            "configurations" | "alert_rules" => export_rules(sink),
            "routes" => stack_am::export_routes(sink),
            "silences" => stack_am::export_silences(sink),
            "active_alerts" => capture_alerts(sink),
            other => Err(unsupported(format!(
                "capture of `{other}`: supported are configurations and alert_rules (rule \
                 files), routes, silences, active_alerts"
            ))),
        }
    }

    fn restore_state(category: String, source: &DataSource) -> Result<Outcome, PluginError> {
        match category.as_str() {
            "configurations" | "alert_rules" => import_rules(source),
            "routes" => stack_am::import_routes(source),
            "silences" => stack_am::rollback_silences(source),
            "active_alerts" => Err(unsupported(
                "active_alerts: Prometheus re-evaluates its rules after a restore; \
                 the capture is kept for comparison only",
            )),
            other => Err(unsupported(format!(
                "restore of `{other}`: supported are configurations and alert_rules (rule \
                 files), routes, silences"
            ))),
        }
    }

    fn query_range(
        query: String,
        start: i64,
        end: i64,
        step_ms: u64,
    ) -> Result<Vec<RangeSeries>, PluginError> {
        let series = range::query_range(&client()?, &query, start, end, step_ms)?;
        log::debug(format!("query_range returned {} series", series.len()));
        Ok(series)
    }
}

cutover_plugin_sdk::export_history_adapter!(Prometheus);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declares_the_stack_kinds() {
        let text = cutover_plugin_sdk::declare_support("x", &SUPPORT);
        assert!(
            text.contains("\nbackup types: alert_rules, routes, silences\n"),
            "{text}"
        );
        assert!(
            text.contains("\nrollback categories: configurations, alert_rules, routes, silences\n"),
            "{text}"
        );
        assert!(
            text.ends_with("\ncapture-only categories: active_alerts"),
            "{text}"
        );
    }
}

//! `alertmanager`: an adapter for a real Prometheus Alertmanager (API v2).
//!
//! Config keys: `url` (required, e.g. `http://127.0.0.1:9093`; grant it as a
//! host), `config_file` (name of the configuration file in the granted
//! `config` directory, default `alertmanager.yml`), `timeout_ms` (10000),
//! `auth` (`none` | `basic`; `basic` reads the secrets `alertmanager_user`
//! and `alertmanager_password`).
//!
//! Data kinds: `configurations` (the config file, from `/config`; never
//! `/api/v2/status`, which masks secrets) and `silences` (JSON array).
//! Rollback categories: `configurations`, `silences`, `active_alerts`
//! (capture only). Importing silences adds the missing ones (a merge);
//! restoring the `silences` state also expires the silences created since
//! the capture, so the live set equals the captured one.

mod silences;

use std::io::{Read, Write};
use std::path::Path;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use cutover_adapter_util::am_alerts;
use cutover_adapter_util::files::{plain_name, read_optional};
use cutover_adapter_util::reload::{ApplyError, apply_with_rollback};
use cutover_plugin_sdk::adapter::Guest;
use cutover_plugin_sdk::{
    Alert, Capabilities, DataSink, DataSource, Descriptor, DirectoryRequest, ExportInfo,
    HealthReport, Outcome, PluginError, PluginKind, SinkWriter, SourceReader, Window, config,
    failed, invalid_input, log, unavailable, unsupported,
};

use cutover_adapter_util::client::{Client, describe};

/// Secret name prefix for basic auth: `alertmanager_user`, `alertmanager_password`.
const SECRETS: &str = "alertmanager";

/// Where the granted `config` directory is mounted.
const CONFIG_DIR: &str = "/config";
/// Default configuration file name.
const DEFAULT_CONFIG_FILE: &str = "alertmanager.yml";

struct Alertmanager;

fn config_file() -> Result<String, PluginError> {
    let name = config("config_file").unwrap_or_else(|| DEFAULT_CONFIG_FILE.to_owned());
    plain_name("config_file", &name).map_err(invalid_input)?;
    Ok(name)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn write_all(sink: &DataSink, bytes: &[u8]) -> Result<(), PluginError> {
    SinkWriter::new(sink)
        .write_all(bytes)
        .map_err(|e| failed(format!("writing the export: {e}")))
}

fn read_all(source: &DataSource) -> Result<Vec<u8>, PluginError> {
    let mut buf = Vec::new();
    SourceReader::new(source)
        .read_to_end(&mut buf)
        .map_err(|e| failed(format!("reading the import: {e}")))?;
    Ok(buf)
}

fn info(content_type: &str, metadata: Vec<(String, String)>) -> ExportInfo {
    ExportInfo {
        content_type: content_type.to_owned(),
        metadata,
    }
}

fn export_config(sink: &DataSink) -> Result<ExportInfo, PluginError> {
    let name = config_file()?;
    let bytes = read_optional(Path::new(CONFIG_DIR), &name)
        .map_err(failed)?
        .ok_or_else(|| failed(format!("{CONFIG_DIR}/{name} does not exist")))?;
    write_all(sink, &bytes)?;
    log::info(format!(
        "exported {CONFIG_DIR}/{name} ({} bytes)",
        bytes.len()
    ));
    Ok(info(
        "application/yaml",
        vec![
            ("file".into(), name),
            ("bytes".into(), bytes.len().to_string()),
        ],
    ))
}

fn import_config(source: &DataSource) -> Result<Outcome, PluginError> {
    let am = Client::from_config(SECRETS, false)?;
    let name = config_file()?;
    let bytes = read_all(source)?;
    if std::str::from_utf8(&bytes).is_err() {
        return Err(invalid_input(
            "configuration is not UTF-8 text (invalid byte sequence)",
        ));
    }
    let files = [(name.clone(), bytes)];
    match apply_with_rollback(Path::new(CONFIG_DIR), &files, &[], || am.reload()) {
        Ok(_) => {
            log::info(format!(
                "restored {CONFIG_DIR}/{name}; Alertmanager reloaded"
            ));
            Ok(Outcome {
                summary: format!("configuration {name} restored and reloaded"),
                details: vec![
                    ("file".into(), name),
                    ("bytes".into(), files[0].1.len().to_string()),
                ],
            })
        }
        Err(ApplyError::Rejected { answer, rollback }) => {
            let kept = match rollback {
                None => "the previous configuration was put back and is still in use".to_owned(),
                Some(r) => format!("ROLLBACK INCOMPLETE: {r}"),
            };
            log::warn(format!("Alertmanager rejected {name}; {kept}"));
            Err(failed(format!(
                "Alertmanager rejected the configuration: {} ({kept})",
                answer.body.trim()
            )))
        }
        Err(e @ ApplyError::Unreachable { .. }) => {
            Err(unavailable(format!("Alertmanager reload of {name}: {e}")))
        }
        Err(e @ ApplyError::Io { .. }) => Err(failed(format!("{name}: {e}"))),
    }
}

fn export_silences(sink: &DataSink) -> Result<ExportInfo, PluginError> {
    let am = Client::from_config(SECRETS, false)?;
    let body = am.get_ok("/api/v2/silences")?;
    let n = silences::validate(&body).map_err(unavailable)?;
    write_all(sink, body.as_bytes())?;
    log::info(format!("exported {n} silences"));
    Ok(info(
        "application/json",
        vec![("count".into(), n.to_string())],
    ))
}

fn import_silences(source: &DataSource) -> Result<Outcome, PluginError> {
    let am = Client::from_config(SECRETS, false)?;
    let backup = String::from_utf8(read_all(source)?)
        .map_err(|e| invalid_input(format!("silences backup is not UTF-8: {e}")))?;
    silences::validate(&backup).map_err(invalid_input)?;
    let current = am.get_ok("/api/v2/silences")?;
    let plan = silences::plan_restore(&backup, &current, now_ms()).map_err(invalid_input)?;
    let total = plan.to_create.len() as u64;
    for (i, body) in plan.to_create.into_iter().enumerate() {
        am.post_json_ok("/api/v2/silences", body).map_err(|e| {
            failed(format!(
                "silence {} of {total} not created ({i} created before it): {}",
                i + 1,
                describe(&e)
            ))
        })?;
        cutover_plugin_sdk::progress(i as u64 + 1, total, "silences created");
    }
    log::info(format!(
        "silences: {total} created, {} already present, {} expired skipped",
        plan.present, plan.expired
    ));
    Ok(Outcome {
        summary: format!("{total} silences created"),
        details: vec![
            ("created".into(), total.to_string()),
            ("already_present".into(), plan.present.to_string()),
            ("expired_skipped".into(), plan.expired.to_string()),
        ],
    })
}

/// `restore-state silences`: the live set becomes the captured one. Missing
/// silences are created (new ids), silences created since the capture are
/// expired (`DELETE /api/v2/silence/{id}`).
fn rollback_silences(source: &DataSource) -> Result<Outcome, PluginError> {
    let am = Client::from_config(SECRETS, false)?;
    let point = String::from_utf8(read_all(source)?)
        .map_err(|e| invalid_input(format!("silences capture is not UTF-8: {e}")))?;
    silences::validate(&point).map_err(invalid_input)?;
    let current = am.get_ok("/api/v2/silences")?;
    let plan = silences::plan_rollback(&point, &current, now_ms()).map_err(invalid_input)?;
    let created = plan.restore.to_create.len();
    for (i, body) in plan.restore.to_create.into_iter().enumerate() {
        am.post_json_ok("/api/v2/silences", body).map_err(|e| {
            failed(format!(
                "silence {} of {created} not created ({i} created before it): {}",
                i + 1,
                describe(&e)
            ))
        })?;
    }
    for (i, id) in plan.to_expire.iter().enumerate() {
        let path = format!("/api/v2/silence/{id}");
        let r = am.send(cutover_plugin_sdk::http::HttpMethod::DELETE, &path, None)?;
        cutover_adapter_util::client::ok_text(&am.url(&path), "DELETE", r).map_err(|e| {
            failed(format!(
                "silence {id} not expired ({created} created, {i} expired before it): {}",
                describe(&e)
            ))
        })?;
    }
    log::info(format!(
        "silences rolled back: {created} created, {} expired, {} already present",
        plan.to_expire.len(),
        plan.restore.present
    ));
    Ok(Outcome {
        summary: format!(
            "silences rolled back: {created} created, {} expired",
            plan.to_expire.len()
        ),
        details: vec![
            ("created".into(), created.to_string()),
            ("expired".into(), plan.to_expire.len().to_string()),
            ("already_present".into(), plan.restore.present.to_string()),
        ],
    })
}

fn capture_alerts(sink: &DataSink) -> Result<ExportInfo, PluginError> {
    let am = Client::from_config(SECRETS, false)?;
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
    write_all(sink, body.as_bytes())?;
    Ok(info(
        "application/json",
        vec![("count".into(), n.to_string())],
    ))
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
                "Prometheus Alertmanager (API v2) at config `url`: alerts, health, silences, \
                 and the configuration file in the granted `config` directory (reload with \
                 rollback). Secrets only when config `auth` = basic.",
            )
        }
    }

    fn health() -> Result<HealthReport, PluginError> {
        let am = Client::from_config(SECRETS, false)?;
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
        if window.start > window.end {
            return Err(invalid_input(format!(
                "window start {} is after end {}",
                window.start, window.end
            )));
        }
        let am = Client::from_config(SECRETS, false)?;
        let body = am.get_ok("/api/v2/alerts")?;
        let alerts = am_alerts::parse(&body, &window).map_err(unavailable)?;
        log::info(format!("collected {} alerts", alerts.len()));
        Ok(alerts)
    }

    fn export_data(kind: String, sink: &DataSink) -> Result<ExportInfo, PluginError> {
        match kind.as_str() {
            "configurations" => export_config(sink),
            "silences" => export_silences(sink),
            other => Err(unsupported(format!(
                "export of `{other}`: this adapter exports `configurations` and `silences`"
            ))),
        }
    }

    fn import_data(kind: String, source: &DataSource) -> Result<Outcome, PluginError> {
        match kind.as_str() {
            "configurations" => import_config(source),
            "silences" => import_silences(source),
            other => Err(unsupported(format!(
                "import of `{other}`: this adapter imports `configurations` and `silences`"
            ))),
        }
    }

    fn capture_state(category: String, sink: &DataSink) -> Result<ExportInfo, PluginError> {
        match category.as_str() {
            "configurations" => export_config(sink),
            "silences" => export_silences(sink),
            "active_alerts" => capture_alerts(sink),
            "user_permissions" => Err(unsupported(
                "user_permissions: Alertmanager has no users or permissions",
            )),
            other => Err(unsupported(format!(
                "capture of `{other}`: supported are configurations, silences, active_alerts"
            ))),
        }
    }

    fn restore_state(category: String, source: &DataSource) -> Result<Outcome, PluginError> {
        match category.as_str() {
            "configurations" => import_config(source),
            "silences" => rollback_silences(source),
            "active_alerts" => Err(unsupported(
                "active_alerts: alerts are re-sent by Prometheus after a restore; \
                 the capture is kept for comparison only",
            )),
            other => Err(unsupported(format!(
                "restore of `{other}`: supported are configurations, silences"
            ))),
        }
    }
}

cutover_plugin_sdk::export_adapter!(Alertmanager);

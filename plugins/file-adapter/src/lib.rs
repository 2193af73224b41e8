//! `file-adapter`: an adapter over recorded dumps in a directory the plan
//! grants as `data` (mounted at `/data`).
//!
//! Layout: `/data/alerts.json` (recorded alerts), `/data/<kind>[.json|.yml|.yaml]`
//! (exportable data), `/data/state/<category>.json` (rollback state).

mod alerts;
mod store;

use std::time::Instant;

use cutover_plugin_sdk::streaming_adapter::Guest;
use cutover_plugin_sdk::{
    Alert, Capabilities, DataSink, DataSource, Descriptor, DirectoryRequest, ExportInfo,
    HealthReport, Outcome, PluginError, PluginKind, SinkWriter, SourceReader, Window, log,
};

use store::Store;

/// Where the granted directory is mounted in the guest.
const DATA_DIR: &str = "/data";

struct FileAdapter;

fn data() -> Store {
    Store::new(DATA_DIR)
}

impl Guest for FileAdapter {
    fn describe() -> Descriptor {
        Descriptor {
            capabilities: Capabilities {
                hosts: Vec::new(),
                directories: vec![DirectoryRequest {
                    name: "data".to_owned(),
                    writable: true,
                }],
                config_keys: Vec::new(),
                secrets: Vec::new(),
            },
            ..cutover_plugin_sdk::descriptor(
                "file-adapter",
                env!("CARGO_PKG_VERSION"),
                PluginKind::Adapter,
                &cutover_plugin_sdk::declare_support(
                    "Adapter over recorded dumps in the granted `data` directory (/data): \
                     alerts.json for collect-alerts, <kind>[.json|.yml|.yaml] for export/import, \
                     state/<category>.json for capture/restore; active_alerts (the active \
                     records of alerts.json) is captured as evidence only.",
                    &cutover_plugin_sdk::Support {
                        backup_types: &store::BACKUP_TYPES,
                        rollback_categories: &[
                            "configurations",
                            "system_metrics",
                            "user_permissions",
                            "alert_rules",
                            "routes",
                            "silences",
                        ],
                        capture_only: &[store::CAPTURE_ONLY],
                    },
                ),
            )
        }
    }

    fn health() -> Result<HealthReport, PluginError> {
        let started = Instant::now();
        let result = data().readable();
        let latency_ms = u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX);
        Ok(match result {
            Ok(()) => HealthReport {
                available: true,
                latency_ms,
                message: format!("{DATA_DIR} is readable"),
            },
            Err(e) => HealthReport {
                available: false,
                latency_ms,
                message: e,
            },
        })
    }

    fn collect_alerts(window: Window) -> Result<Vec<Alert>, PluginError> {
        if window.start > window.end {
            return Err(PluginError::InvalidInput(format!(
                "window start {} is after end {}",
                window.start, window.end
            )));
        }
        data().alerts(&window)
    }

    fn collect_alerts_into(window: Window, sink: &DataSink) -> Result<u64, PluginError> {
        if window.start > window.end {
            return Err(PluginError::InvalidInput(format!(
                "window start {} is after end {}",
                window.start, window.end
            )));
        }
        let mut out = cutover_plugin_sdk::AlertWriter::new(sink);
        data().alerts_into(&window, &mut out)?;
        out.finish()
    }

    fn export_data(kind: String, sink: &DataSink) -> Result<ExportInfo, PluginError> {
        log::info(format!("exporting `{kind}`"));
        data().export(&kind, &mut SinkWriter::new(sink))
    }

    fn import_data(kind: String, source: &DataSource) -> Result<Outcome, PluginError> {
        log::info(format!("importing `{kind}`"));
        data().import(&kind, &mut SourceReader::new(source))
    }

    fn capture_state(category: String, sink: &DataSink) -> Result<ExportInfo, PluginError> {
        data().capture(&category, &mut SinkWriter::new(sink))
    }

    fn restore_state(category: String, source: &DataSource) -> Result<Outcome, PluginError> {
        data().restore(&category, &mut SourceReader::new(source))
    }
}

cutover_plugin_sdk::export_streaming_adapter!(FileAdapter);

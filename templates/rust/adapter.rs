//! `{{name}}`: a cutover adapter.

use std::io::{Read, Write};

use cutover_plugin_sdk::{
    Alert, DataSink, DataSource, Descriptor, ExportInfo, HealthReport, Outcome, PluginError,
    PluginKind, SinkWriter, SourceReader, Window, adapter, failed, unsupported,
};

struct Plugin;

impl adapter::Guest for Plugin {
    fn describe() -> Descriptor {
        cutover_plugin_sdk::descriptor(
            "{{name}}",
            env!("CARGO_PKG_VERSION"),
            PluginKind::Adapter,
            // A plan may ask this adapter only for the backup types and
            // rollback categories declared here.
            &cutover_plugin_sdk::declare_support(
                "TODO: which alerting system this adapter talks to.",
                &cutover_plugin_sdk::Support {
                    backup_types: &["alert_rules"],
                    rollback_categories: &[],
                    capture_only: &[],
                },
            ),
        )
    }

    fn health() -> Result<HealthReport, PluginError> {
        Ok(HealthReport {
            available: true,
            latency_ms: 0,
            message: "{{name}}: ok".to_owned(),
        })
    }

    fn collect_alerts(_window: Window) -> Result<Vec<Alert>, PluginError> {
        Ok(Vec::new())
    }

    fn export_data(kind: String, sink: &DataSink) -> Result<ExportInfo, PluginError> {
        let mut w = SinkWriter::new(sink);
        w.write_all(b"{}").map_err(|e| failed(format!("export {kind}: {e}")))?;
        Ok(ExportInfo {
            content_type: "application/json".to_owned(),
            metadata: vec![("kind".to_owned(), kind)],
        })
    }

    fn import_data(kind: String, source: &DataSource) -> Result<Outcome, PluginError> {
        let mut bytes = Vec::new();
        SourceReader::new(source)
            .read_to_end(&mut bytes)
            .map_err(|e| failed(format!("import {kind}: {e}")))?;
        Ok(Outcome {
            summary: format!("{{name}}: read {} bytes of {kind}", bytes.len()),
            details: Vec::new(),
        })
    }

    fn capture_state(category: String, _sink: &DataSink) -> Result<ExportInfo, PluginError> {
        Err(unsupported(format!("capture-state {category}")))
    }

    fn restore_state(category: String, _source: &DataSource) -> Result<Outcome, PluginError> {
        Err(unsupported(format!("restore-state {category}")))
    }
}

cutover_plugin_sdk::export_adapter!(Plugin);


//! `bulk-alerts`: a **bench/test plugin**, not an adapter for any real
//! system. `collect-alerts` returns `count` alerts (config, default 100 000)
//! generated deterministically inside the guest in the shape of a real
//! Alertmanager's `/api/v2/alerts` records (see [`generate`]), so that the
//! runtime bench can measure how fast `list<alert>` crosses into the host.
//!
//! Config: `count` (alerts, default 100 000); `keep` = `all` (default) or
//! `none`: generate `count` alerts, drop them and return an empty list (the
//! bench's guest-side baseline: same generation, no transfer).
//! Every other export answers `unsupported`.

mod generate;

use cutover_plugin_sdk::adapter::Guest;
use cutover_plugin_sdk::{
    Alert, DataSink, DataSource, Descriptor, ExportInfo, HealthReport, Outcome, PluginError,
    PluginKind, Window,
};

struct BulkAlerts;

impl Guest for BulkAlerts {
    fn describe() -> Descriptor {
        let mut d = cutover_plugin_sdk::descriptor(
            "bulk-alerts",
            env!("CARGO_PKG_VERSION"),
            PluginKind::Adapter,
            "Bench/test plugin: collect-alerts returns config `count` generated alerts \
             (default 100000) shaped like Alertmanager's /api/v2/alerts; `keep: none` \
             generates them and returns none. Nothing else is supported.",
        );
        d.capabilities.config_keys = vec!["count".to_owned(), "keep".to_owned()];
        d
    }

    fn health() -> Result<HealthReport, PluginError> {
        Ok(HealthReport {
            available: true,
            latency_ms: 0,
            message: "generated alerts are always available".to_owned(),
        })
    }

    fn collect_alerts(window: Window) -> Result<Vec<Alert>, PluginError> {
        let count = generate::count(cutover_plugin_sdk::config("count").as_deref())?;
        let keep = generate::keep(cutover_plugin_sdk::config("keep").as_deref())?;
        let alerts = generate::alerts(count, window.end);
        Ok(if keep {
            alerts
        } else {
            // Generated, then dropped here: the same guest work without
            // handing anything to the host.
            drop(std::hint::black_box(alerts));
            Vec::new()
        })
    }

    fn export_data(kind: String, _sink: &DataSink) -> Result<ExportInfo, PluginError> {
        Err(unsupported("export", &kind))
    }

    fn import_data(kind: String, _source: &DataSource) -> Result<Outcome, PluginError> {
        Err(unsupported("import", &kind))
    }

    fn capture_state(category: String, _sink: &DataSink) -> Result<ExportInfo, PluginError> {
        Err(unsupported("capture", &category))
    }

    fn restore_state(category: String, _source: &DataSource) -> Result<Outcome, PluginError> {
        Err(unsupported("restore", &category))
    }
}

fn unsupported(what: &str, kind: &str) -> PluginError {
    PluginError::Unsupported(format!(
        "bulk-alerts is a bench plugin: it cannot {what} `{kind}`"
    ))
}

cutover_plugin_sdk::export_adapter!(BulkAlerts);

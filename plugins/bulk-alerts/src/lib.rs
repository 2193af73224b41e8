//! `bulk-alerts`: a **bench/test plugin**, not an adapter for any real
//! system. `collect-alerts` returns `count` alerts (config, default 100 000)
//! generated deterministically inside the guest in the shape of a real
//! Alertmanager's `/api/v2/alerts` records (see [`generate`]), so that the
//! runtime bench can measure how fast `list<alert>` crosses into the host.
//!
//! It is a `streaming-adapter` (contract 0.1.3): `collect-alerts-into`
//! writes the same alerts into the host's sink in the alert framing
//! ([`cutover_plugin_sdk::AlertWriter`]), generating and encoding them one
//! at a time.
//!
//! Config: `count` (alerts, default 100 000); `keep` = `all` (default) or
//! `none`: generate `count` alerts, drop them and return an empty list (or,
//! streamed, an empty stream and 0: the bench's guest-side baselines,
//! same generation, no transfer; streamed only, `encoded` also encodes them
//! into guest memory and drops that); `framing` (streamed only, for the host's
//! tests): `ok` (default), or one deliberate fault, `count` (answer one
//! alert more than written), `truncate` (the stream's last 3 bytes left
//! out), `utf8` (the first fingerprint's first byte 0xff), `version`
//! (version byte 2), `flags` (a reserved flag bit on the first alert).
//! Every other export answers `unsupported`.

mod generate;

use std::cell::RefCell;
use std::io::Write;

use cutover_plugin_sdk::streaming_adapter::Guest;
use cutover_plugin_sdk::{
    Alert, AlertWriter, ChunkSink, DataSink, DataSource, Descriptor, ExportInfo, HealthReport,
    Outcome, PluginError, PluginKind, SinkWriter, Window,
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
        d.capabilities.config_keys = ["count", "keep", "framing"].map(String::from).to_vec();
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

    fn collect_alerts_into(window: Window, sink: &DataSink) -> Result<u64, PluginError> {
        let count = generate::count(cutover_plugin_sdk::config("count").as_deref())?;
        let keep_value = cutover_plugin_sdk::config("keep");
        if keep_value.as_deref().map(str::trim) == Some("encoded") {
            // Generated and encoded in guest memory, then dropped: the
            // bench's baseline for what crossing into the host costs.
            let n = stream(&Discard, count, window.end)?;
            std::hint::black_box(n);
            return AlertWriter::new(sink).finish();
        }
        let keep = generate::keep(keep_value.as_deref())?;
        let fault = generate::fault(cutover_plugin_sdk::config("framing").as_deref())?;
        if !keep {
            for i in 0..count as u64 {
                drop(std::hint::black_box(generate::alert(i, window.end)));
            }
            // An empty stream: the version byte only.
            return AlertWriter::new(sink).finish();
        }
        let Some(fault) = fault else {
            return stream(sink, count, window.end);
        };
        // A deliberate fault: encode in memory, spoil, then send.
        let memory = Memory(RefCell::new(Vec::new()));
        let mut written = stream(&memory, count, window.end)?;
        let mut bytes = memory.0.into_inner();
        fault.apply(&mut bytes, &mut written);
        SinkWriter::new(sink)
            .write_all(&bytes)
            .map_err(|e| PluginError::Failed(e.to_string()))?;
        Ok(written)
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

/// Generates `count` alerts one at a time into `sink`.
fn stream<S: ChunkSink + ?Sized>(sink: &S, count: usize, now_ms: i64) -> Result<u64, PluginError> {
    let mut out = AlertWriter::new(sink);
    for i in 0..count as u64 {
        out.push(&generate::alert(i, now_ms))?;
    }
    out.finish()
}

/// A sink that drops every chunk (`keep: encoded`).
struct Discard;

impl ChunkSink for Discard {
    fn write_chunk(&self, chunk: &[u8]) -> Result<(), String> {
        std::hint::black_box(chunk);
        Ok(())
    }
}

/// A sink in guest memory, for the `framing` faults.
struct Memory(RefCell<Vec<u8>>);

impl ChunkSink for Memory {
    fn write_chunk(&self, chunk: &[u8]) -> Result<(), String> {
        self.0.borrow_mut().extend_from_slice(chunk);
        Ok(())
    }
}

fn unsupported(what: &str, kind: &str) -> PluginError {
    PluginError::Unsupported(format!(
        "bulk-alerts is a bench plugin: it cannot {what} `{kind}`"
    ))
}

cutover_plugin_sdk::export_streaming_adapter!(BulkAlerts);

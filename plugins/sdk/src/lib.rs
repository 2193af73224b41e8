//! # cutover-plugin-sdk
//!
//! Everything a cutover plugin (a WebAssembly component targeting one of the
//! `action`, `check`, `adapter`, `history-adapter`, `streaming-adapter` or
//! `translator` worlds of `wit/plugin.wit`) needs:
//!
//! * the generated bindings ([`action`], [`check`], [`adapter`],
//!   [`history_adapter`], [`streaming_adapter`], [`translator`]) and their
//!   export macros ([`export_action!`], [`export_check!`],
//!   [`export_adapter!`], [`export_history_adapter!`],
//!   [`export_streaming_adapter!`], [`export_translator!`]);
//! * for streaming adapters (contract 0.1.3), [`AlertWriter`], the alert
//!   framing of `collect-alerts-into`;
//! * for translators, the document framing of their streams
//!   ([`read_documents`], [`write_documents`]) and [`report`], which counts
//!   the summary from the items;
//! * the shared WIT types, re-exported at the crate root ([`PluginError`],
//!   [`Descriptor`], [`Verdict`], ...);
//! * for a check or action that asks for no capabilities, the whole guest
//!   glue in one macro: [`check_guest!`], [`action_guest!`];
//! * small helpers over the host imports: [`params`], [`config`], [`secret`],
//!   [`progress`], the [`log`] functions, [`SinkWriter`] and [`SourceReader`];
//! * JSON decoding whose errors name line, column and JSON path
//!   ([`decode_json`], [`from_json`]);
//! * a blocking HTTP client over `wasi:http` ([`http`]).
//!
//! ```no_run
//! use cutover_plugin_sdk::{action::Guest, *};
//!
//! struct Noop;
//!
//! impl Guest for Noop {
//!     fn describe() -> Descriptor {
//!         descriptor("noop", env!("CARGO_PKG_VERSION"), PluginKind::Action, "does nothing")
//!     }
//!     fn run(ctx: Context) -> Result<Outcome, PluginError> {
//!         let p: serde_json::Value = params(&ctx)?;
//!         log::info(format!("params: {p}"));
//!         Ok(Outcome { summary: "noop".into(), details: vec![] })
//!     }
//! }
//!
//! export_action!(Noop);
//! # fn main() {}
//! ```

mod alerts;
mod bindings;
mod errors;
mod guest;
mod hostfns;
pub mod http;
mod io;
mod json;
pub mod log;
pub mod memory;
mod records;
mod support;
mod translate;

pub use alerts::{ALERT_FRAMING_VERSION, AlertWriter};
pub use bindings::action::export_action;
pub use bindings::adapter::export_adapter;
pub use bindings::check::export_check;
pub use bindings::history_adapter::export_history_adapter;
pub use bindings::streaming_adapter::export_streaming_adapter;
pub use bindings::translator::export_translator;
pub use bindings::{action, adapter, check, history_adapter, streaming_adapter, translator};
pub use errors::{denied, failed, invalid_input, unavailable, unsupported};
pub use hostfns::{config, descriptor, params, progress, secret};
pub use io::{CHUNK_SIZE, ChunkSink, ChunkSource, SinkWriter, SourceReader};
pub use json::{JsonError, decode_json, from_json};
pub use support::{Support, declare_support};
pub use translate::{
    Document, encode_documents, item, parse_documents, read_documents, report,
    translator_descriptor, write_documents,
};

/// Re-export for plugins that want raw JSON parameters.
pub use serde_json;

/// The host `data-sink`/`data-source` resources and `log-level`.
pub use action::cutover::plugin::host::{DataSink, DataSource, LogLevel};
/// The shared WIT `types` interface.
pub use action::cutover::plugin::types::{
    Alert, AlertState, Capabilities, Context, Descriptor, DirectoryRequest, ExportInfo,
    HealthReport, ItemStatus, Measurement, Outcome, Pairs, PluginError, PluginKind, RangeSeries,
    ReportItem, ReportSummary, Sample, Timestamp, TranslationReport, TranslatorDescriptor, Verdict,
    VerdictKind, Window,
};

//! cutover-runtime: the sandboxed wasmtime host that loads, caches and calls
//! cutover plugins (WebAssembly components of the `cutover:plugin` contract).
//!
//! One [`Runtime`] per process; [`Runtime::load_file`] gives a [`Plugin`];
//! every call gets a fresh store with the [`Sandbox`]'s grants and limits.
//!
//! Translators (contract 0.1.1) are called with [`Runtime::translate`]:
//! named [`Document`]s in, a checked [`Translation`] (output documents and a
//! [`TranslationReport`]) out, every failure a [`TranslateError`].
//!
//! Adapters of the `history-adapter` world (contract 0.1.2) also answer
//! [`Runtime::query_range`] (see [`Plugin::has_query_range`]).
//!
//! Adapters of the `streaming-adapter` world (contract 0.1.3) stream their
//! alerts: [`Runtime::collect_alert_batch`] reads them into a compact
//! [`AlertBatch`] (borrowed [`AlertView`]s, no allocation per alert) and
//! falls back to `collect-alerts` on older adapters
//! (see [`Plugin::streams_alerts`]).

mod alert_batch;
mod alert_frame;
mod alert_stream;
mod api;
mod bindings;
mod cache;
mod cache_ident;
mod call;
mod data;
mod declared;
mod describe;
mod documents;
mod error;
mod grants;
mod history;
mod http;
mod limits;
mod output;
mod plugin;
mod report;
mod runtime;
mod secrets;
mod send;
mod size;
mod state;
mod tls;
mod translate;
mod version;
mod world;

pub use alert_batch::{AlertBatch, AlertView, Pairs};
pub use alert_frame::{ALERT_FRAMING_VERSION, Field, FramingError, decode_alerts, encode_alerts};
pub use api::Exported;
pub use bindings::wit;
pub use cache::{CacheStatus, ComponentCache, EntryCheck, Rejection};
pub use call::Sandbox;
pub use describe::Descriptor;
pub use documents::{Document, MAX_DOCUMENT_NAME};
pub use error::{CallError, Denied, LoadError, PluginError, RuntimeError, TranslateError};
pub use grants::{DirGrant, Grants, Origin, OriginError};
pub use history::{QUERY_RANGE_EXPORT, RangeQuery};
pub use http::Recorded;
pub use limits::{Limit, LimitHit, Limits, MAX_MEMORY_BYTES, MAX_TABLE_ELEMENTS};
pub use plugin::{Plugin, PluginInfo, sha256_hex};
pub use report::{ItemStatus, ReportItem, Summary, TranslationReport};
pub use runtime::{Allocator, EPOCH_TICK, MAX_WASM_STACK, NO_POOLING_ENV, Runtime, RuntimeOptions};
pub use secrets::{EnvSecrets, SecretSource, StaticSecrets};
pub use state::ProgressFn;
pub use tls::{TlsCa, TlsCaError};
pub use translate::{TranslateRequest, Translation};
pub use version::{CONTRACT_PACKAGE, CONTRACT_VERSION, Version};
pub use world::World;

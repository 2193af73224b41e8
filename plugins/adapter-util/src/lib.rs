//! # cutover-adapter-util
//!
//! Small, dependency-free helpers shared by the alerting-system adapters
//! (`alertmanager`, `prometheus`, `icinga2`):
//!
//! * [`rfc3339::parse_millis`]: RFC 3339 timestamps to Unix milliseconds;
//! * [`base64`]: standard base64 for HTTP basic auth;
//! * [`client`]: an HTTP endpoint from plugin config, with optional basic auth;
//! * [`files`]: safe file names, atomic writes (temp file + rename);
//! * [`labels`]: an alert's labels and annotations as Prometheus's and
//!   Alertmanager's APIs write them, and the WIT alert made of them;
//! * [`am_alerts`]: Alertmanager `GET /api/v2/alerts` answers to WIT alerts
//!   (used by `alertmanager`, and by `prometheus` when it reads its stack's
//!   Alertmanager);
//! * [`reload`]: write files, ask the system to reload, put the previous
//!   files back when the system rejects them;
//! * [`am_config`]: the Alertmanager configuration file (export as is,
//!   import with reload and rollback);
//! * [`am_silences`]: Alertmanager silences (export, idempotent import,
//!   rollback to a capture);
//! * [`data`]: whole reads and writes of the host's data streams.
//!
//! `am_config` and `am_silences` serve both `alertmanager` and `prometheus`
//! (which speaks for its stack's Alertmanager).

pub mod am_alerts;
pub mod am_config;
pub mod am_silences;
pub mod base64;
pub mod client;
pub mod data;
pub mod files;
pub mod labels;
pub mod reload;
pub mod rfc3339;
mod transport;

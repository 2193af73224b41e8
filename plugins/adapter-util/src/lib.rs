//! # cutover-adapter-util
//!
//! Small, dependency-free helpers shared by the alerting-system adapters
//! (`alertmanager`, `prometheus`, `icinga2`):
//!
//! * [`rfc3339::parse_millis`]: RFC 3339 timestamps to Unix milliseconds;
//! * [`base64`]: standard base64 for HTTP basic auth;
//! * [`client`]: an HTTP endpoint from plugin config, with optional basic auth;
//! * [`files`]: safe file names, atomic writes (temp file + rename);
//! * [`am_alerts`]: Alertmanager `GET /api/v2/alerts` answers to WIT alerts
//!   (used by `alertmanager`, and by `prometheus` when it reads its stack's
//!   Alertmanager);
//! * [`reload`]: write files, ask the system to reload, put the previous
//!   files back when the system rejects them.

pub mod am_alerts;
pub mod base64;
pub mod client;
pub mod files;
pub mod reload;
pub mod rfc3339;
mod transport;

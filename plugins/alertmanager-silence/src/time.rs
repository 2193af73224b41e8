//! The clock and RFC 3339 output (Alertmanager's API takes `endsAt` as
//! `YYYY-MM-DDTHH:MM:SS.mmmZ`): the guests' one implementation in
//! [`translate_core::time`]; input goes through `cutover_adapter_util::rfc3339`.

pub use translate_core::time::{MAX_MS, format_millis, now_ms};

//! RFC 3339 timestamps to unix milliseconds (UTC) for the adapters: the
//! guests' one implementation, [`translate_core::time`], under the name the
//! adapters use.

pub use translate_core::time::{TimeError, parse_millis};

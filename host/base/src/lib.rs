//! # cutover-base
//!
//! The small vocabulary every cutover crate shares, so that no crate has to
//! depend on another one just for it:
//!
//! - [`exit`]: the documented exit classes of the `cutover` binary; every
//!   library error type says which one it belongs to.
//! - [`time`]: timestamps and durations, on `jiff`, with the one duration
//!   grammar used by plans and command-line flags alike.
//! - [`adapter_support`]: what an adapter declares it can back up and roll
//!   back, read from its `describe()` description in one place.

pub mod adapter_support;
pub mod exit;
pub mod time;

/// Environment variable that names the state database, overriding the
/// plan's `[plan] state` (read by the plan, the state backend and `status`).
pub const STATE_URL_ENV: &str = "CUTOVER_STATE_URL";

//! Documented exit codes of the `cutover` binary (see README "Exit codes").

/// Everything succeeded (a check passed, a migration completed).
pub const OK: u8 = 0;
/// The operation ran and failed: a check or comparison verdict `fail`, a step failed.
pub const FAILED: u8 = 1;
/// Bad command line or invalid plan (diagnostics on stderr).
pub const USAGE: u8 = 2;
/// A plugin could not be loaded: unreadable, pin mismatch, malformed, wrong world or contract.
pub const PLUGIN_LOAD: u8 = 3;
/// A plugin call ended in a trap, a limit, a deadline or a denied capability.
pub const PLUGIN_CALL: u8 = 4;
/// The migration is paused, waiting for an approval or an operator.
pub const PAUSED: u8 = 5;
/// The migration was aborted or rolled back.
pub const ABORTED: u8 = 6;
/// The verdict was `inconclusive` or `no-data`: nothing to judge is not a pass.
pub const INCONCLUSIVE: u8 = 7;
/// State problem: journal corrupt, lease held by another runner, stale plan.
pub const STATE: u8 = 8;
/// Unexpected internal error.
pub const INTERNAL: u8 = 70;

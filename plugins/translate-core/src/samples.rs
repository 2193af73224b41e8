//! Canned input for each data kind of the first-party translators, written
//! once (`samples/` in this crate) for the unit tests of the translator
//! plugins and for the host's tests that run them. Only with the `samples`
//! feature (tests enable it; the plugins themselves do not).
//!
//! Every sample involves the teams `core` and `web`, so a scope of
//! `{team="core"}` keeps part of it.

/// A rule file (`node.yml`): `NodeDown` (team `core`, `for: 5m`, a
/// `severity` label), `WebDown` (team `web`) and the recording rule
/// `job:up:sum` over team `core`.
pub const RULES: &str = include_str!("../samples/rules.yml");

/// An old `alertmanager.yml`: a `default` root receiver with two child
/// routes, `team="core"` to `core-pager` and `team="web"` to `web-mail`
/// (both webhooks).
pub const ROUTES_OLD: &str = include_str!("../samples/routes-old.yml");

/// A new `alertmanager.yml`: a `default` root receiver with one child
/// route, `team="db"` to `db`.
pub const ROUTES_NEW: &str = include_str!("../samples/routes-new.yml");

/// A silence list as `GET /api/v2/silences` answers it: `s1` (team `core`,
/// comment `core maintenance`) and `s2` (team `web`, `web maintenance`),
/// both active until 2030.
pub const SILENCES: &str = include_str!("../samples/silences.json");

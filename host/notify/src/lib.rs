//! cutover-notify: sends migration notifications (gates waiting, phase
//! transitions, critical migration alerts, incidents) to webhook targets.
//!
//! A target is written as a string ([`Target::parse`]):
//!
//! * `am+http://host:port/path` — Alertmanager webhook JSON (`version` "4",
//!   `status`, `alerts[]` with `labels`, `annotations`, `startsAt`);
//! * `slack+http://...` / `slack+https://...` — Slack-compatible `{"text": ...}`;
//! * a bare `http://` / `https://` URL — Slack-compatible JSON;
//! * anything else (`#ops`, `oncall@example.org`) — a named recipient without
//!   a transport: the caller journals and logs it only.
//!
//! Sends block, each attempt with a timeout, retried with exponential backoff
//! within a bounded attempt count and total time ([`RetryPolicy`]).

mod error;
mod payload;
mod send;
mod target;

pub use error::NotifyError;
pub use payload::{Notification, NotificationKind, Severity, alertmanager_payload, slack_payload};
pub use send::{Delivery, RetryPolicy, Sender};
pub use target::{Format, Target};

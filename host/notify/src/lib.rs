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
//! HTTPS uses rustls (ring) and trusts the public web PKI roots, or only the
//! CA certificates of PEM files ([`TrustRoots`], `[plan] notify_tls_ca`).
//! [`Target::check`] refuses a target that can never be sent to.
//!
//! Sends block, each attempt with a timeout, retried with exponential backoff
//! within a bounded attempt count and total time ([`RetryPolicy`]).

mod error;
mod payload;
mod send;
mod target;
mod tls;

pub use error::NotifyError;
pub use payload::{Notification, NotificationKind, Severity, alertmanager_payload, slack_payload};
pub use send::{Delivery, RetryPolicy, Sender};
pub use target::{Format, Target, TargetError};
pub use tls::TrustRoots;

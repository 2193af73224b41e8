//! Blocking webhook sends with per-attempt timeouts and bounded retries.

use std::time::{Duration, Instant};

use crate::error::NotifyError;
use crate::payload::{Notification, alertmanager_payload, slack_payload};
use crate::target::{Format, Target};
use crate::tls::TrustRoots;

/// How hard to try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Most attempts (at least 1).
    pub attempts: u32,
    /// Timeout of one attempt (connect, send and answer).
    pub timeout: Duration,
    /// Wait before the second attempt; doubled after each failure.
    pub backoff: Duration,
    /// Longest wait between attempts.
    pub max_backoff: Duration,
    /// Total time budget: no attempt starts after it.
    pub budget: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts, 5 s timeout each, backoff 250 ms doubling up to 4 s,
    /// 30 s in all.
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            timeout: Duration::from_secs(5),
            backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(4),
            budget: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The default, overridden by `CUTOVER_NOTIFY_ATTEMPTS`,
    /// `CUTOVER_NOTIFY_TIMEOUT_MS` and `CUTOVER_NOTIFY_BUDGET_MS` when set
    /// to a number (anything else is ignored).
    pub fn from_env() -> Self {
        let num = |k: &str| {
            std::env::var(k)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let mut p = RetryPolicy::default();
        if let Some(n) = num("CUTOVER_NOTIFY_ATTEMPTS") {
            p.attempts = u32::try_from(n).unwrap_or(u32::MAX).max(1);
        }
        if let Some(ms) = num("CUTOVER_NOTIFY_TIMEOUT_MS") {
            p.timeout = Duration::from_millis(ms.max(1));
        }
        if let Some(ms) = num("CUTOVER_NOTIFY_BUDGET_MS") {
            p.budget = Duration::from_millis(ms);
        }
        p
    }

    /// Wait after failed attempt `n` (1-based).
    fn wait_after(&self, n: u32) -> Duration {
        let factor = 1u32.checked_shl(n.saturating_sub(1)).unwrap_or(u32::MAX);
        self.backoff.saturating_mul(factor).min(self.max_backoff)
    }
}

/// A delivered notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// Attempts it took.
    pub attempts: u32,
    /// HTTP status of the accepted attempt.
    pub status: u16,
}

/// Sends notifications.
#[derive(Debug, Clone)]
pub struct Sender {
    policy: RetryPolicy,
    receiver: String,
    roots: TrustRoots,
}

impl Sender {
    /// A sender with `policy`; `receiver` names it in Alertmanager payloads.
    /// HTTPS targets must chain to the public roots ([`Sender::with_roots`]
    /// changes that).
    pub fn new(policy: RetryPolicy, receiver: impl Into<String>) -> Self {
        Sender {
            policy,
            receiver: receiver.into(),
            roots: TrustRoots::Public,
        }
    }

    /// The same sender trusting `roots` for HTTPS targets.
    pub fn with_roots(mut self, roots: TrustRoots) -> Self {
        self.roots = roots;
        self
    }

    /// The roots HTTPS targets must chain to.
    pub fn roots(&self) -> &TrustRoots {
        &self.roots
    }

    /// The retry policy.
    pub fn policy(&self) -> RetryPolicy {
        self.policy
    }

    /// The JSON body for `target`.
    pub fn body(&self, format: Format, n: &Notification) -> serde_json::Value {
        match format {
            Format::Alertmanager => alertmanager_payload(n, &self.receiver),
            Format::Slack => slack_payload(n),
        }
    }

    /// Posts `n` to `target`, retrying failures (connection errors, TLS
    /// errors such as an untrusted certificate, timeouts, non-2xx answers)
    /// with exponential backoff until it is accepted, the attempts are used
    /// up or the time budget is spent.
    pub fn send(&self, target: &Target, n: &Notification) -> Result<Delivery, NotifyError> {
        let (format, url) = match target {
            Target::Webhook { format, url } => (*format, url.as_str()),
            Target::Named(name) => return Err(NotifyError::NoTransport(name.clone())),
        };
        let body = self.body(format, n).to_string();
        let t0 = Instant::now();
        let max = self.policy.attempts.max(1);
        let mut last = String::new();
        let mut attempts = 0;
        while attempts < max {
            let left = self.policy.budget.saturating_sub(t0.elapsed());
            if attempts > 0 && left.is_zero() {
                last = format!("{last}; time budget of {:?} spent", self.policy.budget);
                break;
            }
            attempts += 1;
            let timeout = if attempts == 1 {
                self.policy.timeout
            } else {
                self.policy.timeout.min(left)
            };
            match self.post(url, &body, timeout) {
                Ok(status) if (200..300).contains(&status) => {
                    return Ok(Delivery { attempts, status });
                }
                Ok(status) => last = format!("HTTP {status}"),
                Err(e) => last = e,
            }
            if attempts < max {
                let wait = self
                    .policy
                    .wait_after(attempts)
                    .min(self.policy.budget.saturating_sub(t0.elapsed()));
                std::thread::sleep(wait);
            }
        }
        Err(NotifyError::GaveUp {
            target: target.to_string(),
            attempts,
            last,
        })
    }
}

impl Sender {
    fn post(&self, url: &str, body: &str, timeout: Duration) -> Result<u16, String> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .tls_config(self.roots.tls_config())
            .build()
            .into();
        agent
            .post(url)
            .header("content-type", "application/json")
            .send(body)
            .map(|r| r.status().as_u16())
            .map_err(|e| match tls_error(&e) {
                Some(tls @ rustls::Error::InvalidCertificate(_)) => format!(
                    "untrusted certificate: {tls} (it must chain to {})",
                    self.roots.describe()
                ),
                Some(tls) => format!("TLS failed: {tls}"),
                None => e.to_string(),
            })
    }
}

/// The rustls error behind `e`, if any (ureq passes handshake errors on
/// inside an I/O error).
fn tls_error(e: &ureq::Error) -> Option<&rustls::Error> {
    match e {
        ureq::Error::Rustls(tls) => Some(tls),
        ureq::Error::Io(io) => io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy {
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
            ..RetryPolicy::default()
        };
        let waits: Vec<u128> = (1..=4).map(|n| p.wait_after(n).as_millis()).collect();
        assert_eq!(waits, vec![100, 200, 350, 350]);
    }
}

//! What one canary attempt saw, and its verdict with typed measurements.
//!
//! Measurements (the host reads them back into its typed canary details):
//! per expected receiver `<alertmanager>/<receiver>/delivered` (1 or 0) and,
//! when delivered, `<alertmanager>/<receiver>/latency_ms` (from the post to
//! the sink's receipt); `leftovers_resolved` (synthetic alerts of this run
//! an earlier, interrupted attempt left firing, resolved before posting).

use cutover_plugin_sdk::{Measurement, Verdict, VerdictKind};

use crate::params::Side;

/// Why the attempt stopped before waiting for the receivers.
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    /// An Alertmanager answered the post with an error: its status and body.
    Rejected(String),
    /// An Alertmanager or the sink could not be asked: nothing to judge.
    Unreachable(String),
}

/// One expected receiver and when it got the alert.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub side: Side,
    pub receiver: String,
    /// Milliseconds from the post to the sink's receipt, when it arrived.
    pub latency_ms: Option<f64>,
}

impl Receipt {
    fn name(&self) -> String {
        format!("{}/{}", self.side.as_str(), self.receiver)
    }
}

/// Everything one attempt saw.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    pub receipts: Vec<Receipt>,
    pub leftovers_resolved: usize,
    pub stop: Option<Stop>,
    /// The last failed read of the sink, when the last read failed.
    pub sink_error: Option<String>,
    /// Alertmanagers where resolving the alert failed (it then ends by
    /// itself at its `endsAt`).
    pub resolve_errors: Vec<String>,
    pub timeout_ms: u64,
}

fn seconds(ms: f64) -> String {
    format!("{:.1} s", ms / 1000.0)
}

/// The verdict: `pass` when every expected receiver got the alert and it
/// was resolved; `fail` naming each receiver that never got it, or with
/// Alertmanager's answer when it rejected the alert; `inconclusive` when an
/// Alertmanager or the sink could not be asked (never a pass).
pub fn judge(r: &Report) -> Verdict {
    let delivered: Vec<String> = r
        .receipts
        .iter()
        .filter_map(|x| Some(format!("{} in {}", x.name(), seconds(x.latency_ms?))))
        .collect();
    let missing: Vec<String> = r
        .receipts
        .iter()
        .filter(|x| x.latency_ms.is_none())
        .map(Receipt::name)
        .collect();
    let (mut verdict, mut message) = match &r.stop {
        Some(Stop::Rejected(why)) => (VerdictKind::Fail, why.clone()),
        Some(Stop::Unreachable(why)) => (VerdictKind::Inconclusive, format!("cannot judge: {why}")),
        None if missing.is_empty() => (
            VerdictKind::Pass,
            format!("delivered to {}", delivered.join(", ")),
        ),
        None => match &r.sink_error {
            Some(e) => (
                VerdictKind::Inconclusive,
                format!(
                    "cannot judge: the webhook sink could not be read ({e}); not seen: {}",
                    missing.join(", ")
                ),
            ),
            None => (
                VerdictKind::Fail,
                format!(
                    "never received the synthetic alert within {}: {}{}",
                    seconds(r.timeout_ms as f64),
                    missing.join(", "),
                    if delivered.is_empty() {
                        String::new()
                    } else {
                        format!("; delivered to {}", delivered.join(", "))
                    }
                ),
            ),
        },
    };
    if r.leftovers_resolved > 0 {
        message.push_str(&format!(
            "; resolved {} synthetic alert(s) an earlier attempt of this run left firing",
            r.leftovers_resolved
        ));
    }
    if !r.resolve_errors.is_empty() {
        message.push_str(&format!(
            "; resolving it failed on {} (it ends by itself at its endsAt)",
            r.resolve_errors.join("; ")
        ));
        if verdict == VerdictKind::Pass {
            verdict = VerdictKind::Inconclusive;
        }
    }
    let mut measurements = Vec::new();
    for x in &r.receipts {
        measurements.push(Measurement {
            name: format!("{}/delivered", x.name()),
            value: if x.latency_ms.is_some() { 1.0 } else { 0.0 },
        });
        if let Some(ms) = x.latency_ms {
            measurements.push(Measurement {
                name: format!("{}/latency_ms", x.name()),
                value: ms,
            });
        }
    }
    measurements.push(Measurement {
        name: "leftovers_resolved".to_owned(),
        value: r.leftovers_resolved as f64,
    });
    Verdict {
        verdict,
        message,
        measurements,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt(side: Side, receiver: &str, latency_ms: Option<f64>) -> Receipt {
        Receipt {
            side,
            receiver: receiver.to_owned(),
            latency_ms,
        }
    }

    fn report(receipts: Vec<Receipt>) -> Report {
        Report {
            receipts,
            timeout_ms: 20_000,
            ..Report::default()
        }
    }

    fn names(v: &Verdict) -> Vec<(String, f64)> {
        v.measurements
            .iter()
            .map(|m| (m.name.clone(), m.value))
            .collect()
    }

    #[test]
    fn every_receiver_delivered_passes_with_latencies() {
        let v = judge(&report(vec![
            receipt(Side::Old, "web-team", Some(1234.0)),
            receipt(Side::New, "web-team", Some(2500.0)),
        ]));
        assert_eq!(v.verdict, VerdictKind::Pass);
        assert_eq!(
            v.message,
            "delivered to old/web-team in 1.2 s, new/web-team in 2.5 s"
        );
        assert_eq!(
            names(&v),
            [
                ("old/web-team/delivered".to_owned(), 1.0),
                ("old/web-team/latency_ms".to_owned(), 1234.0),
                ("new/web-team/delivered".to_owned(), 1.0),
                ("new/web-team/latency_ms".to_owned(), 2500.0),
                ("leftovers_resolved".to_owned(), 0.0),
            ]
        );
    }

    #[test]
    fn a_missing_receiver_fails_by_name() {
        let mut r = report(vec![
            receipt(Side::Old, "web-team", Some(900.0)),
            receipt(Side::New, "pager", None),
        ]);
        r.leftovers_resolved = 2;
        let v = judge(&r);
        assert_eq!(v.verdict, VerdictKind::Fail);
        assert_eq!(
            v.message,
            "never received the synthetic alert within 20.0 s: new/pager; delivered to \
             old/web-team in 0.9 s; resolved 2 synthetic alert(s) an earlier attempt of this \
             run left firing"
        );
        assert!(names(&v).contains(&("new/pager/delivered".to_owned(), 0.0)));
        assert!(!names(&v).iter().any(|(n, _)| n == "new/pager/latency_ms"));
    }

    #[test]
    fn rejection_fails_and_unreachable_is_inconclusive() {
        let mut r = report(vec![receipt(Side::New, "r", None)]);
        r.stop = Some(Stop::Rejected("HTTP 400: bad label".into()));
        assert_eq!(judge(&r).verdict, VerdictKind::Fail);
        assert_eq!(judge(&r).message, "HTTP 400: bad label");
        r.stop = Some(Stop::Unreachable("connection refused".into()));
        assert_eq!(judge(&r).verdict, VerdictKind::Inconclusive);
        r.stop = None;
        r.sink_error = Some("HTTP 502".into());
        let v = judge(&r);
        assert_eq!(v.verdict, VerdictKind::Inconclusive);
        assert!(
            v.message.contains("sink could not be read (HTTP 502)"),
            "{}",
            v.message
        );
    }

    #[test]
    fn a_failed_resolution_is_never_a_pass() {
        let mut r = report(vec![receipt(Side::New, "r", Some(1.0))]);
        r.resolve_errors = vec!["new: connection refused".into()];
        let v = judge(&r);
        assert_eq!(v.verdict, VerdictKind::Inconclusive);
        assert!(
            v.message.contains("resolving it failed on new"),
            "{}",
            v.message
        );
    }
}

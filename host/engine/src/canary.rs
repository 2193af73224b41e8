//! `kind = "canary"` steps: a paging canary check plugin (first party:
//! `alertmanager-canary`) posts a synthetic alert marked with the run id to
//! the old and the new Alertmanager, waits until each expected receiver has
//! it and resolves it. The engine keeps what it measured typed
//! ([`CanaryDetails`]) and gates on it:
//!
//! * `pass` passes; `fail` (a receiver never got the alert, or an
//!   Alertmanager rejected it) or a failed plugin call fails the step;
//! * a canary that cannot judge (`inconclusive`, `no-data`: an
//!   Alertmanager or the webhook sink unreachable) is never a pass: the step
//!   stays open and the run waits for a person. `cutover resume` runs the
//!   canary again; `cutover approve PLAN PHASE/STEP --by NAME` accepts it.
//!
//! No synthetic alert is left firing: the plugin resolves its alert in every
//! outcome, each attempt first resolves what an interrupted attempt of the
//! same run left (a killed run's step is `running`, and resuming runs it
//! again), and each alert carries an `endsAt` after which Alertmanager
//! resolves it by itself.

use std::collections::BTreeMap;

use cutover_plan::{Phase, Step};

use crate::details::{CanaryDetails, CanaryReceipt, StepDetails};
use crate::error::EngineError;
use crate::event::StepStatus;
use crate::gate::{self, Gate};
use crate::runner::{Runner, StepExec, StepRun};

/// Measurement suffix: 1 when the receiver got the alert, 0 when not.
const DELIVERED: &str = "/delivered";
/// Measurement suffix: ms from the post to the receiver's notification.
const LATENCY: &str = "/latency_ms";
/// Measurement: leftovers of this run resolved before posting.
const LEFTOVERS: &str = "leftovers_resolved";

/// The typed details of a canary's measurements
/// (`<alertmanager>/<receiver>/delivered`, `.../latency_ms`,
/// `leftovers_resolved`); names that follow no pattern are ignored.
pub(crate) fn details_of(
    measurements: &BTreeMap<String, Option<f64>>,
    shadow: bool,
    error_kind: Option<String>,
) -> CanaryDetails {
    let mut receivers: Vec<CanaryReceipt> = measurements
        .iter()
        .filter_map(|(name, value)| {
            let key = name.strip_suffix(DELIVERED)?;
            let (alertmanager, receiver) = key.split_once('/')?;
            let latency_ms = measurements
                .get(&format!("{key}{LATENCY}"))
                .copied()
                .flatten();
            Some(CanaryReceipt {
                alertmanager: alertmanager.to_string(),
                receiver: receiver.to_string(),
                delivered: value.is_some_and(|v| v > 0.0),
                latency_ms,
            })
        })
        .collect();
    // Old first, then new, then any other name; receivers by name.
    let rank = |am: &str| match am {
        "old" => 0,
        "new" => 1,
        _ => 2,
    };
    receivers.sort_by(|a, b| {
        (rank(&a.alertmanager), &a.alertmanager, &a.receiver).cmp(&(
            rank(&b.alertmanager),
            &b.alertmanager,
            &b.receiver,
        ))
    });
    let leftovers_resolved = measurements
        .get(LEFTOVERS)
        .copied()
        .flatten()
        .filter(|n| *n >= 0.0 && *n <= f64::from(u32::MAX))
        .map_or(0, |n| n as u32);
    CanaryDetails {
        receivers,
        leftovers_resolved,
        shadow,
        error_kind,
        accepted_by: None,
    }
}

impl Runner<'_> {
    /// Runs a canary step (or finishes one a person accepted).
    pub(crate) fn canary(
        &mut self,
        phase: &Phase,
        step: &Step,
        plugin: &str,
        params: &serde_json::Value,
        shadow: bool,
    ) -> Result<StepRun, EngineError> {
        let target = format!("{}/{}", phase.id, step.id);
        let open = self.view.steps.get(&step.id).and_then(|s| {
            let seq = s.inconclusive_seq?;
            Some((seq, s.summary.clone()))
        });
        if let Some((seq, reason)) = open
            && let Some(a) = self.view.approval_after(&target, seq)
            && !a.retry
        {
            let by = a.by.clone();
            let mut e = StepExec::new(StepStatus::Succeeded, format!("accepted by {by}: {reason}"));
            e.verdict = Some(Gate::Inconclusive.as_str().to_string());
            e.details = StepDetails::Canary(CanaryDetails {
                receivers: Vec::new(),
                leftovers_resolved: 0,
                shadow,
                error_kind: None,
                accepted_by: Some(by),
            });
            e.plugin = Some(plugin.to_string());
            return Ok(StepRun::Done(e));
        }
        let ev = self
            .step_ctx()
            .evaluate(&phase.id, &step.id, plugin, params);
        let gate = ev.verdict.gate();
        if gate == Gate::Inconclusive && !shadow {
            let reason = format!(
                "canary {target} could not judge: {}; resume to run it again, or accept it with `cutover approve PLAN {target} --by NAME`",
                ev.message
            );
            return self.stop_inconclusive(phase, step, target, reason);
        }
        let status = gate::step_status(gate, shadow, false);
        let mut e = StepExec::new(status, format!("{}: {}", ev.verdict.as_str(), ev.message));
        e.verdict = Some(ev.verdict.as_str().to_string());
        e.details = StepDetails::Canary(details_of(&ev.measurements, shadow, ev.error_kind));
        e.plugin = Some(plugin.to_string());
        e.digest = ev.digest;
        Ok(StepRun::Done(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measurements_become_typed_receipts_old_first() {
        let m: BTreeMap<String, Option<f64>> = [
            ("new/web-team/delivered", Some(1.0)),
            ("new/web-team/latency_ms", Some(2500.0)),
            ("new/pager/team/delivered", Some(0.0)),
            ("old/web-team/delivered", Some(1.0)),
            ("old/web-team/latency_ms", Some(1200.0)),
            ("leftovers_resolved", Some(2.0)),
            ("unrelated", Some(7.0)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let d = details_of(&m, false, None);
        let got: Vec<(&str, &str, bool, Option<f64>)> = d
            .receivers
            .iter()
            .map(|r| {
                (
                    r.alertmanager.as_str(),
                    r.receiver.as_str(),
                    r.delivered,
                    r.latency_ms,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("old", "web-team", true, Some(1200.0)),
                ("new", "pager/team", false, None),
                ("new", "web-team", true, Some(2500.0)),
            ]
        );
        assert_eq!(d.leftovers_resolved, 2);
        let json = serde_json::to_value(StepDetails::Canary(d.clone())).expect("json");
        let back: StepDetails = serde_json::from_value(json).expect("back");
        assert_eq!(back, StepDetails::Canary(d));
    }

    #[test]
    fn a_failed_call_keeps_its_error_kind() {
        let d = details_of(&BTreeMap::new(), true, Some("deadline".into()));
        assert!(d.receivers.is_empty());
        assert_eq!(d.leftovers_resolved, 0);
        let back: StepDetails =
            serde_json::from_value(serde_json::to_value(StepDetails::Canary(d)).expect("json"))
                .expect("back");
        assert_eq!(back.error_kind(), Some("deadline"));
    }
}

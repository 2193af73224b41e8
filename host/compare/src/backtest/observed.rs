//! What actually fired, read back from Prometheus's own `ALERTS` series:
//! the evidence a backtest of the old rules is held against.
//!
//! Prometheus writes `ALERTS{alertname=..., alertstate="firing", <alert
//! labels>}` at every evaluation while an alert fires, and marks the series
//! stale at the evaluation that resolves it. Read with `query_range` at the
//! group's interval, each run of consecutive samples is one episode: it
//! started at its first sample (Prometheus's `FiredAt`, the same instant a
//! backtest reports as `starts_at`) and resolved at the evaluation after its
//! last sample.

use std::collections::BTreeMap;

use crate::model::{Alert, AlertState};

use super::source::RangeSeries;

/// The label Prometheus adds to `ALERTS` for the alert's state.
pub const ALERTSTATE_LABEL: &str = "alertstate";

/// Episodes of the `ALERTS{alertstate="firing"}` series in `series`, read at
/// `step_ms` up to `to_ms`: consecutive samples (no more than one step
/// apart) form one episode; a gap ends it at the evaluation after its last
/// sample. An episode whose last sample is within one step of `to_ms` is
/// still firing (`ends_at` is `None`). Series of other alert states
/// (`pending`) are skipped; `__name__` and `alertstate` are not alert
/// labels. Samples may come in any order.
pub fn firing_episodes(series: &[RangeSeries], step_ms: i64, to_ms: i64) -> Vec<Alert> {
    let step = step_ms.max(1);
    let mut out = Vec::new();
    for s in series {
        if s.labels.get(ALERTSTATE_LABEL).map(String::as_str) != Some("firing") {
            continue;
        }
        let labels: BTreeMap<String, String> = s
            .labels
            .iter()
            .filter(|(k, _)| k.as_str() != "__name__" && k.as_str() != ALERTSTATE_LABEL)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut times: Vec<i64> = s.samples.iter().map(|(t, _)| *t).collect();
        times.sort_unstable();
        times.dedup();
        let mut runs: Vec<(i64, i64)> = Vec::new();
        for t in times {
            match runs.last_mut() {
                Some((_, last)) if t - *last <= step => *last = t,
                _ => runs.push((t, t)),
            }
        }
        for (start, last) in runs {
            let ends_at = (last + step <= to_ms).then_some(last + step);
            out.push(Alert {
                labels: labels.clone(),
                annotations: BTreeMap::new(),
                starts_at: start,
                ends_at,
                state: if ends_at.is_some() {
                    AlertState::Resolved
                } else {
                    AlertState::Active
                },
                source: "ALERTS".to_string(),
                fingerprint: String::new(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(state: &str, times: &[i64]) -> RangeSeries {
        RangeSeries {
            labels: [
                ("__name__", "ALERTS"),
                ("alertname", "Down"),
                ("alertstate", state),
                ("job", "api"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            samples: times.iter().map(|t| (*t, 1.0)).collect(),
        }
    }

    #[test]
    fn runs_of_samples_are_episodes_and_a_gap_resolves() {
        let s = series("firing", &[60_000, 120_000, 180_000, 420_000, 360_000]);
        let eps = firing_episodes(&[s], 60_000, 600_000);
        assert_eq!(eps.len(), 2);
        assert_eq!((eps[0].starts_at, eps[0].ends_at), (60_000, Some(240_000)));
        assert_eq!(eps[0].state, AlertState::Resolved);
        assert_eq!((eps[1].starts_at, eps[1].ends_at), (360_000, Some(480_000)));
        let labels: Vec<&str> = eps[0].labels.keys().map(String::as_str).collect();
        assert_eq!(labels, ["alertname", "job"], "no __name__, no alertstate");
    }

    #[test]
    fn pending_is_not_fired_and_the_last_run_may_still_fire() {
        let eps = firing_episodes(
            &[
                series("pending", &[0, 60_000]),
                series("firing", &[540_000, 600_000]),
            ],
            60_000,
            600_000,
        );
        assert_eq!(eps.len(), 1);
        assert_eq!((eps[0].starts_at, eps[0].ends_at), (540_000, None));
        assert_eq!(eps[0].state, AlertState::Active);
    }

    #[test]
    fn nothing_in_nothing_out() {
        assert!(firing_episodes(&[], 60_000, 0).is_empty());
        assert!(firing_episodes(&[series("firing", &[])], 0, 0).is_empty());
    }
}

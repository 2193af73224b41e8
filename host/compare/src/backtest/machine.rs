//! The life of one alert (one label set of one rule) over a rule's
//! evaluation steps, following Prometheus's `AlertingRule.Eval`
//! (rules/alerting.go) step for step:
//!
//! - a label set returned at a step where no alert is active becomes a
//!   *pending* alert, active from that step (`ActiveAt`);
//! - a pending alert still returned at a step at least `for` after
//!   `ActiveAt` starts *firing* there (`FiredAt`; at once when `for` is 0);
//! - a pending alert missing from one step is dropped: it never fired;
//! - a firing alert missing from a step resolves there (`ResolvedAt`),
//!   unless `keep_firing_for` is set: then it keeps firing while the step is
//!   less than `keep_firing_for` after the first step it went missing, and
//!   a return before that makes it a plain firing alert again;
//! - a label set returned again after its alert resolved starts a new alert;
//! - a step at which the rule's evaluation failed (Prometheus refuses a
//!   result with two equal alert label sets) changes nothing.
//!
//! Work is proportional to the steps at which the label set was returned
//! (plus the failed steps), not to the length of the range.

/// One alert's life, in step indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Life {
    /// Step at which it became pending (`ActiveAt`).
    pub(crate) active: u32,
    /// Step at which it started firing (`FiredAt`), if it did.
    pub(crate) fired: Option<u32>,
    /// Step at which it stopped being active: resolved (it had fired) or
    /// dropped (still pending); `None` when still active at the last step.
    pub(crate) end: Option<u32>,
}

/// The timing rules of one alerting rule, in steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timing {
    /// Number of steps.
    pub(crate) steps: u32,
    /// `for`, rounded up to whole steps: firing at `active + for_steps`.
    pub(crate) for_steps: u64,
    /// `keep_firing_for` rounded up to whole steps; 0 when unset.
    pub(crate) keep_steps: u64,
}

impl Timing {
    /// Timing of a rule evaluated every `step_ms` over `steps` steps.
    pub(crate) fn new(steps: u32, step_ms: i64, for_ms: u64, keep_ms: u64) -> Timing {
        let step = step_ms.max(1) as u64;
        Timing {
            steps,
            for_steps: for_ms.div_ceil(step),
            keep_steps: keep_ms.div_ceil(step),
        }
    }
}

/// The lives of the alerts of one label set returned at the sorted,
/// distinct steps `present` (none of them in `failed`, which is sorted).
pub(crate) fn lives(present: &[u32], failed: &[u32], t: Timing) -> Vec<Life> {
    // The first step at or after `i` where the rule evaluated successfully.
    let next_ok = |i: u64| -> Option<u32> {
        let mut i = i;
        while i < u64::from(t.steps) {
            let s = i as u32;
            if failed.binary_search(&s).is_err() {
                return Some(s);
            }
            i += 1;
        }
        None
    };
    let mut out = Vec::new();
    let mut j = 0;
    while let Some(&active) = present.get(j) {
        let mut fired = (t.for_steps == 0).then_some(active);
        let mut last = active;
        let end = loop {
            let next = present.get(j + 1).copied();
            // The step after `last`: the label set is missing there unless
            // it is `next`.
            let Some(after) = next_ok(u64::from(last) + 1) else {
                break None;
            };
            if next == Some(after) {
                j += 1;
                last = after;
                if fired.is_none() && u64::from(after - active) >= t.for_steps {
                    fired = Some(after);
                }
                continue;
            }
            if fired.is_none() || t.keep_steps == 0 {
                break Some(after);
            }
            // Kept firing from `after`; resolved at the first successful
            // step `keep_steps` or more later, unless it is returned first.
            let resolve = next_ok(u64::from(after) + t.keep_steps);
            match (next, resolve) {
                (Some(n), r) if r.is_none_or(|r| n <= r) => {
                    j += 1;
                    last = n;
                }
                (_, r) => break r,
            }
        };
        out.push(Life { active, fired, end });
        j += 1;
    }
    out
}

/// The largest number of alerts active (pending or firing) at one step.
pub(crate) fn max_active(lives: &[Life], steps: u32) -> usize {
    let mut delta = Vec::with_capacity(lives.len() * 2);
    for l in lives {
        delta.push((l.active, 1i64));
        delta.push((l.end.unwrap_or(steps), -1));
    }
    // At one step, ends (-1) count before starts (+1).
    delta.sort_unstable();
    let mut now = 0i64;
    let mut max = 0i64;
    for (_, d) in delta {
        now += d;
        max = max.max(now);
    }
    max as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(steps: u32, for_steps: u64, keep_steps: u64) -> Timing {
        Timing {
            steps,
            for_steps,
            keep_steps,
        }
    }

    fn life(active: u32, fired: Option<u32>, end: Option<u32>) -> Life {
        Life { active, fired, end }
    }

    #[test]
    fn for_zero_fires_at_once_and_resolves_when_missing() {
        assert_eq!(
            lives(&[2, 3, 4, 7], &[], t(10, 0, 0)),
            [life(2, Some(2), Some(5)), life(7, Some(7), Some(8))]
        );
        // Still firing at the last step.
        assert_eq!(lives(&[8, 9], &[], t(10, 0, 0)), [life(8, Some(8), None)]);
    }

    #[test]
    fn for_waits_and_a_gap_drops_the_pending_alert() {
        // for = 2 steps: returned at 0,1 then missing at 2: dropped.
        // Returned 3..=6: pending at 3, firing at 5, resolved at 7.
        assert_eq!(
            lives(&[0, 1, 3, 4, 5, 6], &[], t(10, 2, 0)),
            [life(0, None, Some(2)), life(3, Some(5), Some(7))]
        );
        // Pending at the end of the range.
        assert_eq!(lives(&[8, 9], &[], t(10, 2, 0)), [life(8, None, None)]);
    }

    #[test]
    fn keep_firing_for_bridges_gaps_shorter_than_it() {
        // keep = 3 steps. Missing at 2,3 (bridged), returned 4, missing from
        // 5: kept at 5,6,7, resolved at 8.
        assert_eq!(
            lives(&[0, 1, 4], &[], t(12, 0, 3)),
            [life(0, Some(0), Some(8))]
        );
        // Returned exactly when it would have resolved: still the same
        // alert, kept again from 4, resolved at 7.
        assert_eq!(lives(&[0, 3], &[], t(9, 0, 3)), [life(0, Some(0), Some(7))]);
        // A pending alert is not kept.
        assert_eq!(
            lives(&[0, 2], &[], t(5, 1, 3)),
            [life(0, None, Some(1)), life(2, None, Some(3))]
        );
        // Kept past the end of the range.
        assert_eq!(lives(&[0], &[], t(3, 0, 5)), [life(0, Some(0), None)]);
    }

    #[test]
    fn failed_steps_change_nothing() {
        // Missing at 2 would drop the pending alert, but step 2 failed.
        assert_eq!(
            lives(&[0, 1, 3], &[2], t(5, 3, 0)),
            [life(0, Some(3), Some(4))]
        );
        // A failed last step keeps the alert active.
        assert_eq!(lives(&[0], &[1], t(2, 0, 0)), [life(0, Some(0), None)]);
    }

    #[test]
    fn counts_alerts_active_together() {
        let l = [
            life(0, Some(0), Some(3)),
            life(3, Some(3), None),
            life(1, None, Some(2)),
        ];
        assert_eq!(max_active(&l, 5), 2);
        assert_eq!(max_active(&[], 5), 0);
    }
}

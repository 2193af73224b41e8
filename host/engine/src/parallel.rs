//! Parallel run: poll both systems' adapters every interval for the window,
//! journal each poll's new episodes, compare everything seen.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use cutover_compare::{Alert, AlertState, CompareOptions, Report, compare};
use cutover_plan::{Phase, Step, StepAction, SystemSide};
use cutover_runtime::wit;

use crate::error::EngineError;
use crate::event::{Event, SeenAlert, StepStatus};
use crate::runner::{Runner, StepExec, StepRun, now_ms};

fn seen(a: &wit::Alert) -> SeenAlert {
    SeenAlert {
        labels: a.labels.iter().cloned().collect(),
        starts_at: a.starts_at,
        ends_at: a.ends_at,
        state: match a.state {
            wit::AlertState::Active => "active",
            wit::AlertState::Suppressed => "suppressed",
            wit::AlertState::Resolved => "resolved",
        }
        .to_string(),
        fingerprint: a.fingerprint.clone(),
    }
}

fn to_compare(a: &SeenAlert, source: &str) -> Alert {
    Alert {
        labels: a.labels.clone(),
        annotations: BTreeMap::new(),
        starts_at: a.starts_at,
        ends_at: a.ends_at,
        state: match a.state.as_str() {
            "suppressed" => AlertState::Suppressed,
            "resolved" => AlertState::Resolved,
            _ => AlertState::Active,
        },
        source: source.to_string(),
        fingerprint: a.fingerprint.clone(),
    }
}

/// Compare options of a parallel-run step.
pub fn options_of(
    ignore_labels: &[String],
    rename: &BTreeMap<String, String>,
    tolerance_ms: u64,
) -> CompareOptions {
    CompareOptions {
        ignore_labels: ignore_labels.to_vec(),
        rename_alerts: rename.iter().map(|(a, b)| (a.clone(), b.clone())).collect(),
        tolerance: Duration::from_millis(tolerance_ms),
        ..CompareOptions::default()
    }
}

/// Compares what each side fired.
pub fn compare_seen(old: &[SeenAlert], new: &[SeenAlert], opts: &CompareOptions) -> Report {
    let o: Vec<Alert> = old.iter().map(|a| to_compare(a, "old")).collect();
    let n: Vec<Alert> = new.iter().map(|a| to_compare(a, "new")).collect();
    compare(&o, &n, opts)
}

fn fresh(all: Vec<wit::Alert>, known: &BTreeSet<(String, i64)>) -> Vec<SeenAlert> {
    let mut out: Vec<SeenAlert> = Vec::new();
    for a in all.iter().map(seen) {
        let key = a.episode_key();
        if !known.contains(&key) && !out.iter().any(|x| x.episode_key() == key) {
            out.push(a);
        }
    }
    out
}

impl Runner<'_> {
    fn collect(
        &mut self,
        side: SystemSide,
        window: wit::Window,
    ) -> Result<(Vec<wit::Alert>, String), String> {
        let (_, adapter) = self.adapter(side)?;
        self.plugins
            .runtime()
            .collect_alerts(&adapter.plugin, &adapter.sandbox, window)
            .map(|a| (a, adapter.digest.clone()))
            .map_err(|e| format!("collecting alerts from the {side} system: {e}"))
    }

    pub(crate) fn parallel_run(
        &mut self,
        phase: &Phase,
        step: &Step,
    ) -> Result<StepRun, EngineError> {
        let StepAction::ParallelRun {
            window_ms,
            interval_ms,
            tolerance_ms,
            ignore_labels,
            rename,
            min_match_rate,
            shadow,
        } = &step.action
        else {
            return Ok(StepRun::Done(StepExec::new(
                StepStatus::Failed,
                "not a parallel run",
            )));
        };
        let opts = options_of(ignore_labels, rename, *tolerance_ms);
        let (started, deadline) = match self.view.steps.get(&step.id).and_then(|s| s.deadline) {
            Some(d) => d,
            None => {
                let now = now_ms();
                let d = now.saturating_add(i64::try_from(*window_ms).unwrap_or(i64::MAX));
                self.emit(Event::StepDeadline {
                    step: step.id.clone(),
                    started_ms: now,
                    deadline_ms: d,
                })?;
                (now, d)
            }
        };
        let interval = i64::try_from((*interval_ms).max(1)).unwrap_or(i64::MAX);
        let total_polls = window_ms.div_ceil((*interval_ms).max(1)) + 1;
        let mut digest;
        loop {
            let now = now_ms();
            let window = wit::Window {
                start: started,
                end: now.max(started),
            };
            let collected = self.collect(SystemSide::Old, window).and_then(|(o, _)| {
                self.collect(SystemSide::New, window)
                    .map(|(n, d)| (o, n, d))
            });
            let (old, new, d) = match collected {
                Ok(x) => x,
                Err(e) => {
                    let status = if *shadow {
                        StepStatus::Shadow
                    } else {
                        StepStatus::Failed
                    };
                    let mut ex = StepExec::new(status, e);
                    ex.verdict = Some("error".into());
                    return Ok(StepRun::Done(ex));
                }
            };
            digest = d;
            let sv = self.view.steps.get(&step.id);
            let known_old: BTreeSet<_> = sv
                .map(|s| s.seen_old.iter().map(SeenAlert::episode_key).collect())
                .unwrap_or_default();
            let known_new: BTreeSet<_> = sv
                .map(|s| s.seen_new.iter().map(SeenAlert::episode_key).collect())
                .unwrap_or_default();
            let poll = sv.map_or(0, |s| s.polls) + 1;
            let (new_old, new_new) = (fresh(old, &known_old), fresh(new, &known_new));
            let (mut all_old, mut all_new) = sv
                .map(|s| (s.seen_old.clone(), s.seen_new.clone()))
                .unwrap_or_default();
            all_old.extend(new_old.iter().cloned());
            all_new.extend(new_new.iter().cloned());
            let report = compare_seen(&all_old, &all_new, &opts);
            self.emit(Event::ParallelPoll {
                step: step.id.clone(),
                poll,
                old: new_old,
                new: new_new,
                match_rate: report.match_rate,
            })?;
            if self.opts.progress {
                eprintln!(
                    "{}: poll {poll}/{total_polls}: old {} new {} matched {} match rate {}",
                    step.id,
                    report.total_old,
                    report.total_new,
                    report.matched,
                    report
                        .match_rate
                        .map_or("n/a".to_string(), |r| format!("{:.1}%", r * 100.0)),
                );
            }
            if now >= deadline {
                break;
            }
            let next = now.saturating_add(interval).min(deadline);
            if let Some(out) = self.sleep_until(next, &phase.id, step.idempotent)? {
                return Ok(StepRun::Stop(out));
            }
        }
        let s = self.view.steps.get(&step.id);
        let (all_old, all_new) = s
            .map(|s| (s.seen_old.clone(), s.seen_new.clone()))
            .unwrap_or_default();
        let polls = s.map_or(0, |s| s.polls);
        let report = compare_seen(&all_old, &all_new, &opts);
        let passed = match (report.match_rate, min_match_rate) {
            (None, _) => false,
            (Some(r), Some(min)) => r >= *min,
            (Some(_), None) => report.verdict == cutover_compare::Verdict::Pass,
        };
        let verdict = match (report.match_rate, passed) {
            (None, _) => "no-data",
            (Some(_), true) => "pass",
            (Some(_), false) => "fail",
        };
        let status = match (*shadow, passed) {
            (true, _) => StepStatus::Shadow,
            (false, true) => StepStatus::Succeeded,
            (false, false) => StepStatus::Failed,
        };
        let rate = report
            .match_rate
            .map_or("n/a (no data is never a pass)".to_string(), |r| {
                format!("{:.1}%", r * 100.0)
            });
        let min = min_match_rate.map_or(String::new(), |m| format!(", minimum {:.1}%", m * 100.0));
        let mut ex = StepExec::new(
            status,
            format!(
                "match rate {rate}{min}: {} matched, {} missing, {} extra over {polls} polls{}",
                report.matched,
                report.missing,
                report.extra,
                if *shadow {
                    " (shadow: never gates)"
                } else {
                    ""
                }
            ),
        );
        ex.verdict = Some(verdict.to_string());
        ex.details = serde_json::json!({
            "compare_verdict": report.verdict.to_string(),
            "match_rate": report.match_rate,
            "min_match_rate": min_match_rate,
            "matched": report.matched,
            "missing": report.missing,
            "extra": report.extra,
            "total_old": report.total_old,
            "total_new": report.total_new,
            "risk_level": report.risk_level.to_string(),
            "polls": polls,
            "shadow": shadow,
            "missing_alerts": report.missing_alerts.iter().map(|a| a.key.clone()).collect::<Vec<_>>(),
            "extra_alerts": report.extra_alerts.iter().map(|a| a.key.clone()).collect::<Vec<_>>(),
        });
        ex.plugin = Some(self.plan.plan.systems.new.adapter.clone());
        ex.digest = Some(digest);
        Ok(StepRun::Done(ex))
    }
}

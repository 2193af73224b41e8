//! The end of a parallel run's window: the comparison of everything seen,
//! judged by [`crate::gate::judge`], its reports, and the step's result. An
//! inconclusive window leaves the step open and stops the run for a person.

use cutover_compare::{NoiseFloor, Report};
use cutover_plan::{Phase, Step, StepAction};

use crate::details::{NoiseFloorDetails, ParallelRunDetails, StepDetails};
use crate::episodes::{compare_seen, noise_so_far, options_by, pct};
use crate::error::EngineError;
use crate::event::StepStatus;
use crate::gate::{self, Gate, GateRules, Judgement, judge, noisy_episodes};
use crate::runner::{Runner, StepExec, StepRun};

/// How many missing or extra alerts a step's journaled details name (the
/// counts are whole; the written reports list every one): a batch of a
/// thousand services must not outgrow a journal record.
const MAX_LISTED: usize = 1000;

/// The `by` label of a parallel-run step.
fn by_label_of(step: &Step) -> Option<&str> {
    match &step.action {
        StepAction::ParallelRun { by, .. } => by.as_deref(),
        _ => None,
    }
}

/// A parallel run's window, compared and judged.
pub(crate) struct Window {
    /// Old against new, with the noise floor when there is one.
    pub report: Report,
    /// Old against the noise source, or why it could not be read.
    pub noise_cmp: Option<Result<Report, String>>,
    /// The gate's decision.
    pub judgement: Judgement,
    /// Polls recorded.
    pub polls: u32,
    /// Polls whose noise read failed.
    pub noise_failures: u32,
    /// The last noise read error.
    pub noise_error: Option<String>,
    /// Noise episodes seen.
    pub total_noise: usize,
}

impl Runner<'_> {
    /// Compares and judges everything `step` (a parallel run whose window
    /// opened at `started`) journaled so far; `min_match_rate` replaces the
    /// step's own minimum (a checklist item judging the run at its own
    /// bar). `None` for a step that is not a parallel run.
    pub(crate) fn judge_window(
        &self,
        step: &Step,
        started: i64,
        min_match_rate: Option<f64>,
    ) -> Option<Window> {
        let StepAction::ParallelRun {
            tolerance_ms,
            ignore_labels,
            rename,
            min_match_rate: step_min,
            noise,
            max_missing,
            min_alerts,
            noise_tolerant,
            allow_missing,
            by,
            ..
        } = &step.action
        else {
            return None;
        };
        let opts = options_by(ignore_labels, rename, *tolerance_ms, by.as_deref());
        let s = self.view.steps.get(&step.id);
        let (all_old, all_new, all_noise) = s
            .map(|s| {
                (
                    s.seen_old.as_slice(),
                    s.seen_new.as_slice(),
                    s.seen_noise.as_slice(),
                )
            })
            .unwrap_or_default();
        let polls = s.map_or(0, |s| s.polls);
        let noise_failures = s.map_or(0, |s| s.noise_failures);
        let noise_error = s.and_then(|s| s.noise_error.clone());
        let mut report = compare_seen(all_old, all_new, &opts, started);
        let noise_cmp = noise.as_ref().map(|_| {
            noise_so_far(
                all_old,
                all_noise,
                polls.saturating_sub(noise_failures),
                noise_error.as_deref(),
                &opts,
                started,
            )
        });
        let noisy = match &noise_cmp {
            Some(Ok(n)) => {
                report = report.with_noise_floor(NoiseFloor::from_report(n));
                noisy_episodes(n)
            }
            _ => Default::default(),
        };
        let rules = GateRules {
            min_match_rate: min_match_rate.or(*step_min),
            max_missing: *max_missing,
            min_alerts: *min_alerts,
            noise_tolerant: *noise_tolerant,
            allow_missing: allow_missing.clone(),
        };
        let judgement = judge(&report, &noisy, &rules);
        Some(Window {
            report,
            noise_cmp,
            judgement,
            polls,
            noise_failures,
            noise_error,
            total_noise: all_noise.len(),
        })
    }

    /// Judges the window of `step` that opened at `started` on the episodes
    /// journaled so far. `accepted_by`: an operator accepted an
    /// inconclusive window by name.
    pub(crate) fn parallel_verdict(
        &mut self,
        phase: &Phase,
        step: &Step,
        started: i64,
        accepted_by: Option<String>,
    ) -> Result<StepRun, EngineError> {
        let (
            StepAction::ParallelRun {
                min_match_rate,
                shadow,
                noise,
                ..
            },
            Some(w),
        ) = (&step.action, self.judge_window(step, started, None))
        else {
            return Ok(StepRun::Done(StepExec::new(
                StepStatus::Failed,
                "not a parallel run",
            )));
        };
        let Window {
            report,
            noise_cmp,
            judgement,
            polls,
            noise_failures,
            noise_error,
            total_noise,
        } = w;
        let written = self.step_ctx().write_reports(&step.id, &report);
        let target = format!("{}/{}", phase.id, step.id);
        if judgement.gate == Gate::Inconclusive && !*shadow && accepted_by.is_none() {
            let reason = format!(
                "parallel run {target} is inconclusive: {}; extend the window with `cutover approve PLAN {target} --extend 1h` or accept it with `cutover approve PLAN {target} --by NAME`",
                judgement.reason
            );
            return self.stop_inconclusive(phase, step, target, reason);
        }
        let status = gate::step_status(judgement.gate, *shadow, accepted_by.is_some());
        let noise_text = match (noise, &noise_cmp) {
            (Some(src), Some(Ok(n))) => format!(
                "; noise floor {} against {src} ({} missing, {} extra{}){}",
                pct(n.match_rate),
                n.missing,
                n.extra,
                if noise_failures > 0 {
                    format!("; {noise_failures} of {polls} noise reads failed")
                } else {
                    String::new()
                },
                if !judgement.noisy_alerts.is_empty() {
                    format!("; {} noisy", judgement.noisy_alerts.len())
                } else {
                    String::new()
                }
            ),
            (Some(src), Some(Err(e))) => format!("; noise floor against {src} unavailable: {e}"),
            _ => String::new(),
        };
        let scope = self.plan.plan.compared_selection(&phase.id, step);
        let scope_text = match self.plan.plan.wave_of(&step.id) {
            Some((w, b, _)) => format!(
                " in waves {}-{} of {} ({} {} values)",
                b.first_wave,
                b.last_wave,
                w.waves(),
                b.services,
                w.label
            ),
            None if scope.is_all() => String::new(),
            None => format!(" in scope {scope}"),
        };
        // Which services lost alerts: named, so a failed wave says where.
        let services_missing: Vec<String> = report
            .by_label
            .iter()
            .flatten()
            .filter(|(_, b)| b.missing > 0)
            .map(|(v, _)| v.clone())
            .collect();
        let by_text = match (&services_missing[..], by_label_of(step)) {
            ([], _) | (_, None) => String::new(),
            (names, Some(label)) => format!(
                "; missing alerts in {} {label} value{}: {}{}",
                names.len(),
                if names.len() == 1 { "" } else { "s" },
                names
                    .iter()
                    .take(10)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
                if names.len() > 10 { ", ..." } else { "" }
            ),
        };
        let mut summary = format!(
            "{}: {}; {} matched, {} missing, {} extra over {polls} polls{scope_text}{by_text}{noise_text}",
            judgement.gate.as_str(),
            judgement.reason,
            report.matched,
            report.missing,
            report.extra,
        );
        if let (Gate::Inconclusive, Some(by)) = (judgement.gate, &accepted_by) {
            summary = format!("accepted by {by}: {summary}");
        }
        if *shadow {
            summary.push_str(" (shadow: never gates)");
        }
        let mut ex = StepExec::new(status, summary);
        ex.verdict = Some(judgement.gate.as_str().to_string());
        let noise_floor = match (noise, &noise_cmp) {
            (Some(src), Some(cmp)) => Some(NoiseFloorDetails {
                source: src.as_plan_value().to_string(),
                available: cmp.is_ok(),
                match_rate: cmp.as_ref().ok().and_then(|n| n.match_rate),
                missing: cmp.as_ref().ok().map(|n| n.missing),
                extra: cmp.as_ref().ok().map(|n| n.extra),
                total_noise,
                failed_reads: noise_failures,
                error: noise_error,
            }),
            _ => None,
        };
        let (reports, report_error) = match written {
            Ok(files) => (Some(files), None),
            Err(e) => {
                // The verdict stands on the journal; a report that cannot be
                // written is noted, never fatal.
                tracing::warn!(step = %step.id, "{e}");
                ex.summary = format!("{} (report not written: {e})", ex.summary);
                (None, Some(e))
            }
        };
        ex.details = StepDetails::ParallelRun(Box::new(ParallelRunDetails {
            scope: scope.clone(),
            compare_verdict: report.verdict,
            match_rate: report.match_rate,
            min_match_rate: *min_match_rate,
            matched: report.matched,
            missing: report.missing,
            extra: report.extra,
            total_old: report.total_old,
            total_new: report.total_new,
            risk_level: report.risk_level,
            polls,
            shadow: *shadow,
            missing_alerts: report
                .missing_alerts
                .iter()
                .take(MAX_LISTED)
                .map(|a| a.key.clone())
                .collect(),
            extra_alerts: report
                .extra_alerts
                .iter()
                .take(MAX_LISTED)
                .map(|a| a.key.clone())
                .collect(),
            services_missing,
            gate: judgement,
            accepted_by: accepted_by.clone(),
            noise_floor,
            reports,
            report_error,
        }));
        ex.plugin = Some(self.plan.plan.systems.new.adapter.clone());
        ex.digest = self
            .plugins
            .adapter(cutover_plan::SystemSide::New)
            .ok()
            .map(|(_, a)| a.digest);
        Ok(StepRun::Done(ex))
    }
}

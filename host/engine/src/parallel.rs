//! Parallel run: poll both systems' adapters (and the noise source, when
//! the step has one) every interval for the window, journal each poll's new
//! episodes, compare everything seen.

use std::collections::BTreeSet;

use cutover_compare::Report;
use cutover_plan::{NoiseSource, Phase, Step, StepAction, SystemSide};
use cutover_runtime::wit;

use crate::episodes::{compare_seen, fresh, in_scope, noise_so_far, options_of, pct};
use crate::error::EngineError;
use crate::event::{Event, SeenAlert, StepStatus};
use crate::journal::now_ms;
use crate::runner::{Runner, StepExec, StepRun};
use crate::step_ctx::StepCtx;
use crate::view::StepView;

/// `width` cells of a bar `done` / `total` full.
fn bar(done: i64, total: i64, width: usize) -> String {
    let frac = if total <= 0 {
        1.0
    } else {
        (done as f64 / total as f64).clamp(0.0, 1.0)
    };
    let full = ((frac * width as f64).round() as usize).min(width);
    format!("[{}{}]", "#".repeat(full), ".".repeat(width - full))
}

/// The progress bar of a parallel run with its running match rate (and the
/// noise match rate, when the step measures one), on stderr: redrawn in
/// place on a terminal, one line per poll otherwise.
fn progress_line(
    step: &str,
    elapsed_ms: i64,
    window_ms: i64,
    (poll, total_polls): (u32, u64),
    report: &Report,
    noise: Option<&Result<Report, String>>,
    last: bool,
) {
    use std::io::{IsTerminal, Write};
    let done = if window_ms <= 0 {
        100
    } else {
        (elapsed_ms.clamp(0, window_ms) * 100 / window_ms) as u32
    };
    let rate = pct(report.match_rate);
    let noise = match noise {
        None => String::new(),
        Some(Ok(n)) => format!(" | noise match rate {}", pct(n.match_rate)),
        Some(Err(_)) => " | noise unavailable".to_string(),
    };
    let line = format!(
        "{step}: poll {poll}/{total_polls} {} {done:>3}% | old {} new {} matched {} missing {} extra {} | match rate {rate}{noise}",
        bar(elapsed_ms, window_ms, 24),
        report.total_old,
        report.total_new,
        report.matched,
        report.missing,
        report.extra,
    );
    let mut err = std::io::stderr().lock();
    if err.is_terminal() {
        let _ = write!(err, "\r\x1b[2K{line}{}", if last { "\n" } else { "" });
        let _ = err.flush();
    } else {
        let _ = writeln!(err, "{line}");
    }
}

/// What a parallel run asks of the plugins and the state directory: no
/// journaling (the runner journals each poll).
impl StepCtx<'_, '_> {
    /// Writes the step's report as `reports/<step>.{json,md,html}` in the
    /// state directory (each atomically); returns the paths written.
    pub(crate) fn write_reports(&self, step: &str, report: &Report) -> Result<Vec<String>, String> {
        use cutover_compare::{JsonLayout, OutputFormat, write_report};
        let dir = self.state_dir.join("reports");
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut files = Vec::new();
        for (format, ext) in [
            (OutputFormat::Json, "json"),
            (OutputFormat::Md, "md"),
            (OutputFormat::Html, "html"),
        ] {
            let path = dir.join(format!("{step}.{ext}"));
            write_report(report, format, JsonLayout::default(), &path)
                .map_err(|e| e.to_string())?;
            files.push(path.display().to_string());
        }
        Ok(files)
    }

    /// The alerts of `side` over `window`: streamed when its adapter
    /// exports `collect-alerts-into` (contract 0.1.3), else listed; owned
    /// here because the poll keeps and journals them.
    pub(crate) fn collect(
        &mut self,
        side: SystemSide,
        window: wit::Window,
    ) -> Result<(Vec<wit::Alert>, String), String> {
        let (_, adapter) = self.plugins.adapter(side)?;
        self.plugins
            .runtime()
            .collect_alert_batch(&adapter.plugin, &adapter.sandbox, window)
            .map(|b| (b.into_alerts(), adapter.digest.clone()))
            .map_err(|e| format!("collecting alerts from the {side} system: {e}"))
    }

    /// Reads the noise source over `window`: the old system's adapter again,
    /// or the declared secondary adapter.
    pub(crate) fn collect_noise(
        &mut self,
        source: &NoiseSource,
        window: wit::Window,
    ) -> Result<Vec<wit::Alert>, String> {
        match source {
            NoiseSource::SecondRead => self
                .collect(SystemSide::Old, window)
                .map(|(a, _)| a)
                .map_err(|e| format!("second read: {e}")),
            NoiseSource::Adapter(id) => {
                let adapter = self
                    .plugins
                    .get(id)
                    .map_err(|e| format!("noise source `{id}`: {e}"))?;
                self.plugins
                    .runtime()
                    .collect_alert_batch(&adapter.plugin, &adapter.sandbox, window)
                    .map(cutover_runtime::AlertBatch::into_alerts)
                    .map_err(|e| format!("collecting alerts from noise source `{id}`: {e}"))
            }
        }
    }
}

impl Runner<'_> {
    /// A poll could not collect from `side`: the system counts as
    /// unavailable (journaled as a health record, so `system_availability`
    /// drops to 0) and the `system-unavailable` alert policy applies. `None`
    /// when the policy let the run go on (the window keeps polling).
    fn poll_failed(
        &mut self,
        phase: &Phase,
        step: &Step,
        side: SystemSide,
        error: &str,
    ) -> Result<Option<crate::outcome::RunOutcome>, EngineError> {
        tracing::warn!(step = %step.id, "parallel run poll failed: {error}");
        self.emit(Event::HealthChecked {
            phase: phase.id.clone(),
            system: side.to_string(),
            available: false,
            latency_ms: 0,
            message: error.to_string(),
        })?;
        let alert = crate::monitor::MigrationAlert {
            alert: "system-unavailable",
            value: 0.0,
            threshold: 1.0,
            message: format!("the {side} system is unavailable during parallel run: {error}"),
        };
        self.apply_alerts(phase, Some(step), vec![alert])
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
            noise,
            ..
        } = &step.action
        else {
            return Ok(StepRun::Done(StepExec::new(
                StepStatus::Failed,
                "not a parallel run",
            )));
        };
        let opts = options_of(ignore_labels, rename, *tolerance_ms);
        // Only the services moved so far are compared, on both sides.
        let scope = self.plan.plan.compared_selection(&phase.id, step);
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
        // An inconclusive window waits for a person: accepted by name, it
        // finishes on what was seen; extended, the window below goes on.
        if let Some(seq) = self
            .view
            .steps
            .get(&step.id)
            .and_then(|s| s.inconclusive_seq)
        {
            let target = format!("{}/{}", phase.id, step.id);
            let by = self.view.approval_after(&target, seq).map(|a| a.by.clone());
            return self.parallel_verdict(phase, step, started, by);
        }
        let interval = i64::try_from((*interval_ms).max(1)).unwrap_or(i64::MAX);
        let total_polls = window_ms.div_ceil((*interval_ms).max(1)) + 1;
        loop {
            let now = now_ms();
            let window = wit::Window {
                start: started,
                end: now.max(started),
            };
            // Old, then the noise source (right after the old read it
            // calibrates), then new. Only a side failing fails the poll.
            let mut ctx = self.step_ctx();
            let collected = ctx
                .collect(SystemSide::Old, window)
                .map_err(|e| (SystemSide::Old, e))
                .and_then(|(o, _)| {
                    let noise_read = noise.as_ref().map(|src| ctx.collect_noise(src, window));
                    ctx.collect(SystemSide::New, window)
                        .map(|(n, _)| (o, noise_read, n))
                        .map_err(|e| (SystemSide::New, e))
                });
            let (old, noise_read, new) = match collected {
                Ok((old, noise_read, new)) => (
                    in_scope(old, &scope),
                    noise_read.map(|r| r.map(|n| in_scope(n, &scope))),
                    in_scope(new, &scope),
                ),
                Err((side, e)) => {
                    if let Some(out) = self.poll_failed(phase, step, side, &e)? {
                        // The step stays running: its clock and every
                        // episode seen so far are in the journal, and a
                        // resume continues the same window.
                        return Ok(StepRun::Stop(out));
                    }
                    let now = now_ms();
                    if now >= deadline {
                        break;
                    }
                    let next = now.saturating_add(interval).min(deadline);
                    if let Some(out) = self.sleep_until(next, &phase.id, step.idempotent)? {
                        return Ok(StepRun::Stop(out));
                    }
                    continue;
                }
            };
            let sv = self.view.steps.get(&step.id);
            let known = |f: fn(&StepView) -> &Vec<SeenAlert>| -> BTreeSet<(String, i64)> {
                sv.map(|s| f(s).iter().map(SeenAlert::episode_key).collect())
                    .unwrap_or_default()
            };
            let (known_old, known_new, known_noise) = (
                known(|s| &s.seen_old),
                known(|s| &s.seen_new),
                known(|s| &s.seen_noise),
            );
            let poll = sv.map_or(0, |s| s.polls) + 1;
            let (new_old, new_new) = (fresh(old, &known_old), fresh(new, &known_new));
            let (new_noise, noise_error) = match noise_read {
                None => (Vec::new(), None),
                Some(Ok(n)) => (fresh(n, &known_noise), None),
                Some(Err(e)) => {
                    // Calibration only: noted, never a policy or a failure.
                    tracing::warn!(step = %step.id, "noise source unavailable: {e}");
                    (Vec::new(), Some(e))
                }
            };
            let (mut all_old, mut all_new) = sv
                .map(|s| (s.seen_old.clone(), s.seen_new.clone()))
                .unwrap_or_default();
            all_old.extend(new_old.iter().cloned());
            all_new.extend(new_new.iter().cloned());
            let report = compare_seen(&all_old, &all_new, &opts, started);
            let noise_progress = match noise {
                Some(_) if self.opts.progress => {
                    let mut all_noise = sv.map(|s| s.seen_noise.clone()).unwrap_or_default();
                    all_noise.extend(new_noise.iter().cloned());
                    let failures =
                        sv.map_or(0, |s| s.noise_failures) + u32::from(noise_error.is_some());
                    let last_error = noise_error
                        .clone()
                        .or_else(|| sv.and_then(|s| s.noise_error.clone()));
                    Some(noise_so_far(
                        &all_old,
                        &all_noise,
                        poll.saturating_sub(failures),
                        last_error.as_deref(),
                        &opts,
                        started,
                    ))
                }
                _ => None,
            };
            self.emit_batch(poll_records(
                &step.id,
                poll,
                (new_old, new_new, new_noise),
                report.match_rate,
                noise_error,
            ))?;
            if self.opts.progress {
                progress_line(
                    &step.id,
                    now.saturating_sub(started),
                    deadline.saturating_sub(started),
                    (poll, total_polls),
                    &report,
                    noise_progress.as_ref(),
                    now >= deadline,
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
        self.parallel_verdict(phase, step, started, None)
    }
}

/// Episodes per `parallel-poll` record: a poll that sees a batch of a
/// thousand services' alerts is journaled as several records of at most
/// this many episodes (each well under the journal's record size limit),
/// committed together. The view folds them as one poll.
pub(crate) const EPISODES_PER_RECORD: usize = 10_000;

/// The records of one poll: its new episodes in parts of at most
/// [`EPISODES_PER_RECORD`], every part with the poll's number and rate.
pub(crate) fn poll_records(
    step: &str,
    poll: u32,
    (old, new, noise): (Vec<SeenAlert>, Vec<SeenAlert>, Vec<SeenAlert>),
    match_rate: Option<f64>,
    noise_error: Option<String>,
) -> Vec<Event> {
    let mut parts = Vec::new();
    let (mut old, mut new, mut noise) = (old.into_iter(), new.into_iter(), noise.into_iter());
    loop {
        let mut room = EPISODES_PER_RECORD;
        let take = |it: &mut std::vec::IntoIter<SeenAlert>, room: &mut usize| {
            let part: Vec<SeenAlert> = it.by_ref().take(*room).collect();
            *room -= part.len();
            part
        };
        let o = take(&mut old, &mut room);
        let n = take(&mut new, &mut room);
        let z = take(&mut noise, &mut room);
        let last =
            old.as_slice().is_empty() && new.as_slice().is_empty() && noise.as_slice().is_empty();
        parts.push(Event::ParallelPoll {
            step: step.to_string(),
            poll,
            old: o,
            new: n,
            match_rate,
            noise: z,
            noise_error: if last { noise_error.clone() } else { None },
        });
        if last {
            return parts;
        }
    }
}

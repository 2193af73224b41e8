//! End-of-phase checklist: items in order; a failed critical item stops the
//! checklist at once and its `on_failure` policy decides the phase.

use cutover_plan::{ChecklistItem, MatchRateCheck, OnFailure, Phase};

use crate::error::EngineError;
use crate::event::{Event, ItemStatus};
use crate::gate::{self, CheckVerdict, Gate};
use crate::outcome::RunOutcome;
use crate::runner::Runner;

fn on_failure_name(p: OnFailure) -> &'static str {
    match p {
        OnFailure::Halt => "halt",
        OnFailure::Warn => "warn",
        OnFailure::Pause => "pause",
        OnFailure::Rollback => "rollback",
    }
}

/// A shadow item is recorded, never gates; `pass` passes, `fail` (or a
/// plugin error) fails; a verdict that cannot judge (`inconclusive`,
/// `no-data`) waits for a person like a manual item does.
fn item_status(item: &ChecklistItem, verdict: CheckVerdict) -> ItemStatus {
    gate::item_status(verdict.gate(), item.shadow, item.critical)
}

/// An item nobody has judged: a critical one waits for a confirmation by
/// name, a non-critical one is recorded unconfirmed and does not stop.
fn needs_a_person(item: &ChecklistItem) -> ItemStatus {
    gate::item_status(Gate::Inconclusive, false, item.critical)
}

impl Runner<'_> {
    /// Evaluates one item and journals it; returns its status and journal seq.
    fn evaluate_item(
        &mut self,
        phase: &Phase,
        index: usize,
        item: &ChecklistItem,
    ) -> Result<(ItemStatus, String, u64), EngineError> {
        let (status, verdict, message, digest) = match (&item.check, &item.match_rate) {
            (_, Some(mr)) => {
                let (verdict, message) = self.judge_match_rate(phase, mr);
                let status = item_status(item, verdict);
                (status, Some(verdict.as_str().to_string()), message, None)
            }
            (None, None) => (
                if item.shadow {
                    ItemStatus::Shadow
                } else {
                    needs_a_person(item)
                },
                None,
                format!(
                    "no check: a manual confirmation; confirm with `cutover approve PLAN {} --item {index} --by NAME`",
                    phase.id
                ),
                None,
            ),
            (Some(plugin), None) => {
                let step = format!("checklist-{index}");
                let e = self
                    .step_ctx()
                    .evaluate(&phase.id, &step, plugin, &item.params);
                let status = item_status(item, e.verdict);
                (
                    status,
                    Some(e.verdict.as_str().to_string()),
                    e.message,
                    e.digest,
                )
            }
        };
        let seq = self.emit(Event::ChecklistItem {
            phase: phase.id.clone(),
            index,
            item: item.item.clone(),
            critical: item.critical,
            status,
            verdict,
            message: message.clone(),
            on_failure: on_failure_name(item.on_failure).to_string(),
            digest,
        })?;
        Ok((status, message, seq))
    }

    /// Verdict (`pass`, `fail`, `inconclusive`, `no-data`) and message of a
    /// built-in match-rate item: the parallel run it names, judged by the
    /// one gate ([`crate::gate::judge`]) at the item's minimum.
    fn judge_match_rate(&self, phase: &Phase, mr: &MatchRateCheck) -> (CheckVerdict, String) {
        let done = self.view.steps.get(&mr.step).filter(|s| s.status.is_done());
        let step = phase.steps.iter().find(|s| s.id == mr.step);
        let (Some(view), Some(step)) = (done, step) else {
            return (
                CheckVerdict::NoData,
                format!("parallel run `{}` has not finished", mr.step),
            );
        };
        let started = view.deadline.map_or(0, |(s, _)| s);
        let Some(w) = self.judge_window(step, started, Some(mr.min)) else {
            return (
                CheckVerdict::NoData,
                format!("`{}` is not a parallel run", mr.step),
            );
        };
        let r = &w.report;
        (
            w.judgement.gate.into(),
            format!(
                "{} at minimum {:.1}% (parallel run `{}`: {} matched, {} missing, {} extra)",
                w.judgement.reason,
                mr.min * 100.0,
                mr.step,
                r.matched,
                r.missing,
                r.extra
            ),
        )
    }

    /// Runs the phase's checklist; `Some` when the run stops here.
    pub(crate) fn run_checklist(
        &mut self,
        phase: &Phase,
    ) -> Result<Option<RunOutcome>, EngineError> {
        for (index, item) in phase.checklist.iter().enumerate() {
            let recorded = self
                .view
                .phases
                .get(&phase.id)
                .and_then(|p| p.items.iter().find(|i| i.index == index))
                .map(|i| (i.status, i.message.clone(), i.seq));
            let (status, message, seq) = match recorded {
                Some(r) => r,
                None => self.evaluate_item(phase, index, item)?,
            };
            if status == ItemStatus::AwaitingConfirmation {
                let reason = format!(
                    "critical checklist item {index} {:?} needs a person: {message}",
                    item.item
                );
                // Journaled on every attempt: the resume cleared the pause.
                self.emit(Event::Paused {
                    phase: Some(phase.id.clone()),
                    reason: reason.clone(),
                    by: "checklist".to_string(),
                })?;
                return Ok(Some(RunOutcome::Paused { reason }));
            }
            if status != ItemStatus::Failed || !item.critical {
                continue;
            }
            let reason = format!("critical checklist item {:?} failed: {message}", item.item);
            match item.on_failure {
                OnFailure::Warn => {
                    tracing::warn!(phase = %phase.id, "{reason} (on_failure = warn: continuing)");
                    return Ok(None);
                }
                OnFailure::Halt => return self.fail_phase(&phase.id, None, reason).map(Some),
                OnFailure::Pause => {
                    if self.view.approval_after(&phase.id, seq).is_some() {
                        continue;
                    }
                    // Journaled on every attempt: the resume cleared the pause.
                    self.emit(Event::Paused {
                        phase: Some(phase.id.clone()),
                        reason: reason.clone(),
                        by: "checklist".to_string(),
                    })?;
                    return Ok(Some(RunOutcome::Paused {
                        reason: format!(
                            "{reason}; approve with `cutover approve PLAN {}` to accept it",
                            phase.id
                        ),
                    }));
                }
                OnFailure::Rollback => {
                    return self
                        .roll_back_to(&phase.id, item.rollback_to.clone(), &reason)
                        .map(Some);
                }
            }
        }
        Ok(None)
    }
}

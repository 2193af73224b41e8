//! Operator commands that read or change a run without running it:
//! status, history, approve, pause, abort, unlock.

use cutover_plan::{LoadedPlan, StepAction};
use cutover_state::{AnyJournal, Journal, Lease};

use crate::control::{Channel, ControlRequest};
use crate::error::EngineError;
use crate::event::{Event, ItemStatus, StepStatus};
use crate::journal::{StateAt, open_journal, take_lease};
use crate::view::{RunStatus, RunView};

pub use crate::journal::{history, status, status_summary};

/// What an approval applied to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    /// `PHASE` or `PHASE/STEP`.
    pub target: String,
    /// Who.
    pub by: String,
    /// Retry requested.
    pub retry: bool,
    /// Journal seq of the `approved` record.
    pub seq: u64,
}

/// Journals a stale lease that an operator command took over.
fn note_recovery(
    journal: &mut AnyJournal,
    rec: Option<cutover_state::StaleRecovery>,
) -> Result<(), EngineError> {
    if let Some(rec) = rec {
        let (kind, payload) = Event::LeaseRecovered {
            holder: rec.previous.holder,
            pid: rec.previous.pid,
            host: rec.previous.host,
            reason: format!("{:?}", rec.reason),
        }
        .to_record();
        journal.append(&kind, payload)?;
    }
    Ok(())
}

fn check_approver(approvers: &[String], by: &str, what: &str) -> Result<(), EngineError> {
    if approvers.is_empty() || approvers.iter().any(|a| a == by) {
        Ok(())
    } else {
        Err(EngineError::Operator(format!(
            "{by} may not approve {what}: approvers are {}",
            approvers.join(", ")
        )))
    }
}

/// Records an approval of `target` (`PHASE` for a gate or a checklist pause,
/// `PHASE/STEP` for an approval step or an interrupted step; `retry` only for
/// an interrupted step). Takes the lease: refused while a runner is active.
pub fn approve(
    plan: &LoadedPlan,
    target: &str,
    by: &str,
    retry: bool,
) -> Result<Approval, EngineError> {
    let state = StateAt::of_plan(plan)?;
    let (phase_id, step_id) = match target.split_once('/') {
        Some((p, s)) => (p, Some(s)),
        None => (target, None),
    };
    let phase = plan
        .plan
        .phases
        .iter()
        .find(|p| p.id == phase_id)
        .ok_or_else(|| EngineError::Operator(format!("no phase `{phase_id}` in the plan")))?;
    let seq = journal_decision(&state, |view| {
        match step_id {
            None => {
                if retry {
                    return Err(EngineError::Operator(
                        "--retry applies to an interrupted step (PHASE/STEP)".into(),
                    ));
                }
                let approvers = phase
                    .gate
                    .as_ref()
                    .map(|g| g.approvers.clone())
                    .unwrap_or_default();
                check_approver(&approvers, by, &format!("phase {phase_id}"))?;
                let paused_here = view
                    .phases
                    .get(phase_id)
                    .and_then(|p| p.paused_seq)
                    .is_some();
                if phase.gate.is_none() && !paused_here {
                    return Err(EngineError::Operator(format!(
                        "phase {phase_id} has no gate and is not paused: nothing to approve"
                    )));
                }
            }
            Some(step_id) => {
                let step = phase
                    .steps
                    .iter()
                    .find(|s| s.id == step_id)
                    .ok_or_else(|| {
                        EngineError::Operator(format!("no step `{step_id}` in phase {phase_id}"))
                    })?;
                let status = view.step_status(step_id);
                let interrupted =
                    matches!(status, StepStatus::NeedsAttention | StepStatus::Running);
                match &step.action {
                    StepAction::Approval { approvers, .. } if !interrupted => {
                        if retry {
                            return Err(EngineError::Operator(
                                "--retry applies to an interrupted step".into(),
                            ));
                        }
                        check_approver(approvers, by, target)?;
                    }
                    _ if interrupted => {}
                    _ => {
                        return Err(EngineError::Operator(format!(
                            "step {target} is {} and neither an approval step nor interrupted: nothing to approve",
                            status.as_str()
                        )));
                    }
                }
            }
        }
        Ok(vec![Event::Approved {
            target: target.to_string(),
            by: by.to_string(),
            retry,
        }])
    })?;
    Ok(Approval {
        target: target.to_string(),
        by: by.to_string(),
        retry,
        seq,
    })
}

/// Takes the lease, opens the run of `state` (refusing when there is
/// none or it has finished), lets `decide` pick the records to journal from
/// the folded view, journals them and returns the last one's seq.
fn journal_decision(
    state: &StateAt,
    decide: impl FnOnce(&RunView) -> Result<Vec<Event>, EngineError>,
) -> Result<u64, EngineError> {
    let backend = state.open()?;
    if !backend.journal_exists()? {
        return Err(EngineError::NoRun(state.describe()));
    }
    let lease = take_lease(&backend, Some("cutover approve"))?;
    let (mut journal, view, _) = open_journal(&backend, &lease.handle)?;
    note_recovery(&mut journal, lease.recovered)?;
    if view.run_id.is_none() {
        return Err(EngineError::NoRun(state.describe()));
    }
    if view.status.is_finished() {
        return Err(EngineError::Operator(format!(
            "the run has already finished ({}); nothing to approve",
            view.status.as_str()
        )));
    }
    let mut seq = 0;
    for ev in decide(&view)? {
        let (kind, payload) = ev.to_record();
        seq = journal.append(&kind, payload)?.seq;
    }
    drop(lease.handle);
    Ok(seq)
}

/// Confirms manual checklist item `index` of `phase` by name (`cutover
/// approve PLAN PHASE --item N`): the item must have been recorded as
/// waiting for a person (or unconfirmed). Returns the journal seq.
pub fn confirm_item(
    plan: &LoadedPlan,
    phase_id: &str,
    index: usize,
    by: &str,
) -> Result<u64, EngineError> {
    let phase = plan
        .plan
        .phases
        .iter()
        .find(|p| p.id == phase_id)
        .ok_or_else(|| EngineError::Operator(format!("no phase `{phase_id}` in the plan")))?;
    let item = phase.checklist.get(index).ok_or_else(|| {
        EngineError::Operator(format!(
            "phase {phase_id} has {} checklist items (0..{}): there is no item {index}",
            phase.checklist.len(),
            phase.checklist.len()
        ))
    })?;
    journal_decision(&StateAt::of_plan(plan)?, |view| {
        let recorded = view
            .phases
            .get(phase_id)
            .and_then(|p| p.items.iter().find(|i| i.index == index));
        match recorded.map(|i| i.status) {
            Some(ItemStatus::AwaitingConfirmation | ItemStatus::Unconfirmed) => {
                Ok(vec![Event::ItemConfirmed {
                    phase: phase_id.to_string(),
                    index,
                    by: by.to_string(),
                }])
            }
            Some(other) => Err(EngineError::Operator(format!(
                "checklist item {index} of {phase_id} ({:?}) is {other:?}, not waiting for a confirmation",
                item.item
            ))),
            None => Err(EngineError::Operator(format!(
                "checklist item {index} of {phase_id} ({:?}) has not been reached yet",
                item.item
            ))),
        }
    })
}

/// Extends the window of an inconclusive parallel run `PHASE/STEP` by
/// `extend_ms` from now (`cutover approve PLAN PHASE/STEP --extend 1h`).
/// Returns the new end of the window (unix ms).
pub fn extend_window(
    plan: &LoadedPlan,
    target: &str,
    by: &str,
    extend_ms: u64,
) -> Result<i64, EngineError> {
    let Some((phase_id, step_id)) = target.split_once('/') else {
        return Err(EngineError::Operator(format!(
            "--extend applies to a parallel run (PHASE/STEP), not {target}"
        )));
    };
    let step = plan
        .plan
        .phases
        .iter()
        .find(|p| p.id == phase_id)
        .and_then(|p| p.steps.iter().find(|s| s.id == step_id))
        .ok_or_else(|| EngineError::Operator(format!("no step {target} in the plan")))?;
    if !matches!(step.action, StepAction::ParallelRun { .. }) {
        return Err(EngineError::Operator(format!(
            "--extend applies to a parallel run; {target} is a {} step",
            step.action.kind().as_str()
        )));
    }
    let deadline =
        crate::journal::now_ms().saturating_add(i64::try_from(extend_ms).unwrap_or(i64::MAX));
    journal_decision(&StateAt::of_plan(plan)?, |view| {
        if view
            .steps
            .get(step_id)
            .and_then(|s| s.inconclusive_seq)
            .is_none()
        {
            return Err(EngineError::Operator(format!(
                "parallel run {target} is not inconclusive: nothing to extend"
            )));
        }
        Ok(vec![Event::WindowExtended {
            step: step_id.to_string(),
            by: by.to_string(),
            deadline_ms: deadline,
        }])
    })?;
    Ok(deadline)
}

/// Whether an operator request was applied to the journal or left for the
/// live runner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// No runner was active: journaled now.
    Journaled,
    /// A runner holds the lease: it journals the request at the next step boundary.
    Posted,
}

fn request(state: &StateAt, req: ControlRequest) -> Result<Delivery, EngineError> {
    let backend = state.open()?;
    if !backend.journal_exists()? {
        return Err(EngineError::NoRun(state.describe()));
    }
    let lease = backend.lease(Some("cutover pause/abort"))?;
    let handle = match lease.acquire() {
        Ok(a) => a,
        Err(cutover_state::LeaseError::Held { .. }) => {
            // Left where the live runner looks: beside it, or in the
            // database that every runner of the plan reads.
            Channel::open(&backend, &state.dir, None)?.post(&req)?;
            return Ok(Delivery::Posted);
        }
        Err(e) => return Err(e.into()),
    };
    let (mut journal, view, _) = open_journal(&backend, &handle.handle)?;
    note_recovery(&mut journal, handle.recovered)?;
    if view.run_id.is_none() {
        return Err(EngineError::NoRun(state.describe()));
    }
    if view.status.is_finished() {
        return Err(EngineError::Operator(format!(
            "the run has already finished ({})",
            view.status.as_str()
        )));
    }
    let current_phase = view
        .phases
        .iter()
        .find(|(_, p)| {
            matches!(
                p.status,
                crate::event::PhaseStatus::Running | crate::event::PhaseStatus::Paused
            )
        })
        .map(|(id, _)| id.clone());
    let evs = match req {
        ControlRequest::Pause { reason, by } => {
            if view.status == RunStatus::Paused {
                return Err(EngineError::Operator("the run is already paused".into()));
            }
            vec![Event::Paused {
                phase: current_phase,
                reason,
                by,
            }]
        }
        ControlRequest::Abort { reason, by } => {
            let mut evs = vec![Event::Aborted { reason, by }];
            if let Some(phase) = current_phase {
                evs.push(Event::PhaseFinished {
                    phase,
                    status: crate::event::PhaseStatus::Aborted,
                });
            }
            evs.push(Event::RunFinished {
                status: crate::event::RunEnd::Aborted,
            });
            evs
        }
    };
    journal.append_batch(evs.iter().map(Event::to_record).collect())?;
    Channel::open(&backend, &state.dir, handle.handle.fence())?.clear();
    drop(handle.handle);
    Ok(Delivery::Journaled)
}

/// Pauses the run (now, or at the live runner's next step boundary).
pub fn pause(state: impl Into<StateAt>, by: &str, reason: &str) -> Result<Delivery, EngineError> {
    request(
        &state.into(),
        ControlRequest::Pause {
            reason: reason.to_string(),
            by: by.to_string(),
        },
    )
}

/// Aborts the run (now, or at the live runner's next step boundary).
pub fn abort(state: impl Into<StateAt>, by: &str, reason: &str) -> Result<Delivery, EngineError> {
    request(
        &state.into(),
        ControlRequest::Abort {
            reason: reason.to_string(),
            by: by.to_string(),
        },
    )
}

/// Removes the lease by force (a runner that died on another host, or a
/// wedged one) and journals `unlocked` with the reason. Returns the removed
/// lease file's content.
pub fn unlock(state: impl Into<StateAt>, reason: &str) -> Result<Option<String>, EngineError> {
    let backend = state.into().open()?;
    backend.ensure()?;
    let lease = backend.lease(Some("cutover unlock"))?;
    let removed = lease.force_unlock(reason)?;
    let handle = lease.acquire()?;
    let (mut journal, _, _) = open_journal(&backend, &handle.handle)?;
    let previous = removed.map(|r| r.raw);
    let (kind, payload) = Event::Unlocked {
        reason: reason.to_string(),
        previous: previous.clone(),
    }
    .to_record();
    journal.append(&kind, payload)?;
    drop(handle);
    Ok(previous)
}

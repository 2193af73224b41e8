//! Operator commands on incidents: list, show, acknowledge a step, and
//! escalate overdue incidents when no runner is active.

use std::path::Path;

use cutover_notify::{RetryPolicy, Sender};
use cutover_state::{FileLease, Journal, Lease};

use crate::error::EngineError;
use crate::event::{Event, IncidentStepStatus};
use crate::runner::{now_ms, open_journal};
use crate::view::IncidentView;

/// Every incident of the run, in opening order.
pub fn list(state_dir: &Path) -> Result<Vec<IncidentView>, EngineError> {
    Ok(crate::ops::status(state_dir)?.incidents)
}

/// One incident by id.
pub fn show(state_dir: &Path, id: &str) -> Result<IncidentView, EngineError> {
    list(state_dir)?
        .into_iter()
        .find(|i| i.id == id)
        .ok_or_else(|| EngineError::Operator(format!("no incident `{id}` in this run")))
}

/// What an acknowledgement did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    /// Journal seq of the `incident-step` record.
    pub seq: u64,
    /// The next step still open, if any: `(number, text)`.
    pub next: Option<(usize, String)>,
    /// Incidents escalated on the way.
    pub escalated: Vec<String>,
}

/// Acknowledges step `step` (1-based) of incident `id`: a manual step, or an
/// automated step that failed. Takes the lease: refused while a runner is
/// active. Overdue incidents are escalated first.
pub fn ack(
    state_dir: &Path,
    id: &str,
    step: usize,
    by: &str,
    note: &str,
) -> Result<Ack, EngineError> {
    let lease = FileLease::new(state_dir)?.acquire()?;
    let (mut journal, mut view, _) = open_journal(state_dir)?;
    let escalated = escalate_into(&mut journal, &mut view, "")?;
    let inc = view
        .incident(id)
        .cloned()
        .ok_or_else(|| EngineError::Operator(format!("no incident `{id}` in this run")))?;
    let s = inc.steps.get(step.wrapping_sub(1)).ok_or_else(|| {
        EngineError::Operator(format!(
            "incident {id} has {} step(s); there is no step {step}",
            inc.steps.len()
        ))
    })?;
    if s.status.is_settled() {
        return Err(EngineError::Operator(format!(
            "step {step} of incident {id} is already {}",
            s.status.as_str()
        )));
    }
    if s.spec.kind.is_automated() && s.status != IncidentStepStatus::Failed {
        return Err(EngineError::Operator(format!(
            "step {step} of incident {id} ({}) is automated: the runner does it on `cutover resume`",
            s.spec.text
        )));
    }
    let (kind, payload) = Event::IncidentStep {
        id: id.to_string(),
        step,
        status: IncidentStepStatus::Acked,
        by: by.to_string(),
        note: note.to_string(),
        at_ms: now_ms(),
    }
    .to_record();
    let r = journal.append(&kind, payload.clone())?;
    view.apply_record(r.seq, &kind, &payload);
    drop(lease.handle);
    let next = view
        .incident(id)
        .and_then(|i| i.next_step())
        .map(|s| (s.step, s.spec.text.clone()));
    Ok(Ack {
        seq: r.seq,
        next,
        escalated,
    })
}

/// Escalates every unresolved incident past its escalation time (for a
/// scheduler while the run is paused). Takes the lease. Returns the ids.
pub fn escalate(state_dir: &Path, plan_name: &str) -> Result<Vec<String>, EngineError> {
    let lease = FileLease::new(state_dir)?.acquire()?;
    let (mut journal, mut view, _) = open_journal(state_dir)?;
    let out = escalate_into(&mut journal, &mut view, plan_name)?;
    drop(lease.handle);
    Ok(out)
}

fn escalate_into(
    journal: &mut cutover_state::FileJournal,
    view: &mut crate::RunView,
    plan_name: &str,
) -> Result<Vec<String>, EngineError> {
    let sender = Sender::new(RetryPolicy::from_env(), "cutover");
    let name = if plan_name.is_empty() {
        view.plan.clone().unwrap_or_default()
    } else {
        plan_name.to_string()
    };
    let evs = crate::alerting::escalations(&sender, view, &name, &[]);
    if evs.is_empty() {
        return Ok(Vec::new());
    }
    let ids = evs
        .iter()
        .filter_map(|e| match e {
            Event::IncidentEscalated { id, .. } => Some(id.clone()),
            _ => None,
        })
        .collect();
    let records: Vec<_> = evs.iter().map(Event::to_record).collect();
    let refs = journal.append_batch(records.clone())?;
    for (r, (kind, payload)) in refs.iter().zip(&records) {
        view.apply_record(r.seq, kind, payload);
    }
    Ok(ids)
}

//! Operator commands on incidents: list, show, open a procedure by hand,
//! acknowledge a step, and escalate overdue incidents when no runner is
//! active.

use std::time::Duration;

use cutover_notify::{Notification, NotificationKind, RetryPolicy, Sender, Severity};
use cutover_plan::LoadedPlan;
use cutover_state::Journal;

use crate::error::EngineError;
use crate::event::{Event, IncidentStepKind, IncidentStepSpec, IncidentStepStatus, PhaseStatus};
use crate::journal::{StateAt, now_ms, open_journal, take_lease};
use crate::view::IncidentView;

/// Every incident of the run, in opening order.
pub fn list(state: impl Into<StateAt>) -> Result<Vec<IncidentView>, EngineError> {
    Ok(crate::journal::status_summary(state)?.incidents)
}

/// One incident by id.
pub fn show(state: impl Into<StateAt>, id: &str) -> Result<IncidentView, EngineError> {
    list(state)?
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
/// active. Overdue incidents are escalated first (`https://` targets must
/// chain to the plan's `notify_tls_ca` files, given resolved).
pub fn ack(
    state: impl Into<StateAt>,
    id: &str,
    step: usize,
    by: &str,
    note: &str,
    notify_tls_ca: &[std::path::PathBuf],
) -> Result<Ack, EngineError> {
    let sender = crate::notifications::sender_trusting(notify_tls_ca, RetryPolicy::from_env())?;
    let backend = state.into().open()?;
    let lease = take_lease(&backend, Some("cutover incident ack"))?;
    let (mut journal, mut view, _) = open_journal(&backend, &lease.handle)?;
    let escalated = escalate_into(&sender, &mut journal, &mut view, "", by)?;
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

/// What `cutover incident open` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// Incident id (`INC-N`).
    pub id: String,
    /// The phase it was opened in.
    pub phase: String,
    /// Journal seq of the `incident-opened` record.
    pub seq: u64,
    /// The first step waiting, `(number, text)`.
    pub next: Option<(usize, String)>,
}

/// Opens emergency procedure `procedure` of the plan by hand, as an
/// incident of the current run (`cutover incident open`): journaled with
/// who opened it and why, the procedure's targets notified, and the run
/// paused so that `cutover resume` works through the procedure first
/// (automated steps run, manual ones wait for `cutover incident ack`).
/// Takes the lease: refused while a runner is active, when there is no run,
/// or when the run has finished.
pub fn open(
    plan: &LoadedPlan,
    procedure: &str,
    details: &str,
    by: &str,
) -> Result<Opened, EngineError> {
    let Some(proc_) = plan.plan.emergency.get(procedure) else {
        let known: Vec<&str> = plan.plan.emergency.keys().map(String::as_str).collect();
        return Err(EngineError::Operator(if known.is_empty() {
            format!(
                "unknown emergency procedure `{procedure}`: the plan defines none (add an [emergency.{procedure}] section)"
            )
        } else {
            format!(
                "unknown emergency procedure `{procedure}`; the plan defines: {}",
                known.join(", ")
            )
        }));
    };
    if details.trim().is_empty() {
        return Err(EngineError::Operator(
            "say what happened: --details must not be empty".into(),
        ));
    }
    let escalation = crate::policy::escalation(None, Duration::from_millis(proc_.escalation_ms))
        .map_err(EngineError::Operator)?;
    let state = StateAt::of_plan(plan)?;
    let backend = state.open()?;
    let lease = take_lease(&backend, Some("cutover incident open"))?;
    let (mut journal, mut view, _) = open_journal(&backend, &lease.handle)?;
    if view.run_id.is_none() {
        return Err(EngineError::NoRun(state.describe()));
    }
    if view.status.is_finished() {
        return Err(EngineError::Operator(format!(
            "the run has already finished ({}); an incident belongs to a running migration",
            view.status.as_str()
        )));
    }
    // The phase the run is in: the current step's, else the first phase
    // not passed yet.
    let phase = view
        .current
        .as_ref()
        .map(|(p, _)| p.clone())
        .filter(|p| view.phase_status(p) != PhaseStatus::Passed)
        .or_else(|| {
            plan.plan
                .phases
                .iter()
                .find(|p| view.phase_status(&p.id) != PhaseStatus::Passed)
                .map(|p| p.id.clone())
        })
        .unwrap_or_default();
    let id = format!("INC-{}", view.incidents.len() + 1);
    let reason = format!("opened by {by}: {details}");
    let now = now_ms();
    let mut evs = vec![Event::IncidentOpened {
        id: id.clone(),
        procedure: procedure.to_string(),
        phase: phase.clone(),
        reason: reason.clone(),
        steps: proc_
            .steps
            .iter()
            .map(|t| IncidentStepSpec {
                text: t.clone(),
                kind: IncidentStepKind::of(t),
            })
            .collect(),
        escalation_ms: u64::try_from(escalation.as_millis()).unwrap_or(u64::MAX),
        notify: proc_.notify.clone(),
        rollback_to: proc_.rollback_to.clone(),
        at_ms: now,
        by: by.to_string(),
    }];
    let n = Notification::new(
        NotificationKind::Incident,
        Severity::Critical,
        format!("incident {id} opened by {by}: emergency procedure `{procedure}`"),
    )
    .describe(format!("{details}\n{}", proc_.description))
    .label("plan", plan.plan.meta.name.clone())
    .label("incident", id.clone())
    .label("phase", phase.clone());
    let mut targets = plan.plan.meta.notify.clone();
    targets.extend(proc_.notify.iter().cloned());
    targets.dedup();
    let sender = crate::notifications::sender_for(plan, RetryPolicy::from_env())?;
    evs.extend(crate::notifications::deliver(
        &sender,
        &format!("incident {id}"),
        &targets,
        &n,
    ));
    evs.push(Event::Paused {
        phase: None,
        reason: format!(
            "incident {id} ({procedure}) {reason}; `cutover resume` works through its steps"
        ),
        by: by.to_string(),
    });
    let records: Vec<_> = evs.iter().map(Event::to_record).collect();
    let refs = journal.append_batch(records.clone())?;
    for (r, (kind, payload)) in refs.iter().zip(&records) {
        view.apply_record(r.seq, kind, payload);
    }
    drop(lease.handle);
    let next = view
        .incident(&id)
        .and_then(|i| i.next_step())
        .map(|s| (s.step, s.spec.text.clone()));
    Ok(Opened {
        id,
        phase,
        seq: refs.first().map_or(0, |r| r.seq),
        next,
    })
}

/// Escalates every unresolved incident past its escalation time (for a
/// scheduler while the run is paused), journaled as escalated by `by`.
/// Takes the lease. Returns the ids. (`cutover watch` escalates without
/// holding the lease while it sends: see [`crate::watch`].) `https://`
/// targets must chain to the plan's `notify_tls_ca` files, given resolved.
pub fn escalate(
    state: impl Into<StateAt>,
    plan_name: &str,
    by: &str,
    notify_tls_ca: &[std::path::PathBuf],
) -> Result<Vec<String>, EngineError> {
    let sender = crate::notifications::sender_trusting(notify_tls_ca, RetryPolicy::from_env())?;
    let backend = state.into().open()?;
    let lease = take_lease(&backend, Some("cutover incident escalate"))?;
    let (mut journal, mut view, _) = open_journal(&backend, &lease.handle)?;
    let out = escalate_into(&sender, &mut journal, &mut view, plan_name, by)?;
    drop(lease.handle);
    Ok(out)
}

fn escalate_into(
    sender: &Sender,
    journal: &mut cutover_state::AnyJournal,
    view: &mut crate::RunView,
    plan_name: &str,
    by: &str,
) -> Result<Vec<String>, EngineError> {
    let name = if plan_name.is_empty() {
        view.plan.clone().unwrap_or_default()
    } else {
        plan_name.to_string()
    };
    let evs = crate::notifications::escalations(sender, view, &name, &[], by);
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

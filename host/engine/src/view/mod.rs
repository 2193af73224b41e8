//! The current state of a run: a fold over the journal's events.

mod parts;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::event::{Event, IncidentStepStatus, ItemStatus, PhaseStatus, StepStatus};

pub use parts::{
    ApprovalView, BehindScheduleView, IncidentStepView, IncidentView, ItemView, PhaseView,
    PointView, RollbackRequestView, RollbackView, RunStatus, StepView,
};

/// The state of a run, folded from the journal.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunView {
    /// Run id.
    pub run_id: Option<String>,
    /// Plan name.
    pub plan: Option<String>,
    /// Fingerprint the run is bound to.
    pub fingerprint: Option<String>,
    /// Normalized plan the run is bound to.
    pub normalized: Option<String>,
    /// Overall status.
    pub status: RunStatus,
    /// Phases by id.
    pub phases: BTreeMap<String, PhaseView>,
    /// Steps by id.
    pub steps: BTreeMap<String, StepView>,
    /// Step currently running or last started.
    pub current: Option<(String, String)>,
    /// What the run waits for (`PHASE` or `PHASE/STEP`).
    pub waiting_for: Option<String>,
    /// Why the run paused or stopped.
    pub reason: Option<String>,
    /// Approvals.
    pub approvals: Vec<ApprovalView>,
    /// Rollback points in capture order.
    pub points: Vec<PointView>,
    /// Last running match rate of any parallel run.
    pub match_rate: Option<f64>,
    /// Incidents in opening order.
    pub incidents: Vec<IncidentView>,
    /// Seq of the last `risk-blocked` record per phase.
    pub risk_blocked: BTreeMap<String, u64>,
    /// Last health per system (`old`, `new`).
    pub health: BTreeMap<String, bool>,
    /// Rollback requests waiting for (or given) an approval, in order.
    #[serde(default)]
    pub rollback_requests: Vec<RollbackRequestView>,
    /// Rollbacks (automatic and by operators), in order.
    #[serde(default)]
    pub rollbacks: Vec<RollbackView>,
    /// Number of records folded.
    pub records: u64,
    /// Seq of the last record folded.
    pub head_seq: u64,
}

impl Default for RunView {
    fn default() -> Self {
        RunView {
            run_id: None,
            plan: None,
            fingerprint: None,
            normalized: None,
            status: RunStatus::NotStarted,
            phases: BTreeMap::new(),
            steps: BTreeMap::new(),
            current: None,
            waiting_for: None,
            reason: None,
            approvals: Vec::new(),
            points: Vec::new(),
            match_rate: None,
            incidents: Vec::new(),
            risk_blocked: BTreeMap::new(),
            health: BTreeMap::new(),
            rollback_requests: Vec::new(),
            rollbacks: Vec::new(),
            records: 0,
            head_seq: 0,
        }
    }
}

impl RunView {
    /// Status of a phase (pending when unknown).
    pub fn phase_status(&self, id: &str) -> PhaseStatus {
        self.phases
            .get(id)
            .map_or(PhaseStatus::Pending, |p| p.status)
    }

    /// Status of a step (pending when unknown).
    pub fn step_status(&self, id: &str) -> StepStatus {
        self.steps.get(id).map_or(StepStatus::Pending, |s| s.status)
    }

    /// The latest approval of `target` recorded after journal seq `after`.
    pub fn approval_after(&self, target: &str, after: u64) -> Option<&ApprovalView> {
        self.approvals
            .iter()
            .rev()
            .find(|a| a.target == target && a.seq > after)
    }

    /// Targets approved at least once.
    pub fn approved_targets(&self) -> BTreeSet<&str> {
        self.approvals.iter().map(|a| a.target.as_str()).collect()
    }

    /// An incident by id.
    pub fn incident(&self, id: &str) -> Option<&IncidentView> {
        self.incidents.iter().find(|i| i.id == id)
    }

    /// The first unresolved incident.
    pub fn open_incident(&self) -> Option<&IncidentView> {
        self.incidents.iter().find(|i| i.resolved_ms.is_none())
    }

    /// The latest rollback request for `point` that no completed rollback
    /// to `point` has settled yet.
    pub fn pending_rollback(&self, point: &str) -> Option<&RollbackRequestView> {
        let req = self
            .rollback_requests
            .iter()
            .rev()
            .find(|r| r.point == point)?;
        let settled = self
            .rollbacks
            .iter()
            .any(|r| r.ok && r.point == point && r.seq > req.seq);
        (!settled).then_some(req)
    }

    /// The approval (`rollback:POINT`) of the pending request for `point`.
    pub fn rollback_approval(&self, point: &str) -> Option<&ApprovalView> {
        let req = self.pending_rollback(point)?;
        self.approval_after(&format!("rollback:{point}"), req.seq)
    }

    fn phase_mut(&mut self, id: &str) -> &mut PhaseView {
        self.phases
            .entry(id.to_string())
            .or_insert_with(|| PhaseView {
                status: PhaseStatus::Pending,
                items: Vec::new(),
                paused_seq: None,
                started_ms: None,
                behind_schedule: None,
            })
    }

    fn step_mut(&mut self, phase: &str, id: &str) -> &mut StepView {
        self.steps
            .entry(id.to_string())
            .or_insert_with(|| StepView::new(phase))
    }

    /// What `status` shows and its snapshot holds: this view without the
    /// details and episodes of steps that are settled (succeeded, skipped,
    /// shadow), which `history` still shows. A runner keeps the whole view.
    pub fn settled_for_status(mut self) -> RunView {
        for s in self.steps.values_mut() {
            if matches!(
                s.status,
                StepStatus::Succeeded | StepStatus::Skipped | StepStatus::Shadow
            ) {
                s.details = crate::details::StepDetails::None;
                s.seen_old = Vec::new();
                s.seen_new = Vec::new();
                s.seen_noise = Vec::new();
            }
        }
        self
    }

    /// Folds one journal record (any kind; unknown kinds only count).
    pub fn apply_record(&mut self, seq: u64, kind: &str, payload: &serde_json::Value) {
        self.records += 1;
        self.head_seq = seq;
        if let Some(ev) = Event::from_record(kind, payload) {
            self.apply(seq, &ev);
        }
    }

    /// Folds one event recorded at `seq`.
    pub fn apply(&mut self, seq: u64, ev: &Event) {
        match ev {
            Event::RunStarted {
                run_id,
                plan,
                fingerprint,
                normalized,
            } => {
                self.run_id = Some(run_id.clone());
                self.plan = Some(plan.clone());
                self.fingerprint = Some(fingerprint.clone());
                self.normalized = Some(normalized.clone());
                self.status = RunStatus::Running;
            }
            Event::Replanned {
                fingerprint,
                normalized,
                ..
            } => {
                self.fingerprint = Some(fingerprint.clone());
                self.normalized = Some(normalized.clone());
            }
            Event::RunResumed { .. } => {
                if !self.status.is_finished() {
                    self.status = RunStatus::Running;
                    self.waiting_for = None;
                    self.reason = None;
                }
                for p in self.phases.values_mut() {
                    if p.status == PhaseStatus::Paused {
                        p.status = PhaseStatus::Running;
                    }
                }
            }
            Event::LeaseRecovered { .. }
            | Event::Unlocked { .. }
            | Event::Notified { .. }
            | Event::BackupStarted(_)
            | Event::BackupFinished(_) => {}
            Event::PhaseStarted { phase, at_ms } => {
                let p = self.phase_mut(phase);
                p.status = PhaseStatus::Running;
                p.items.clear();
                p.started_ms = *at_ms;
                p.behind_schedule = None;
            }
            Event::PhaseBehindSchedule {
                phase,
                duration,
                max_ms,
                elapsed_ms,
                at_ms,
            } => {
                self.phase_mut(phase).behind_schedule = Some(BehindScheduleView {
                    duration: duration.clone(),
                    max_ms: *max_ms,
                    elapsed_ms: *elapsed_ms,
                    at_ms: *at_ms,
                    seq,
                });
            }
            Event::GateWaiting { target, .. } => {
                self.status = RunStatus::Paused;
                self.waiting_for = Some(target.clone());
                self.reason = Some(format!("awaiting approval of {target}"));
            }
            Event::Approved { target, by, retry } => {
                self.approvals.push(ApprovalView {
                    target: target.clone(),
                    by: by.clone(),
                    retry: *retry,
                    seq,
                });
                if self.waiting_for.as_deref() == Some(target) {
                    self.waiting_for = None;
                }
            }
            Event::StepStarted { phase, step, .. } => {
                let s = self.step_mut(phase, step);
                if s.status == StepStatus::Failed {
                    // A new attempt after a failure (an alert policy paused
                    // the run): a fresh clock and fresh episodes.
                    s.deadline = None;
                    s.seen_old.clear();
                    s.seen_new.clear();
                    s.seen_noise.clear();
                    s.noise_failures = 0;
                    s.noise_error = None;
                    s.polls = 0;
                    s.match_rate = None;
                }
                s.status = StepStatus::Running;
                s.attempts += 1;
                s.started_seq = seq;
                self.current = Some((phase.clone(), step.clone()));
                self.status = RunStatus::Running;
            }
            Event::StepDeadline {
                step,
                started_ms,
                deadline_ms,
            } => {
                if let Some(s) = self.steps.get_mut(step) {
                    s.deadline = Some((*started_ms, *deadline_ms));
                }
            }
            Event::ParallelPoll {
                step,
                old,
                new,
                match_rate,
                poll,
                noise,
                noise_error,
            } => {
                if let Some(s) = self.steps.get_mut(step) {
                    s.seen_old.extend(old.iter().cloned());
                    s.seen_new.extend(new.iter().cloned());
                    s.seen_noise.extend(noise.iter().cloned());
                    if let Some(e) = noise_error {
                        s.noise_failures += 1;
                        s.noise_error = Some(e.clone());
                    }
                    s.polls = *poll;
                    s.match_rate = *match_rate;
                }
                self.match_rate = *match_rate;
            }
            Event::StepFinished {
                phase,
                step,
                status,
                summary,
                verdict,
                details,
                ..
            } => {
                let s = self.step_mut(phase, step);
                s.status = *status;
                s.finishes += 1;
                s.summary = summary.clone();
                s.verdict = verdict.clone();
                s.details = details.clone();
                if let Some(rate) = details.match_rate() {
                    self.match_rate = Some(rate);
                }
            }
            Event::NeedsAttention {
                phase,
                step,
                reason,
            } => {
                let s = self.step_mut(phase, step);
                s.status = StepStatus::NeedsAttention;
                s.attention_seq = Some(seq);
                self.status = RunStatus::NeedsAttention;
                self.waiting_for = Some(format!("{phase}/{step}"));
                self.reason = Some(reason.clone());
            }
            Event::ChecklistItem {
                phase,
                index,
                status,
                message,
                critical,
                ..
            } => {
                let p = self.phase_mut(phase);
                p.items.retain(|i| i.index != *index);
                p.items.push(ItemView {
                    index: *index,
                    status: *status,
                    message: message.clone(),
                    seq,
                    critical: *critical,
                    confirmed_by: None,
                });
            }
            Event::PointCaptured { phase, name, ids } => {
                self.points.retain(|p| &p.name != name);
                self.points.push(PointView {
                    name: name.clone(),
                    phase: phase.clone(),
                    ids: ids.clone(),
                });
            }
            Event::RolledBack {
                phase,
                point,
                results,
                by,
                now,
            } => {
                self.rollbacks.push(RollbackView {
                    point: point.clone(),
                    phase: phase.clone(),
                    by: by.clone(),
                    now: *now,
                    ok: true,
                    error: None,
                    results: results.clone(),
                    seq,
                });
                // The systems are back at the point: whatever the run was
                // doing (or how it ended), it ends rolled back.
                if self.run_id.is_some() {
                    self.status = RunStatus::RolledBack;
                    self.waiting_for = None;
                }
            }
            Event::RollbackRequested {
                point,
                by,
                reason,
                approvers,
            } => self.rollback_requests.push(RollbackRequestView {
                point: point.clone(),
                by: by.clone(),
                reason: reason.clone(),
                approvers: approvers.clone(),
                seq,
            }),
            Event::RollbackFailed {
                phase,
                point,
                results,
                by,
                now,
                error,
            } => self.rollbacks.push(RollbackView {
                point: point.clone(),
                phase: phase.clone(),
                by: by.clone(),
                now: *now,
                ok: false,
                error: Some(error.clone()),
                results: results.clone(),
                seq,
            }),
            Event::StepInconclusive {
                phase,
                step,
                reason,
            } => {
                let s = self.step_mut(phase, step);
                s.inconclusive_seq = Some(seq);
                s.summary = reason.clone();
                self.status = RunStatus::Paused;
                self.waiting_for = Some(format!("{phase}/{step}"));
                self.reason = Some(reason.clone());
            }
            Event::WindowExtended {
                step, deadline_ms, ..
            } => {
                if let Some(s) = self.steps.get_mut(step) {
                    s.inconclusive_seq = None;
                    if let Some((_, d)) = s.deadline.as_mut() {
                        *d = (*d).max(*deadline_ms);
                    }
                }
            }
            Event::ItemConfirmed { phase, index, by } => {
                let p = self.phase_mut(phase);
                if let Some(i) = p.items.iter_mut().find(|i| i.index == *index) {
                    i.status = ItemStatus::Confirmed;
                    i.confirmed_by = Some(by.clone());
                    i.message = format!("confirmed by {by}");
                    i.seq = seq;
                }
            }
            Event::Paused { phase, reason, .. } => {
                self.status = RunStatus::Paused;
                self.reason = Some(reason.clone());
                if let Some(phase) = phase {
                    let p = self.phase_mut(phase);
                    p.paused_seq = Some(seq);
                    if p.status == PhaseStatus::Running {
                        p.status = PhaseStatus::Paused;
                    }
                }
            }
            Event::Aborted { reason, .. } => {
                self.reason = Some(reason.clone());
            }
            Event::PhaseFinished { phase, status } => {
                self.phase_mut(phase).status = *status;
            }
            Event::HealthChecked {
                system, available, ..
            } => {
                self.health.insert(system.clone(), *available);
            }
            Event::AlertTriggered { .. }
            | Event::NotificationSent { .. }
            | Event::NotificationFailed { .. } => {}
            Event::RiskBlocked { phase, reason } => {
                self.risk_blocked.insert(phase.clone(), seq);
                self.reason = Some(reason.clone());
            }
            Event::IncidentOpened {
                id,
                procedure,
                phase,
                reason,
                steps,
                escalation_ms,
                notify,
                rollback_to,
                at_ms,
                by,
            } => self.incidents.push(IncidentView {
                id: id.clone(),
                procedure: procedure.clone(),
                phase: phase.clone(),
                reason: reason.clone(),
                steps: steps
                    .iter()
                    .enumerate()
                    .map(|(i, spec)| IncidentStepView {
                        step: i + 1,
                        spec: spec.clone(),
                        status: IncidentStepStatus::Pending,
                        by: None,
                        note: None,
                        at_ms: None,
                    })
                    .collect(),
                escalation_ms: *escalation_ms,
                notify: notify.clone(),
                rollback_to: rollback_to.clone(),
                opened_ms: *at_ms,
                opened_by: by.clone(),
                escalated_ms: None,
                resolved_ms: None,
            }),
            Event::IncidentStep {
                id,
                step,
                status,
                by,
                note,
                at_ms,
            } => {
                if let Some(s) = self
                    .incidents
                    .iter_mut()
                    .find(|i| &i.id == id)
                    .and_then(|i| i.steps.get_mut(step.wrapping_sub(1)))
                {
                    s.status = *status;
                    s.by = Some(by.clone());
                    s.note = Some(note.clone());
                    s.at_ms = Some(*at_ms);
                }
            }
            Event::IncidentEscalated { id, at_ms, .. } => {
                if let Some(i) = self.incidents.iter_mut().find(|i| &i.id == id) {
                    i.escalated_ms = Some(*at_ms);
                }
            }
            Event::IncidentResolved { id, at_ms } => {
                if let Some(i) = self.incidents.iter_mut().find(|i| &i.id == id) {
                    i.resolved_ms = Some(*at_ms);
                }
            }
            Event::RunFinished { status } => {
                self.status = (*status).into();
                self.waiting_for = None;
            }
        }
    }
}

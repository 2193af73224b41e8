//! What `cutover watch` does on each poll: escalate the incidents of a
//! paused or waiting run on time and send their notifications, without
//! running steps and without keeping the lease while it sends.
//!
//! One [`Watcher::tick`]:
//!
//! 1. reads the journal without the lease; nothing is due: done;
//! 2. takes the lease only to journal the `incident-escalated` records (by
//!    `watcher`), and lets it go: a runner that holds the lease (an active
//!    `run`/`resume`) escalates by itself, so the tick leaves it alone;
//! 3. sends the notifications without the lease (retries and backoff as
//!    every notification), so `cutover resume` is never refused for it;
//! 4. journals the delivery records under the lease again; when a runner
//!    took it meanwhile, they wait for a later tick.

use cutover_notify::{RetryPolicy, Sender};
use cutover_plan::LoadedPlan;
use cutover_state::{Journal, Lease, LeaseError};

use crate::error::EngineError;
use crate::event::Event;
use crate::journal::{StateAt, now_ms, open_journal};
use crate::notifications::{deliver, due_escalations, sender_for};
use crate::view::RunStatus;

/// The operator name the watcher journals under.
pub const WATCHER: &str = "watcher";

/// What one tick saw and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tick {
    /// The run's status (`not-started` when there is no run).
    pub status: RunStatus,
    /// Incidents escalated by this tick.
    pub escalated: Vec<String>,
    /// Notifications delivered by this tick.
    pub sent: usize,
    /// Notifications that gave up (journaled as `notification-failed`).
    pub failed: usize,
    /// A runner held the lease, so nothing was journaled by this tick.
    pub runner_active: bool,
    /// Delivery records still waiting to be journaled.
    pub pending: usize,
}

/// Escalates a plan's incidents on time; see the module documentation.
pub struct Watcher<'a> {
    plan: &'a LoadedPlan,
    sender: Sender,
    by: String,
    pending: Vec<Event>,
}

impl<'a> Watcher<'a> {
    /// A watcher of `plan`, journaling as [`WATCHER`]; notifications use
    /// the plan's trust roots and `RetryPolicy::from_env()`.
    pub fn new(plan: &'a LoadedPlan) -> Result<Watcher<'a>, EngineError> {
        Ok(Watcher {
            plan,
            sender: sender_for(plan, RetryPolicy::from_env())?,
            by: WATCHER.to_string(),
            pending: Vec::new(),
        })
    }

    /// One poll. Errors are those of the journal and the lease (other than
    /// a runner holding it); the caller logs them and polls again.
    pub fn tick(&mut self) -> Result<Tick, EngineError> {
        let state = StateAt::of_plan(self.plan)?;
        let view = crate::journal::status_summary(&state)?;
        let mut tick = Tick {
            status: view.status,
            escalated: Vec::new(),
            sent: 0,
            failed: 0,
            runner_active: false,
            pending: self.pending.len(),
        };
        let now = now_ms();
        let due = view.incidents.iter().any(|i| i.escalation_due(now));
        if view.run_id.is_none() || (!due && self.pending.is_empty()) {
            return Ok(tick);
        }
        // 2. Journal the escalations (and earlier delivery records).
        let backend = state.open()?;
        let lease = match backend.lease(Some(WATCHER))?.acquire() {
            Ok(a) => a,
            Err(LeaseError::Held { .. }) => {
                tick.runner_active = true;
                return Ok(tick);
            }
            Err(e) => return Err(e.into()),
        };
        let (mut journal, view, _) = open_journal(&backend, &lease.handle)?;
        let name = view
            .plan
            .clone()
            .unwrap_or_else(|| self.plan.plan.meta.name.clone());
        let escalations = due_escalations(&view, &name, &[], &self.by);
        let mut records: Vec<_> = self.pending.iter().map(Event::to_record).collect();
        records.extend(escalations.iter().map(|e| e.event.to_record()));
        if !records.is_empty() {
            journal.append_batch(records)?;
        }
        self.pending.clear();
        drop(journal);
        drop(lease.handle);
        // 3. Send without the lease.
        for e in &escalations {
            if let Event::IncidentEscalated { id, .. } = &e.event {
                tick.escalated.push(id.clone());
            }
            for ev in deliver(&self.sender, &e.subject, &e.targets, &e.notification) {
                match ev {
                    Event::NotificationSent { .. } => tick.sent += 1,
                    Event::NotificationFailed { .. } => tick.failed += 1,
                    _ => {}
                }
                self.pending.push(ev);
            }
        }
        // 4. Journal the deliveries unless a runner took the lease.
        tick.pending = self.flush()?;
        Ok(tick)
    }

    /// Journals the delivery records still pending when the lease is free;
    /// returns how many still wait. Called on the way out too.
    pub fn flush(&mut self) -> Result<usize, EngineError> {
        if self.pending.is_empty() {
            return Ok(0);
        }
        let backend = StateAt::of_plan(self.plan)?.open()?;
        let lease = match backend.lease(Some(WATCHER))?.acquire() {
            Ok(a) => a,
            Err(LeaseError::Held { .. }) => return Ok(self.pending.len()),
            Err(e) => return Err(e.into()),
        };
        let (mut journal, _, _) = open_journal(&backend, &lease.handle)?;
        journal.append_batch(self.pending.iter().map(Event::to_record).collect())?;
        self.pending.clear();
        drop(journal);
        drop(lease.handle);
        Ok(0)
    }
}

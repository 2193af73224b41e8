//! Notifications of a run: delivery to every target (webhooks journaled,
//! named targets logged) and the escalations of overdue incidents.

use cutover_notify::{
    Notification, NotificationKind, RetryPolicy, Sender, Severity, Target, TrustRoots,
};
use cutover_plan::LoadedPlan;

use crate::error::EngineError;
use crate::event::Event;
use crate::journal::now_ms;

/// The sender of `plan`'s notifications: `https://` targets must chain to
/// the CA files of `[plan] notify_tls_ca` (resolved against the plan's
/// directory) when it names any, else to the public web PKI roots.
pub(crate) fn sender_for(plan: &LoadedPlan, policy: RetryPolicy) -> Result<Sender, EngineError> {
    let files: Vec<_> = plan
        .plan
        .meta
        .notify_tls_ca
        .iter()
        .map(|f| plan.base_dir.join(f))
        .collect();
    sender_trusting(&files, policy)
}

/// A sender whose `https://` targets must chain to the CA `files` (the
/// public web PKI roots when there are none).
pub(crate) fn sender_trusting(
    files: &[std::path::PathBuf],
    policy: RetryPolicy,
) -> Result<Sender, EngineError> {
    let roots = TrustRoots::from_pem_files(files)
        .map_err(|e| EngineError::Operator(format!("[plan] notify_tls_ca: {e}")))?;
    Ok(Sender::new(policy, "cutover").with_roots(roots))
}

/// Sends `n` to every target; returns the journal records of the webhook
/// deliveries (named targets are only logged).
pub(crate) fn deliver(
    sender: &cutover_notify::Sender,
    subject: &str,
    targets: &[String],
    n: &Notification,
) -> Vec<Event> {
    let mut evs = Vec::new();
    for t in targets {
        let target = Target::parse(t);
        if !target.is_webhook() {
            tracing::info!(target = %t, "notification ({subject}): {}", n.summary);
            continue;
        }
        match sender.send(&target, n) {
            Ok(d) => evs.push(Event::NotificationSent {
                subject: subject.to_string(),
                target: t.clone(),
                attempts: d.attempts,
            }),
            Err(e) => {
                tracing::warn!(target = %t, "notification ({subject}) failed: {e}");
                evs.push(Event::NotificationFailed {
                    subject: subject.to_string(),
                    target: t.clone(),
                    attempts: e.attempts(),
                    error: e.to_string(),
                });
            }
        }
    }
    evs
}

/// One escalation to make: the record and the notification to send.
pub(crate) struct Escalation {
    /// `escalation INC-N`.
    pub subject: String,
    /// Where the notification goes.
    pub targets: Vec<String>,
    /// What is sent.
    pub notification: Notification,
    /// The `incident-escalated` record.
    pub event: Event,
}

/// Escalation records (and notifications) for every incident of `view`
/// past its escalation time, escalated by `by`.
pub(crate) fn escalations(
    sender: &cutover_notify::Sender,
    view: &crate::RunView,
    plan_name: &str,
    extra: &[String],
    by: &str,
) -> Vec<Event> {
    let mut evs = Vec::new();
    for e in due_escalations(view, plan_name, extra, by) {
        evs.extend(deliver(sender, &e.subject, &e.targets, &e.notification));
        evs.push(e.event);
    }
    evs
}

/// The escalations due now, nothing sent yet.
pub(crate) fn due_escalations(
    view: &crate::RunView,
    plan_name: &str,
    extra: &[String],
    by: &str,
) -> Vec<Escalation> {
    let now = now_ms();
    let mut out = Vec::new();
    for inc in view.incidents.iter().filter(|i| i.escalation_due(now)) {
        let mut targets = inc.notify.clone();
        targets.extend(extra.iter().cloned());
        let pending = inc.next_step().map_or(String::new(), |s| {
            format!("; waiting on step {}: {}", s.step, s.spec.text)
        });
        let n = Notification::new(
            NotificationKind::Escalation,
            Severity::Critical,
            format!(
                "incident {} ({}) unresolved after {} s{pending}",
                inc.id,
                inc.procedure,
                inc.escalation_ms / 1000
            ),
        )
        .describe(inc.reason.clone())
        .label("plan", plan_name)
        .label("incident", inc.id.clone())
        .label("phase", inc.phase.clone());
        out.push(Escalation {
            subject: format!("escalation {}", inc.id),
            event: Event::IncidentEscalated {
                id: inc.id.clone(),
                targets: targets.clone(),
                at_ms: now,
                by: by.to_string(),
            },
            targets,
            notification: n,
        });
    }
    out
}

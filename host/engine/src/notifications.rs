//! Notifications of a run: delivery to every target (webhooks journaled,
//! named targets logged) and the escalations of overdue incidents.

use cutover_notify::{Notification, NotificationKind, Severity, Target};

use crate::event::Event;
use crate::journal::now_ms;

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

/// Escalation records (and notifications) for every incident of `view`
/// past its escalation time.
pub(crate) fn escalations(
    sender: &cutover_notify::Sender,
    view: &crate::RunView,
    plan_name: &str,
    extra: &[String],
) -> Vec<Event> {
    let now = now_ms();
    let mut evs = Vec::new();
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
        let subject = format!("escalation {}", inc.id);
        evs.extend(deliver(sender, &subject, &targets, &n));
        evs.push(Event::IncidentEscalated {
            id: inc.id.clone(),
            targets,
            at_ms: now,
        });
    }
    evs
}

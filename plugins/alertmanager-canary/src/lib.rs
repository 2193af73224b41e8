//! `alertmanager-canary`: a paging canary (check world). It proves that a
//! page reaches the people it must, on the old and on the new Alertmanager.
//!
//! Params (JSON, unknown fields rejected; errors name the JSON path):
//! `labels` (the synthetic alert's labels, `alertname` required, e.g.
//! `{"alertname": "CutoverCanary", "team": "web"}`), `annotations`
//! (optional), `receivers` (the receivers that must get it per
//! Alertmanager: `{"old": ["web-team"], "new": ["web-team"]}`; an
//! Alertmanager with no receiver listed gets no alert), `timeout_ms` (how
//! long to wait for every receiver, default 30000) and `poll_ms` (250).
//!
//! Config (grant each URL's origin as a host): `old_url`, `new_url` (the
//! Alertmanagers' API), `sink_url` (the webhook receiver the Alertmanagers'
//! receivers deliver to, see below; no authentication), `timeout_ms` (per
//! request), and `old_auth` / `new_auth` (`none` | `basic`, with the
//! secrets `alertmanager_user` / `alertmanager_password`).
//!
//! One evaluation:
//! 1. resolves the synthetic alerts this run left firing (label
//!    `cutover_canary="<run id>"`, found with `GET /api/v2/alerts?filter=`):
//!    an attempt that was killed before it resolved its alert is cleaned up
//!    by the next attempt of the same run (a resume, or the next run);
//! 2. posts the synthetic alert to `/api/v2/alerts` of each Alertmanager:
//!    the plan's labels plus `cutover_canary` (the run id),
//!    `cutover_canary_via` (`old` / `new`) and `cutover_canary_attempt` (the
//!    post time), so each attempt is a new alert that Alertmanager notifies
//!    at once (not deduplicated against an earlier attempt), and its
//!    `endsAt` is the post time + timeout + 2 min: even if everything dies,
//!    Alertmanager resolves it by itself then. An Alertmanager that rejects
//!    it fails the check with its answer (status and body);
//! 3. reads the webhook sink until every expected receiver has it or the
//!    timeout passes, and measures each receiver's delivery latency;
//! 4. resolves the alert (posts it again with `endsAt` = now) on every
//!    Alertmanager it was posted to, whatever the outcome.
//!
//! Why the webhook sink and not Alertmanager's notification metrics: the
//! metrics (`alertmanager_notifications_total`, per integration; per
//! receiver only from Alertmanager 0.26, and this machine has 0.25) count
//! notifications of any alert, so a concurrent real page would pass a
//! canary that never arrived, and they say nothing about when. A webhook
//! receiver records the notification itself: its `receiver` names the
//! Alertmanager receiver, and its alerts carry this attempt's labels, so a
//! record proves that THIS alert reached THAT receiver of THAT
//! Alertmanager, at the time the sink recorded.
//!
//! The sink protocol: `GET <sink_url>/api/notifications?since_ms=N` answers
//! the notifications received since `N` (Unix ms), oldest first, as
//! `[{"path", "received_ms", "payload"}]` with `payload` the webhook body
//! Alertmanager sent (`tests/fixture/webhook_sink.py` is one such sink).
//! The latency is `received_ms` minus the post time: both clocks must agree
//! (the sink on the machine that runs cutover, or NTP-synchronised).
//!
//! Verdict: `pass` when every expected receiver got the alert; `fail`
//! naming each receiver that never got it, or with the rejecting
//! Alertmanager's answer; `inconclusive` when an Alertmanager or the sink
//! cannot be asked, or the alert could not be resolved (never a pass).
//! Measurements: see [`verdict`].

mod alerts;
mod params;
mod sink;
mod verdict;

use std::time::Duration;

use cutover_adapter_util::client::{Client, describe};
use cutover_plugin_sdk::http::HttpMethod;
use cutover_plugin_sdk::{
    Capabilities, Context, Descriptor, PluginError, PluginKind, Verdict, check, log,
};

use params::{Canary, Params, Side, alert_labels};
use translate_core::time::now_ms;
use verdict::{Receipt, Report, Stop};

/// The alerts endpoint.
const ALERTS: &str = "/api/v2/alerts";
/// The sink's record of notifications.
const NOTIFICATIONS: &str = "/api/notifications";
/// How long after the wait a posted alert still fires if nobody resolves it.
const GRACE_MS: i64 = 120_000;
/// The sink is read from this long before the post (clock differences).
const SINK_SLACK_MS: i64 = 60_000;

struct AlertmanagerCanary;

impl check::Guest for AlertmanagerCanary {
    fn describe() -> Descriptor {
        Descriptor {
            capabilities: Capabilities {
                hosts: ["config:old_url", "config:new_url", "config:sink_url"]
                    .map(String::from)
                    .to_vec(),
                directories: Vec::new(),
                config_keys: [
                    "old_url",
                    "new_url",
                    "sink_url",
                    "timeout_ms",
                    "old_auth",
                    "new_auth",
                ]
                .map(String::from)
                .to_vec(),
                secrets: ["alertmanager_user", "alertmanager_password"]
                    .map(String::from)
                    .to_vec(),
            },
            ..cutover_plugin_sdk::descriptor(
                "alertmanager-canary",
                env!("CARGO_PKG_VERSION"),
                PluginKind::Check,
                "Posts a synthetic alert (params.labels, marked with the run id) to the old and \
                 the new Alertmanager, passes when each receiver in params.receivers got it \
                 (read from the webhook sink at config sink_url), measures each delivery's \
                 latency, then resolves it; resolves this run's leftovers first.",
            )
        }
    }

    fn evaluate(ctx: Context) -> Result<Verdict, PluginError> {
        let p: Params = cutover_plugin_sdk::params(&ctx)?;
        let canary = p.check()?;
        let run = if ctx.run_id.trim().is_empty() {
            "manual".to_owned()
        } else {
            ctx.run_id.clone()
        };
        // The sink takes no credentials: its auth key is never granted.
        let sink = Client::from_config_keys("sink_url", "sink_auth", "sink", false)?;
        let mut ams = Vec::new();
        for side in canary.sides() {
            let key = side.as_str();
            let client = Client::from_config_keys(
                &format!("{key}_url"),
                &format!("{key}_auth"),
                "alertmanager",
                false,
            )?;
            ams.push((side, client));
        }
        Ok(verdict::judge(&attempt(&canary, &run, &ams, &sink)))
    }
}

/// One attempt: leftovers, post, wait, resolve (always).
fn attempt(canary: &Canary, run: &str, ams: &[(Side, Client)], sink: &Client) -> Report {
    let mut report = Report {
        receipts: canary
            .expected
            .iter()
            .map(|(side, receiver)| Receipt {
                side: *side,
                receiver: receiver.clone(),
                latency_ms: None,
            })
            .collect(),
        timeout_ms: canary.timeout_ms,
        ..Report::default()
    };
    for (side, am) in ams {
        match resolve_leftovers(am, run) {
            Ok(n) => report.leftovers_resolved += n,
            Err(why) => {
                report.stop = Some(Stop::Unreachable(format!(
                    "Alertmanager {} (leftovers of this run): {why}",
                    side.as_str()
                )));
                return report;
            }
        }
    }
    let posted_ms = now_ms();
    let ends_ms = posted_ms + i64::try_from(canary.timeout_ms).unwrap_or(i64::MAX / 4) + GRACE_MS;
    let mut posted = Vec::new();
    for (side, am) in ams {
        let labels = alert_labels(&canary.labels, run, *side, posted_ms);
        let body = alerts::post_body(&labels, &canary.annotations, posted_ms, ends_ms);
        match am.send(HttpMethod::POST, ALERTS, Some(body.into_bytes())) {
            Ok(r) if (200..300).contains(&r.status) => posted.push((*side, am, labels)),
            Ok(r) => {
                let text: String = r.text().chars().take(500).collect();
                report.stop = Some(Stop::Rejected(format!(
                    "Alertmanager {} rejected the synthetic alert: POST {} answered HTTP {}: {}",
                    side.as_str(),
                    am.url(ALERTS),
                    r.status,
                    text.trim()
                )));
                break;
            }
            Err(e) => {
                report.stop = Some(Stop::Unreachable(format!(
                    "Alertmanager {}: {}",
                    side.as_str(),
                    describe(&e)
                )));
                break;
            }
        }
    }
    if report.stop.is_none() {
        wait(canary, run, posted_ms, sink, &mut report);
    }
    for (side, am, labels) in posted {
        let body = alerts::post_body(&labels, &canary.annotations, posted_ms, now_ms());
        if let Err(e) = am.post_json_ok(ALERTS, body) {
            log::warn(format!(
                "resolving the synthetic alert failed: {}",
                describe(&e)
            ));
            report
                .resolve_errors
                .push(format!("{}: {}", side.as_str(), describe(&e)));
        }
    }
    report
}

/// Reads the sink until every receiver has the alert or the time is up.
fn wait(canary: &Canary, run: &str, posted_ms: i64, sink: &Client, report: &mut Report) {
    let deadline = posted_ms + i64::try_from(canary.timeout_ms).unwrap_or(i64::MAX / 4);
    let path = format!("{NOTIFICATIONS}?since_ms={}", posted_ms - SINK_SLACK_MS);
    loop {
        match sink.get_ok(&path).and_then(|text| {
            sink::parse(&text).map_err(|e| {
                cutover_plugin_sdk::unavailable(format!("GET {}: {e}", sink.url(&path)))
            })
        }) {
            Ok(deliveries) => {
                report.sink_error = None;
                for r in report
                    .receipts
                    .iter_mut()
                    .filter(|r| r.latency_ms.is_none())
                {
                    r.latency_ms =
                        sink::first_delivery(&deliveries, run, posted_ms, r.side, &r.receiver)
                            .map(|at| (at - posted_ms).max(0) as f64);
                }
            }
            Err(e) => report.sink_error = Some(describe(&e)),
        }
        let all = report.receipts.iter().all(|r| r.latency_ms.is_some());
        let now = now_ms();
        if all || now >= deadline {
            return;
        }
        let pause = canary
            .poll_ms
            .min(u64::try_from(deadline - now).unwrap_or(0));
        std::thread::sleep(Duration::from_millis(pause));
    }
}

/// Resolves the alerts carrying run marker `run`; how many there were.
fn resolve_leftovers(am: &Client, run: &str) -> Result<usize, String> {
    let path = alerts::leftovers_path(run);
    let text = am.get_ok(&path).map_err(|e| describe(&e))?;
    let now = now_ms();
    let found =
        alerts::leftovers(&text, run, now).map_err(|e| format!("GET {}: {e}", am.url(&path)))?;
    for l in &found {
        let body = alerts::post_body(&l.labels, &l.annotations, l.starts_at, now);
        am.post_json_ok(ALERTS, body).map_err(|e| describe(&e))?;
    }
    if !found.is_empty() {
        log::info(format!(
            "resolved {} synthetic alert(s) of run {run} left firing at {}",
            found.len(),
            am.url(ALERTS)
        ));
    }
    Ok(found.len())
}

cutover_plugin_sdk::export_check!(AlertmanagerCanary);

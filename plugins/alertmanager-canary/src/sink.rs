//! The webhook receiver's record of deliveries, and which expected receiver
//! got this attempt's alert when.
//!
//! The sink answers `GET /api/notifications?since_ms=N` with the
//! notifications it received, oldest first: `[{"path", "received_ms",
//! "payload"}]`, `payload` being Alertmanager's webhook body (`receiver`,
//! `status`, `alerts[].labels`, `alerts[].status`, ...). A record proves a
//! delivery of this attempt to `(alertmanager, receiver)` when its
//! `payload.receiver` is the receiver and one of its alerts is firing and
//! carries this attempt's labels (run marker, Alertmanager, attempt).

use serde::Deserialize;

use crate::params::{ATTEMPT, Labels, MARKER, Side, VIA};

#[derive(Debug, Deserialize)]
struct Record {
    received_ms: i64,
    #[serde(default)]
    payload: Option<Payload>,
}

#[derive(Debug, Deserialize)]
struct Payload {
    #[serde(default)]
    receiver: String,
    #[serde(default)]
    alerts: Vec<WebhookAlert>,
}

#[derive(Debug, Deserialize)]
struct WebhookAlert {
    #[serde(default)]
    status: String,
    #[serde(default)]
    labels: Labels,
}

/// One notification the sink recorded: who received it, when, and the
/// firing alerts' labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub receiver: String,
    pub received_ms: i64,
    pub firing: Vec<Labels>,
}

/// Parses the sink's answer. Records that are not webhook notifications
/// (no payload) are skipped.
pub fn parse(body: &str) -> Result<Vec<Delivery>, String> {
    let records: Vec<Record> = cutover_plugin_sdk::decode_json("the sink's notifications", body)
        .map_err(|e| e.to_string())?;
    Ok(records
        .into_iter()
        .filter_map(|r| {
            let p = r.payload?;
            Some(Delivery {
                receiver: p.receiver,
                received_ms: r.received_ms,
                firing: p
                    .alerts
                    .into_iter()
                    .filter(|a| a.status == "firing")
                    .map(|a| a.labels)
                    .collect(),
            })
        })
        .collect())
}

/// When `receiver` of Alertmanager `side` first received this attempt's
/// alert (run `run`, attempt `attempt`), if it did.
pub fn first_delivery(
    deliveries: &[Delivery],
    run: &str,
    attempt: i64,
    side: Side,
    receiver: &str,
) -> Option<i64> {
    let attempt = attempt.to_string();
    let ours = |l: &Labels| {
        l.get(MARKER).is_some_and(|v| v == run)
            && l.get(VIA).is_some_and(|v| v == side.as_str())
            && l.get(ATTEMPT).is_some_and(|v| *v == attempt)
    };
    deliveries
        .iter()
        .filter(|d| d.receiver == receiver && d.firing.iter().any(ours))
        .map(|d| d.received_ms)
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(
        receiver: &str,
        at: i64,
        status: &str,
        run: &str,
        via: &str,
        attempt: &str,
    ) -> String {
        format!(
            r#"{{"path":"/web","received_ms":{at},"payload":{{"receiver":"{receiver}","status":"{status}",
               "externalURL":"http://am","alerts":[
                 {{"status":"firing","labels":{{"alertname":"Other"}}}},
                 {{"status":"{status}","labels":{{"alertname":"CutoverCanary","cutover_canary":"{run}",
                   "cutover_canary_via":"{via}","cutover_canary_attempt":"{attempt}"}}}}]}}}}"#
        )
    }

    #[test]
    fn finds_the_first_delivery_per_alertmanager_and_receiver() {
        let body = format!(
            "[{},{},{},{},{},{},{}]",
            record("web-team", 1300, "firing", "run-1", "new", "1000"),
            record("web-team", 1200, "firing", "run-1", "new", "1000"),
            record("web-team", 1100, "firing", "run-1", "old", "1000"),
            record("web-team", 1050, "firing", "run-1", "new", "999"),
            record("web-team", 1040, "firing", "run-2", "new", "1000"),
            record("web-team", 1030, "resolved", "run-1", "new", "1000"),
            r#"{"path":"/x","received_ms":5,"payload":null}"#,
        );
        let d = parse(&body).unwrap();
        assert_eq!(d.len(), 6);
        assert_eq!(
            first_delivery(&d, "run-1", 1000, Side::New, "web-team"),
            Some(1200)
        );
        assert_eq!(
            first_delivery(&d, "run-1", 1000, Side::Old, "web-team"),
            Some(1100)
        );
        assert_eq!(first_delivery(&d, "run-1", 1000, Side::New, "sink"), None);
        assert_eq!(
            first_delivery(&d, "run-3", 1000, Side::New, "web-team"),
            None
        );
    }

    #[test]
    fn a_bad_answer_says_what() {
        let e = parse(r#"{"x":1}"#).unwrap_err();
        assert!(e.contains("the sink's notifications"), "{e}");
        let e = parse(r#"[{"path":"/","payload":{}}]"#).unwrap_err();
        assert!(e.contains("received_ms"), "{e}");
    }
}

//! Alertmanager `GET /api/v2/alerts`.
//!
//! Two readers share the semantics defined here: the streaming scanner of
//! [`super::stream`] (the fast path, for files of any size) and serde (the
//! reference, used when the scanner gives up and for exact error messages).
//! Both hand each alert to an [`AmSink`] as a [`RawAm`].

use super::from_json;
use crate::error::CompareError;
use crate::model::{Alert, AlertState, AlertTable, label_fingerprint};
use crate::timefmt::{JsonTime, is_go_zero};
use serde::Deserialize;
use serde::de::{SeqAccess, Visitor};
use std::collections::BTreeMap;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AmAlert {
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    starts_at: JsonTime,
    #[serde(default)]
    ends_at: Option<JsonTime>,
    #[serde(default)]
    updated_at: Option<JsonTime>,
    #[serde(default)]
    fingerprint: Option<String>,
    status: AmStatus,
}

#[derive(Deserialize)]
struct AmStatus {
    state: AmState,
}

/// `status.state` of an Alertmanager alert.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum AmState {
    Active,
    Suppressed,
    Unprocessed,
}

/// One alert as read, before the file-wide reference time is known.
pub(crate) struct RawAm<'x> {
    /// Labels sorted by name, without duplicates (a `BTreeMap`'s order).
    pub(crate) labels: &'x [(&'x str, &'x str)],
    /// Annotations in the same form (empty unless the sink wants them).
    pub(crate) annotations: &'x [(&'x str, &'x str)],
    pub(crate) starts_at: i64,
    pub(crate) ends_at: Option<i64>,
    pub(crate) fingerprint: Option<&'x str>,
    pub(crate) state: AmState,
}

/// Receives the alerts of a dump, then the reference time.
pub(crate) trait AmSink {
    /// Whether annotations are needed (skipped, only validated, otherwise).
    fn wants_annotations(&self) -> bool;
    /// About `alerts` more alerts of about `labels` labels each will come.
    fn reserve(&mut self, alerts: usize, labels: usize) {
        let _ = (alerts, labels);
    }
    /// One alert.
    fn push(&mut self, a: &RawAm<'_>);
    /// All alerts were read: `reference` is the newest `updatedAt`.
    fn finish(&mut self, reference: Option<i64>);
}

/// `endsAt` as far as it can be judged alone: Go's zero time and ends before
/// the start mean "no end".
fn provisional_end(a: &RawAm<'_>) -> Option<i64> {
    a.ends_at.filter(|&e| !is_go_zero(e) && e >= a.starts_at)
}

/// Alertmanager sets `endsAt` in the future (resolve timeout) for active
/// alerts, so an `endsAt` later than the newest `updatedAt` in the file means
/// "still active". Without any `updatedAt` in the file there is no reference
/// time, so `endsAt` is ignored and every alert is taken as not ended.
fn final_end(provisional: Option<i64>, reference: Option<i64>) -> Option<i64> {
    provisional.filter(|&e| reference.is_some_and(|now| e <= now))
}

/// State at dump time: resolved when it ended, else from `status.state`.
fn final_state(state: AmState, end: Option<i64>) -> AlertState {
    match (end, state) {
        (Some(_), _) => AlertState::Resolved,
        (None, AmState::Active | AmState::Unprocessed) => AlertState::Active,
        (None, AmState::Suppressed) => AlertState::Suppressed,
    }
}

fn fingerprint<'x>(a: &RawAm<'x>) -> Option<&'x str> {
    a.fingerprint.filter(|f| !f.is_empty())
}

/// Builds full [`Alert`]s (the public [`crate::Parsed`] form).
pub(crate) struct AlertsSink {
    origin: String,
    alerts: Vec<Alert>,
    pending: Vec<(Option<i64>, AmState)>,
    reference: Option<i64>,
}

impl AlertsSink {
    pub(crate) fn new(origin: &str) -> AlertsSink {
        AlertsSink {
            origin: origin.to_string(),
            alerts: Vec::new(),
            pending: Vec::new(),
            reference: None,
        }
    }

    pub(crate) fn into_alerts(self) -> Vec<Alert> {
        self.alerts
    }
}

impl AmSink for AlertsSink {
    fn wants_annotations(&self) -> bool {
        true
    }

    fn push(&mut self, a: &RawAm<'_>) {
        let own = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let labels = own(a.labels);
        let fingerprint = match fingerprint(a) {
            Some(f) => f.to_string(),
            None => label_fingerprint(&labels),
        };
        self.pending.push((provisional_end(a), a.state));
        self.alerts.push(Alert {
            labels,
            annotations: own(a.annotations),
            starts_at: a.starts_at,
            ends_at: None,
            state: AlertState::Active,
            source: self.origin.clone(),
            fingerprint,
        });
    }

    fn finish(&mut self, reference: Option<i64>) {
        self.reference = reference;
        for (alert, (end, state)) in self.alerts.iter_mut().zip(self.pending.drain(..)) {
            alert.ends_at = final_end(end, reference);
            alert.state = final_state(state, alert.ends_at);
        }
    }
}

/// Builds the compact [`AlertTable`] (annotations are only validated).
#[derive(Default)]
pub(crate) struct TableSink {
    table: AlertTable,
    pending: Vec<(Option<i64>, AmState)>,
}

impl TableSink {
    pub(crate) fn into_table(self) -> AlertTable {
        self.table
    }
}

impl AmSink for TableSink {
    fn wants_annotations(&self) -> bool {
        false
    }

    fn reserve(&mut self, alerts: usize, labels: usize) {
        self.pending.reserve(alerts);
        self.table.reserve(alerts, labels);
    }

    fn push(&mut self, a: &RawAm<'_>) {
        // The state and end are final once the reference time is known: push
        // them provisionally, fix them up in `finish`.
        self.pending.push((provisional_end(a), a.state));
        self.table.push(
            a.labels,
            a.starts_at,
            None,
            AlertState::Active,
            fingerprint(a),
        );
    }

    fn finish(&mut self, reference: Option<i64>) {
        let pending = std::mem::take(&mut self.pending);
        self.table.set_ends(pending.into_iter().map(|(end, state)| {
            let end = final_end(end, reference);
            (end, final_state(state, end))
        }));
    }
}

/// Hand one serde-read alert to the sink.
fn push_serde(sink: &mut impl AmSink, a: AmAlert, reference: &mut Option<i64>) {
    let labels: Vec<(&str, &str)> = a
        .labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let annotations: Vec<(&str, &str)> = if sink.wants_annotations() {
        a.annotations
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    } else {
        Vec::new()
    };
    let updated_at = a.updated_at.map(|t| t.0);
    if let Some(u) = updated_at {
        *reference = Some(reference.map_or(u, |r| r.max(u)));
    }
    sink.push(&RawAm {
        labels: &labels,
        annotations: &annotations,
        starts_at: a.starts_at.0,
        ends_at: a.ends_at.map(|t| t.0),
        fingerprint: a.fingerprint.as_deref(),
        state: a.status.state,
    });
}

/// Reference parser of a dump held in memory (serde; exact errors).
pub(super) fn parse(text: &str, origin: &str) -> Result<Vec<Alert>, CompareError> {
    let raw: Vec<AmAlert> = from_json(text, origin)?;
    let mut sink = AlertsSink::new(origin);
    let mut reference = None;
    for a in raw {
        push_serde(&mut sink, a, &mut reference);
    }
    sink.finish(reference);
    Ok(sink.into_alerts())
}

/// Reference parser of a dump held in memory, one alert at a time: the
/// errors (and positions) of [`parse`], without holding every alert.
pub(crate) fn parse_into(
    text: &str,
    origin: &str,
    sink: &mut impl AmSink,
) -> Result<(), CompareError> {
    struct Alerts<'s, S>(&'s mut S);
    impl<'de, S: AmSink> Visitor<'de> for Alerts<'_, S> {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            // What serde says for a `Vec`, so errors read as they always did.
            f.write_str("a sequence")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<i64>, A::Error> {
            let mut reference = None;
            while let Some(a) = seq.next_element::<AmAlert>()? {
                push_serde(self.0, a, &mut reference);
            }
            Ok(reference)
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let reference = serde::Deserializer::deserialize_seq(&mut de, Alerts(sink))
        .and_then(|r| de.end().map(|()| r))
        .map_err(|e| CompareError::from_json(origin, &e, 0))?;
    sink.finish(reference);
    Ok(())
}

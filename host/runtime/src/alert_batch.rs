//! The compact host form of a batch of alerts: one text buffer for every
//! label, annotation and fingerprint of the batch, the end offset of each
//! string, and one fixed-size record per alert. Reading it makes no
//! allocation per alert: [`AlertBatch::iter`] hands out borrowed
//! [`AlertView`]s. [`AlertBatch::to_alerts`] converts to `Vec<wit::Alert>`
//! where a caller needs owned alerts (that conversion allocates every
//! string, as lifting `list<alert>` does).

use crate::alert_frame::FramingError;
use crate::bindings::wit;

/// Flags bit: `ends-at` is present.
pub(crate) const HAS_END: u8 = 0b100;
/// Flags bits: the state (0 active, 1 suppressed, 2 resolved).
pub(crate) const STATE: u8 = 0b011;

/// One alert of a batch: its fixed fields and where its strings are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Record {
    pub(crate) starts_at: i64,
    pub(crate) ends_at: i64,
    /// Index (in `ends`) of the fingerprint; label names and values
    /// follow, then annotation names and values.
    pub(crate) first: u32,
    pub(crate) labels: u32,
    pub(crate) annotations: u32,
    /// State and `HAS_END`, checked when the record was added.
    pub(crate) flags: u8,
}

/// Alerts as the host holds them after a streamed `collect-alerts-into`
/// (or converted from a `collect-alerts` list): see the module docs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertBatch {
    text: String,
    /// End offset in `text` of every string; string `i` starts where
    /// string `i - 1` ends (at 0 for the first).
    ends: Vec<u32>,
    records: Vec<Record>,
}

/// Builds a batch string by string; text beyond `u32::MAX` bytes is
/// [`FramingError::TooLarge`].
#[derive(Default)]
pub(crate) struct Builder {
    pub(crate) text: Vec<u8>,
    pub(crate) ends: Vec<u32>,
    pub(crate) records: Vec<Record>,
}

impl Builder {
    pub(crate) fn with_capacity(bytes: usize) -> Self {
        // A streamed alert is ~250 bytes with ~15 strings; over-reserving
        // the text (bounded by the stream) saves its regrowth copies.
        Self {
            text: Vec::with_capacity(bytes),
            ends: Vec::with_capacity(bytes / 16),
            records: Vec::with_capacity(bytes / 256),
        }
    }

    /// Appends a string's bytes (checked as UTF-8 by the caller, now or
    /// for the whole text at [`Builder::finish`]).
    #[inline]
    pub(crate) fn push(&mut self, s: &[u8]) -> Result<(), FramingError> {
        self.text.extend_from_slice(s);
        let end = u32::try_from(self.text.len()).map_err(|_| FramingError::TooLarge {
            bytes: self.text.len() as u64,
        })?;
        self.ends.push(end);
        Ok(())
    }

    /// The next string's index, as a record's `first`.
    pub(crate) fn next_index(&self) -> Result<u32, FramingError> {
        u32::try_from(self.ends.len()).map_err(|_| FramingError::TooLarge {
            bytes: self.text.len() as u64,
        })
    }

    /// The batch, if the text is UTF-8 and every string ends on a
    /// character boundary (then every string is UTF-8 on its own: the
    /// concatenation of strings that are not could be); `None` otherwise.
    pub(crate) fn finish(self) -> Option<AlertBatch> {
        let text = String::from_utf8(self.text).ok()?;
        if !self.ends.iter().all(|&e| text.is_char_boundary(e as usize)) {
            return None;
        }
        Some(AlertBatch {
            text,
            ends: self.ends,
            records: self.records,
        })
    }
}

fn flags_of(a: &wit::Alert) -> u8 {
    let state = match a.state {
        wit::AlertState::Active => 0,
        wit::AlertState::Suppressed => 1,
        wit::AlertState::Resolved => 2,
    };
    state | if a.ends_at.is_some() { HAS_END } else { 0 }
}

impl AlertBatch {
    /// A batch holding `alerts` (what `collect-alerts` returned, on an
    /// adapter without `collect-alerts-into`). More than 4 GiB of text, or
    /// more than `u32::MAX` labels or annotations on one alert, is
    /// [`FramingError::TooLarge`].
    pub fn from_alerts(alerts: &[wit::Alert]) -> Result<Self, FramingError> {
        let mut b = Builder::default();
        for a in alerts {
            let too_large = |_| FramingError::TooLarge {
                bytes: b.text.len() as u64,
            };
            let labels = u32::try_from(a.labels.len()).map_err(too_large)?;
            let annotations = u32::try_from(a.annotations.len()).map_err(too_large)?;
            let first = b.next_index()?;
            b.push(a.fingerprint.as_bytes())?;
            for (k, v) in a.labels.iter().chain(&a.annotations) {
                b.push(k.as_bytes())?;
                b.push(v.as_bytes())?;
            }
            b.records.push(Record {
                starts_at: a.starts_at,
                ends_at: a.ends_at.unwrap_or(0),
                first,
                labels,
                annotations,
                flags: flags_of(a),
            });
        }
        // Strings of `String`s: always UTF-8 and on boundaries.
        b.finish().ok_or(FramingError::TooLarge { bytes: 0 })
    }

    /// Number of alerts.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether there are no alerts.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Bytes of label, annotation and fingerprint text.
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    /// Alert `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<AlertView<'_>> {
        self.records
            .get(i)
            .map(|rec| AlertView { batch: self, rec })
    }

    /// Every alert, in stream order, as borrowed views.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = AlertView<'_>> + DoubleEndedIterator {
        self.records
            .iter()
            .map(|rec| AlertView { batch: self, rec })
    }

    /// Owned alerts (every string allocated).
    pub fn to_alerts(&self) -> Vec<wit::Alert> {
        self.iter().map(|a| a.to_alert()).collect()
    }

    /// Owned alerts, consuming the batch.
    pub fn into_alerts(self) -> Vec<wit::Alert> {
        self.to_alerts()
    }

    /// The size the output cap counts, the same measure as for the
    /// `Vec<wit::Alert>` of `collect-alerts`: the text, 16 bytes per
    /// label or annotation and 32 per alert.
    pub fn output_size(&self) -> usize {
        let strings = self.ends.len();
        let alerts = self.records.len();
        self.text.len() + 8 * (strings - alerts) + 32 * alerts
    }

    #[inline]
    fn string(&self, i: u32) -> &str {
        let i = i as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        // In bounds and on character boundaries: checked when built.
        &self.text[start..self.ends[i] as usize]
    }
}

/// One alert of an [`AlertBatch`], borrowed.
#[derive(Clone, Copy)]
pub struct AlertView<'a> {
    batch: &'a AlertBatch,
    rec: &'a Record,
}

impl<'a> AlertView<'a> {
    /// Unix milliseconds the alert started.
    pub fn starts_at(&self) -> i64 {
        self.rec.starts_at
    }

    /// Unix milliseconds it ended, if it did.
    pub fn ends_at(&self) -> Option<i64> {
        (self.rec.flags & HAS_END != 0).then_some(self.rec.ends_at)
    }

    /// Active, suppressed or resolved.
    pub fn state(&self) -> wit::AlertState {
        match self.rec.flags & STATE {
            0 => wit::AlertState::Active,
            1 => wit::AlertState::Suppressed,
            // 3 is refused when the record is added.
            _ => wit::AlertState::Resolved,
        }
    }

    /// The alerting system's fingerprint.
    pub fn fingerprint(&self) -> &'a str {
        self.batch.string(self.rec.first)
    }

    /// Label names and values, in stream order.
    pub fn labels(&self) -> Pairs<'a> {
        Pairs {
            batch: self.batch,
            next: self.rec.first + 1,
            left: self.rec.labels,
        }
    }

    /// Annotation names and values, in stream order.
    pub fn annotations(&self) -> Pairs<'a> {
        Pairs {
            batch: self.batch,
            next: self.rec.first + 1 + 2 * self.rec.labels,
            left: self.rec.annotations,
        }
    }

    /// The value of label `name` (the first, should it repeat).
    pub fn label(&self, name: &str) -> Option<&'a str> {
        self.labels().find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    /// The owned alert.
    pub fn to_alert(&self) -> wit::Alert {
        let owned =
            |p: Pairs<'a>| -> wit::Pairs { p.map(|(k, v)| (k.to_owned(), v.to_owned())).collect() };
        wit::Alert {
            labels: owned(self.labels()),
            annotations: owned(self.annotations()),
            starts_at: self.starts_at(),
            ends_at: self.ends_at(),
            state: self.state(),
            fingerprint: self.fingerprint().to_owned(),
        }
    }
}

impl std::fmt::Debug for AlertView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertView")
            .field("labels", &self.labels().collect::<Vec<_>>())
            .field("annotations", &self.annotations().collect::<Vec<_>>())
            .field("starts_at", &self.starts_at())
            .field("ends_at", &self.ends_at())
            .field("state", &self.state())
            .field("fingerprint", &self.fingerprint())
            .finish()
    }
}

/// Name/value pairs of one alert, borrowed from its batch.
#[derive(Clone)]
pub struct Pairs<'a> {
    batch: &'a AlertBatch,
    next: u32,
    left: u32,
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a str, &'a str);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let i = self.next;
        self.next += 2;
        Some((self.batch.string(i), self.batch.string(i + 1)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left as usize, Some(self.left as usize))
    }
}

impl ExactSizeIterator for Pairs<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(i: i64) -> wit::Alert {
        wit::Alert {
            labels: vec![
                ("alertname".into(), format!("A{i}")),
                ("ünïcode".into(), "✓".into()),
            ],
            annotations: vec![("summary".into(), String::new())],
            starts_at: i,
            ends_at: (i % 2 == 0).then_some(i + 5),
            state: [
                wit::AlertState::Active,
                wit::AlertState::Suppressed,
                wit::AlertState::Resolved,
            ][(i % 3) as usize],
            fingerprint: format!("{i:016x}"),
        }
    }

    #[test]
    fn a_batch_round_trips_alerts_and_counts_like_the_list() {
        use crate::size::OutputSize;
        let alerts: Vec<_> = (0..7).map(alert).collect();
        let b = AlertBatch::from_alerts(&alerts).unwrap();
        assert_eq!(b.len(), 7);
        assert_eq!(b.to_alerts(), alerts);
        assert_eq!(b.output_size(), alerts.output_size());
        let v = b.get(3).unwrap();
        assert_eq!(v.label("alertname"), Some("A3"));
        assert_eq!(v.label("nope"), None);
        assert_eq!(v.labels().len(), 2);
        assert_eq!(v.annotations().collect::<Vec<_>>(), vec![("summary", "")]);
        assert!(b.get(7).is_none());
        assert!(AlertBatch::from_alerts(&[]).unwrap().is_empty());
    }
}

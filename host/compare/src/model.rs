//! The normalised alert model every parser produces.

use serde::Serialize;
use std::collections::BTreeMap;

/// State of an alert at the time the dump was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    /// Firing and notifying.
    Active,
    /// Firing but silenced or inhibited (still counts as fired).
    Suppressed,
    /// Fired during the window and has since ended.
    Resolved,
}

/// One alert episode: a label set that started firing at `starts_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    /// Identifying labels, including `alertname`.
    pub labels: BTreeMap<String, String>,
    /// Non-identifying annotations (summary, description, runbook...).
    pub annotations: BTreeMap<String, String>,
    /// Start of the episode, unix milliseconds.
    pub starts_at: i64,
    /// End of the episode, unix milliseconds; `None` while still active.
    pub ends_at: Option<i64>,
    /// State at dump time.
    pub state: AlertState,
    /// System the alert came from (file name or the export's `system`).
    pub source: String,
    /// Fingerprint from the source, or a stable hash of the labels.
    pub fingerprint: String,
}

impl Alert {
    /// The `alertname` label, or an empty string when absent.
    pub fn alertname(&self) -> &str {
        self.labels
            .get("alertname")
            .map(String::as_str)
            .unwrap_or("")
    }
}

/// A stable 64-bit FNV-1a fingerprint of a label set, as 16 hex digits.
/// Used when the source does not provide one (Prometheus v1 API).
pub fn label_fingerprint(labels: &BTreeMap<String, String>) -> String {
    format!(
        "{:016x}",
        fnv_labels(labels.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    )
}

/// FNV-1a over `(name, value)` pairs in the given (sorted) order: the value
/// behind [`label_fingerprint`].
pub(crate) fn fnv_labels<'a>(labels: impl Iterator<Item = (&'a str, &'a str)>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (k, v) in labels {
        for b in k.bytes().chain([0xff]).chain(v.bytes()).chain([0xfe]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// `Some(v)` when `s` is exactly 16 lowercase hex digits (the usual
/// Alertmanager fingerprint), so it can be stored as a number.
pub(crate) fn parse_hex_fingerprint(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 16 {
        return None;
    }
    let mut v = 0u64;
    for &c in b {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => return None,
        };
        v = v << 4 | u64::from(d);
    }
    Some(v)
}

/// Hasher of interned strings and label sets: fast, fixed seed, so runs are
/// reproducible (no output depends on hash order anyway).
pub(crate) fn hasher() -> foldhash::fast::FixedState {
    foldhash::fast::FixedState::with_seed(0x6375_746f_7665_7221)
}

/// Hash of a string for [`Interner`] tables.
#[inline]
pub(crate) fn hash_str(s: &str) -> u64 {
    use std::hash::BuildHasher;
    hasher().hash_one(s)
}

pub(crate) use crate::intern::Interner;

/// Sentinel of [`AlertTable`] for "no end".
pub(crate) const NO_END: i64 = i64::MIN;

/// Alerts of one dump in compact form: interned label names and values,
/// each alert's labels as a sorted run of `(name, value)` id pairs, times as
/// unix milliseconds. Annotations and sources are not kept (no report shows
/// them). Alerts are in [`crate::Parsed`] order once [`AlertTable::sort`]
/// has run: start time, then labels, then fingerprint.
#[derive(Debug, Default, Clone)]
pub(crate) struct AlertTable {
    /// Label names.
    pub(crate) names: Interner,
    /// Label values.
    pub(crate) values: Interner,
    pairs: Vec<(u32, u32)>,
    starts: Vec<i64>,
    rest: Vec<Rest>,
    /// Fingerprints that are not 16 lowercase hex digits, by alert index.
    fp_text: Vec<(u32, Box<str>)>,
}

/// Per-alert fields besides the start (kept together so that reordering
/// alerts moves one record each).
#[derive(Debug, Clone, Copy)]
struct Rest {
    end: i64,
    fp: u64,
    span: (u32, u32),
    state: AlertState,
}

impl AlertTable {
    /// Number of alerts.
    pub(crate) fn len(&self) -> usize {
        self.starts.len()
    }

    /// Room for about `alerts` more alerts of `labels` labels each.
    pub(crate) fn reserve(&mut self, alerts: usize, labels: usize) {
        self.starts.reserve(alerts);
        self.rest.reserve(alerts);
        self.pairs.reserve(alerts.saturating_mul(labels));
    }

    /// Append an alert. `labels` must be sorted by name without duplicates
    /// (a `BTreeMap`'s order); `fingerprint` is the source's (non-empty) one.
    pub(crate) fn push(
        &mut self,
        labels: &[(&str, &str)],
        starts_at: i64,
        ends_at: Option<i64>,
        state: AlertState,
        fingerprint: Option<&str>,
    ) {
        let start = self.pairs.len();
        for &(n, v) in labels {
            let pair = (self.names.intern(n), self.values.intern(v));
            self.pairs.push(pair);
        }
        let span = (
            u32::try_from(start).unwrap_or(u32::MAX),
            u32::try_from(labels.len()).unwrap_or(u32::MAX),
        );
        let fp = match fingerprint {
            None => fnv_labels(labels.iter().copied()),
            Some(f) => match parse_hex_fingerprint(f) {
                Some(v) => v,
                None => {
                    let idx = u32::try_from(self.len()).unwrap_or(u32::MAX);
                    self.fp_text.push((idx, f.into()));
                    0
                }
            },
        };
        self.starts.push(starts_at);
        self.rest.push(Rest {
            end: ends_at.unwrap_or(NO_END),
            fp,
            span,
            state,
        });
    }

    /// Set the end and state of every alert, in order (the Alertmanager
    /// reader knows them only once the whole file was read).
    pub(crate) fn set_ends(&mut self, fixed: impl Iterator<Item = (Option<i64>, AlertState)>) {
        for ((end, state), r) in fixed.zip(self.rest.iter_mut()) {
            r.end = end.unwrap_or(NO_END);
            r.state = state;
        }
    }

    /// Label id pairs of alert `i`, sorted by name.
    #[inline]
    pub(crate) fn labels(&self, i: usize) -> &[(u32, u32)] {
        let (start, len) = self.rest.get(i).map_or((0, 0), |r| r.span);
        self.pairs
            .get(start as usize..start as usize + len as usize)
            .unwrap_or(&[])
    }

    /// Start of alert `i` (unix ms).
    #[inline]
    pub(crate) fn starts_at(&self, i: usize) -> i64 {
        self.starts[i]
    }

    /// All starts, in alert order.
    pub(crate) fn starts(&self) -> &[i64] {
        &self.starts
    }

    /// End of alert `i`, if it ended.
    #[inline]
    pub(crate) fn ends_at(&self, i: usize) -> Option<i64> {
        Some(self.rest[i].end).filter(|&e| e != NO_END)
    }

    /// State of alert `i`.
    fn state(&self, i: usize) -> AlertState {
        self.rest[i].state
    }

    /// Fingerprint of alert `i`: a number when it is 16 lowercase hex
    /// digits, else its text.
    #[inline]
    pub(crate) fn fingerprint(&self, i: usize) -> Result<u64, &str> {
        if !self.fp_text.is_empty()
            && let Ok(k) = self.fp_text.binary_search_by_key(&i, |(a, _)| *a as usize)
        {
            return Err(&self.fp_text[k].1);
        }
        Ok(self.rest[i].fp)
    }

    /// Fingerprint of alert `i` as text.
    pub(crate) fn fingerprint_string(&self, i: usize) -> String {
        match self.fingerprint(i) {
            Ok(v) => format!("{v:016x}"),
            Err(s) => s.to_string(),
        }
    }

    /// Put alerts in [`crate::Parsed`] order: start time, then labels (as
    /// strings, like `BTreeMap` ordering), then fingerprint; ties keep their
    /// input order (a stable sort).
    pub(crate) fn sort(&mut self) {
        let n = self.len();
        if self.starts.is_sorted() && !self.starts.windows(2).any(|w| w[0] == w[1]) {
            return;
        }
        let mut keyed: Vec<(i64, u32)> = self
            .starts
            .iter()
            .enumerate()
            .map(|(i, &s)| (s, i as u32))
            .collect();
        keyed.sort_unstable();
        // Ties on the start are rare: resolve each run of equal starts
        // (input order, then labels and fingerprint; `sort_by` is stable).
        let mut i = 0;
        while i < n {
            let mut j = i + 1;
            while j < n && keyed[j].0 == keyed[i].0 {
                j += 1;
            }
            if j - i > 1 {
                keyed[i..j].sort_by(|a, b| self.tie_break(a.1 as usize, b.1 as usize));
            }
            i = j;
        }
        // Labels too, so that passes in alert order read memory in order.
        let mut pairs = Vec::with_capacity(self.pairs.len());
        let mut rest = Vec::with_capacity(n);
        for &(_, i) in &keyed {
            let mut r = self.rest[i as usize];
            let labels = self.labels(i as usize);
            r.span = (pairs.len() as u32, labels.len() as u32);
            pairs.extend(labels.iter().copied());
            rest.push(r);
        }
        self.pairs = pairs;
        self.rest = rest;
        self.starts = keyed.iter().map(|&(s, _)| s).collect();
        if !self.fp_text.is_empty() {
            let mut inverse = vec![0u32; n];
            for (k, &(_, i)) in keyed.iter().enumerate() {
                inverse[i as usize] = k as u32;
            }
            for (idx, _) in &mut self.fp_text {
                *idx = inverse[*idx as usize];
            }
            self.fp_text.sort_by_key(|(idx, _)| *idx);
        }
    }

    /// Order of two alerts with the same start: labels, then fingerprint text
    /// (the input order decides the rest: the sort is stable).
    fn tie_break(&self, a: usize, b: usize) -> std::cmp::Ordering {
        let la = self
            .labels(a)
            .iter()
            .map(|&(n, v)| (self.names.get(n), self.values.get(v)));
        let lb = self
            .labels(b)
            .iter()
            .map(|&(n, v)| (self.names.get(n), self.values.get(v)));
        la.cmp(lb)
            .then_with(|| match (self.fingerprint(a), self.fingerprint(b)) {
                (Ok(x), Ok(y)) => x.cmp(&y),
                _ => self.fingerprint_string(a).cmp(&self.fingerprint_string(b)),
            })
    }

    /// Re-express the label ids in a shared vocabulary, adding what it
    /// lacks. The table's own interners are emptied: look names and values
    /// up in `names`/`values` from now on.
    pub(crate) fn remap(&mut self, names: &mut Interner, values: &mut Interner) {
        let own_names = std::mem::take(&mut self.names);
        let own_values = std::mem::take(&mut self.values);
        let nm: Vec<u32> = (0..own_names.len() as u32)
            .map(|i| names.intern(own_names.get(i)))
            .collect();
        let vm: Vec<u32> = (0..own_values.len() as u32)
            .map(|i| values.intern(own_values.get(i)))
            .collect();
        for p in &mut self.pairs {
            *p = (
                nm.get(p.0 as usize).copied().unwrap_or(p.0),
                vm.get(p.1 as usize).copied().unwrap_or(p.1),
            );
        }
    }

    /// Take the table's interners to serve as the shared vocabulary (ids
    /// unchanged).
    pub(crate) fn take_vocabulary(&mut self) -> (Interner, Interner) {
        (
            std::mem::take(&mut self.names),
            std::mem::take(&mut self.values),
        )
    }

    /// Rebuild full [`Alert`]s (annotations empty, `source` as given).
    pub(crate) fn to_alerts(&self, source: &str) -> Vec<Alert> {
        (0..self.len())
            .map(|i| Alert {
                labels: self
                    .labels(i)
                    .iter()
                    .map(|&(n, v)| {
                        (
                            self.names.get(n).to_string(),
                            self.values.get(v).to_string(),
                        )
                    })
                    .collect(),
                annotations: BTreeMap::new(),
                starts_at: self.starts[i],
                ends_at: self.ends_at(i),
                state: self.state(i),
                source: source.to_string(),
                fingerprint: self.fingerprint_string(i),
            })
            .collect()
    }

    /// Compact form of parsed alerts (kept in their order).
    pub(crate) fn from_alerts(alerts: &[Alert]) -> AlertTable {
        let mut t = AlertTable::default();
        let mut labels: Vec<(&str, &str)> = Vec::new();
        for a in alerts {
            labels.clear();
            labels.extend(a.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            t.push(
                &labels,
                a.starts_at,
                a.ends_at,
                a.state,
                Some(&a.fingerprint),
            );
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_sorts_like_parsed_alerts_and_round_trips() {
        let mk = |labels: &[(&str, &str)], start: i64, fp: &str| Alert {
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            annotations: BTreeMap::new(),
            starts_at: start,
            ends_at: (start % 2 == 0).then_some(start + 5),
            state: AlertState::Active,
            source: "s".into(),
            fingerprint: fp.into(),
        };
        let mut alerts = vec![
            mk(&[("alertname", "B")], 10, "00000000000000ff"),
            mk(&[("alertname", "A"), ("x", "1")], 10, "Zed"),
            mk(&[("alertname", "A")], 10, "0000000000000001"),
            mk(&[("alertname", "A")], 10, "0000000000000000"),
            mk(&[("alertname", "A")], 3, "a"),
            mk(&[("alertname", "A")], 10, "0000000000000000"),
        ];
        alerts[5].ends_at = Some(99);
        let mut t = AlertTable::from_alerts(&alerts);
        t.sort();
        alerts.sort_by(|a, b| {
            (a.starts_at, &a.labels, &a.fingerprint).cmp(&(b.starts_at, &b.labels, &b.fingerprint))
        });
        assert_eq!(t.to_alerts("s"), alerts);
        assert_eq!(t.names.find("x"), Some(1));
        assert_eq!(t.names.find("nope"), None);
    }

    #[test]
    fn fingerprint_depends_on_labels() {
        let mut a = BTreeMap::new();
        a.insert("alertname".to_string(), "X".to_string());
        let mut b = a.clone();
        assert_eq!(label_fingerprint(&a), label_fingerprint(&b));
        b.insert("a".into(), "b".into());
        assert_ne!(label_fingerprint(&a), label_fingerprint(&b));
    }
}

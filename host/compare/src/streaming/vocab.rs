//! The shared vocabulary of a streaming comparison (label names and values
//! of every dump interned once) and the normalisation rules (renames,
//! ignored labels) expressed in its ids.

use crate::model::{AlertTable, Interner};
use crate::options::CompareOptions;

/// Label names and values of all dumps, interned once.
pub(super) struct Vocab {
    pub(super) names: Interner,
    pub(super) values: Interner,
}

/// Per interned string: whether JSON and `{:?}` show it as is (no escapes).
pub(super) struct Plain {
    pub(super) names: Vec<bool>,
    pub(super) values_json: Vec<bool>,
    pub(super) values_debug: Vec<bool>,
}

impl Plain {
    pub(super) fn of(vocab: &Vocab) -> Plain {
        let json = |s: &str| s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\');
        let debug = |s: &str| {
            s.bytes()
                .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
        };
        let all = |i: &Interner, f: &dyn Fn(&str) -> bool| -> Vec<bool> {
            (0..i.len() as u32).map(|id| f(i.get(id))).collect()
        };
        Plain {
            names: all(&vocab.names, &|s| debug(s)),
            values_json: all(&vocab.values, &json),
            values_debug: all(&vocab.values, &debug),
        }
    }
}

/// Each alert's labels after normalisation (renames and ignores), when they
/// differ from the labels as read.
pub(super) struct Norm {
    pub(super) pairs: Vec<(u32, u32)>,
    pub(super) spans: Vec<(u32, u32)>,
}

/// Normalisation rules in vocabulary ids.
pub(super) struct Rules {
    /// Name id -> new name id (old side only; identity when no rename).
    rename_label: Vec<u32>,
    /// `(from, to)` alert name value ids, first match wins.
    rename_alert: Vec<(u32, u32)>,
    /// `(label, from, to)` ids, applied in order.
    rename_value: Vec<(u32, u32, u32)>,
    /// Name ids to drop.
    ignore: Vec<bool>,
    /// Sort rank of each name id (names in string order).
    rank: Vec<u32>,
    pub(super) alertname: u32,
    renames: bool,
}

impl Rules {
    /// Whether `labels` can come out different from how they went in.
    fn touches(&self, labels: &[(u32, u32)]) -> bool {
        self.renames
            || labels
                .iter()
                .any(|&(n, _)| self.ignore.get(n as usize).copied().unwrap_or(false))
    }

    /// Normalise one alert's labels into `out`, sorted by name.
    fn apply(&self, labels: &[(u32, u32)], out: &mut Vec<(u32, u32)>) {
        out.clear();
        if self.renames {
            // A BTreeMap insert per label, in the original name order.
            for &(n, v) in labels {
                let n = self.rename_label.get(n as usize).copied().unwrap_or(n);
                match out.iter_mut().find(|(k, _)| *k == n) {
                    Some(slot) => slot.1 = v,
                    None => out.push((n, v)),
                }
            }
            if let Some(slot) = out.iter_mut().find(|(k, _)| *k == self.alertname)
                && let Some(&(_, to)) = self.rename_alert.iter().find(|(from, _)| *from == slot.1)
            {
                slot.1 = to;
            }
            for &(label, from, to) in &self.rename_value {
                if let Some(slot) = out.iter_mut().find(|(k, _)| *k == label)
                    && slot.1 == from
                {
                    slot.1 = to;
                }
            }
        } else {
            out.extend_from_slice(labels);
        }
        out.retain(|&(n, _)| {
            n == self.alertname || !self.ignore.get(n as usize).copied().unwrap_or(false)
        });
        if self.renames {
            out.sort_by_key(|&(n, _)| self.rank.get(n as usize).copied().unwrap_or(u32::MAX));
        }
    }

    /// The normalised labels of a table, or `None` when they are as read.
    pub(super) fn normalise(&self, table: &AlertTable) -> Option<Norm> {
        if !(0..table.len()).any(|i| self.touches(table.labels(i))) {
            return None;
        }
        let mut norm = Norm {
            pairs: Vec::with_capacity(table.len() * 6),
            spans: Vec::with_capacity(table.len()),
        };
        let mut buf = Vec::new();
        for i in 0..table.len() {
            self.apply(table.labels(i), &mut buf);
            let start = norm.pairs.len() as u32;
            norm.pairs.extend_from_slice(&buf);
            norm.spans.push((start, buf.len() as u32));
        }
        Some(norm)
    }
}

/// Build the rules of `opts` over the vocabulary (interning rename targets).
pub(super) fn rules(vocab: &mut Vocab, opts: &CompareOptions, renames: bool) -> Rules {
    let alertname = vocab.names.intern("alertname");
    let mut rename_alert = Vec::new();
    let mut rename_value = Vec::new();
    let mut label_pairs = Vec::new();
    if renames {
        for (from, to) in &opts.rename_labels {
            label_pairs.push((vocab.names.intern(from), vocab.names.intern(to)));
        }
        for (from, to) in &opts.rename_alerts {
            rename_alert.push((vocab.values.intern(from), vocab.values.intern(to)));
        }
        for (label, from, to) in &opts.rename_values {
            rename_value.push((
                vocab.names.intern(label),
                vocab.values.intern(from),
                vocab.values.intern(to),
            ));
        }
    }
    for l in &opts.ignore_labels {
        vocab.names.intern(l);
    }
    let n = vocab.names.len();
    let mut rename_label: Vec<u32> = (0..n as u32).collect();
    let mut renamed = vec![false; n];
    for (from, to) in label_pairs {
        // The first rename of a name wins.
        if !renamed[from as usize] {
            renamed[from as usize] = true;
            rename_label[from as usize] = to;
        }
    }
    let mut ignore = vec![false; n];
    for l in &opts.ignore_labels {
        if let Some(id) = vocab.names.find(l)
            && id != alertname
        {
            ignore[id as usize] = true;
        }
    }
    let mut by_name: Vec<u32> = (0..n as u32).collect();
    by_name.sort_by(|&x, &y| vocab.names.get(x).cmp(vocab.names.get(y)));
    let mut rank = vec![0u32; n];
    for (r, &id) in by_name.iter().enumerate() {
        rank[id as usize] = r as u32;
    }
    Rules {
        rename_label,
        rename_alert,
        rename_value,
        ignore,
        rank,
        alertname,
        renames: renames
            && !(opts.rename_labels.is_empty()
                && opts.rename_alerts.is_empty()
                && opts.rename_values.is_empty()),
    }
}

//! The summary of a streaming comparison's report (totals, delays,
//! breakdowns, time range and the keys the recommendations list), counted
//! from the compact data in a few passes.

use crate::matching::hints::{HintKeys, find_hints};
use crate::model::hasher;
use crate::recommend::{self, KeyList, LIST_MAX};
use crate::report::{Breakdown, InputInfo, Inputs, NONE_GROUP, Report, TimeRange};
use crate::stats::DelayStats;
use crate::streaming::comparison::{Comparison, phase};
use crate::streaming::sides::{NONE, Side};
use crate::summary::{Counts, Unmatched};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

impl Comparison<'_> {
    /// The report with empty alert lists (they are streamed): what was
    /// counted goes through [`Report::summarise`], then the inputs and the
    /// noise floor are attached.
    pub(super) fn summary(&self, old_path: &Path, new_path: &Path) -> Report {
        let (old, new, m, opts) = (&self.old, &self.new, &self.m, self.opts);
        // Two independent halves on the two cores: the counts (delays,
        // breakdowns, time range) and the key strings of the unmatched
        // alerts (the hints then use both cores on their own).
        let (counts, (missing, extra, missing_text, extra_text)) = std::thread::scope(|s| {
            let counts = s.spawn(|| self.counts());
            let missing = self.unmatched_keys(&m.keys_a, |i| m.partner[i] == NONE);
            let extra = self.unmatched_keys(&m.keys_b, |j| !m.taken[j]);
            let missing_text = self.key_texts(&missing);
            let extra_text = self.key_texts(&extra);
            phase("key strings");
            let counts = counts
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e));
            phase("counts");
            (counts, (missing, extra, missing_text, extra_text))
        });
        let unmatched = Unmatched {
            missing: missing_text.key_list(),
            extra: extra_text.key_list(),
            hints: self.hints(&missing, &extra),
        };
        phase("hints");
        let mut report = Report::summarise(counts, unmatched, opts);
        let info = |path: &Path, side: &Side| InputInfo {
            origin: path.display().to_string(),
            format: side.parsed.format,
            alerts: side.len(),
            stats: side.parsed.stats.clone(),
        };
        report = report.with_inputs(Inputs {
            old: info(old_path, old),
            new: info(new_path, new),
        });
        if let Some(noise) = &self.noise {
            report = report.with_noise_floor(noise.clone());
        }
        report
    }

    /// Totals, delay statistics, breakdowns and time range.
    fn counts(&self) -> Counts {
        let (old, new, m, opts) = (&self.old, &self.new, &self.m, self.opts);
        let (so, sn) = (old.table().starts(), new.table().starts());
        let delays: Vec<f64> = m
            .partner
            .iter()
            .enumerate()
            .filter(|&(_, &j)| j != NONE)
            .map(|(i, &j)| sn[j as usize].wrapping_sub(so[i]) as f64 / 1000.0)
            .collect();
        let delay_seconds = DelayStats::from_delays(&delays);
        drop(delays);
        let mut names = vec![Some(self.alertname), self.vocab.names.find("severity")];
        if let Some(l) = &opts.breakdown_label {
            names.push(self.vocab.names.find(l));
        }
        let mut groups = self.breakdowns(&names).into_iter();
        let by_alertname = groups.next().unwrap_or_default();
        let by_severity = groups.next().unwrap_or_default();
        let by_label = opts
            .breakdown_label
            .as_ref()
            .map(|_| groups.next().unwrap_or_default());
        Counts {
            total_old: old.len(),
            total_new: new.len(),
            matched: m.matched,
            delay_seconds,
            by_alertname,
            by_severity,
            by_label,
            time_range: self.time_range(),
        }
    }

    /// Counts grouped by the value of each label of `names` in the
    /// normalised labels (matched pairs and missing alerts by the old side's
    /// value), all in one pass.
    fn breakdowns(&self, names: &[Option<u32>]) -> Vec<BTreeMap<String, Breakdown>> {
        // Per grouping: value id -> slot (dense), slot counts; slot 0 is "absent".
        let nvalues = self.vocab.values.len();
        let mut slot_of: Vec<Vec<u32>> = names.iter().map(|_| vec![NONE; nvalues]).collect();
        let mut slots: Vec<Vec<(u32, Breakdown)>> = names
            .iter()
            .map(|_| vec![(NONE, Breakdown::default())])
            .collect();
        let mut count = |g: usize, labels: &[(u32, u32)], f: &dyn Fn(&mut Breakdown)| {
            let value = names[g]
                .and_then(|n| labels.iter().find(|&&(k, _)| k == n))
                .map(|&(_, v)| v);
            let slot = match value {
                None => 0,
                Some(v) => {
                    let s = &mut slot_of[g][v as usize];
                    if *s == NONE {
                        *s = slots[g].len() as u32;
                        slots[g].push((v, Breakdown::default()));
                    }
                    *s as usize
                }
            };
            f(&mut slots[g][slot].1);
        };
        for i in 0..self.old.len() {
            let labels = self.old.labels(i);
            let matched = self.m.partner[i] != NONE;
            for g in 0..names.len() {
                count(g, labels, &|b| {
                    b.old += 1;
                    if matched {
                        b.matched += 1;
                    } else {
                        b.missing += 1;
                    }
                });
            }
        }
        for j in 0..self.new.len() {
            let labels = self.new.labels(j);
            let extra = !self.m.taken[j];
            for g in 0..names.len() {
                count(g, labels, &|b| {
                    b.new += 1;
                    if extra {
                        b.extra += 1;
                    }
                });
            }
        }
        slots
            .into_iter()
            .map(|slots| {
                let mut out: BTreeMap<String, Breakdown> = BTreeMap::new();
                for (id, b) in slots {
                    if b.old + b.new == 0 {
                        continue;
                    }
                    let name = if id == NONE {
                        NONE_GROUP
                    } else {
                        self.value(id)
                    };
                    let e = out.entry(name.to_string()).or_default();
                    e.old += b.old;
                    e.new += b.new;
                    e.matched += b.matched;
                    e.missing += b.missing;
                    e.extra += b.extra;
                }
                for b in out.values_mut() {
                    b.match_rate = (b.old > 0).then(|| b.matched as f64 / b.old as f64);
                }
                out
            })
            .collect()
    }

    /// Earliest start to latest start or end (`TimeRange::of`).
    fn time_range(&self) -> Option<TimeRange> {
        let sides = [&self.old, &self.new];
        let from = sides
            .iter()
            .filter_map(|s| s.table().starts().first())
            .min()?;
        let mut to = *from;
        for s in sides {
            let t = s.table();
            for i in 0..t.len() {
                to = to.max(t.starts_at(i));
                if let Some(e) = t.ends_at(i) {
                    to = to.max(e);
                }
            }
        }
        Some(TimeRange { from: *from, to })
    }

    /// Distinct keys of the unmatched alerts of a side, in alert order.
    fn unmatched_keys(&self, keys: &[u32], unmatched: impl Fn(usize) -> bool) -> Vec<u32> {
        let mut seen = vec![false; self.m.reps.len()];
        let mut out = Vec::new();
        for (i, &k) in keys.iter().enumerate() {
            if unmatched(i) && !std::mem::replace(&mut seen[k as usize], true) {
                out.push(k);
            }
        }
        out
    }

    fn rep_labels(&self, key: u32) -> &[(u32, u32)] {
        let (is_b, i) = self.m.reps[key as usize];
        if is_b {
            self.new.labels(i as usize)
        } else {
            self.old.labels(i as usize)
        }
    }

    /// The key strings of some keys, in one buffer.
    fn key_texts(&self, keys: &[u32]) -> KeyTexts {
        let mut t = KeyTexts::default();
        let mut s = String::new();
        for &k in keys {
            self.key_string(self.rep_labels(k), &mut s);
            t.spans.push((t.text.len(), t.text.len() + s.len()));
            t.text.push_str(&s);
        }
        t
    }

    /// The rename and ignore-label hint lines for the distinct missing and
    /// extra keys.
    fn hints(&self, missing: &[u32], extra: &[u32]) -> Vec<String> {
        // Keys as the hint search sees them: alert name and the other labels.
        let mut hk = HintTable::default();
        let mut local: HashMap<u32, u32, _> = HashMap::with_hasher(hasher());
        let mut add = |k: u32, hk: &mut HintTable| -> u32 {
            *local.entry(k).or_insert_with(|| {
                let labels = self.rep_labels(k);
                hk.alertnames.push(self.alertname_of(labels));
                let start = hk.pairs.len() as u32;
                hk.pairs
                    .extend(labels.iter().filter(|&&(n, _)| n != self.alertname));
                hk.spans.push((start, hk.pairs.len() as u32 - start));
                hk.alertnames.len() as u32 - 1
            })
        };
        let missing_local: Vec<u32> = missing.iter().map(|&k| add(k, &mut hk)).collect();
        let extra_local: Vec<u32> = extra.iter().map(|&k| add(k, &mut hk)).collect();
        let hints = find_hints(&hk, &missing_local, &extra_local);
        recommend::hint_lines(
            hints
                .renames
                .iter()
                .map(|&(a, b)| (self.value(a), self.value(b))),
            hints.differing.iter().map(|&n| self.name(n)),
        )
    }
}

/// Key strings in one buffer: `text[a..b]` for each span.
#[derive(Default)]
struct KeyTexts {
    text: String,
    spans: Vec<(usize, usize)>,
}

impl KeyTexts {
    /// Distinct count and the smallest few, as the recommendation lines
    /// show them.
    fn key_list(&self) -> KeyList<'_> {
        use std::collections::HashSet;
        let strings = self
            .spans
            .iter()
            .map(|&(a, b)| self.text.get(a..b).unwrap_or(""));
        let mut distinct: HashSet<&str, _> = HashSet::with_hasher(hasher());
        distinct.extend(strings.clone());
        // The smallest few, kept sorted.
        let mut first: Vec<&str> = Vec::with_capacity(LIST_MAX + 1);
        for s in strings {
            if first.len() == LIST_MAX && first.last().is_some_and(|&l| s >= l) {
                continue;
            }
            if let Err(at) = first.binary_search(&s) {
                first.insert(at, s);
                first.truncate(LIST_MAX);
            }
        }
        KeyList {
            first,
            distinct: distinct.len(),
        }
    }
}

/// Keys for [`find_hints`].
#[derive(Default)]
struct HintTable {
    alertnames: Vec<u32>,
    pairs: Vec<(u32, u32)>,
    spans: Vec<(u32, u32)>,
}

impl HintKeys for HintTable {
    fn alertname(&self, key: u32) -> u32 {
        self.alertnames[key as usize]
    }
    fn labels(&self, key: u32) -> &[(u32, u32)] {
        let (s, l) = self.spans[key as usize];
        &self.pairs[s as usize..(s + l) as usize]
    }
}

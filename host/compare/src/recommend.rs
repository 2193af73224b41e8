//! Human recommendations derived from a report's summary and the keys of
//! its unmatched alerts.

use crate::matching::hints::{HintKeys, find_hints};
use crate::matching::{AlertKey, MatchOutcome};
use crate::model::Interner;
use crate::render::wording::pct;
use crate::report::{NoiseFloor, Report, RiskLevel, Verdict};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// How many keys a recommendation line lists before "and N more".
pub(crate) const LIST_MAX: usize = 5;

/// What a recommendation lists of a set of keys: the first [`LIST_MAX`] in
/// order and how many distinct keys there are.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct KeyList<'a> {
    /// The smallest distinct keys, sorted, at most [`LIST_MAX`].
    pub(crate) first: Vec<&'a str>,
    /// Number of distinct keys.
    pub(crate) distinct: usize,
}

impl<'a> KeyList<'a> {
    /// The list of some keys (duplicates allowed).
    pub(crate) fn of(keys: impl Iterator<Item = &'a str>) -> KeyList<'a> {
        let set: BTreeSet<&str> = keys.collect();
        KeyList {
            first: set.iter().take(LIST_MAX).copied().collect(),
            distinct: set.len(),
        }
    }
}

/// Recommendations, most important first, from the report's summary, the
/// distinct keys of its missing and extra alerts and the hint lines
/// ([`hint_lines`]).
pub(crate) fn recommendations(
    r: &Report,
    missing_keys: &KeyList<'_>,
    extra_keys: &KeyList<'_>,
    hints: Vec<String>,
) -> Vec<String> {
    let mut out = Vec::new();
    let t = &r.options.thresholds;
    if r.total_old == 0 && r.total_new == 0 {
        out.push(
            "Neither system fired any alert in the window: no evidence either way; widen the \
             window or fire a test alert (e.g. Watchdog) through both systems"
                .to_string(),
        );
    } else if r.total_old == 0 {
        out.push(format!(
            "The old system fired no alert in the window (the new one fired {}): there is no \
             baseline to compare against; widen the window",
            r.total_new
        ));
    } else if r.total_new == 0 {
        out.push(format!(
            "The new system fired no alert in the window (the old one fired {}): check that it \
             evaluates rules and that both dumps cover the same window",
            r.total_old
        ));
    }
    if let Some(rate) = r.match_rate {
        let bar = if rate < t.high_below {
            Some(t.high_below)
        } else if rate < t.medium_below {
            Some(t.medium_below)
        } else {
            None
        };
        if let Some(bar) = bar {
            out.push(format!(
                "Match rate {} is below {}: review rule translations before proceeding",
                pct(rate),
                pct(bar)
            ));
        }
    }
    if r.missing > 0 {
        out.push(format!(
            "{} alert(s) fired by the old system were not fired by the new one: {}",
            r.missing,
            list_keys(missing_keys)
        ));
    }
    if r.extra > 0 && r.total_old > 0 {
        out.push(format!(
            "{} alert(s) fired only by the new system (possible false alerts): {}",
            r.extra,
            list_keys(extra_keys)
        ));
    }
    out.extend(hints);
    if let Some(p95) = r.delay_seconds.p95
        && p95 > t.delay_p95_warn.as_secs_f64()
    {
        out.push(format!(
            "The new system fires late: delay p95 is {:.1}s (max {:.1}s, limit {:.1}s); check \
             evaluation intervals, `for:` durations and group_wait",
            p95,
            r.delay_seconds.max.unwrap_or(p95),
            t.delay_p95_warn.as_secs_f64()
        ));
    }
    if r.verdict == Verdict::Pass && r.risk_level == RiskLevel::Low {
        out.push(format!(
            "Safe to proceed: match rate {} ({} of {} alerts matched, none missing)",
            pct(r.match_rate.unwrap_or(0.0)),
            r.matched,
            r.total_old
        ));
    }
    out
}

/// Distinct keys, sorted, truncated to [`LIST_MAX`].
fn list_keys(keys: &KeyList<'_>) -> String {
    let mut s = keys.first.join(", ");
    if keys.distinct > LIST_MAX {
        s.push_str(&format!(", ... and {} more", keys.distinct - LIST_MAX));
    }
    s
}

/// Distinct keys of an outcome with interned names and values.
#[derive(Default)]
struct LocalKeys {
    names: Interner,
    values: Interner,
    alertnames: Vec<u32>,
    labels: Vec<Vec<(u32, u32)>>,
}

impl HintKeys for LocalKeys {
    fn alertname(&self, key: u32) -> u32 {
        self.alertnames[key as usize]
    }
    fn labels(&self, key: u32) -> &[(u32, u32)] {
        &self.labels[key as usize]
    }
}

/// Suggest renames / ignored labels when missing and extra alerts look alike.
pub(crate) fn hints(o: &MatchOutcome) -> Vec<String> {
    let mut local = LocalKeys::default();
    let mut ids: HashMap<&AlertKey, u32> = HashMap::new();
    let mut distinct = |keys: &mut Vec<u32>, key| {
        let next = ids.len() as u32;
        let id = *ids.entry(key).or_insert(next);
        if id == next {
            local.alertnames.push(local.values.intern(&key.alertname));
            let labels = key
                .labels
                .iter()
                .map(|(k, v)| (local.names.intern(k), local.values.intern(v)))
                .collect();
            local.labels.push(labels);
        }
        keys.push(id);
    };
    let (mut missing, mut extra) = (Vec::new(), Vec::new());
    let mut seen_missing = BTreeSet::new();
    for &i in &o.missing {
        if seen_missing.insert(&o.old_keys[i]) {
            distinct(&mut missing, &o.old_keys[i]);
        }
    }
    let mut seen_extra = BTreeSet::new();
    for &j in &o.extra {
        if seen_extra.insert(&o.new_keys[j]) {
            distinct(&mut extra, &o.new_keys[j]);
        }
    }
    let h = find_hints(&local, &missing, &extra);
    hint_lines(
        h.renames
            .iter()
            .map(|&(a, b)| (local.values.get(a), local.values.get(b))),
        h.differing.iter().map(|&n| local.names.get(n)),
    )
}

/// The hint recommendations: renames of alert names (old name -> new names
/// with the same labels; suggested when there is one) and labels that differ.
pub(crate) fn hint_lines<'s>(
    renames: impl Iterator<Item = (&'s str, &'s str)>,
    differing: impl Iterator<Item = &'s str>,
) -> Vec<String> {
    let mut by_old: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (from, to) in renames {
        by_old.entry(from).or_default().insert(to);
    }
    let differing: BTreeSet<&str> = differing.collect();
    let mut out = Vec::new();
    let pairs: Vec<String> = by_old
        .iter()
        .filter(|(_, to)| to.len() == 1)
        .flat_map(|(from, to)| to.iter().map(move |t| format!("--rename {from}={t}")))
        .collect();
    if !pairs.is_empty() {
        out.push(format!(
            "Some missing and extra alerts have the same labels but different names: if they are \
             the same rule, consider {}",
            pairs.join(" ")
        ));
    }
    if !differing.is_empty() {
        let flags: Vec<String> = differing
            .iter()
            .map(|l| format!("--ignore-label {l}"))
            .collect();
        out.push(format!(
            "Some missing and extra alerts have the same name but differ in label(s) {}: if \
             those labels are stack-specific, consider {} (or --rename-label)",
            differing.iter().copied().collect::<Vec<_>>().join(", "),
            flags.join(" ")
        ));
    }
    out
}

/// Recommendation describing the noise floor next to the result.
pub(crate) fn noise_line(r: &Report, n: &NoiseFloor) -> String {
    if n.missing == 0 && n.extra == 0 {
        return "A second read of the old system matched the first exactly: the differences above \
                are not comparison noise"
            .to_string();
    }
    let mut s = format!(
        "A second read of the old system differs from the first ({} missing, {} extra, match \
         rate {}): differences of that size are comparison noise",
        n.missing,
        n.extra,
        n.match_rate.map(pct).unwrap_or_else(|| "n/a".into())
    );
    if r.missing > 0 && r.missing <= n.missing {
        s.push_str(&format!(
            "; the {} missing alert(s) are within that noise",
            r.missing
        ));
    }
    s
}

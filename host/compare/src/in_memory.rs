//! The comparison of alerts held in memory ([`compare`]): every missing,
//! extra and matched alert listed in the [`Report`]. The engine's parallel
//! runs use it; `cutover compare` streams instead (see [`crate::run`]).

use crate::matching::{AlertKey, MatchOutcome, match_alerts};
use crate::model::Alert;
use crate::options::CompareOptions;
use crate::recommend::{self, KeyList};
use crate::report::{
    Breakdown, MatchedAlert, NONE_GROUP, NoiseFloor, Report, TimeRange, UnmatchedAlert,
};
use crate::stats::DelayStats;
use crate::summary::{Counts, Unmatched};
use std::collections::BTreeMap;

/// Compare what the old and new systems fired.
pub fn compare(old: &[Alert], new: &[Alert], opts: &CompareOptions) -> Report {
    let outcome = match_alerts(old, new, opts);
    let matched_alerts: Vec<MatchedAlert> = outcome
        .pairs
        .iter()
        .map(|&(i, j)| {
            let key = &outcome.old_keys[i];
            MatchedAlert {
                key: key.to_string(),
                alertname: key.alertname.clone(),
                labels: outcome.old_labels[i].clone(),
                starts_at: old[i].starts_at,
                new_starts_at: new[j].starts_at,
                delay_seconds: new[j].starts_at.wrapping_sub(old[i].starts_at) as f64 / 1000.0,
                ends_at: old[i].ends_at,
                new_ends_at: new[j].ends_at,
            }
        })
        .collect();
    let delays: Vec<f64> = matched_alerts.iter().map(|m| m.delay_seconds).collect();
    let missing_alerts = unmatched(old, &outcome.missing, &outcome.old_keys);
    let extra_alerts = unmatched(new, &outcome.extra, &outcome.new_keys);
    let counts = Counts {
        total_old: old.len(),
        total_new: new.len(),
        matched: outcome.pairs.len(),
        delay_seconds: DelayStats::from_delays(&delays),
        by_alertname: breakdown(&outcome, |labels| labels.get("alertname").cloned()),
        by_severity: breakdown(&outcome, |labels| labels.get("severity").cloned()),
        by_label: opts
            .breakdown_label
            .as_ref()
            .map(|l| breakdown(&outcome, |labels| labels.get(l).cloned())),
        time_range: TimeRange::of(old, new),
    };
    let mut report = Report::summarise(
        counts,
        Unmatched {
            missing: key_list(&missing_alerts),
            extra: key_list(&extra_alerts),
            hints: recommend::hints(&outcome),
        },
        opts,
    );
    report.missing_alerts = missing_alerts;
    report.extra_alerts = extra_alerts;
    report.matched_alerts = matched_alerts;
    report
}

impl NoiseFloor {
    /// Compare a system against a second read of itself. Renames are not
    /// applied (both reads share one vocabulary); ignores and tolerance are.
    pub fn measure(first: &[Alert], second: &[Alert], opts: &CompareOptions) -> NoiseFloor {
        NoiseFloor::from_report(&compare(first, second, &opts.without_renames()))
    }
}

/// The keys of unmatched alerts, as the recommendations list them.
fn key_list(list: &[UnmatchedAlert]) -> KeyList<'_> {
    KeyList::of(list.iter().map(|a| a.key.as_str()))
}

fn unmatched(alerts: &[Alert], idx: &[usize], keys: &[AlertKey]) -> Vec<UnmatchedAlert> {
    idx.iter()
        .map(|&i| UnmatchedAlert {
            key: keys[i].to_string(),
            alertname: keys[i].alertname.clone(),
            labels: alerts[i].labels.clone(),
            starts_at: alerts[i].starts_at,
            ends_at: alerts[i].ends_at,
            fingerprint: alerts[i].fingerprint.clone(),
        })
        .collect()
}

/// Group counts by a value taken from normalised labels. Matched pairs are
/// grouped by the old side's value.
fn breakdown(
    o: &MatchOutcome,
    group: impl Fn(&BTreeMap<String, String>) -> Option<String>,
) -> BTreeMap<String, Breakdown> {
    let name =
        |labels: &BTreeMap<String, String>| group(labels).unwrap_or_else(|| NONE_GROUP.to_string());
    let mut out: BTreeMap<String, Breakdown> = BTreeMap::new();
    for l in &o.old_labels {
        out.entry(name(l)).or_default().old += 1;
    }
    for l in &o.new_labels {
        out.entry(name(l)).or_default().new += 1;
    }
    for &(i, _) in &o.pairs {
        out.entry(name(&o.old_labels[i])).or_default().matched += 1;
    }
    for &i in &o.missing {
        out.entry(name(&o.old_labels[i])).or_default().missing += 1;
    }
    for &j in &o.extra {
        out.entry(name(&o.new_labels[j])).or_default().extra += 1;
    }
    for b in out.values_mut() {
        b.match_rate = (b.old > 0).then(|| b.matched as f64 / b.old as f64);
    }
    out
}

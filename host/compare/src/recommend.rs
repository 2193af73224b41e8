//! Human recommendations derived from a report.

use crate::matching::MatchOutcome;
use crate::report::{NoiseFloor, Report, RiskLevel, UnmatchedAlert, Verdict};
use std::collections::{BTreeMap, BTreeSet};

/// How many keys a recommendation line lists before "and N more".
const LIST_MAX: usize = 5;

/// Format a rate as a percentage with one decimal.
pub(crate) fn pct(rate: f64) -> String {
    format!("{:.1}%", rate * 100.0)
}

/// Recommendations, most important first.
pub(crate) fn recommendations(r: &Report, o: &MatchOutcome) -> Vec<String> {
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
            list_keys(&r.missing_alerts)
        ));
    }
    if r.extra > 0 && r.total_old > 0 {
        out.push(format!(
            "{} alert(s) fired only by the new system (possible false alerts): {}",
            r.extra,
            list_keys(&r.extra_alerts)
        ));
    }
    out.extend(hints(o));
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
fn list_keys(alerts: &[UnmatchedAlert]) -> String {
    let keys: BTreeSet<&str> = alerts.iter().map(|a| a.key.as_str()).collect();
    let mut s = keys
        .iter()
        .take(LIST_MAX)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if keys.len() > LIST_MAX {
        s.push_str(&format!(", ... and {} more", keys.len() - LIST_MAX));
    }
    s
}

/// Suggest renames / ignored labels when missing and extra alerts look alike.
fn hints(o: &MatchOutcome) -> Vec<String> {
    let mut renames: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut differing: BTreeSet<&str> = BTreeSet::new();
    for &i in &o.missing {
        let ok = &o.old_keys[i];
        let mut best: Option<BTreeSet<&str>> = None;
        for &j in &o.extra {
            let nk = &o.new_keys[j];
            if nk.alertname != ok.alertname {
                if nk.labels == ok.labels {
                    renames
                        .entry(&ok.alertname)
                        .or_default()
                        .insert(&nk.alertname);
                }
                continue;
            }
            let diff: BTreeSet<&str> = ok
                .labels
                .iter()
                .filter(|(k, v)| nk.labels.get(*k) != Some(*v))
                .map(|(k, _)| k.as_str())
                .chain(
                    nk.labels
                        .keys()
                        .filter(|k| !ok.labels.contains_key(*k))
                        .map(String::as_str),
                )
                .collect();
            if best.as_ref().is_none_or(|b| diff.len() < b.len()) {
                best = Some(diff);
            }
        }
        if let Some(b) = best {
            differing.extend(b);
        }
    }
    let mut out = Vec::new();
    let pairs: Vec<String> = renames
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
pub(crate) fn noise_line(r: &Report, n: &NoiseFloor) -> Option<String> {
    if n.missing == 0 && n.extra == 0 {
        return Some(
            "A second read of the old system matched the first exactly: the differences above \
             are not comparison noise"
                .to_string(),
        );
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
    Some(s)
}

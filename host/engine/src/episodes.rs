//! Alert episodes a parallel run saw, as the comparison sees them: taken
//! from an adapter's alerts (in the step's scope, new ones only), clamped to
//! the window and compared old against new (or against the noise source).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use cutover_compare::{Alert, AlertState, CompareOptions, Report, compare};
use cutover_runtime::wit;

use crate::event::SeenAlert;

pub(crate) fn seen(a: &wit::Alert) -> SeenAlert {
    SeenAlert {
        labels: a.labels.iter().cloned().collect(),
        starts_at: a.starts_at,
        ends_at: a.ends_at,
        state: match a.state {
            wit::AlertState::Active => AlertState::Active,
            wit::AlertState::Suppressed => AlertState::Suppressed,
            wit::AlertState::Resolved => AlertState::Resolved,
        },
        fingerprint: a.fingerprint.clone(),
    }
}

fn to_compare(a: &SeenAlert, source: &str) -> Alert {
    Alert {
        labels: a.labels.clone(),
        annotations: BTreeMap::new(),
        starts_at: a.starts_at,
        ends_at: a.ends_at,
        state: a.state,
        source: source.to_string(),
        fingerprint: a.fingerprint.clone(),
    }
}

/// Compare options of a parallel-run step.
pub fn options_of(
    ignore_labels: &[String],
    rename: &BTreeMap<String, String>,
    tolerance_ms: u64,
) -> CompareOptions {
    CompareOptions {
        ignore_labels: ignore_labels.to_vec(),
        rename_alerts: rename.iter().map(|(a, b)| (a.clone(), b.clone())).collect(),
        tolerance: Duration::from_millis(tolerance_ms),
        ..CompareOptions::default()
    }
}

/// [`options_of`] with results broken down by the values of label `by`.
pub fn options_by(
    ignore_labels: &[String],
    rename: &BTreeMap<String, String>,
    tolerance_ms: u64,
    by: Option<&str>,
) -> CompareOptions {
    CompareOptions {
        breakdown_label: by.map(str::to_string),
        ..options_of(ignore_labels, rename, tolerance_ms)
    }
}

/// Compares what each side fired during a window that opened at
/// `window_start` (ms). An alert already firing when the window opened
/// counts from the window's start on both sides: its real start predates
/// the comparison (and differs between stacks that were started or
/// reloaded at different times), so two alerts ongoing at the start are the
/// same episode, with no delay, while an alert that begins later inside the
/// window is timed as it fired.
pub fn compare_seen(
    old: &[SeenAlert],
    new: &[SeenAlert],
    opts: &CompareOptions,
    window_start: i64,
) -> Report {
    let o = clamped(old, "old", window_start);
    let n = clamped(new, "new", window_start);
    compare(&o, &n, opts)
}

/// The episodes of one side as compare alerts, with starts and ends before
/// `window_start` moved to it (see [`compare_seen`]).
fn clamped(seen: &[SeenAlert], side: &str, window_start: i64) -> Vec<Alert> {
    seen.iter()
        .map(|a| {
            let mut c = to_compare(a, side);
            c.starts_at = c.starts_at.max(window_start);
            if let Some(end) = c.ends_at.as_mut() {
                *end = (*end).max(window_start);
            }
            c
        })
        .collect()
}

/// The noise comparison of a window that opened at `window_start`: what the
/// old system fired against what its noise source fired, clamped and matched
/// like [`compare_seen`] does old against new (renames aside: both reads
/// speak the old system's vocabulary). Its missing alerts are the noisy ones.
fn noise_report_seen(
    old: &[SeenAlert],
    noise: &[SeenAlert],
    opts: &CompareOptions,
    window_start: i64,
) -> Report {
    let o = clamped(old, "old", window_start);
    let n = clamped(noise, "noise", window_start);
    compare(&o, &n, &opts.without_renames())
}

/// `12.5%`, or `n/a` without a rate.
pub(crate) fn pct(rate: Option<f64>) -> String {
    rate.map_or("n/a".to_string(), |r| format!("{:.1}%", r * 100.0))
}

pub(crate) fn fresh(all: Vec<wit::Alert>, known: &BTreeSet<(String, i64)>) -> Vec<SeenAlert> {
    // One lookup per alert: a poll of a wave batch sees hundreds of
    // thousands of them.
    let mut taken: std::collections::HashSet<(String, i64)> = std::collections::HashSet::new();
    let mut out: Vec<SeenAlert> = Vec::new();
    for a in all.iter().map(seen) {
        let key = a.episode_key();
        if !known.contains(&key) && taken.insert(key) {
            out.push(a);
        }
    }
    out
}

/// The noise comparison over what was seen so far, or why there is none: no
/// poll has read the noise source yet (`reads_ok` is 0).
pub(crate) fn noise_so_far(
    old: &[SeenAlert],
    noise: &[SeenAlert],
    reads_ok: u32,
    last_error: Option<&str>,
    opts: &CompareOptions,
    window_start: i64,
) -> Result<Report, String> {
    if reads_ok == 0 {
        return Err(last_error
            .unwrap_or("no poll read the noise source")
            .to_string());
    }
    Ok(noise_report_seen(old, noise, opts, window_start))
}

/// The alerts whose labels a selection covers (all of them for `*`).
pub(crate) fn in_scope(
    alerts: Vec<wit::Alert>,
    scope: &cutover_plan::Selection,
) -> Vec<wit::Alert> {
    if scope.is_all() {
        return alerts;
    }
    alerts
        .into_iter()
        .filter(|a| {
            let labels: std::collections::BTreeMap<String, String> =
                a.labels.iter().cloned().collect();
            scope.matches(&labels)
        })
        .collect()
}

//! Human-readable text rendering of a [`Report`].

use crate::recommend::pct;
use crate::report::{Breakdown, Report, UnmatchedAlert, Verdict};
use crate::stats::{DelayStats, Le};
use crate::timefmt::format_millis;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Render a compact text report: totals, match rate, risk, delays, missing
/// and extra alerts, recommendations.
pub fn render_text(r: &Report) -> String {
    let mut s = String::new();
    let secs = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |x| format!("{x:.1}s"));
    let _ = writeln!(
        s,
        "Verdict: {} (risk {})",
        r.verdict.to_string().to_uppercase(),
        r.risk_level
    );
    if let Some(inputs) = &r.inputs {
        for (side, i) in [("old", &inputs.old), ("new", &inputs.new)] {
            let fmt = i
                .format
                .map_or_else(|| "empty".to_string(), |f| f.to_string());
            let mut extra = String::new();
            if i.stats.skipped_pending > 0 {
                extra = format!(", {} pending skipped", i.stats.skipped_pending);
            }
            let _ = writeln!(s, "  {side}: {} ({fmt}{extra})", i.origin);
        }
    }
    let _ = writeln!(s, "  {:<12} {:>8}", "old alerts", r.total_old);
    let _ = writeln!(s, "  {:<12} {:>8}", "new alerts", r.total_new);
    let _ = writeln!(s, "  {:<12} {:>8}", "matched", r.matched);
    let _ = writeln!(s, "  {:<12} {:>8}", "missing", r.missing);
    let _ = writeln!(s, "  {:<12} {:>8}", "extra", r.extra);
    let rate = r.match_rate.map_or_else(|| "n/a".to_string(), pct);
    let _ = writeln!(s, "  {:<12} {:>8}", "match rate", rate);
    if let Some(n) = &r.noise_floor {
        let nr = n.match_rate.map_or_else(|| "n/a".to_string(), pct);
        let _ = writeln!(
            s,
            "  {:<12} {:>8}  ({} missing, {} extra on a second read of old)",
            "noise floor", nr, n.missing, n.extra
        );
    }
    let d = &r.delay_seconds;
    let _ = writeln!(
        s,
        "  {:<12} p50 {}  p95 {}  max {}",
        "delay",
        secs(d.p50),
        secs(d.p95),
        secs(d.max)
    );
    list(&mut s, "Missing (fired by old only)", &r.missing_alerts);
    list(&mut s, "Extra (fired by new only)", &r.extra_alerts);
    if !r.recommendations.is_empty() {
        let _ = writeln!(s, "Recommendations:");
        for line in &r.recommendations {
            let _ = writeln!(s, "  - {line}");
        }
    }
    s
}

fn list(s: &mut String, title: &str, alerts: &[UnmatchedAlert]) {
    if alerts.is_empty() {
        return;
    }
    let _ = writeln!(s, "{title}:");
    for a in alerts {
        let _ = writeln!(s, "  {}  {}", format_millis(a.starts_at), a.key);
    }
}

/// Render the report as pretty-printed JSON followed by a newline: the
/// documented, stable format (`docs/report.md`).
pub fn render_json(r: &Report) -> Result<String, crate::error::CompareError> {
    let mut s = serde_json::to_string_pretty(r).map_err(crate::error::CompareError::Serialize)?;
    s.push('\n');
    Ok(s)
}

// ----- helpers shared by the Markdown and HTML renderers ---------------------

/// A rate as a percentage with one decimal, `n/a` when undefined.
pub(crate) fn pct_opt(rate: Option<f64>) -> String {
    rate.map_or_else(|| "n/a".to_string(), pct)
}

/// A number with at most three decimals, trailing zeros dropped (`0.48`, `2`).
pub(crate) fn num(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    match s {
        "-0" | "" => "0".to_string(),
        _ => s.to_string(),
    }
}

/// Seconds as `0.48s`; `-` when undefined.
pub(crate) fn secs_opt(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |x| format!("{}s", num(x)))
}

/// The delay table's cells: pairs, min, p50, p95, mean, max.
pub(crate) fn delay_cells(d: &crate::stats::DelayStats) -> [String; 6] {
    [
        d.count.to_string(),
        secs_opt(d.min),
        secs_opt(d.p50),
        secs_opt(d.p95),
        secs_opt(d.mean),
        secs_opt(d.max),
    ]
}

/// The note on matched pairs the new system fired first, if any.
pub(crate) fn early_note(r: &Report) -> Option<String> {
    let early = r
        .matched_alerts
        .iter()
        .filter(|m| m.delay_seconds < 0.0)
        .count();
    (early > 0).then(|| {
        format!(
            "{early} pair(s) fired earlier in the new system (negative delay, counted in the first bucket)."
        )
    })
}

/// The verdict as shown in headlines.
pub(crate) fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
        Verdict::Inconclusive => "INCONCLUSIVE",
        Verdict::NoData => "NO DATA",
    }
}

/// One sentence explaining the verdict.
pub(crate) fn verdict_meaning(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "safe to proceed: the new system fired everything the old one did",
        Verdict::Fail => "do not proceed: alerts would be lost or too few matched",
        Verdict::Inconclusive => "review needed before proceeding",
        Verdict::NoData => "one side fired nothing: nothing can be concluded",
    }
}

/// The risk rules of the options, as one sentence (no trailing period).
pub(crate) fn risk_rules(t: &crate::options::RiskThresholds) -> String {
    let extra = if t.extra_is_medium {
        " or with any extra alert"
    } else {
        ""
    };
    format!(
        "high below {} match rate or with any missing alert; medium below {}{extra}; \
         delay p95 warning above {}s",
        pct(t.high_below),
        pct(t.medium_below),
        num(t.delay_p95_warn.as_secs_f64())
    )
}

/// One sentence on what matched (no capital, no trailing period).
pub(crate) fn match_sentence(r: &Report) -> String {
    if r.total_old == 0 {
        "the old system fired no alert, so there is no match rate".to_string()
    } else {
        format!(
            "{} of {} alerts fired by the old system were also fired by the new one",
            r.matched, r.total_old
        )
    }
}

/// Breakdown groups sorted worst first: lowest match rate, then most
/// missing, then most extra, then name; groups without a rate (nothing in
/// the old system) last.
pub(crate) fn worst_first(map: &BTreeMap<String, Breakdown>) -> Vec<(&str, &Breakdown)> {
    let mut rows: Vec<(&str, &Breakdown)> = map.iter().map(|(k, v)| (k.as_str(), v)).collect();
    rows.sort_by(|(an, a), (bn, b)| {
        let rank = |r: Option<f64>| r.unwrap_or(f64::INFINITY);
        rank(a.match_rate)
            .total_cmp(&rank(b.match_rate))
            .then(b.missing.cmp(&a.missing))
            .then(b.extra.cmp(&a.extra))
            .then(an.cmp(bn))
    });
    rows
}

/// One bar of the delay histogram: the delays in `(previous le, le]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bin {
    /// Human range, e.g. `≤0.5`, `0.5–1`, `>300` (seconds).
    pub label: String,
    /// Delays in this bucket alone (not cumulative).
    pub count: usize,
    /// Cumulative count, as in the report.
    pub cumulative: usize,
}

/// Non-cumulative bins from the report's cumulative histogram. The first bin
/// also holds negative delays (NEW fired first).
pub(crate) fn histogram_bins(d: &DelayStats) -> Vec<Bin> {
    let mut out = Vec::with_capacity(d.histogram.len());
    let mut prev: Option<f64> = None;
    let mut prev_count = 0usize;
    for b in &d.histogram {
        let label = match (prev, b.le) {
            (None, Le::Finite(le)) => format!("≤{}", num(le)),
            (Some(p), Le::Finite(le)) => format!("{}–{}", num(p), num(le)),
            (Some(p), Le::Inf) => format!(">{}", num(p)),
            (None, Le::Inf) => "all".to_string(),
        };
        out.push(Bin {
            label,
            count: b.count.saturating_sub(prev_count),
            cumulative: b.count,
        });
        prev_count = b.count;
        if let Le::Finite(le) = b.le {
            prev = Some(le);
        }
    }
    out
}

/// What happened to an episode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    /// Fired by both systems.
    Matched,
    /// Fired by the old system only.
    Missing,
    /// Fired by the new system only.
    Extra,
}

impl Kind {
    /// Lower-case word used in legends and CSS classes.
    pub(crate) fn word(self) -> &'static str {
        match self {
            Kind::Matched => "matched",
            Kind::Missing => "missing",
            Kind::Extra => "extra",
        }
    }
}

/// One episode of the report, whatever its outcome, for the timeline.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Episode<'a> {
    pub kind: Kind,
    pub alertname: &'a str,
    pub key: &'a str,
    /// Start (old start for matched pairs), unix ms.
    pub start: i64,
    /// End, unix ms, when it ended.
    pub end: Option<i64>,
    /// New start of a matched pair.
    pub new_start: Option<i64>,
    /// Delay of a matched pair, seconds.
    pub delay: Option<f64>,
}

/// Every episode of the report (matched pairs once), in start order.
pub(crate) fn episodes(r: &Report) -> Vec<Episode<'_>> {
    let mut out: Vec<Episode<'_>> = Vec::with_capacity(r.matched + r.missing + r.extra);
    out.extend(r.matched_alerts.iter().map(|m| Episode {
        kind: Kind::Matched,
        alertname: &m.alertname,
        key: &m.key,
        start: m.starts_at,
        end: m.ends_at,
        new_start: Some(m.new_starts_at),
        delay: Some(m.delay_seconds),
    }));
    for (kind, list) in [
        (Kind::Missing, &r.missing_alerts),
        (Kind::Extra, &r.extra_alerts),
    ] {
        out.extend(list.iter().map(|a| Episode {
            kind,
            alertname: &a.alertname,
            key: &a.key,
            start: a.starts_at,
            end: a.ends_at,
            new_start: None,
            delay: None,
        }));
    }
    out.sort_by(|a, b| (a.start, a.kind, a.key).cmp(&(b.start, b.kind, b.key)));
    out
}

/// Format unix ms as `2026-11-20 10:12:30Z` (seconds precision, UTC) for
/// tables; full precision lives in the JSON.
pub(crate) fn short_time(ms: i64) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(ts) => ts.strftime("%Y-%m-%d %H:%M:%SZ").to_string(),
        Err(_) => format_millis(ms),
    }
}

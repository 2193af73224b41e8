//! The words and numbers every rendering shares: verdict and risk
//! sentences, list titles, "... and N more" lines, input and option
//! descriptions, number, rate and time formats, breakdown order and the
//! delay histogram's bins. Each format only adds its own markup around them.

use crate::options::{CompareOptions, RiskThresholds};
use crate::report::{Breakdown, InputInfo, NoiseFloor, Report, TimeRange, Verdict};
use crate::stats::{DelayStats, Le};
use crate::timefmt::format_millis;
use std::collections::BTreeMap;

/// What happened to an episode: which list of a report it is in.
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

    /// Title of the list of unmatched alerts of this kind (Markdown, HTML).
    pub(crate) fn title(self) -> &'static str {
        match self {
            Kind::Matched => "Matched pairs",
            Kind::Missing => "Missing alerts (fired by the old system only)",
            Kind::Extra => "Extra alerts (fired by the new system only)",
        }
    }
}

/// Format a rate as a percentage with one decimal.
pub(crate) fn pct(rate: f64) -> String {
    format!("{:.1}%", rate * 100.0)
}

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

/// Format unix ms as `2026-11-20 10:12:30Z` (seconds precision, UTC) for
/// tables; full precision lives in the JSON.
pub(crate) fn short_time(ms: i64) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(ts) => ts.strftime("%Y-%m-%d %H:%M:%SZ").to_string(),
        Err(_) => format_millis(ms),
    }
}

/// `from <start> to <end>` of a report's time range.
pub(crate) fn time_span(t: &TimeRange) -> String {
    format!("from {} to {}", short_time(t.from), short_time(t.to))
}

/// When an episode ended: its time, or `still firing`.
pub(crate) fn ended(end: Option<i64>) -> String {
    end.map_or_else(|| "still firing".to_string(), short_time)
}

/// The line closing a list of `kind` cut at `shown` of `len` items, if it
/// was cut: how many more, and where they all are (the JSON report, which
/// lists matched pairs only with `--matched`).
pub(crate) fn more_line(kind: Kind, len: usize, shown: usize) -> Option<String> {
    let with = match kind {
        Kind::Matched => " with --matched",
        Kind::Missing | Kind::Extra => "",
    };
    (len > shown).then(|| {
        format!(
            "... and {} more (the JSON report lists them all{with})",
            len - shown
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
pub(crate) fn risk_rules(t: &RiskThresholds) -> String {
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

/// The noise-floor paragraph, with the match rate as `rate` shows it.
pub(crate) fn noise_sentence(n: &NoiseFloor, rate: impl Fn(String) -> String) -> String {
    format!(
        "Comparing the old system with a second read of itself: match rate {}, {} missing, \
         {} extra. Differences of this size between old and new are noise, not migration \
         defects.",
        rate(pct_opt(n.match_rate)),
        n.missing,
        n.extra
    )
}

/// The note on matched pairs the new system fired first, if any.
pub(crate) fn early_note(early: usize) -> Option<String> {
    (early > 0).then(|| {
        format!(
            "{early} pair(s) fired earlier in the new system (negative delay, counted in the first bucket)."
        )
    })
}

/// An input's format name (`empty` when nothing was read).
pub(crate) fn input_format(i: &InputInfo) -> String {
    i.format
        .map_or_else(|| "empty".to_string(), |f| f.to_string())
}

/// `, N pending skipped` when the parser skipped pending alerts, else empty.
pub(crate) fn pending_note(i: &InputInfo) -> String {
    if i.stats.skipped_pending > 0 {
        format!(", {} pending skipped", i.stats.skipped_pending)
    } else {
        String::new()
    }
}

/// The options' renames as `OLD=NEW` (alert names, then label names) and
/// `LABEL:OLD=NEW` (values), each shown through `code`.
pub(crate) fn renames(o: &CompareOptions, code: impl Fn(&str) -> String) -> Vec<String> {
    o.rename_alerts
        .iter()
        .chain(&o.rename_labels)
        .map(|(a, b)| code(&format!("{a}={b}")))
        .chain(
            o.rename_values
                .iter()
                .map(|(l, a, b)| code(&format!("{l}:{a}={b}"))),
        )
        .collect()
}

/// Items joined by `sep`, or `none`.
pub(crate) fn list_or_none(items: Vec<String>, sep: &str) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(sep)
    }
}

/// Column titles of a breakdown table after the group's own column.
pub(crate) const BREAKDOWN_COLUMNS: [&str; 6] =
    ["Old", "New", "Matched", "Missing", "Extra", "Match rate"];

/// The cells of one breakdown row after the group's name.
pub(crate) fn breakdown_cells(b: &Breakdown) -> [String; 6] {
    [
        b.old.to_string(),
        b.new.to_string(),
        b.matched.to_string(),
        b.missing.to_string(),
        b.extra.to_string(),
        pct_opt(b.match_rate),
    ]
}

/// Column titles of the delay table.
pub(crate) const DELAY_COLUMNS: [&str; 6] = ["Pairs", "Min", "p50", "p95", "Mean", "Max"];

/// The delay table's cells: pairs, min, p50, p95, mean, max.
pub(crate) fn delay_cells(d: &DelayStats) -> [String; 6] {
    [
        d.count.to_string(),
        secs_opt(d.min),
        secs_opt(d.p50),
        secs_opt(d.p95),
        secs_opt(d.mean),
        secs_opt(d.max),
    ]
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

//! Markdown rendering of a [`Report`] (CommonMark with GitHub tables).
//!
//! Everything taken from the inputs (alert names, labels, file names) is
//! escaped: it can neither break a table nor inject HTML or links.

use crate::render::{
    delay_cells, early_note, histogram_bins, match_sentence, num, pct_opt, risk_rules, short_time,
    verdict_meaning, verdict_word, worst_first,
};
use crate::report::{Breakdown, InputInfo, Report, UnmatchedAlert};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Longest list of missing or extra alerts written out; the rest is counted
/// on a `... and N more` line (the JSON report has them all).
pub const MD_LIST_MAX: usize = 50;

/// Render the report as Markdown: headline (verdict, risk, match rate,
/// totals), recommendations, delay table and histogram, missing and extra
/// alerts (capped at [`MD_LIST_MAX`] each), breakdowns worst first, noise
/// floor, inputs and options.
pub fn render_markdown(r: &Report) -> String {
    let mut s = String::new();
    let verdict = verdict_word(r.verdict);
    let _ = writeln!(s, "# Alert comparison: {verdict}\n");
    let _ = writeln!(
        s,
        "**{verdict}** (risk **{}**): {}.\n",
        r.risk_level,
        verdict_meaning(r.verdict)
    );
    let _ = writeln!(
        s,
        "Match rate **{}**: {}.\n",
        pct_opt(r.match_rate),
        match_sentence(r)
    );
    if let Some(t) = &r.time_range {
        let _ = writeln!(
            s,
            "Episodes from {} to {} (UTC).\n",
            short_time(t.from),
            short_time(t.to)
        );
    }
    s.push_str("| Alerts | Count |\n|:--|--:|\n");
    for (name, v) in [
        ("Fired by the old system", r.total_old),
        ("Fired by the new system", r.total_new),
        ("Matched (both)", r.matched),
        ("Missing (old only)", r.missing),
        ("Extra (new only)", r.extra),
    ] {
        let _ = writeln!(s, "| {name} | {v} |");
    }
    let _ = writeln!(s, "| Match rate | {} |", pct_opt(r.match_rate));
    if let Some(n) = &r.noise_floor {
        let _ = writeln!(
            s,
            "| Noise floor (old vs a second read of old) | {} ({} missing, {} extra) |",
            pct_opt(n.match_rate),
            n.missing,
            n.extra
        );
    }
    s.push('\n');

    if !r.recommendations.is_empty() {
        s.push_str("## Recommendations\n\n");
        for (i, line) in r.recommendations.iter().enumerate() {
            let _ = writeln!(s, "{}. {}", i + 1, text(line));
        }
        s.push('\n');
    }

    delays(&mut s, r);
    alert_list(
        &mut s,
        "Missing alerts (fired by the old system only)",
        &r.missing_alerts,
    );
    alert_list(
        &mut s,
        "Extra alerts (fired by the new system only)",
        &r.extra_alerts,
    );
    breakdown(&mut s, "By alertname", "Alertname", &r.by_alertname);
    breakdown(&mut s, "By severity", "Severity", &r.by_severity);
    if let (Some(map), Some(label)) = (&r.by_label, &r.options.breakdown_label) {
        breakdown(&mut s, &format!("By {}", text(label)), &text(label), map);
    }
    if let Some(n) = &r.noise_floor {
        s.push_str("## Noise floor\n\n");
        let _ = writeln!(
            s,
            "Comparing the old system with a second read of itself: match rate {}, {} missing, \
             {} extra. Differences of this size between old and new are noise, not migration \
             defects.\n",
            pct_opt(n.match_rate),
            n.missing,
            n.extra
        );
    }
    if let Some(inputs) = &r.inputs {
        s.push_str("## Inputs\n\n| Side | Source | Format | Alerts | Pending skipped |\n");
        s.push_str("|:--|:--|:--|--:|--:|\n");
        for (side, i) in [("old", &inputs.old), ("new", &inputs.new)] {
            input_row(&mut s, side, i);
        }
        s.push('\n');
    }
    options(&mut s, r);
    let _ = writeln!(s, "\nReport schema: {}", code(&r.schema, false));
    s
}

fn delays(s: &mut String, r: &Report) {
    let d = &r.delay_seconds;
    s.push_str("## Delay (new start − old start)\n\n");
    if d.count == 0 {
        s.push_str("No matched pairs: no delay data.\n\n");
        return;
    }
    s.push_str("| Pairs | Min | p50 | p95 | Mean | Max |\n|--:|--:|--:|--:|--:|--:|\n");
    let _ = writeln!(s, "| {} |\n", delay_cells(d).join(" | "));
    if let Some(note) = early_note(r) {
        let _ = writeln!(s, "{note}\n");
    }
    s.push_str("| Delay (seconds) | Pairs | Cumulative |\n|:--|--:|--:|\n");
    for b in histogram_bins(d) {
        let _ = writeln!(s, "| {} | {} | {} |", b.label, b.count, b.cumulative);
    }
    s.push('\n');
}

fn alert_list(s: &mut String, title: &str, alerts: &[UnmatchedAlert]) {
    let _ = writeln!(s, "## {title}\n");
    if alerts.is_empty() {
        s.push_str("None.\n\n");
        return;
    }
    s.push_str("| Started (UTC) | Ended (UTC) | Alert |\n|:--|:--|:--|\n");
    for a in alerts.iter().take(MD_LIST_MAX) {
        let ended = a
            .ends_at
            .map_or_else(|| "still firing".to_string(), short_time);
        let _ = writeln!(
            s,
            "| {} | {} | {} |",
            short_time(a.starts_at),
            ended,
            code(&a.key, true)
        );
    }
    if alerts.len() > MD_LIST_MAX {
        let _ = writeln!(
            s,
            "\n... and {} more (the JSON report lists them all)",
            alerts.len() - MD_LIST_MAX
        );
    }
    s.push('\n');
}

fn breakdown(s: &mut String, title: &str, column: &str, map: &BTreeMap<String, Breakdown>) {
    let _ = writeln!(s, "## {title}\n");
    if map.is_empty() {
        s.push_str("No alerts.\n\n");
        return;
    }
    let _ = writeln!(
        s,
        "| {column} | Old | New | Matched | Missing | Extra | Match rate |\n|:--|--:|--:|--:|--:|--:|--:|"
    );
    for (name, b) in worst_first(map) {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            code(name, true),
            b.old,
            b.new,
            b.matched,
            b.missing,
            b.extra,
            pct_opt(b.match_rate)
        );
    }
    s.push('\n');
}

fn input_row(s: &mut String, side: &str, i: &InputInfo) {
    let fmt = i
        .format
        .map_or_else(|| "empty".to_string(), |f| f.to_string());
    let _ = writeln!(
        s,
        "| {side} | {} | {} | {} | {} |",
        code(&i.origin, true),
        fmt,
        i.alerts,
        i.stats.skipped_pending
    );
}

fn options(s: &mut String, r: &Report) {
    let o = &r.options;
    s.push_str("## Options\n\n");
    let _ = writeln!(s, "- Tolerance: {}s", num(o.tolerance.as_secs_f64()));
    let list = |v: Vec<String>| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    let _ = writeln!(
        s,
        "- Ignored labels: {}",
        list(o.ignore_labels.iter().map(|l| code(l, false)).collect())
    );
    let renames: Vec<String> = o
        .rename_alerts
        .iter()
        .chain(&o.rename_labels)
        .map(|(a, b)| code(&format!("{a}={b}"), false))
        .chain(
            o.rename_values
                .iter()
                .map(|(l, a, b)| code(&format!("{l}:{a}={b}"), false)),
        )
        .collect();
    let _ = writeln!(s, "- Renames: {}", list(renames));
    let _ = writeln!(s, "- Risk: {}", risk_rules(&o.thresholds));
}

/// Escape untrusted text for Markdown prose: no emphasis, links, code, HTML
/// or table breaks; newlines become spaces.
pub(crate) fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Untrusted text as an inline code span. The fence is longer than any
/// backtick run inside; newlines become spaces; inside a table `|` is
/// escaped (GitHub tables split cells on it even in code spans).
pub(crate) fn code(s: &str, in_table: bool) -> String {
    let mut body: String = s
        .chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => ' ',
            c if c.is_control() => '\u{fffd}',
            c => c,
        })
        .collect();
    if in_table {
        body = body.replace('|', "\\|");
    }
    let mut longest = 0;
    let mut run = 0;
    for c in body.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if body.starts_with('`') || body.ends_with('`') || body.is_empty() {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{body}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_markup() {
        assert_eq!(
            text("<script>a|b_c*[x](y)\nz"),
            "&lt;script&gt;a\\|b\\_c\\*\\[x\\](y) z"
        );
    }

    #[test]
    fn code_spans_survive_backticks_and_pipes() {
        assert_eq!(code("a", false), "`a`");
        assert_eq!(code("a`b", false), "``a`b``");
        assert_eq!(code("`x", false), "`` `x ``");
        assert_eq!(code("a|b\nc", true), "`a\\|b c`");
        assert_eq!(code("", false), "`  `");
    }
}

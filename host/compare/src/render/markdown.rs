//! Markdown rendering of a report (CommonMark with GitHub tables).
//!
//! Everything taken from the inputs (alert names, labels, file names) is
//! escaped: it can neither break a table nor inject HTML or links.

use crate::render::escape::escape_text;
use crate::render::source::{Out, Source};
use crate::render::wording::{
    BREAKDOWN_COLUMNS, DELAY_COLUMNS, Kind, breakdown_cells, delay_cells, early_note, ended,
    histogram_bins, input_format, list_or_none, match_sentence, more_line, noise_sentence, num,
    pct_opt, renames, risk_rules, short_time, time_span, verdict_meaning, verdict_word,
    worst_first,
};
use crate::report::{Breakdown, Report};
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
    Out::collect(|out| write_markdown(r, out))
}

/// [`render_markdown`] of a source.
pub(crate) fn write_markdown(src: &dyn Source, s: &mut Out<'_>) {
    let r = src.report();
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
        let _ = writeln!(s, "Episodes {} (UTC).\n", time_span(t));
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

    delays(s, src);
    alert_list(s, src, Kind::Missing);
    alert_list(s, src, Kind::Extra);
    breakdown(s, "By alertname", "Alertname", &r.by_alertname);
    breakdown(s, "By severity", "Severity", &r.by_severity);
    if let (Some(map), Some(label)) = (&r.by_label, &r.options.breakdown_label) {
        breakdown(s, &format!("By {}", text(label)), &text(label), map);
    }
    if let Some(n) = &r.noise_floor {
        s.push_str("## Noise floor\n\n");
        let _ = writeln!(s, "{}\n", noise_sentence(n, |rate| rate));
    }
    if let Some(inputs) = &r.inputs {
        s.push_str("## Inputs\n\n| Side | Source | Format | Alerts | Pending skipped |\n");
        s.push_str("|:--|:--|:--|--:|--:|\n");
        for (side, i) in [("old", &inputs.old), ("new", &inputs.new)] {
            let _ = writeln!(
                s,
                "| {side} | {} | {} | {} | {} |",
                code(&i.origin, true),
                input_format(i),
                i.alerts,
                i.stats.skipped_pending
            );
        }
        s.push('\n');
    }
    options(s, r);
    let _ = writeln!(s, "\nReport schema: {}", code(&r.schema, false));
}

/// A table header row and its alignment row (first column left, the rest
/// right).
fn header(s: &mut Out<'_>, first: &str, rest: &[&str]) {
    let _ = writeln!(
        s,
        "| {first} | {} |\n|:--|{}",
        rest.join(" | "),
        "--:|".repeat(rest.len())
    );
}

fn delays(s: &mut Out<'_>, src: &dyn Source) {
    let d = &src.report().delay_seconds;
    s.push_str("## Delay (new start − old start)\n\n");
    if d.count == 0 {
        s.push_str("No matched pairs: no delay data.\n\n");
        return;
    }
    let _ = writeln!(
        s,
        "| {} |\n|{}",
        DELAY_COLUMNS.join(" | "),
        "--:|".repeat(DELAY_COLUMNS.len())
    );
    let _ = writeln!(s, "| {} |\n", delay_cells(d).join(" | "));
    if let Some(note) = early_note(src.early()) {
        let _ = writeln!(s, "{note}\n");
    }
    header(s, "Delay (seconds)", &["Pairs", "Cumulative"]);
    for b in histogram_bins(d) {
        let _ = writeln!(s, "| {} | {} | {} |", b.label, b.count, b.cumulative);
    }
    s.push('\n');
}

fn alert_list(s: &mut Out<'_>, src: &dyn Source, kind: Kind) {
    let _ = writeln!(s, "## {}\n", kind.title());
    let len = src.len(kind);
    if len == 0 {
        s.push_str("None.\n\n");
        return;
    }
    s.push_str("| Started (UTC) | Ended (UTC) | Alert |\n|:--|:--|:--|\n");
    src.rows(kind, MD_LIST_MAX, &mut |a| {
        let _ = writeln!(
            s,
            "| {} | {} | {} |",
            short_time(a.start),
            ended(a.end),
            code(a.key, true)
        );
    });
    if let Some(more) = more_line(kind, len, MD_LIST_MAX) {
        let _ = writeln!(s, "\n{more}");
    }
    s.push('\n');
}

fn breakdown(s: &mut Out<'_>, title: &str, column: &str, map: &BTreeMap<String, Breakdown>) {
    let _ = writeln!(s, "## {title}\n");
    if map.is_empty() {
        s.push_str("No alerts.\n\n");
        return;
    }
    header(s, column, &BREAKDOWN_COLUMNS);
    for (name, b) in worst_first(map) {
        let _ = writeln!(
            s,
            "| {} | {} |",
            code(name, true),
            breakdown_cells(b).join(" | ")
        );
    }
    s.push('\n');
}

fn options(s: &mut Out<'_>, r: &Report) {
    let o = &r.options;
    let code = |t: &str| code(t, false);
    s.push_str("## Options\n\n");
    let _ = writeln!(s, "- Tolerance: {}s", num(o.tolerance.as_secs_f64()));
    let ignored = o.ignore_labels.iter().map(|l| code(l)).collect();
    let _ = writeln!(s, "- Ignored labels: {}", list_or_none(ignored, ", "));
    let _ = writeln!(s, "- Renames: {}", list_or_none(renames(o, code), ", "));
    let _ = writeln!(s, "- Risk: {}", risk_rules(&o.thresholds));
}

/// Escape untrusted text for Markdown prose: no emphasis, links, code, HTML
/// or table breaks; newlines become spaces.
fn text(s: &str) -> String {
    escape_text(s, |c| match c {
        '\\' => Some("\\\\"),
        '`' => Some("\\`"),
        '*' => Some("\\*"),
        '_' => Some("\\_"),
        '[' => Some("\\["),
        ']' => Some("\\]"),
        '|' => Some("\\|"),
        '~' => Some("\\~"),
        '#' => Some("\\#"),
        '!' => Some("\\!"),
        '\n' | '\r' | '\t' => Some(" "),
        _ => None,
    })
}

/// Untrusted text as an inline code span. The fence is longer than any
/// backtick run inside; newlines become spaces; inside a table `|` is
/// escaped (GitHub tables split cells on it even in code spans).
fn code(s: &str, in_table: bool) -> String {
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

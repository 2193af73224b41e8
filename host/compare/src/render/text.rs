//! Compact human text: the verdict, inputs, totals, match rate, noise floor
//! and delays, every missing and extra alert on a line of its own, then the
//! recommendations.

use crate::render::source::{Out, Source};
use crate::render::wording::{Kind, input_format, pct_opt, pending_note};
use crate::report::Report;
use crate::timefmt::format_millis;
use std::fmt::Write;

/// Render a compact text report: totals, match rate, risk, delays, missing
/// and extra alerts, recommendations.
pub fn render_text(r: &Report) -> String {
    Out::collect(|out| write_text(r, out))
}

/// [`render_text`] of a source, written as it is produced.
pub(crate) fn write_text(src: &dyn Source, s: &mut Out<'_>) {
    let r = src.report();
    let secs = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |x| format!("{x:.1}s"));
    let _ = writeln!(
        s,
        "Verdict: {} (risk {})",
        r.verdict.to_string().to_uppercase(),
        r.risk_level
    );
    if let Some(inputs) = &r.inputs {
        for (side, i) in [("old", &inputs.old), ("new", &inputs.new)] {
            let _ = writeln!(
                s,
                "  {side}: {} ({}{})",
                i.origin,
                input_format(i),
                pending_note(i)
            );
        }
    }
    let _ = writeln!(s, "  {:<12} {:>8}", "old alerts", r.total_old);
    let _ = writeln!(s, "  {:<12} {:>8}", "new alerts", r.total_new);
    let _ = writeln!(s, "  {:<12} {:>8}", "matched", r.matched);
    let _ = writeln!(s, "  {:<12} {:>8}", "missing", r.missing);
    let _ = writeln!(s, "  {:<12} {:>8}", "extra", r.extra);
    let _ = writeln!(s, "  {:<12} {:>8}", "match rate", pct_opt(r.match_rate));
    if let Some(n) = &r.noise_floor {
        let _ = writeln!(
            s,
            "  {:<12} {:>8}  ({} missing, {} extra on a second read of old)",
            "noise floor",
            pct_opt(n.match_rate),
            n.missing,
            n.extra
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
    list(s, src, Kind::Missing, "Missing (fired by old only)");
    list(s, src, Kind::Extra, "Extra (fired by new only)");
    if !r.recommendations.is_empty() {
        let _ = writeln!(s, "Recommendations:");
        for line in &r.recommendations {
            let _ = writeln!(s, "  - {line}");
        }
    }
}

/// Every alert of a list: start and key.
fn list(s: &mut Out<'_>, src: &dyn Source, kind: Kind, title: &str) {
    if src.len(kind) == 0 {
        return;
    }
    let _ = writeln!(s, "{title}:");
    src.rows(kind, usize::MAX, &mut |a| {
        let _ = writeln!(s, "  {}  {}", format_millis(a.start), a.key);
    });
}

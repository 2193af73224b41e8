//! Human-readable text rendering of a [`Report`].

use crate::recommend::pct;
use crate::report::{Report, UnmatchedAlert};
use crate::timefmt::format_millis;
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

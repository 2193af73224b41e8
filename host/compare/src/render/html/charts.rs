//! The match-rate and delay-histogram charts of the HTML report, drawn from
//! the report's summary (breakdown by alertname, delay statistics).
//!
//! Marks carry a class the report test looks for: `bar` (match-rate and
//! histogram bars). Legend swatches use other classes so they are not
//! counted.

use super::markup::escape;
use super::svg::{CHART_ROWS_MAX, W, f, label_width, legend_item, no_data, open_svg, trunc};
use crate::render::source::Out;
use crate::render::wording::{Kind, histogram_bins, num, pct_opt, secs_opt, worst_first};
use crate::report::Report;
use std::fmt::Write;

/// (a) Horizontal stacked bars per alertname: matched share then missing
/// share of the old system's episodes, worst first, rate as text.
pub(super) fn match_rate(s: &mut Out<'_>, r: &Report) {
    let rows = worst_first(&r.by_alertname);
    if rows.is_empty() {
        no_data(
            s,
            "match-rate",
            "Match rate by alertname: no data",
            "no data: neither system fired any alert",
        );
        return;
    }
    let shown = &rows[..rows.len().min(CHART_ROWS_MAX)];
    let names: Vec<String> = shown.iter().map(|(n, _)| trunc(n, 34)).collect();
    let label_w = label_width(&names);
    let text_w = 190.0;
    let (x0, bw) = (label_w, W - label_w - text_w);
    let (top, row_h, bar_h) = (46.0, 26.0, 16.0);
    let height = top + shown.len() as f64 * row_h + 6.0;
    open_svg(
        s,
        "match-rate",
        &format!(
            "Match rate by alertname, worst first ({} alertnames)",
            rows.len()
        ),
        height,
    );
    let lx = legend_item(s, x0, 14.0, Kind::Matched, "rect", "matched");
    legend_item(s, lx, 14.0, Kind::Missing, "rect", "missing (old only)");
    for p in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let x = x0 + bw * p;
        let _ = writeln!(
            s,
            "<line class=\"grid\" x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\"/>\
             <text class=\"axis\" x=\"{x}\" y=\"{}\" text-anchor=\"middle\">{}%</text>",
            f(top - 4.0),
            f(height - 4.0),
            f(top - 8.0),
            p * 100.0,
            x = f(x)
        );
    }
    for (i, ((name, b), short)) in shown.iter().zip(&names).enumerate() {
        let y = top + i as f64 * row_h + (row_h - bar_h) / 2.0;
        let ty = f(y + bar_h / 2.0 + 4.0);
        let _ = writeln!(
            s,
            "<text class=\"row-label\" x=\"{}\" y=\"{ty}\" text-anchor=\"end\"><title>{}</title>{}</text>",
            f(x0 - 8.0),
            escape(name),
            escape(short)
        );
        let what = format!(
            "{name}: {} of {} matched ({}), {} missing, {} extra",
            b.matched,
            b.old,
            pct_opt(b.match_rate),
            b.missing,
            b.extra
        );
        let mut label;
        if b.old > 0 {
            let wm = bw * b.matched as f64 / b.old as f64;
            let wx = bw * b.missing as f64 / b.old as f64;
            for (class, x, w) in [("bar-matched", x0, wm), ("bar-missing", x0 + wm, wx)] {
                if w > 0.0 {
                    let _ = writeln!(
                        s,
                        "<rect class=\"bar {class}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{bar_h}\">\
                         <title>{}</title></rect>",
                        f(x),
                        f(y),
                        f(w),
                        escape(&what)
                    );
                }
            }
            label = format!("{} ({} of {})", pct_opt(b.match_rate), b.matched, b.old);
        } else {
            let _ = writeln!(
                s,
                "<rect class=\"track\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{bar_h}\">\
                 <title>{}</title></rect>",
                f(x0),
                f(y),
                f(bw),
                escape(&what)
            );
            label = "n/a: new only".to_string();
        }
        if b.extra > 0 {
            let _ = write!(label, " +{} extra", b.extra);
        }
        let _ = writeln!(
            s,
            "<text class=\"rate\" x=\"{}\" y=\"{ty}\">{}</text>",
            f(x0 + bw + 8.0),
            escape(&label)
        );
    }
    s.push_str("</svg>\n");
    if rows.len() > shown.len() {
        let _ = writeln!(
            s,
            "<p class=\"note\">{} more alertnames not drawn (see the breakdown table).</p>",
            rows.len() - shown.len()
        );
    }
}

/// Largest axis value: `max` rounded up to 1, 2 or 5 times a power of ten,
/// and the tick step (at most 5 ticks, whole numbers).
fn nice_axis(max: usize) -> (f64, f64) {
    let max = max.max(1) as f64;
    let mut step = 1.0;
    loop {
        for m in [1.0, 2.0, 5.0] {
            let st = step * m;
            if (max / st).ceil() <= 5.0 {
                return ((max / st).ceil() * st, st);
            }
        }
        step *= 10.0;
    }
}

/// (b) Vertical bars: matched pairs per delay bucket of the report's histogram.
pub(super) fn delay_histogram(s: &mut Out<'_>, r: &Report) {
    let d = &r.delay_seconds;
    if d.count == 0 {
        no_data(
            s,
            "delay",
            "Delay histogram: no data",
            "no data: no matched pairs",
        );
        return;
    }
    let bins = histogram_bins(d);
    let (left, right, top, plot_h) = (56.0, 16.0, 28.0, 180.0);
    let height = top + plot_h + 50.0;
    let plot_w = W - left - right;
    let slot = plot_w / bins.len() as f64;
    let bar_w = slot * 0.7;
    let (ymax, ystep) = nice_axis(bins.iter().map(|b| b.count).max().unwrap_or(0));
    open_svg(
        s,
        "delay",
        &format!(
            "Delay histogram: {} matched pairs, p50 {}, p95 {}",
            d.count,
            secs_opt(d.p50),
            secs_opt(d.p95)
        ),
        height,
    );
    let base = top + plot_h;
    let mut t = 0.0;
    while t <= ymax + 1e-9 {
        let y = base - plot_h * t / ymax;
        let _ = writeln!(
            s,
            "<line class=\"grid\" x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\"/>\
             <text class=\"axis\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            f(left),
            f(W - right),
            f(left - 6.0),
            f(y + 4.0),
            num(t),
            y = f(y)
        );
        t += ystep;
    }
    let _ = writeln!(
        s,
        "<text class=\"axis\" x=\"{}\" y=\"14\" text-anchor=\"start\">pairs</text>",
        f(left - 40.0)
    );
    for (i, b) in bins.iter().enumerate() {
        let cx = left + slot * (i as f64 + 0.5);
        if b.count > 0 {
            let h = (plot_h * b.count as f64 / ymax).max(2.0);
            let _ = writeln!(
                s,
                "<rect class=\"bar hist-bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\">\
                 <title>{} s: {} pair(s)</title></rect>\
                 <text class=\"count\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                f(cx - bar_w / 2.0),
                f(base - h),
                f(bar_w),
                f(h),
                escape(&b.label),
                b.count,
                f(cx),
                f(base - h - 5.0),
                b.count
            );
        }
        let _ = writeln!(
            s,
            "<text class=\"axis\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            f(cx),
            f(base + 16.0),
            escape(&b.label)
        );
    }
    let _ = write!(
        s,
        "<text class=\"axis\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">delay in seconds \
         (new start − old start)</text>\n</svg>\n",
        f(left + plot_w / 2.0),
        f(base + 38.0)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_axis_rounds_up() {
        assert_eq!(nice_axis(0), (1.0, 1.0));
        assert_eq!(nice_axis(3), (3.0, 1.0));
        assert_eq!(nice_axis(7), (8.0, 2.0));
        assert_eq!(nice_axis(23), (25.0, 5.0));
        assert_eq!(nice_axis(480), (500.0, 100.0));
    }
}

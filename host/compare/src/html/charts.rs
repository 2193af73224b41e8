//! The three inline SVG charts of the HTML report. Geometry is computed in
//! a fixed 800-unit-wide view box; the SVG scales to the page width.
//!
//! Marks carry a class the report test looks for: `bar` (match-rate and
//! histogram bars) and `mark` (one per episode in the timeline). Legend
//! swatches use other classes so they are not counted.

use super::{CHART_ROWS_MAX, escape, kind_colour};
use crate::render::{
    Episode, Kind, episodes, histogram_bins, num, pct_opt, short_time, worst_first,
};
use crate::report::Report;
use std::collections::BTreeMap;
use std::fmt::Write;

/// View-box width.
const W: f64 = 800.0;
/// Estimated width of one character of 12px text.
const CHAR_W: f64 = 6.8;

/// A coordinate with one decimal.
fn f(v: f64) -> String {
    format!("{v:.1}")
}

/// At most `max` characters, with an ellipsis when cut.
fn trunc(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn open_svg(s: &mut String, id: &str, title: &str, height: f64) {
    let _ = write!(
        s,
        "<svg class=\"chart\" id=\"chart-{id}\" role=\"img\" aria-labelledby=\"chart-{id}-title\" \
         viewBox=\"0 0 {W} {h}\" preserveAspectRatio=\"xMinYMin meet\">\n\
         <title id=\"chart-{id}-title\">{title}</title>\n",
        h = f(height),
        title = escape(title)
    );
}

/// A valid, small SVG saying there is nothing to draw.
fn no_data(s: &mut String, id: &str, title: &str, message: &str) {
    open_svg(s, id, title, 60.0);
    let _ = write!(
        s,
        "<rect class=\"track\" x=\"1\" y=\"1\" width=\"{}\" height=\"58\"/>\n\
         <text class=\"nodata\" x=\"{}\" y=\"36\" text-anchor=\"middle\">{}</text>\n</svg>\n",
        W - 2.0,
        W / 2.0,
        escape(message)
    );
}

/// Width of the left label column for these names.
fn label_width(names: &[String]) -> f64 {
    let longest = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    (longest as f64 * CHAR_W + 16.0).clamp(90.0, 250.0)
}

/// One legend entry (swatch + words) at `x`; returns the x after it.
fn legend_item(s: &mut String, x: f64, y: f64, kind: Kind, shape: &str, words: &str) -> f64 {
    let c = kind_colour(kind);
    let swatch = match shape {
        "circle" => format!(
            "<circle class=\"legend-mark\" cx=\"{}\" cy=\"{}\" r=\"5\" fill=\"{c}\"/>",
            f(x + 5.0),
            f(y - 4.0)
        ),
        "cross" => cross(x + 5.0, y - 4.0, c, "legend-mark"),
        "diamond" => diamond(x + 5.0, y - 4.0, c, "legend-mark"),
        _ => format!(
            "<rect class=\"legend-mark\" x=\"{}\" y=\"{}\" width=\"12\" height=\"10\" fill=\"{c}\"/>",
            f(x),
            f(y - 9.0)
        ),
    };
    let _ = writeln!(
        s,
        "{swatch}<text x=\"{}\" y=\"{}\">{}</text>",
        f(x + 17.0),
        f(y),
        escape(words)
    );
    x + 17.0 + words.chars().count() as f64 * CHAR_W + 18.0
}

fn cross(x: f64, y: f64, colour: &str, class: &str) -> String {
    format!(
        "<path class=\"{class}\" d=\"M{} {}L{} {}M{} {}L{} {}\" stroke=\"{colour}\" \
         stroke-width=\"2.5\" fill=\"none\"",
        f(x - 5.0),
        f(y - 5.0),
        f(x + 5.0),
        f(y + 5.0),
        f(x - 5.0),
        f(y + 5.0),
        f(x + 5.0),
        f(y - 5.0)
    ) + if class == "legend-mark" { "/>" } else { ">" }
}

fn diamond(x: f64, y: f64, colour: &str, class: &str) -> String {
    format!(
        "<path class=\"{class}\" d=\"M{} {}L{} {}L{} {}L{} {}Z\" fill=\"{colour}\" \
         stroke=\"#5c4400\" stroke-width=\"1\"",
        f(x),
        f(y - 6.0),
        f(x + 6.0),
        f(y),
        f(x),
        f(y + 6.0),
        f(x - 6.0),
        f(y)
    ) + if class == "legend-mark" { "/>" } else { ">" }
}

/// (a) Horizontal stacked bars per alertname: matched share then missing
/// share of the old system's episodes, worst first, rate as text.
pub(super) fn match_rate(s: &mut String, r: &Report) {
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
pub(super) fn delay_histogram(s: &mut String, r: &Report) {
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
            crate::render::secs_opt(d.p50),
            crate::render::secs_opt(d.p95)
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

/// Width (view-box units) within which starts of one row and outcome share
/// a timeline mark.
const MARK_BUCKET: f64 = 10.0;

/// Episodes drawn as one timeline mark.
struct Group<'a> {
    /// Earliest episode (the mark sits at its start).
    first: &'a Episode<'a>,
    /// Latest start.
    last_start: i64,
    /// Latest end; `None` when any is still firing.
    end: Option<i64>,
    count: usize,
}

impl<'a> Group<'a> {
    fn new(e: &'a Episode<'a>) -> Self {
        Group {
            first: e,
            last_start: e.start,
            end: e.end,
            count: 1,
        }
    }

    fn add(&mut self, e: &'a Episode<'a>) {
        if e.start < self.first.start {
            self.first = e;
        }
        self.last_start = self.last_start.max(e.start);
        self.end = match (self.end, e.end) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
        self.count += 1;
    }

    /// Tooltip: the episode's key and times, or a summary of the group.
    fn title(&self) -> String {
        let e = self.first;
        let ended = self.end.map_or_else(
            || "still firing".to_string(),
            |t| format!("ended {}", short_time(t)),
        );
        if self.count > 1 {
            return format!(
                "{} {} episodes of {} starting {} to {}, e.g. {}; last {ended}",
                self.count,
                e.kind.word(),
                e.alertname,
                short_time(e.start),
                short_time(self.last_start),
                e.key
            );
        }
        match (e.kind, e.new_start, e.delay) {
            (Kind::Matched, Some(ns), Some(d)) => format!(
                "{}\nmatched: old start {}, new start {}, delay {}s; {ended}",
                e.key,
                short_time(e.start),
                short_time(ns),
                num(d)
            ),
            (k, _, _) => format!(
                "{}\n{}: started {}, {ended}",
                e.key,
                k.word(),
                short_time(e.start)
            ),
        }
    }
}

/// Tick steps of the time axis, milliseconds.
const STEPS: [i64; 21] = [
    1_000,
    2_000,
    5_000,
    10_000,
    15_000,
    30_000,
    60_000,
    120_000,
    300_000,
    600_000,
    900_000,
    1_800_000,
    3_600_000,
    7_200_000,
    10_800_000,
    21_600_000,
    43_200_000,
    86_400_000,
    172_800_000,
    604_800_000,
    2_592_000_000,
];

fn fmt_time(ms: i64, pattern: &str) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime(pattern).to_string())
        .unwrap_or_else(|_| format!("@{ms}"))
}

/// (c) One row per alertname (same order as the match-rate chart), one mark
/// per episode at its start, a line until its end.
pub(super) fn timeline(s: &mut String, r: &Report) {
    let eps = episodes(r);
    if eps.is_empty() {
        no_data(
            s,
            "timeline",
            "Timeline of episodes: no data",
            "no data: no episodes",
        );
        return;
    }
    // Row order: worst first, then any name the breakdown does not know.
    let mut order: Vec<&str> = worst_first(&r.by_alertname)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let mut row_of: BTreeMap<&str, usize> =
        order.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    for e in &eps {
        if !row_of.contains_key(e.alertname) {
            row_of.insert(e.alertname, order.len());
            order.push(e.alertname);
        }
    }
    let shown = order.len().min(CHART_ROWS_MAX);

    let lo0 = eps.iter().map(|e| e.start).min().unwrap_or(0);
    let hi0 = eps
        .iter()
        .flat_map(|e| [Some(e.start), e.end, e.new_start])
        .flatten()
        .max()
        .unwrap_or(lo0);
    let (lo0, hi0) = match r.time_range {
        Some(t) => (lo0.min(t.from), hi0.max(t.to)),
        None => (lo0, hi0),
    };
    let span = (hi0 - lo0).max(60_000);
    let mid = lo0 + (hi0 - lo0) / 2;
    let (lo, hi) = if hi0 - lo0 < 60_000 {
        (mid - span / 2, mid - span / 2 + span)
    } else {
        (lo0, hi0)
    };

    let names: Vec<String> = order[..shown].iter().map(|n| trunc(n, 34)).collect();
    let label_w = label_width(&names);
    let right_w = 180.0;
    let (x0, x1) = (label_w + 10.0, W - right_w - 10.0);
    let x = |t: i64| x0 + (t - lo) as f64 / (hi - lo) as f64 * (x1 - x0);
    let (top, row_h) = (40.0, 30.0);
    let base = top + shown as f64 * row_h;
    let height = base + 44.0;

    let counts = |k: Kind| eps.iter().filter(|e| e.kind == k).count();
    open_svg(
        s,
        "timeline",
        &format!(
            "Timeline of episodes: {} matched, {} missing, {} extra",
            counts(Kind::Matched),
            counts(Kind::Missing),
            counts(Kind::Extra)
        ),
        height,
    );
    let legend_chars = "matched (both fired)missing (old only)extra (new only)still firing".len();
    let legend_w = legend_chars as f64 * CHAR_W + 4.0 * 35.0;
    let mut lx = x0.min(W - legend_w).max(4.0);
    lx = legend_item(s, lx, 14.0, Kind::Matched, "circle", "matched (both fired)");
    lx = legend_item(s, lx, 14.0, Kind::Missing, "cross", "missing (old only)");
    lx = legend_item(s, lx, 14.0, Kind::Extra, "diamond", "extra (new only)");
    let _ = writeln!(
        s,
        "<line class=\"span open\" x1=\"{}\" y1=\"10\" x2=\"{}\" y2=\"10\" stroke=\"#5b6573\"/>\
         <text x=\"{}\" y=\"14\">still firing</text>",
        f(lx),
        f(lx + 22.0),
        f(lx + 28.0)
    );

    // Time axis: pick a label pattern, then the smallest step whose labels fit.
    let same_day = fmt_time(lo, "%Y-%m-%d") == fmt_time(hi, "%Y-%m-%d");
    let pattern = |step: i64| {
        if step >= 86_400_000 {
            "%m-%d"
        } else if !same_day {
            "%m-%d %H:%M"
        } else if step < 60_000 {
            "%H:%M:%S"
        } else {
            "%H:%M"
        }
    };
    let step = STEPS
        .iter()
        .copied()
        .find(|&st| {
            let label_px = fmt_time(lo, pattern(st)).chars().count() as f64 * CHAR_W + 14.0;
            let ticks = ((hi - lo) / st) as f64 + 1.0;
            ticks * label_px <= x1 - x0
        })
        .unwrap_or_else(|| ((hi - lo) / 4).max(1));
    let mut t = lo.div_euclid(step) * step;
    if t < lo {
        t += step;
    }
    while t <= hi {
        let tx = f(x(t));
        let _ = writeln!(
            s,
            "<line class=\"grid\" x1=\"{tx}\" y1=\"{}\" x2=\"{tx}\" y2=\"{}\"/>\
             <text class=\"axis\" x=\"{tx}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            f(top),
            f(base + 4.0),
            f(base + 18.0),
            fmt_time(t, pattern(step))
        );
        t += step;
    }
    let _ = writeln!(
        s,
        "<text class=\"axis\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">time (UTC), {} to {}</text>",
        f((x0 + x1) / 2.0),
        f(base + 38.0),
        short_time(lo),
        short_time(hi)
    );

    for (i, name) in order[..shown].iter().enumerate() {
        let y = top + i as f64 * row_h;
        if i % 2 == 0 {
            let _ = writeln!(
                s,
                "<rect class=\"band\" x=\"0\" y=\"{}\" width=\"{W}\" height=\"{row_h}\"/>",
                f(y)
            );
        }
        let mine: Vec<Kind> = eps
            .iter()
            .filter(|e| e.alertname == *name)
            .map(|e| e.kind)
            .collect();
        let words: Vec<String> = [Kind::Matched, Kind::Missing, Kind::Extra]
            .into_iter()
            .filter_map(|k| {
                let n = mine.iter().filter(|&&m| m == k).count();
                (n > 0).then(|| format!("{n} {}", k.word()))
            })
            .collect();
        let _ = writeln!(
            s,
            "<text class=\"row-label\" x=\"{}\" y=\"{}\" text-anchor=\"end\"><title>{}</title>{}</text>\
             <text class=\"row-count\" x=\"{}\" y=\"{}\">{}</text>",
            f(label_w),
            f(y + row_h / 2.0 + 4.0),
            escape(name),
            escape(&names[i]),
            f(x1 + 16.0),
            f(y + row_h / 2.0 + 4.0),
            words.join(", ")
        );
    }
    // Episodes of one row and outcome whose starts fall within the same mark
    // width are drawn as one mark (its tooltip gives the count), so that a
    // large report stays a readable and bounded page.
    let mut groups: BTreeMap<(usize, Kind, i64), Group<'_>> = BTreeMap::new();
    for e in &eps {
        let row = row_of.get(e.alertname).copied().unwrap_or(usize::MAX);
        if row >= shown {
            continue;
        }
        let bucket = ((x(e.start) - x0) / MARK_BUCKET).floor() as i64;
        groups
            .entry((row, e.kind, bucket))
            .and_modify(|g| g.add(e))
            .or_insert_with(|| Group::new(e));
    }
    for ((row, kind, _), g) in &groups {
        let lane = match kind {
            Kind::Matched => -8.0,
            Kind::Missing => 0.0,
            Kind::Extra => 8.0,
        };
        let cy = top + *row as f64 * row_h + row_h / 2.0 + lane;
        let c = kind_colour(*kind);
        let sx = x(g.first.start);
        let ex = x(g.end.unwrap_or(hi).max(g.first.start));
        if ex - sx >= 1.0 {
            let open = if g.end.is_none() { " open" } else { "" };
            let _ = writeln!(
                s,
                "<line class=\"span{open}\" x1=\"{}\" y1=\"{cy}\" x2=\"{}\" y2=\"{cy}\" stroke=\"{c}\"/>",
                f(sx),
                f(ex),
                cy = f(cy)
            );
        }
        let class = format!("mark mark-{}", kind.word());
        let open_tag = match kind {
            Kind::Matched => format!(
                "<circle class=\"{class}\" cx=\"{}\" cy=\"{}\" r=\"5\" fill=\"{c}\" \
                 stroke=\"#fff\" stroke-width=\"1\">",
                f(sx),
                f(cy)
            ),
            Kind::Missing => cross(sx, cy, c, &class),
            Kind::Extra => diamond(sx, cy, c, &class),
        };
        let close = match kind {
            Kind::Matched => "</circle>",
            _ => "</path>",
        };
        let _ = writeln!(s, "{open_tag}<title>{}</title>{close}", escape(&g.title()));
    }
    s.push_str("</svg>\n");
    if order.len() > shown {
        let hidden = eps
            .iter()
            .filter(|e| row_of.get(e.alertname).is_none_or(|&r| r >= shown))
            .count();
        let _ = writeln!(
            s,
            "<p class=\"note\">{} more alertnames ({hidden} episodes) not drawn (see the tables \
             below).</p>",
            order.len() - shown
        );
    }
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

    #[test]
    fn trunc_adds_ellipsis() {
        assert_eq!(trunc("abcdef", 4), "abc…");
        assert_eq!(trunc("abc", 4), "abc");
    }
}

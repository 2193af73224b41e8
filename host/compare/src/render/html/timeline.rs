//! The timeline chart of the HTML report: one row per alertname (in the
//! order of the match-rate chart), one mark per episode start, a line until
//! its end. Episodes close together in a row are drawn as one mark, so the
//! chart is bounded however many alerts the report has; it is drawn in two
//! walks over the report's lists (extent and rows, then marks) without
//! holding them.
//!
//! Marks carry the class `mark` the report test looks for; legend swatches
//! use other classes so they are not counted.

use super::markup::escape;
use super::svg::{
    CHAR_W, CHART_ROWS_MAX, W, cross, diamond, f, kind_colour, label_width, legend_item, no_data,
    open_svg, trunc,
};
use crate::render::source::{Out, Row, Source};
use crate::render::wording::{Kind, num, short_time, worst_first};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Width (view-box units) within which starts of one row and outcome share
/// a timeline mark.
const MARK_BUCKET: f64 = 10.0;

/// The kinds, in the order of a row's counts.
const KINDS: [Kind; 3] = [Kind::Matched, Kind::Missing, Kind::Extra];

/// The episode a mark sits at (its group's earliest).
struct First {
    kind: Kind,
    alertname: String,
    key: String,
    start: i64,
    new_start: Option<i64>,
    delay: Option<f64>,
}

impl First {
    fn of(e: &Row<'_>) -> First {
        First {
            kind: e.kind,
            alertname: e.alertname.to_string(),
            key: e.key.to_string(),
            start: e.start,
            new_start: e.new_start,
            delay: e.delay,
        }
    }
}

/// Episodes drawn as one timeline mark.
struct Group {
    /// Earliest episode (the mark sits at its start; the smallest key among
    /// equal starts).
    first: First,
    /// Latest start.
    last_start: i64,
    /// Latest end; `None` when any is still firing.
    end: Option<i64>,
    count: usize,
}

impl Group {
    fn new(e: &Row<'_>) -> Self {
        Group {
            first: First::of(e),
            last_start: e.start,
            end: e.end,
            count: 1,
        }
    }

    fn add(&mut self, e: &Row<'_>) {
        if (e.start, e.key) < (self.first.start, self.first.key.as_str()) {
            self.first = First::of(e);
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
        let e = &self.first;
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

/// What the first walk over the episodes learns about one alertname.
#[derive(Default)]
struct Name {
    /// Episodes per kind, in [`KINDS`] order.
    counts: [usize; 3],
    /// For a name the breakdown does not know: its first episode in
    /// (start, kind, key) order, which places its row.
    first: Option<(i64, Kind, String)>,
}

/// Every episode of the source (matched pairs once), in no particular order.
fn each_episode(src: &dyn Source, each: &mut dyn FnMut(&Row<'_>)) {
    for kind in KINDS {
        src.rows(kind, usize::MAX, each);
    }
}

/// (c) One row per alertname (same order as the match-rate chart), one mark
/// per episode at its start, a line until its end.
pub(super) fn timeline(s: &mut Out<'_>, src: &dyn Source) {
    let r = src.report();
    if KINDS.iter().all(|&k| src.len(k) == 0) {
        no_data(
            s,
            "timeline",
            "Timeline of episodes: no data",
            "no data: no episodes",
        );
        return;
    }
    // First walk: the extent of the episodes and what each row holds.
    let mut names: BTreeMap<String, Name> = BTreeMap::new();
    let (mut lo0, mut hi0) = (i64::MAX, i64::MIN);
    each_episode(src, &mut |e| {
        lo0 = lo0.min(e.start);
        for t in [Some(e.start), e.end, e.new_start].into_iter().flatten() {
            hi0 = hi0.max(t);
        }
        if !names.contains_key(e.alertname) {
            names.insert(e.alertname.to_string(), Name::default());
        }
        let Some(name) = names.get_mut(e.alertname) else {
            return;
        };
        name.counts[e.kind as usize] += 1;
        if !r.by_alertname.contains_key(e.alertname)
            && name
                .first
                .as_ref()
                .is_none_or(|(t, k, key)| (e.start, e.kind, e.key) < (*t, *k, key.as_str()))
        {
            name.first = Some((e.start, e.kind, e.key.to_string()));
        }
    });
    // Row order: worst first, then any name the breakdown does not know.
    let mut order: Vec<&str> = worst_first(&r.by_alertname)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let mut unknown: Vec<(&(i64, Kind, String), &str)> = names
        .iter()
        .filter_map(|(n, v)| Some((v.first.as_ref()?, n.as_str())))
        .collect();
    unknown.sort();
    order.extend(unknown.into_iter().map(|(_, n)| n));
    let row_of: BTreeMap<&str, usize> = order.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let shown = order.len().min(CHART_ROWS_MAX);

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

    let names_short: Vec<String> = order[..shown].iter().map(|n| trunc(n, 34)).collect();
    let label_w = label_width(&names_short);
    let right_w = 180.0;
    let (x0, x1) = (label_w + 10.0, W - right_w - 10.0);
    let x = |t: i64| x0 + (t - lo) as f64 / (hi - lo) as f64 * (x1 - x0);
    let (top, row_h) = (40.0, 30.0);
    let base = top + shown as f64 * row_h;
    let height = base + 44.0;

    let counts = |k: Kind| src.len(k);
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
        let counts = names.get(*name).map_or([0; 3], |n| n.counts);
        let words: Vec<String> = KINDS
            .into_iter()
            .zip(counts)
            .filter(|&(_, n)| n > 0)
            .map(|(k, n)| format!("{n} {}", k.word()))
            .collect();
        let _ = writeln!(
            s,
            "<text class=\"row-label\" x=\"{}\" y=\"{}\" text-anchor=\"end\"><title>{}</title>{}</text>\
             <text class=\"row-count\" x=\"{}\" y=\"{}\">{}</text>",
            f(label_w),
            f(y + row_h / 2.0 + 4.0),
            escape(name),
            escape(&names_short[i]),
            f(x1 + 16.0),
            f(y + row_h / 2.0 + 4.0),
            words.join(", ")
        );
    }
    // Second walk: episodes of one row and outcome whose starts fall within
    // the same mark width are drawn as one mark (its tooltip gives the
    // count), so that a large report stays a readable and bounded page.
    let mut groups: BTreeMap<(usize, Kind, i64), Group> = BTreeMap::new();
    each_episode(src, &mut |e| {
        let row = row_of.get(e.alertname).copied().unwrap_or(usize::MAX);
        if row >= shown {
            return;
        }
        let bucket = ((x(e.start) - x0) / MARK_BUCKET).floor() as i64;
        groups
            .entry((row, e.kind, bucket))
            .and_modify(|g| g.add(e))
            .or_insert_with(|| Group::new(e));
    });
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
        let hidden: usize = order[shown..]
            .iter()
            .filter_map(|n| names.get(*n))
            .map(|n| n.counts.iter().sum::<usize>())
            .sum();
        let _ = writeln!(
            s,
            "<p class=\"note\">{} more alertnames ({hidden} episodes) not drawn (see the tables \
             below).</p>",
            order.len() - shown
        );
    }
}

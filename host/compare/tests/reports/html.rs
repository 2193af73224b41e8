//! HTML report: self-contained, escaped, well-formed, charts with the
//! expected marks, no-data handling and caps. The browser test is in
//! `chromium.rs`.

use super::*;
use cutover_compare::render::html::{CHART_ROWS_MAX, CSP, HTML_LIST_MAX};
use cutover_compare::render_html;

/// A start or end tag of the page.
#[derive(Debug)]
struct Tag {
    name: String,
    closing: bool,
    self_closing: bool,
    attrs: Vec<(String, String)>,
}

/// Every tag of `html`, in order. Text never contains a raw `<` in an
/// escaped page, so every `<` must open a tag this scanner understands.
fn tags(html: &str) -> Vec<Tag> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        if let Some(r) = rest.strip_prefix("!DOCTYPE html>") {
            rest = r;
            continue;
        }
        let closing = rest.starts_with('/');
        if closing {
            rest = &rest[1..];
        }
        let name_len = rest
            .find(|c: char| !c.is_ascii_alphanumeric())
            .expect("unterminated tag");
        let name = rest[..name_len].to_string();
        assert!(
            !name.is_empty(),
            "'<' that opens no tag near {:?}",
            rest.chars().take(40).collect::<String>()
        );
        rest = &rest[name_len..];
        let mut attrs = Vec::new();
        loop {
            rest = rest.trim_start();
            if let Some(r) = rest.strip_prefix("/>") {
                rest = r;
                out.push(Tag {
                    name,
                    closing,
                    self_closing: true,
                    attrs,
                });
                break;
            }
            if let Some(r) = rest.strip_prefix('>') {
                rest = r;
                out.push(Tag {
                    name,
                    closing,
                    self_closing: false,
                    attrs,
                });
                break;
            }
            let n = rest
                .find(|c: char| c == '=' || c == '>' || c.is_whitespace())
                .expect("unterminated attribute");
            let near: String = rest.chars().take(60).collect();
            assert!(n > 0, "malformed attribute in <{name}> near {near:?}");
            let attr = rest[..n].to_string();
            rest = &rest[n..];
            let value = if let Some(r) = rest.strip_prefix("=\"") {
                let end = r.find('"').expect("unterminated attribute value");
                let v = r[..end].to_string();
                rest = &r[end + 1..];
                v
            } else {
                assert!(
                    !rest.starts_with('='),
                    "unquoted attribute value in <{name}> near {near:?}"
                );
                String::new()
            };
            attrs.push((attr, value));
        }
        if out.last().is_some_and(|t| t.name == "style" && !t.closing) {
            let end = rest.find("</style>").expect("unterminated style");
            assert!(!rest[..end].contains('<'));
            rest = &rest[end..];
        }
    }
    out
}

const ALLOWED: &[&str] = &[
    "html", "head", "meta", "title", "style", "body", "main", "header", "footer", "section", "h1",
    "h2", "h3", "p", "span", "strong", "div", "ol", "li", "table", "thead", "tbody", "tr", "th",
    "td", "details", "summary", "code", "dl", "dt", "dd", "svg", "rect", "line", "text", "circle",
    "path",
];
const VOID: &[&str] = &["meta"];

/// Only known elements, no event handler or link attribute, and every
/// element closed in order.
fn assert_well_formed_and_inert(html: &str) -> Vec<Tag> {
    let all = tags(html);
    let mut stack: Vec<&str> = Vec::new();
    for t in &all {
        assert!(
            ALLOWED.contains(&t.name.as_str()),
            "unexpected element <{}>",
            t.name
        );
        for (a, v) in &t.attrs {
            let a = a.to_ascii_lowercase();
            assert!(
                !a.starts_with("on"),
                "event handler {a}={v:?} on <{}>",
                t.name
            );
            assert!(
                ![
                    "src",
                    "href",
                    "xlink:href",
                    "srcset",
                    "action",
                    "formaction"
                ]
                .contains(&a.as_str()),
                "resource attribute {a}={v:?} on <{}>",
                t.name
            );
            assert!(
                !v.contains('<') && !v.contains('>'),
                "raw markup in {a}={v:?}"
            );
        }
        if t.closing {
            assert_eq!(
                stack.pop(),
                Some(t.name.as_str()),
                "misnested </{}>",
                t.name
            );
        } else if !t.self_closing && !VOID.contains(&t.name.as_str()) {
            stack.push(&t.name);
        }
    }
    assert!(stack.is_empty(), "unclosed elements {stack:?}");
    all
}

fn count(html: &str, needle: &str) -> usize {
    html.matches(needle).count()
}

/// The SVG element `id` and its content.
fn svg<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<svg class=\"chart\" id=\"chart-{id}\""))
        .unwrap_or_else(|| panic!("no chart {id}"));
    let end = start + html[start..].find("</svg>").unwrap() + "</svg>".len();
    &html[start..end]
}

#[test]
fn html_is_one_self_contained_inert_page() {
    let html = render_html(&reference_report());
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert!(html.ends_with("</html>\n"));
    assert_eq!(count(&html, "<html"), 1);
    assert!(html.contains(&format!(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">"
    )));
    for bad in [
        "http://",
        "https://",
        "<script",
        "<link",
        "<img",
        "url(",
        "@import",
        "@font-face",
        "src=",
    ] {
        assert!(!html.contains(bad), "page contains {bad:?}");
    }
    let all = assert_well_formed_and_inert(&html);
    assert_eq!(
        all.iter().filter(|t| t.name == "svg" && !t.closing).count(),
        3
    );
    assert!(html.contains("<title>Alert comparison: FAIL, 50.0% matched</title>"));
}

#[test]
fn html_headline_tables_and_charts_of_the_reference_scenario() {
    let html = render_html(&reference_report());
    assert!(html.contains("<span class=\"badge\" id=\"verdict\">FAIL</span>"));
    assert!(html.contains(
        "<div class=\"kpi\" id=\"kpi-match-rate\"><span class=\"kpi-value\">50.0%</span>"
    ));
    assert!(html.contains("3 of 6 alerts fired by the old system were also fired by the new one"));
    assert!(html.contains(
        "Missing alerts (fired by the old system only) <span class=\"count\">(3)</span>"
    ));
    assert_eq!(count(&html, "<tr class=\"missing\">"), 3);
    assert_eq!(count(&html, "<tr class=\"extra\">"), 1);
    assert!(html.contains("<tr class=\"extra\"><td class=\"name\">InstanceDown</td>"));

    // (a) one matched share per alertname with matches, one missing share
    // per alertname with losses; rates as text, worst first.
    let a = svg(&html, "match-rate");
    assert_eq!(count(a, "class=\"bar bar-matched\""), 3);
    assert_eq!(count(a, "class=\"bar bar-missing\""), 3);
    let rates: Vec<&str> = a
        .split("<text class=\"rate\"")
        .skip(1)
        .map(|t| &t[t.find('>').unwrap() + 1..t.find("</text>").unwrap()])
        .collect();
    assert_eq!(
        rates,
        [
            "0.0% (0 of 1)",
            "0.0% (0 of 1)",
            "50.0% (1 of 2)",
            "100.0% (1 of 1)",
            "100.0% (1 of 1)",
            "n/a: new only +1 extra"
        ]
    );
    let first_row = a.find(">DiskAlmostFull</text>").unwrap();
    let last_row = a.find(">InstanceDown</text>").unwrap();
    assert!(
        first_row < a.find(">Watchdog</text>").unwrap()
            && a.find(">Watchdog</text>").unwrap() < last_row
    );

    // (b) delays 0.48 and 0.5 fall in ≤0.5, 1.5 in 1–2.
    let b = svg(&html, "delay");
    assert_eq!(count(b, "class=\"bar hist-bar\""), 2);
    assert!(b.contains("<title>≤0.5 s: 2 pair(s)</title>"));
    assert!(b.contains("<title>1–2 s: 1 pair(s)</title>"));

    // (c) one mark per episode, shaped by outcome, with words per row.
    let c = svg(&html, "timeline");
    assert_eq!(count(c, "class=\"mark mark-matched\""), 3);
    assert_eq!(count(c, "class=\"mark mark-missing\""), 3);
    assert_eq!(count(c, "class=\"mark mark-extra\""), 1);
    assert!(c.contains(">1 matched, 1 missing</text>"));
    assert!(c.contains(">matched (both fired)</text>"));
    assert!(c.contains(">missing (old only)</text>"));
    assert!(c.contains(">extra (new only)</text>"));
    assert!(
        c.contains(">09:00</text>") && c.contains(">10:30</text>"),
        "{c}"
    );
    assert!(c.contains("ServiceDown{job=&quot;checkout&quot;,service=&quot;checkout&quot;,severity=&quot;critical&quot;}\nmissing: started 2026-11-20 10:40:00Z, still firing"));
    for chart in [a, b, c] {
        assert!(!chart.contains("NaN") && !chart.contains("inf"), "{chart}");
    }
}

#[test]
fn html_escapes_untrusted_labels() {
    let html = render_html(&hostile_report());
    assert_well_formed_and_inert(&html);
    assert!(!html.contains("<script"));
    assert!(!html.contains("<img"));
    assert!(html.contains(
        "Evil&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;&lt;img src=x onerror=&quot;document.title=&#39;pwned&#39;&quot;&gt;|`x`*_[a](https://evil.example/)&amp;amp;"
    ));
    // The hostile label name and value show up escaped in the tables.
    assert!(html.contains("<code class=\"label\">&lt;script&gt;document.title="));
    assert!(html.contains("<code class=\"label\">service=&quot;&lt;script&gt;"));
    // ... and in the chart labels and tooltips, truncated but escaped.
    let a = svg(&html, "match-rate");
    assert!(
        a.contains(">Evil&lt;script&gt;document.title=&#39;pwned…</text>"),
        "{a}"
    );
    assert!(svg(&html, "timeline").contains("<title>Other{&lt;script&gt;"));
}

#[test]
fn html_charts_say_no_data_for_an_empty_comparison() {
    let html = render_html(&compare(&[], &[], &CompareOptions::default()));
    assert_well_formed_and_inert(&html);
    assert!(html.contains("<span class=\"badge\" id=\"verdict\">NO DATA</span>"));
    assert!(svg(&html, "match-rate").contains(">no data: neither system fired any alert</text>"));
    assert!(svg(&html, "delay").contains(">no data: no matched pairs</text>"));
    assert!(svg(&html, "timeline").contains(">no data: no episodes</text>"));
    assert_eq!(count(&html, "class=\"bar"), 0);
    assert_eq!(count(&html, "class=\"mark"), 0);
    assert!(html.contains("The old system fired no alert, so there is no match rate."));
}

#[test]
fn html_one_sided_and_single_instant_reports_draw_sane_charts() {
    // Old only, every episode at the same instant: the time axis must not
    // collapse to zero width.
    let old = vec![alert("A", &[], T0), alert("B", &[], T0)];
    let html = render_html(&compare(&old, &[], &CompareOptions::default()));
    assert_well_formed_and_inert(&html);
    assert!(html.contains("<span class=\"badge\" id=\"verdict\">NO DATA</span>"));
    assert_eq!(
        count(svg(&html, "match-rate"), "class=\"bar bar-missing\""),
        2
    );
    assert!(svg(&html, "delay").contains(">no data: no matched pairs</text>"));
    let c = svg(&html, "timeline");
    assert_eq!(count(c, "class=\"mark mark-missing\""), 2);
    assert!(!c.contains("NaN") && !c.contains("inf"));
    // The single instant sits in the middle of a one-minute axis.
    assert!(
        c.contains(">08:59:30</text>") || c.contains(">09:00:00</text>"),
        "{c}"
    );

    // New only, with a negative delay elsewhere: the histogram puts it first.
    let old = vec![alert("A", &[], T0 + 10_000)];
    let new = vec![alert("A", &[], T0), alert("C", &[], T0 + 86_400_000 * 3)];
    let r = compare(&old, &new, &CompareOptions::default());
    let html = render_html(&r);
    assert_well_formed_and_inert(&html);
    assert!(svg(&html, "delay").contains("<title>≤0.5 s: 1 pair(s)</title>"));
    assert!(html.contains("1 pair(s) fired earlier in the new system"));
    // Three days: the axis labels carry dates.
    assert!(
        svg(&html, "timeline").contains(">11-21</text>"),
        "{}",
        svg(&html, "timeline")
    );
}

#[test]
fn html_caps_long_tables_and_chart_rows() {
    let n = HTML_LIST_MAX + 7;
    let old: Vec<Alert> = (0..n)
        .map(|i| {
            alert(
                &format!("Rule{:03}", i % (CHART_ROWS_MAX + 5)),
                &[("n", &i.to_string())],
                T0 + i as i64 * 1_000,
            )
        })
        .collect();
    let new = vec![alert("Rule000", &[("n", "0")], T0)];
    let html = render_html(&compare(&old, &new, &CompareOptions::default()));
    assert_well_formed_and_inert(&html);
    assert_eq!(count(&html, "<tr class=\"missing\">"), HTML_LIST_MAX);
    assert!(html.contains("... and 6 more (the JSON report lists them all)"));
    let a = svg(&html, "match-rate");
    assert_eq!(count(a, "<text class=\"rate\""), CHART_ROWS_MAX);
    assert!(html.contains("5 more alertnames not drawn (see the breakdown table)."));
    let c = svg(&html, "timeline");
    assert_eq!(count(c, "<text class=\"row-label\""), CHART_ROWS_MAX);
    let drawn: usize = mark_episode_counts(c).iter().sum();
    assert!(drawn < n && drawn > n / 2, "{drawn}");
    assert!(html.contains(&format!(
        "5 more alertnames ({} episodes) not drawn",
        n - drawn
    )));
}

/// How many episodes each timeline mark stands for (from its tooltip).
fn mark_episode_counts(timeline: &str) -> Vec<usize> {
    timeline
        .split("class=\"mark mark-")
        .skip(1)
        .map(|m| {
            let t = &m[m.find("<title>").unwrap() + "<title>".len()..];
            let words: Vec<&str> = t.split(' ').take(3).collect();
            match (words[0].parse::<usize>(), words.get(2)) {
                (Ok(k), Some(&"episodes")) => k,
                _ => 1,
            }
        })
        .collect()
}

#[test]
fn html_timeline_groups_dense_episodes() {
    // 300 episodes of one rule within 5 minutes of a one-hour axis.
    let mut old: Vec<Alert> = (0..300)
        .map(|i| alert("Burst", &[("n", &i.to_string())], T0 + i * 1_000))
        .collect();
    old.push(alert("Late", &[], T0 + 3_600_000));
    let html = render_html(&compare(&old, &[], &CompareOptions::default()));
    assert_well_formed_and_inert(&html);
    let c = svg(&html, "timeline");
    let counts = mark_episode_counts(c);
    assert_eq!(counts.iter().sum::<usize>(), 301);
    assert!(
        counts.len() <= 12,
        "{} marks for a 5-minute burst",
        counts.len()
    );
    assert!(c.contains(">1 missing</text>") && c.contains(">300 missing</text>"));
    assert!(c.contains(" missing episodes of Burst starting 2026-11-20 09:00:00Z to "));
}

#[test]
fn html_timeline_mark_of_equal_starts_shows_the_smallest_key() {
    // Listed out of key order: the mark names the first in (start, key) order.
    let old = vec![
        alert("Same", &[("n", "2")], T0),
        alert("Same", &[("n", "1")], T0),
        alert("Same", &[("n", "3")], T0),
    ];
    let html = render_html(&compare(&old, &[], &CompareOptions::default()));
    let c = svg(&html, "timeline");
    assert!(
        c.contains(
            "<title>3 missing episodes of Same starting 2026-11-20 09:00:00Z to \
             2026-11-20 09:00:00Z, e.g. Same{n=&quot;1&quot;}; last still firing</title>"
        ),
        "{c}"
    );
}

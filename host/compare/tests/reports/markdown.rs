//! Markdown report: content of the reference scenario, escaping, caps.

use super::*;
use cutover_compare::render::markdown::MD_LIST_MAX;
use cutover_compare::{NoiseFloor, render_markdown, render_text};

/// The lines of the section `## {title}...` up to the next `## ` heading.
fn section<'a>(md: &'a str, title: &str) -> Vec<&'a str> {
    let mut lines = md
        .lines()
        .skip_while(|l| !l.starts_with(&format!("## {title}")));
    assert!(lines.next().is_some(), "no section {title:?} in\n{md}");
    lines.take_while(|l| !l.starts_with("## ")).collect()
}

/// Data rows of the first table in `lines` (after the header and the
/// delimiter row).
fn table_rows<'a>(lines: &[&'a str]) -> Vec<&'a str> {
    lines
        .iter()
        .copied()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .collect()
}

/// Cells of a table row, split on unescaped `|` as GitHub does (also
/// inside code spans).
fn cells(row: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = row.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let next = chars.next().unwrap_or('\\');
                out.last_mut().unwrap().extend(['\\', next]);
            }
            '|' => out.push(String::new()),
            c => out.last_mut().unwrap().push(c),
        }
    }
    // Leading and trailing pipes delimit the row.
    out.remove(0);
    out.pop();
    out.into_iter().map(|c| c.trim().to_string()).collect()
}

/// Every table in `md` has as many cells in each row as in its header.
fn assert_tables_are_rectangular(md: &str) {
    let mut width: Option<usize> = None;
    for line in md.lines() {
        if line.starts_with('|') {
            let n = cells(line).len();
            match width {
                None => width = Some(n),
                Some(w) => assert_eq!(n, w, "row with {n} cells in a {w}-column table: {line}"),
            }
        } else {
            width = None;
        }
    }
}

/// `md` without its code spans (whose content is shown literally).
fn without_code_spans(md: &str) -> String {
    let mut out = String::new();
    let b: Vec<char> = md.chars().collect();
    let mut i = 0;
    while i < b.len() {
        if b[i] == '\\' && i + 1 < b.len() {
            out.push(b[i]);
            out.push(b[i + 1]);
            i += 2;
            continue;
        }
        if b[i] == '`' {
            let run = b[i..].iter().take_while(|&&c| c == '`').count();
            let fence: String = "`".repeat(run);
            let rest: String = b[i + run..].iter().collect();
            // Closing fence: the same run length, not part of a longer run.
            let mut search = 0;
            let mut end = None;
            while let Some(pos) = rest[search..].find(&fence) {
                let at = search + pos;
                let before = at > 0 && rest[..at].ends_with('`');
                let after = rest[at + fence.len()..].starts_with('`');
                if !before && !after {
                    end = Some(at);
                    break;
                }
                search = at + fence.len();
            }
            match end {
                Some(at) => {
                    out.push_str("CODE");
                    i += run + rest[..at + fence.len()].chars().count();
                    continue;
                }
                None => {
                    out.push_str(&fence);
                    i += run;
                    continue;
                }
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

#[test]
fn markdown_of_the_reference_scenario() {
    let md = render_markdown(&reference_report());
    assert!(md.starts_with("# Alert comparison: FAIL\n"), "{md}");
    assert!(md.contains("**FAIL** (risk **high**): do not proceed"));
    assert!(md.contains(
        "Match rate **50.0%**: 3 of 6 alerts fired by the old system were also fired by the new one."
    ));
    assert!(md.contains("Episodes from 2026-11-20 09:00:00Z to 2026-11-20 10:40:00Z (UTC)."));
    for row in [
        "| Fired by the old system | 6 |",
        "| Fired by the new system | 4 |",
        "| Matched (both) | 3 |",
        "| Missing (old only) | 3 |",
        "| Extra (new only) | 1 |",
        "| Match rate | 50.0% |",
    ] {
        assert!(md.contains(row), "no {row:?} in\n{md}");
    }
    assert!(!md.contains("Noise floor"));

    let recs = section(&md, "Recommendations");
    assert!(recs.contains(
        &"1. Match rate 50.0% is below 80.0%: review rule translations before proceeding"
    ));
    assert!(
        recs.iter()
            .any(|l| l.starts_with("4. ") && l.contains("--rename ServiceDown=InstanceDown")),
        "{recs:?}"
    );

    // Delays 0.48s, 0.5s and 1.5s.
    let delay = section(&md, "Delay");
    assert_eq!(
        table_rows(&delay),
        vec!["| 3 | 0.48s | 0.5s | 1.4s | 0.827s | 1.5s |"]
    );
    let hist: Vec<&str> = delay
        .iter()
        .copied()
        .skip_while(|l| !l.starts_with("| Delay (seconds)"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert_eq!(hist.len(), 10, "{hist:?}");
    assert_eq!(hist[0], "| ≤0.5 | 2 | 2 |");
    assert_eq!(hist[1], "| 0.5–1 | 0 | 2 |");
    assert_eq!(hist[2], "| 1–2 | 1 | 3 |");
    assert_eq!(hist[9], "| >300 | 0 | 3 |");

    let missing = table_rows(&section(&md, "Missing alerts"));
    assert_eq!(
        missing,
        vec![
            "| 2026-11-20 09:25:10Z | still firing | `HighQueueDepth{job=\"rabbitmq\",queue=\"orders\",service=\"orders\",severity=\"warning\"}` |",
            "| 2026-11-20 10:05:00Z | 2026-11-20 10:35:00Z | `DiskAlmostFull{device=\"/dev/sdb1\",job=\"node\",mountpoint=\"/var\",service=\"db\",severity=\"warning\"}` |",
            "| 2026-11-20 10:40:00Z | still firing | `ServiceDown{job=\"checkout\",service=\"checkout\",severity=\"critical\"}` |",
        ]
    );
    let extra = table_rows(&section(&md, "Extra alerts"));
    assert_eq!(extra.len(), 1);
    assert!(extra[0].contains("`InstanceDown{job=\"checkout\""));

    // Worst first: 0% rates, then 50%, then 100%, then the new-only group.
    let names: Vec<String> = table_rows(&section(&md, "By alertname"))
        .iter()
        .map(|r| cells(r)[0].trim_matches('`').to_string())
        .collect();
    assert_eq!(
        names,
        [
            "DiskAlmostFull",
            "ServiceDown",
            "HighQueueDepth",
            "ErrorRateHigh",
            "Watchdog",
            "InstanceDown"
        ]
    );
    let hqd = table_rows(&section(&md, "By alertname"))[2];
    assert_eq!(hqd, "| `HighQueueDepth` | 2 | 1 | 1 | 1 | 0 | 50.0% |");
    let by_service = table_rows(&section(&md, "By service"));
    assert_eq!(by_service[0], "| `checkout` | 1 | 1 | 0 | 1 | 1 | 0.0% |");
    assert!(
        table_rows(&section(&md, "By severity"))
            .contains(&"| `critical` | 2 | 2 | 1 | 1 | 1 | 50.0% |")
    );

    let inputs = table_rows(&section(&md, "Inputs"));
    assert_eq!(
        inputs[0],
        "| old | `old_alertmanager.json` | alertmanager-v2 | 6 | 0 |"
    );
    let options = section(&md, "Options");
    assert!(options.contains(&"- Tolerance: 60s"));
    assert!(options.contains(&"- Ignored labels: `instance`"));
    assert!(
        md.trim_end()
            .ends_with("Report schema: `cutover.compare.report/v2`")
    );
    assert_tables_are_rectangular(&md);
    // The text rendering is unchanged by the new formats.
    assert!(render_text(&reference_report()).starts_with("Verdict: FAIL (risk high)"));
}

#[test]
fn markdown_shows_the_noise_floor() {
    let old = parse_file(&fixture("reference/old_alertmanager.json"), None).unwrap();
    let second = parse_file(&fixture("reference/old_second_read.json"), None).unwrap();
    let opts = CompareOptions {
        ignore_labels: vec!["instance".into()],
        ..CompareOptions::default()
    };
    let noise = NoiseFloor::measure(&old.alerts, &second.alerts, &opts);
    let r = reference_report().with_noise_floor(noise.clone());
    let md = render_markdown(&r);
    let rate = noise
        .match_rate
        .map(|v| format!("{:.1}%", v * 100.0))
        .unwrap();
    assert!(md.contains(&format!(
        "| Noise floor (old vs a second read of old) | {rate} ({} missing, {} extra) |",
        noise.missing, noise.extra
    )));
    let sec = section(&md, "Noise floor");
    assert!(sec.iter().any(|l| l.starts_with(&format!(
        "Comparing the old system with a second read of itself: match rate {rate}"
    ))));
}

#[test]
fn markdown_escapes_untrusted_labels() {
    let md = render_markdown(&hostile_report());
    assert_tables_are_rectangular(&md);
    let prose = without_code_spans(&md);
    // Outside code spans no raw HTML, no link syntax, no emphasis.
    assert!(!prose.contains('<'), "raw '<' outside code spans:\n{prose}");
    assert!(!prose.contains("[a]("), "{prose}");
    assert!(!prose.contains("*_"), "{prose}");
    assert!(prose.contains("Evil&lt;script&gt;document.title='pwned'&lt;/script&gt;"));
    assert!(prose.contains("\\[a\\](https://evil.example/)&amp;amp;"));
    // Inside tables the name stays literal in a code span, its pipe escaped.
    let rows = table_rows(&section(&md, "By alertname"));
    assert_eq!(
        cells(rows[0])[0],
        "``Evil<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">\\|`x`*_[a](https://evil.example/)&amp;``"
    );
    assert!(!md.lines().any(|l| l.starts_with("<script")));
}

#[test]
fn markdown_caps_long_lists() {
    let old: Vec<Alert> = (0..MD_LIST_MAX + 20)
        .map(|i| alert("Lost", &[("n", &i.to_string())], T0 + i as i64 * 1_000))
        .collect();
    let new = vec![alert("Other", &[], T0)];
    let md = render_markdown(&compare(&old, &new, &CompareOptions::default()));
    let missing = section(&md, "Missing alerts");
    assert_eq!(table_rows(&missing).len(), MD_LIST_MAX);
    assert!(missing.contains(&"... and 20 more (the JSON report lists them all)"));
    assert!(table_rows(&missing)[0].contains("`Lost{n=\"0\"}`"));
    let extra = section(&md, "Extra alerts");
    assert_eq!(table_rows(&extra).len(), 1);
    assert!(!extra.iter().any(|l| l.contains("more")));
}

#[test]
fn markdown_of_an_empty_comparison() {
    let md = render_markdown(&compare(&[], &[], &CompareOptions::default()));
    assert!(md.starts_with("# Alert comparison: NO DATA\n"), "{md}");
    assert!(md.contains("Match rate **n/a**: the old system fired no alert"));
    assert!(md.contains("No matched pairs: no delay data."));
    assert_eq!(section(&md, "Missing alerts"), vec!["", "None.", ""]);
    assert!(section(&md, "By alertname").contains(&"No alerts."));
    assert!(!md.contains("Episodes from"));
    assert_tables_are_rectangular(&md);
}

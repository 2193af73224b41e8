//! The HTML report in a real browser: Debian's `chromium`, headless, with
//! every network request sent to a dead proxy. A probe script injected into
//! a copy of the page writes what a reader sees into the DOM, which
//! `--dump-dom` prints.
//!
//! Chromium is installed by `tests/chromium/ensure.sh` when missing; when it
//! cannot be installed the test fails (it is never skipped).

use super::*;
use cutover_compare::render::html::CSP;
use cutover_compare::render_html;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Longest a single chromium run may take (a cold start is 1-6 s).
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(120);

/// Path of Debian's chromium (installed by scripts/system-deps.sh; tests never
/// install anything).
fn chromium() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let bin = PathBuf::from("/usr/bin/chromium");
        assert!(
            bin.is_file(),
            "Debian's chromium is required for the HTML report test and {} is missing: \
             run scripts/system-deps.sh (or scripts/setup.sh) first",
            bin.display()
        );
        bin
    })
}

fn run_chromium(page: &Path, extra: &[String]) -> String {
    let work = tempfile::tempdir().unwrap();
    let profile = work.path().join("profile");
    let (out_path, err_path) = (work.path().join("stdout"), work.path().join("stderr"));
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--proxy-server=127.0.0.1:9",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromium().display()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > CHROMIUM_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "chromium did not finish within {CHROMIUM_TIMEOUT:?}; stderr:\n{}",
                std::fs::read_to_string(&err_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    assert!(
        status.success(),
        "chromium exited with {status}; stderr:\n{stderr}"
    );
    std::fs::read_to_string(&out_path).unwrap()
}

/// Collects load errors from the first moment on (placed first in <head>).
const EARLY_PROBE: &str = r#"<script>
window.__probeErrors = [];
window.addEventListener('error', function (e) {
  var t = e.target;
  window.__probeErrors.push((t && (t.src || t.href)) || String(e.message));
}, true);
</script>"#;

/// Writes what a reader sees as JSON into <pre id="cutover-probe"> once the
/// page has loaded. Non-ASCII and markup characters are \u-escaped so the
/// DOM dump carries the JSON verbatim.
const PROBE: &str = r#"<script>
window.addEventListener('load', function () {
  function boxes(sel) {
    return Array.prototype.map.call(document.querySelectorAll(sel), function (e) {
      var r = e.getBoundingClientRect();
      var t = e.querySelector('title');
      return { cls: e.getAttribute('class'), title: t ? t.textContent : '',
               x: r.left, y: r.top, w: r.width, h: r.height, right: r.right };
    });
  }
  var text = document.body.innerText;
  var probe = {
    text: text,
    title: document.title,
    viewport: { w: window.innerWidth, h: window.innerHeight,
                scroll_w: document.documentElement.scrollWidth },
    charts: boxes('svg.chart'),
    match_rate_bars: boxes('#chart-match-rate .bar'),
    delay_bars: boxes('#chart-delay .bar'),
    timeline_marks: boxes('#chart-timeline .mark'),
    resources: performance.getEntriesByType('resource').map(function (e) { return e.name; }),
    load_ms: performance.now(),
    errors: window.__probeErrors
  };
  var json = JSON.stringify(probe).replace(/[^\x20-\x7e]|[<>&]/g, function (c) {
    return '\\u' + ('000' + c.charCodeAt(0).toString(16)).slice(-4);
  });
  var pre = document.createElement('pre');
  pre.id = 'cutover-probe';
  pre.textContent = json;
  document.body.appendChild(pre);
});
</script>"#;

/// Load `html` (with the probe injected, the CSP removed so that the probe
/// may run and nothing but the page itself stops a resource load) and
/// return what the probe saw.
pub(super) fn what_a_reader_sees(html: &str, dir: &Path, name: &str) -> Value {
    let csp = format!("<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n");
    assert_eq!(html.matches(&csp).count(), 1, "page without its CSP meta");
    assert_eq!(html.matches("<head>").count(), 1);
    assert_eq!(html.matches("</body>").count(), 1);
    let probed = html
        .replace(&csp, "")
        .replace("<head>", &format!("<head>\n{EARLY_PROBE}"))
        .replace("</body>", &format!("{PROBE}\n</body>"));
    let page = dir.join(name);
    std::fs::write(&page, probed).unwrap();
    let dom = run_chromium(
        &page,
        &[
            "--window-size=1200,900".to_string(),
            "--dump-dom".to_string(),
        ],
    );
    let start = dom
        .find("<pre id=\"cutover-probe\">")
        .unwrap_or_else(|| panic!("the probe did not run; DOM dump:\n{dom}"))
        + "<pre id=\"cutover-probe\">".len();
    let end = start + dom[start..].find("</pre>").unwrap();
    serde_json::from_str(&dom[start..end])
        .unwrap_or_else(|e| panic!("probe output is not JSON ({e}): {}", &dom[start..end]))
}

fn f(v: &Value, k: &str) -> f64 {
    v[k].as_f64()
        .unwrap_or_else(|| panic!("no number {k} in {v}"))
}

/// Every box is drawn (non-zero size) and lies within the viewport width.
fn assert_visible(what: &str, boxes: &Value, viewport_w: f64) {
    let list = boxes.as_array().unwrap();
    assert!(!list.is_empty(), "no {what}");
    for b in list {
        assert!(
            f(b, "w") > 0.5 && f(b, "h") > 0.5,
            "{what} not visible: {b}"
        );
        assert!(
            f(b, "x") >= 0.0 && f(b, "right") <= viewport_w,
            "{what} outside the viewport (width {viewport_w}): {b}"
        );
    }
}

/// The box whose tooltip starts with `prefix` and whose class contains `cls`.
fn find<'a>(boxes: &'a Value, cls: &str, prefix: &str) -> &'a Value {
    boxes
        .as_array()
        .unwrap()
        .iter()
        .find(|b| {
            b["cls"].as_str().unwrap_or("").contains(cls)
                && b["title"].as_str().unwrap_or("").starts_with(prefix)
        })
        .unwrap_or_else(|| panic!("no {cls} mark titled {prefix:?} in {boxes}"))
}

/// The reader's text between two headings.
fn between<'a>(text: &'a str, from: &str, to: &str) -> &'a str {
    let s = text
        .find(from)
        .unwrap_or_else(|| panic!("no {from:?} in page text:\n{text}"));
    let e = s + text[s..]
        .find(to)
        .unwrap_or_else(|| panic!("no {to:?} after {from:?}"));
    &text[s..e]
}

#[test]
fn chromium_shows_the_reference_report() {
    let dir = tempfile::tempdir().unwrap();
    let html = render_html(&reference_report());
    let seen = what_a_reader_sees(&html, dir.path(), "probe.html");
    let text = seen["text"].as_str().unwrap();
    let vw = f(&seen["viewport"], "w");

    // Headline: verdict, risk, match rate, totals.
    assert!(text.contains("\nFAIL risk high: do not proceed"), "{text}");
    assert!(text.contains("50.0% match rate"), "{text}");
    assert!(text.contains("3 of 6 alerts fired by the old system were also fired by the new one"));
    assert_eq!(seen["title"], "Alert comparison: FAIL, 50.0% matched");
    // Missing and extra alert names are on the page, in their sections.
    let missing = between(
        text,
        "Missing alerts (fired by the old system only) (3)",
        "Extra alerts",
    );
    for name in [
        "DiskAlmostFull",
        "ServiceDown",
        "HighQueueDepth",
        "queue=\"orders\"",
    ] {
        assert!(
            missing.contains(name),
            "{name} not in the missing section:\n{missing}"
        );
    }
    assert!(!missing.contains("Watchdog"));
    let extra = between(
        text,
        "Extra alerts (fired by the new system only) (1)",
        "Matched pairs",
    );
    assert!(extra.contains("InstanceDown"), "{extra}");
    assert!(text.contains("--rename ServiceDown=InstanceDown"));

    // Three charts, laid out within the page.
    assert_eq!(seen["charts"].as_array().unwrap().len(), 3);
    assert_visible("chart", &seen["charts"], vw);
    assert!(
        f(&seen["viewport"], "scroll_w") <= vw,
        "page scrolls sideways: {}",
        seen["viewport"]
    );

    // (a) 3 matched + 3 missing shares; a full bar is twice a half bar.
    let bars = &seen["match_rate_bars"];
    assert_eq!(bars.as_array().unwrap().len(), 6, "{bars}");
    assert_visible("match-rate bar", bars, vw);
    let full = f(find(bars, "bar-matched", "Watchdog:"), "w");
    let lost = f(find(bars, "bar-missing", "DiskAlmostFull:"), "w");
    let half_ok = f(find(bars, "bar-matched", "HighQueueDepth:"), "w");
    let half_lost = f(find(bars, "bar-missing", "HighQueueDepth:"), "w");
    assert!((full - lost).abs() < 1.0, "{full} vs {lost}");
    assert!((half_ok * 2.0 - full).abs() < 1.5 && (half_lost - half_ok).abs() < 1.0);
    assert!(full > 200.0, "bars too small to read: {full}px");

    // (b) 2 pairs at ≤0.5s, 1 pair at 1–2s: heights 2:1, same baseline.
    let hist = &seen["delay_bars"];
    assert_eq!(hist.as_array().unwrap().len(), 2, "{hist}");
    assert_visible("histogram bar", hist, vw);
    let two = find(hist, "hist-bar", "≤0.5 s");
    let one = find(hist, "hist-bar", "1–2 s");
    assert!((f(two, "h") - 2.0 * f(one, "h")).abs() < 1.5, "{two} {one}");
    assert!((f(two, "y") + f(two, "h") - f(one, "y") - f(one, "h")).abs() < 1.0);
    assert!(f(two, "x") < f(one, "x"));

    // (c) 7 episodes; time runs left to right, one row per alertname.
    let marks = &seen["timeline_marks"];
    assert_eq!(marks.as_array().unwrap().len(), 7, "{marks}");
    assert_visible("timeline mark", marks, vw);
    let watchdog = find(marks, "mark-matched", "Watchdog");
    let disk = find(marks, "mark-missing", "DiskAlmostFull{");
    let down = find(marks, "mark-missing", "ServiceDown{");
    let instance = find(marks, "mark-extra", "InstanceDown{");
    assert!(f(watchdog, "x") < f(disk, "x") && f(disk, "x") < f(down, "x"));
    assert!(
        (f(down, "x") - f(instance, "x")).abs() < 3.0,
        "same start, same x"
    );
    assert!(f(disk, "y") < f(down, "y") + 1.0 && f(down, "y") < f(instance, "y"));

    // Nothing was fetched, nothing failed to load.
    assert_eq!(
        seen["resources"],
        Value::Array(vec![]),
        "resources were requested"
    );
    assert_eq!(seen["errors"], Value::Array(vec![]), "load errors");

    // The untouched page (CSP on) renders to a non-trivial screenshot.
    let page = dir.path().join("report.html");
    std::fs::write(&page, &html).unwrap();
    let shot = dir.path().join("report.png");
    run_chromium(
        &page,
        &[
            "--window-size=1200,2400".to_string(),
            format!("--screenshot={}", shot.display()),
        ],
    );
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("no screenshot: {e}"));
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((width, height), (1200, 2400));
    assert!(
        png.len() > 40_000,
        "screenshot of {} bytes looks blank",
        png.len()
    );
}

#[test]
fn chromium_shows_hostile_labels_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let seen = what_a_reader_sees(&render_html(&hostile_report()), dir.path(), "hostile.html");
    let text = seen["text"].as_str().unwrap();
    // No markup from the labels ran: the title is the page's own, nothing
    // was loaded, and the reader sees the label text literally.
    assert_eq!(seen["title"], "Alert comparison: FAIL, 33.3% matched");
    assert_eq!(seen["resources"], Value::Array(vec![]));
    assert_eq!(seen["errors"], Value::Array(vec![]));
    assert!(text.contains(&format!("Evil{HOSTILE}")), "{text}");
    assert!(text.contains(&format!("service=\"{HOSTILE}\"")), "{text}");
    let vw = f(&seen["viewport"], "w");
    assert_visible("match-rate bar", &seen["match_rate_bars"], vw);
    assert_eq!(seen["timeline_marks"].as_array().unwrap().len(), 4);
}

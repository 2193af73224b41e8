//! A large report (350,000 alerts, a size a debug build compares in
//! seconds): the HTML page stays well under 5 MB, its size bounded by the
//! row caps rather than the alert count, its lists cut by "... and N more"
//! lines, and it loads in Chromium within 2 s. (A million alerts give a
//! page of the same size; see docs/report.md.)

use super::chromium::what_a_reader_sees;
use crate::run_request;
use cutover_compare::render::html::HTML_LIST_MAX;
use cutover_compare::{CompareRequest, OutputFormat, Verdict};
use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// Old alerts matched by a new one (2 s later).
const MATCHED: usize = 150_000;
/// Old alerts the new system did not fire.
const MISSING: usize = 25_000;
/// New alerts the old system did not fire.
const EXTRA: usize = 25_000;

/// One Alertmanager v2 alert as `/api/v2/alerts` lists it.
fn alert(out: &mut impl Write, first: bool, name: usize, instance: &str, start_ms: i64) {
    let t = jiff::Timestamp::from_millisecond(start_ms).unwrap();
    write!(
        out,
        "{}{{\"labels\":{{\"alertname\":\"Alert{name:02}\",\"instance\":\"{instance}\",\
         \"job\":\"node\",\"severity\":\"{sev}\",\"service\":\"svc-{svc}\"}},\
         \"annotations\":{{\"summary\":\"{instance} is unhappy\"}},\
         \"startsAt\":\"{t}\",\"status\":{{\"state\":\"active\"}}}}",
        if first { "[" } else { "," },
        sev = ["critical", "warning", "info"][name % 3],
        svc = name % 7,
    )
    .unwrap();
}

/// Old and new dumps: `MATCHED` pairs, `MISSING` old-only and `EXTRA`
/// new-only alerts over 50 alertnames and a day.
fn write_dumps(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (old_path, new_path) = (dir.join("old.json"), dir.join("new.json"));
    let file = |p: &Path| std::io::BufWriter::new(std::fs::File::create(p).unwrap());
    let (mut old, mut new) = (file(&old_path), file(&new_path));
    let start = |i: usize| crate::T0 + (i as i64 % 86_400) * 1000;
    for i in 0..MATCHED + MISSING {
        let instance = format!("host-{i}");
        alert(&mut old, i == 0, i % 50, &instance, start(i));
        if i < MATCHED {
            alert(&mut new, i == 0, i % 50, &instance, start(i) + 2000);
        }
    }
    for i in 0..EXTRA {
        alert(&mut new, false, i % 50, &format!("extra-{i}"), start(i));
    }
    for mut f in [old, new] {
        f.write_all(b"]").unwrap();
        f.flush().unwrap();
    }
    (old_path, new_path)
}

#[test]
fn html_of_a_large_comparison_is_small_and_opens_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = write_dumps(dir.path());
    let mut req = CompareRequest::new(old, new);
    req.format = OutputFormat::Html;
    req.report_files = vec![(OutputFormat::Json, dir.path().join("report.json"))];
    let (verdict, html) = run_request(&req);
    assert_eq!(verdict, Verdict::Fail);

    assert!(
        html.len() < 5_000_000,
        "HTML report of {} alerts is {} bytes",
        2 * MATCHED + MISSING + EXTRA,
        html.len()
    );
    for (n, with) in [(MISSING, ""), (EXTRA, ""), (MATCHED, " with --matched")] {
        let more = format!(
            "... and {} more (the JSON report lists them all{with})",
            n - HTML_LIST_MAX
        );
        assert!(html.contains(&more), "no line {more:?}");
    }
    // The JSON report beside it has the full lists, the pairs summarised.
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(json["matched"], MATCHED);
    assert!(json["matched_alerts"].is_null());
    assert_eq!(json["missing_alerts"].as_array().unwrap().len(), MISSING);
    assert_eq!(json["extra_alerts"].as_array().unwrap().len(), EXTRA);

    let seen = what_a_reader_sees(&html, dir.path(), "large.html");
    let load = Duration::from_secs_f64(seen["load_ms"].as_f64().unwrap() / 1000.0);
    assert!(
        load < Duration::from_secs(2),
        "the page took {load:?} to load"
    );
    let text = seen["text"].as_str().unwrap();
    assert!(text.contains(&format!("and {} more", MISSING - HTML_LIST_MAX)));
    eprintln!("HTML report: {} bytes, loaded in {load:?}", html.len());
}

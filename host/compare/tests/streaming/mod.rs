//! The streaming comparison agrees with the in-memory reference: `run`
//! (compact data, alert lists walked, never held) prints in every format the
//! bytes of rendering the full report of `compare`, and streamed file
//! parsing gives the same alerts and errors as parsing the text.

use crate::{T0, fixture, run_request};
use cutover_compare::{
    CompareRequest, Format, InputInfo, Inputs, JsonLayout, NoiseFloor, OutputFormat, Report,
    compare, parse_file, parse_str,
};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[path = "../../benches/million/dataset.rs"]
#[allow(dead_code)]
mod dataset;

/// The report `cutover compare` built before it streamed: both dumps parsed
/// whole, compared in memory, inputs and noise floor attached.
fn in_memory(req: &CompareRequest) -> Report {
    let old = parse_file(&req.old, req.old_format).unwrap();
    let new = parse_file(&req.new, req.new_format).unwrap();
    let inputs = Inputs {
        old: InputInfo::new(&req.old.display().to_string(), &old),
        new: InputInfo::new(&req.new.display().to_string(), &new),
    };
    let mut report = compare(&old.alerts, &new.alerts, &req.options).with_inputs(inputs);
    if let Some(path) = &req.noise {
        let second = parse_file(path, req.old_format).unwrap();
        let noise = NoiseFloor::measure(&old.alerts, &second.alerts, &req.options);
        report = report.with_noise_floor(noise);
    }
    report
}

/// `run` prints, in every format, what rendering the in-memory report
/// gives, and writes the same into report files.
fn same_as_in_memory(mut req: CompareRequest, dir: &Path) {
    let report = in_memory(&req);
    let what = format!("{:?}", req.options);
    for format in OutputFormat::ALL {
        req.format = format;
        // Every JSON layout: compact or pretty, pairs summarised or listed.
        let layouts: &[JsonLayout] = match format {
            OutputFormat::Json => &[
                JsonLayout::default(),
                JsonLayout::PRETTY,
                JsonLayout::FULL,
                JsonLayout {
                    pretty: false,
                    matched: true,
                },
            ],
            _ => &[JsonLayout::default()],
        };
        for &layout in layouts {
            req.json = layout;
            let (verdict, streamed) = run_request(&req);
            assert_eq!(verdict, report.verdict);
            let held = format.render(&report, layout).unwrap();
            assert!(
                streamed == held,
                "streamed {format:?} ({layout:?}) differs from the full report for {what}"
            );
        }
    }
    req.json = JsonLayout::default();
    req.report_files = ["json", "md", "html"]
        .iter()
        .zip([OutputFormat::Json, OutputFormat::Md, OutputFormat::Html])
        .map(|(ext, f)| (f, dir.join(format!("report.{ext}"))))
        .collect();
    run_request(&req);
    for (format, path) in &req.report_files {
        let file = std::fs::read_to_string(path).unwrap();
        assert!(
            file == format.render(&report, JsonLayout::default()).unwrap(),
            "{format:?} file differs for {what}"
        );
    }
}

fn write_dump(dir: &Path, name: &str, plan: &dataset::Plan, side: dataset::Side) -> PathBuf {
    let path = dir.join(name);
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    dataset::write_dump(plan, side, &mut f).unwrap();
    std::io::Write::flush(&mut f).unwrap();
    path
}

/// A request edit, for the variants below.
type Edit = Box<dyn Fn(&mut CompareRequest)>;

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn streamed_reports_equal_the_full_report_on_generated_dumps() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dataset::Plan::scaled(3000, 42);
    let old = write_dump(dir.path(), "old.json", &plan, dataset::Side::Old);
    let new = write_dump(dir.path(), "new.json", &plan, dataset::Side::New);
    let other = dataset::Plan::scaled(2000, 43);
    let noise = write_dump(dir.path(), "noise.json", &other, dataset::Side::Old);
    let e = plan.expected();
    let (n1, n2) = (noise.clone(), old.clone());
    let variants: Vec<Edit> = vec![
        Box::new(|_| {}),
        Box::new(|r| r.options.ignore_labels = vec!["instance".into()]),
        Box::new(|r| {
            r.options.ignore_labels = vec!["instance".into(), "service".into()];
            r.options.breakdown_label = Some("job".into());
        }),
        Box::new(|r| {
            r.options.rename_alerts = pairs(&[("HighCPU", "CpuHigh"), ("DiskFull", "HighCPU")])
        }),
        Box::new(|r| r.options.rename_labels = pairs(&[("service", "svc"), ("job", "service")])),
        Box::new(|r| {
            r.options.rename_values = vec![
                ("severity".into(), "warning".into(), "warn".into()),
                ("severity".into(), "warn".into(), "w".into()),
            ]
        }),
        Box::new(move |r| {
            r.options.tolerance = Duration::from_secs(5);
            r.options.breakdown_label = Some("service".into());
            r.noise = Some(n1.clone());
        }),
        Box::new(move |r| {
            r.options.tolerance = Duration::ZERO;
            r.noise = Some(n2.clone());
            r.options.ignore_labels = vec!["alertname".into()];
        }),
        Box::new(|r| {
            r.options.tolerance = Duration::from_secs(1800);
            r.options.ignore_labels = vec!["instance".into()];
            r.options.thresholds.high_below = 0.5;
        }),
    ];
    for edit in &variants {
        let mut req = CompareRequest::new(&old, &new);
        edit(&mut req);
        same_as_in_memory(req, dir.path());
    }
    let (_, r) = crate::run_json(CompareRequest::new(&old, &new));
    let got = (
        r["total_old"].as_u64(),
        r["matched"].as_u64(),
        r["missing"].as_u64(),
        r["extra"].as_u64(),
    );
    let want = (
        Some(e.total_old),
        Some(e.matched),
        Some(e.missing),
        Some(e.extra),
    );
    assert_eq!(got, want);
}

/// An alert of [`am_dump`]: alertname, other labels, start and end (ms
/// after [`T0`]).
type DumpAlert = (Option<String>, Vec<(String, String)>, i64, Option<i64>);

/// An Alertmanager dump of some alerts.
fn am_dump(alerts: &[DumpAlert]) -> String {
    let time = |ms: i64| format!("\"{}\"", cutover_compare::timefmt::format_millis(T0 + ms));
    let items: Vec<String> = alerts
        .iter()
        .map(|(name, labels, start, end)| {
            let mut l = serde_json::Map::new();
            if let Some(n) = name {
                l.insert("alertname".into(), n.clone().into());
            }
            for (k, v) in labels {
                l.insert(k.clone(), v.clone().into());
            }
            format!(
                "{{\"labels\":{},\"startsAt\":{},\"endsAt\":{},\"updatedAt\":{},\
                 \"status\":{{\"state\":\"active\"}}}}",
                serde_json::Value::Object(l),
                time(*start),
                end.map_or_else(|| time(86_400_000 * 9), time),
                time(86_400_000 * 8)
            )
        })
        .collect();
    format!("[{}]", items.join(",\n"))
}

#[test]
fn streamed_reports_equal_the_full_report_past_every_cap() {
    // More alertnames than the charts draw, more missing alerts than the
    // tables list, alerts without a name, equal starts in one timeline
    // mark, and text that needs escaping in every format.
    let mut old = Vec::new();
    let mut new = Vec::new();
    for i in 0..700i64 {
        let name = match (i / 3) % 47 {
            0 => None,
            1 => Some("Odd \"name\" <b>|`x`*".to_string()),
            n => Some(format!("Rule{n:02}")),
        };
        let labels = vec![
            ("n".to_string(), (i % 350).to_string()),
            (
                "severity".to_string(),
                ["critical", "warning"][i as usize % 2].to_string(),
            ),
            ("svc".to_string(), format!("s{}\t\u{e9}", i % 7)),
        ];
        let start = (i / 3) * 20_000;
        let end = (i % 4 == 0).then_some(start + 600_000);
        if i % 5 != 0 {
            let mut shifted = labels.clone();
            if i % 11 == 0 {
                shifted[2].1.push('!');
            }
            new.push((name.clone(), shifted, start + (i % 9) * 1_000 - 3_000, end));
        }
        old.push((name, labels, start, end));
    }
    new.push((Some("NewOnly".into()), vec![], 5_000, None));
    let dir = tempfile::tempdir().unwrap();
    let (o, n) = (dir.path().join("old.json"), dir.path().join("new.json"));
    std::fs::write(&o, am_dump(&old)).unwrap();
    std::fs::write(&n, am_dump(&new)).unwrap();
    same_as_in_memory(CompareRequest::new(&o, &n), dir.path());
    let mut req = CompareRequest::new(&o, &n);
    req.options.breakdown_label = Some("svc".into());
    req.options.rename_labels = pairs(&[("svc", "service")]);
    same_as_in_memory(req, dir.path());
}

#[test]
fn streamed_reports_equal_the_full_report_on_fixtures() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (
        fixture("reference/old_alertmanager.json"),
        fixture("reference/new_alertmanager.json"),
    );
    let second = fixture("reference/old_second_read.json");
    let mut cases = vec![
        CompareRequest::new(&old, &new),
        CompareRequest::new(&old, &old),
    ];
    let mut req = CompareRequest::new(&old, &new);
    req.options.ignore_labels = vec!["instance".into()];
    req.options.breakdown_label = Some("service".into());
    cases.push(req);
    let mut req = CompareRequest::new(&old, &new);
    req.options.rename_alerts = pairs(&[("ServiceDown", "InstanceDown")]);
    req.noise = Some(second);
    cases.push(req);
    let mut req = CompareRequest::new(&new, &old);
    req.options.tolerance = Duration::from_secs(1);
    cases.push(req);
    for other in [
        "prometheus_v1.json",
        "webhook.jsonl",
        "cutover_export.json",
        "empty.json",
        "empty_array.json",
    ] {
        cases.push(CompareRequest::new(fixture(other), &new));
        cases.push(CompareRequest::new(&old, fixture(other)));
    }
    for req in cases {
        same_as_in_memory(req, dir.path());
    }
}

/// Parsing a file (streamed) and parsing its text (read whole) agree on the
/// result or the error, message and position included.
fn same_as_text(path: &Path, format: Option<Format>) {
    let origin = path.display().to_string();
    let streamed = parse_file(path, format).map_err(|e| e.to_string());
    let whole = match std::fs::read_to_string(path) {
        Ok(text) => parse_str(&text, &origin, format).map_err(|e| e.to_string()),
        Err(e) => Err(format!("{origin}: cannot read: {e}")),
    };
    assert_eq!(streamed, whole, "{origin} ({format:?})");
}

#[test]
fn streamed_files_parse_and_fail_like_text() {
    let dir = tempfile::tempdir().unwrap();
    let ok = r#"{"labels":{"alertname":"A"},"startsAt":"2026-11-20T10:00:00Z","status":{"state":"active"}}"#;
    let inputs: Vec<Vec<u8>> = vec![
        format!("[{ok}]").into(),
        format!("  \n[{ok},\n{ok}]\n").into(),
        format!("[{ok}").into(),
        format!("[{ok}] x").into(),
        format!("[{ok}]\n[]").into(),
        format!("[{ok}] {{}}").into(),
        format!("[{ok},]").into(),
        b"[]".to_vec(),
        b"[1, 2]".to_vec(),
        b"[{\"labels\":{}}]".to_vec(),
        format!("[{ok}, {{\"labels\":{{\"a\":1}}}}]").into(),
        format!("[{ok},\n  {{\"labels\":{{}},\"startsAt\":\"noon\",\"status\":{{\"state\":\"active\"}}}}]").into(),
        r#"[{"labels":{},"startsAt":0,"status":{"state":"gone"}}]"#.into(),
        r#"[{"labels":{},"startsAt":0,"status":{"state":"active"},"x":1e400}]"#.into(),
        r#"[{"labels":{"a":"\ud800"},"startsAt":0,"status":{"state":"active"}}]"#.into(),
        format!("[{{\"x\":{}0{}}}]", "[".repeat(300), "]".repeat(300)).into(),
        r#"[{"labels":{"alertname":"A"},"starts_at":"2026-11-20T10:00:00Z"}]"#.into(),
        r#"[{"labels":{"alertname":"A"},"starts_at":"2026-11-20T10:00:00Z"}] 1"#.into(),
        format!("\u{feff}[{ok}]").into(),
        format!("\u{a0}[{ok}]").into(),
        "\u{a0} \n".into(),
        b" \n\t".to_vec(),
        [b"[{\"labels\":{\"a\":\"".as_slice(), &[0xff, 0xfe], b"\"}}]"].concat(),
        [format!("[{ok}, ").as_bytes(), &[0xc3]].concat(),
        r#"{"status":"success","data":{"alerts":[]}}"#.into(),
    ];
    for (i, bytes) in inputs.iter().enumerate() {
        let path = dir.path().join(format!("in{i}.json"));
        std::fs::write(&path, bytes).unwrap();
        for format in [None, Some(Format::AlertmanagerV2)] {
            same_as_text(&path, format);
        }
    }
    for f in [
        "malformed.json",
        "reference/old_alertmanager.json",
        "webhook.jsonl",
    ] {
        same_as_text(&fixture(f), None);
    }
}

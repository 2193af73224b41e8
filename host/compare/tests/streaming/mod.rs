//! The streaming paths agree with the in-memory reference: `--json` (streamed
//! from compact data) prints the same bytes as rendering the full report, and
//! streamed file parsing gives the same alerts and errors as parsing the text.

use cutover_compare::cli::{Args, run};
use cutover_compare::{Format, parse_file, parse_str};
use std::path::{Path, PathBuf};

#[path = "../../benches/million/dataset.rs"]
#[allow(dead_code)]
mod dataset;

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

/// stdout of `compare ARGS`: streamed with `--json`, and through the full
/// report (asking for a report file too) for comparison.
fn both_ways(args: &[&str], dir: &Path) -> (String, String) {
    let go = |extra: &[&str]| {
        let mut argv = vec!["compare"];
        argv.extend_from_slice(args);
        argv.extend_from_slice(extra);
        let parsed = <Args as clap::Parser>::try_parse_from(argv).unwrap();
        let mut out = Vec::new();
        run(&parsed, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    let file = dir.join("report.json");
    let full = go(&["--json", "--report-json", file.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), full);
    (go(&["--json"]), full)
}

fn write_dump(dir: &Path, name: &str, plan: &dataset::Plan, side: dataset::Side) -> String {
    let path = dir.join(name);
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    dataset::write_dump(plan, side, &mut f).unwrap();
    std::io::Write::flush(&mut f).unwrap();
    path.display().to_string()
}

#[test]
fn streamed_json_equals_the_full_report_on_generated_dumps() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dataset::Plan::scaled(3000, 42);
    let old = write_dump(dir.path(), "old.json", &plan, dataset::Side::Old);
    let new = write_dump(dir.path(), "new.json", &plan, dataset::Side::New);
    let other = dataset::Plan::scaled(2000, 43);
    let noise = write_dump(dir.path(), "noise.json", &other, dataset::Side::Old);
    let e = plan.expected();
    let variants: Vec<Vec<&str>> = vec![
        vec![],
        vec!["--ignore-label", "instance"],
        vec![
            "--ignore-label",
            "instance",
            "--ignore-label",
            "service",
            "--by",
            "job",
        ],
        vec![
            "--rename",
            "HighCPU=CpuHigh",
            "--rename",
            "DiskFull=HighCPU",
        ],
        vec![
            "--rename-label",
            "service=svc",
            "--rename-label",
            "job=service",
        ],
        vec![
            "--rename-value",
            "severity:warning=warn",
            "--rename-value",
            "severity:warn=w",
        ],
        vec!["--tolerance", "5s", "--by", "service", "--noise", &noise],
        vec![
            "--tolerance",
            "0s",
            "--noise",
            &old,
            "--ignore-label",
            "alertname",
        ],
        vec![
            "--tolerance",
            "30m",
            "--ignore-label",
            "instance",
            "--high-below",
            "0.5",
        ],
    ];
    for extra in variants {
        let mut args = vec![old.as_str(), new.as_str()];
        args.extend(extra.iter().copied());
        let (streamed, full) = both_ways(&args, dir.path());
        assert!(
            streamed == full,
            "streamed JSON differs from the full report for {extra:?}"
        );
        if extra.is_empty() {
            let r: serde_json::Value = serde_json::from_str(&streamed).unwrap();
            let got = (
                r["total_old"].as_u64(),
                r["matched"].as_u64(),
                r["missing"].as_u64(),
            );
            let want = (Some(e.total_old), Some(e.matched), Some(e.missing));
            assert_eq!(got, want);
            assert_eq!(r["extra"].as_u64(), Some(e.extra));
        }
    }
}

#[test]
fn streamed_json_equals_the_full_report_on_fixtures() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (
        fixture("reference/old_alertmanager.json"),
        fixture("reference/new_alertmanager.json"),
    );
    let second = fixture("reference/old_second_read.json");
    let cases: Vec<Vec<&str>> = vec![
        vec![&old, &new],
        vec![&old, &new, "--ignore-label", "instance", "--by", "service"],
        vec![
            &old,
            &new,
            "--rename",
            "ServiceDown=InstanceDown",
            "--noise",
            &second,
        ],
        vec![&new, &old, "--tolerance", "1s"],
        vec![&old, &old],
    ];
    let other: Vec<String> = [
        "prometheus_v1.json",
        "webhook.jsonl",
        "cutover_export.json",
        "empty.json",
        "empty_array.json",
    ]
    .iter()
    .map(|f| fixture(f))
    .collect();
    let mut all = cases;
    for o in &other {
        all.push(vec![o.as_str(), &new]);
        all.push(vec![&old, o.as_str()]);
    }
    for args in all {
        let (streamed, full) = both_ways(&args, dir.path());
        assert!(streamed == full, "streamed JSON differs for {args:?}");
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
        same_as_text(Path::new(&fixture(f)), None);
    }
}

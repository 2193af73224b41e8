//! `cutover compare --format ... --report-json/--report-md/--report-html`.

use super::*;
use clap::Parser;
use cutover_compare::cli::{Args, run};
use cutover_compare::{CompareError, OutputFormat, REPORT_SCHEMA, Verdict};

fn reference_args(extra: &[&str]) -> Args {
    let old = fixture("reference/old_alertmanager.json");
    let new = fixture("reference/new_alertmanager.json");
    let mut argv = vec![
        "compare".to_string(),
        old.display().to_string(),
        new.display().to_string(),
        "--ignore-label".into(),
        "instance".into(),
    ];
    argv.extend(extra.iter().map(|s| s.to_string()));
    Args::try_parse_from(argv).unwrap()
}

fn stdout_of(args: &Args) -> String {
    let mut out = Vec::new();
    assert_eq!(run(args, &mut out).unwrap(), Verdict::Fail);
    String::from_utf8(out).unwrap()
}

#[test]
fn report_files_are_written_next_to_the_stdout_report() {
    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("report.md");
    let html = dir.path().join("report.html");
    let json = dir.path().join("report.json");
    // An older report in place is replaced whole.
    std::fs::write(&html, "stale").unwrap();
    let args = reference_args(&[
        "--report-md",
        md.to_str().unwrap(),
        "--report-html",
        html.to_str().unwrap(),
        "--report-json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(args.stdout_format(), OutputFormat::Text);
    let text = stdout_of(&args);
    assert!(text.starts_with("Verdict: FAIL (risk high)"), "{text}");

    let md_file = std::fs::read_to_string(&md).unwrap();
    let html_file = std::fs::read_to_string(&html).unwrap();
    let json_file = std::fs::read_to_string(&json).unwrap();
    // The files hold exactly what the same format prints on stdout.
    assert_eq!(md_file, stdout_of(&reference_args(&["--format", "md"])));
    assert_eq!(html_file, stdout_of(&reference_args(&["--format", "html"])));
    assert_eq!(json_file, stdout_of(&reference_args(&["--json"])));
    assert_eq!(json_file, stdout_of(&reference_args(&["--format", "json"])));
    assert!(md_file.starts_with("# Alert comparison: FAIL\n"));
    assert!(html_file.starts_with("<!DOCTYPE html>"));
    let v: serde_json::Value = serde_json::from_str(&json_file).unwrap();
    assert_eq!(v["schema"], REPORT_SCHEMA);
    assert_eq!(v["matched"], 3);
    // Only the three reports: no temporary file left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
}

#[test]
fn format_flag_parses_and_conflicts_with_json() {
    let a = Args::try_parse_from(["compare", "o", "n", "--format", "markdown"]).unwrap();
    assert_eq!(a.stdout_format(), OutputFormat::Md);
    let a = Args::try_parse_from(["compare", "o", "n", "--format", "html"]).unwrap();
    assert_eq!(a.stdout_format(), OutputFormat::Html);
    let a = Args::try_parse_from(["compare", "o", "n", "--json"]).unwrap();
    assert_eq!(a.stdout_format(), OutputFormat::Json);
    assert!(a.report_files().is_empty());
    assert!(Args::try_parse_from(["compare", "o", "n", "--json", "--format", "md"]).is_err());
    assert!(Args::try_parse_from(["compare", "o", "n", "--format", "pdf"]).is_err());
}

#[test]
fn unwritable_report_path_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("missing-dir").join("r.html");
    let args = reference_args(&["--report-html", bad.to_str().unwrap()]);
    let mut out = Vec::new();
    let err = run(&args, &mut out).unwrap_err();
    assert!(matches!(err, CompareError::WriteReport { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("{}: cannot write report: ", bad.display())),
        "{msg}"
    );
    assert!(out.is_empty(), "nothing printed when a report file failed");
}

//! `run` with `format` and report files: what `cutover compare --format ...
//! --report-json/--report-md/--report-html` does.

use crate::{reference, run_request};
use cutover_compare::{CompareError, CompareRequest, OutputFormat, REPORT_SCHEMA, Verdict, run};

/// The reference comparison, `instance` ignored, printed as `format`.
fn reference_as(format: OutputFormat) -> CompareRequest {
    reference(|r| {
        r.options.ignore_labels = vec!["instance".into()];
        r.format = format;
    })
}

fn stdout_of(req: &CompareRequest) -> String {
    let (verdict, out) = run_request(req);
    assert_eq!(verdict, Verdict::Fail);
    out
}

#[test]
fn report_files_are_written_next_to_the_stdout_report() {
    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("report.md");
    let html = dir.path().join("report.html");
    let json = dir.path().join("report.json");
    // An older report in place is replaced whole.
    std::fs::write(&html, "stale").unwrap();
    let mut req = reference_as(OutputFormat::Text);
    req.report_files = vec![
        (OutputFormat::Json, json.clone()),
        (OutputFormat::Md, md.clone()),
        (OutputFormat::Html, html.clone()),
    ];
    let text = stdout_of(&req);
    assert!(text.starts_with("Verdict: FAIL (risk high)"), "{text}");

    let md_file = std::fs::read_to_string(&md).unwrap();
    let html_file = std::fs::read_to_string(&html).unwrap();
    let json_file = std::fs::read_to_string(&json).unwrap();
    // The files hold exactly what the same format prints on stdout.
    assert_eq!(md_file, stdout_of(&reference_as(OutputFormat::Md)));
    assert_eq!(html_file, stdout_of(&reference_as(OutputFormat::Html)));
    assert_eq!(json_file, stdout_of(&reference_as(OutputFormat::Json)));
    assert!(md_file.starts_with("# Alert comparison: FAIL\n"));
    assert!(html_file.starts_with("<!DOCTYPE html>"));
    let v: serde_json::Value = serde_json::from_str(&json_file).unwrap();
    assert_eq!(v["schema"], REPORT_SCHEMA);
    assert_eq!(v["matched"], 3);
    // Only the three reports: no temporary file left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
}

#[test]
fn unwritable_report_path_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("missing-dir").join("r.html");
    let mut req = reference_as(OutputFormat::Text);
    req.report_files = vec![(OutputFormat::Html, bad.clone())];
    let mut out = Vec::new();
    let err = run(&req, &mut out).unwrap_err();
    assert!(matches!(err, CompareError::WriteReport { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("{}: cannot write report: ", bad.display())),
        "{msg}"
    );
    assert!(out.is_empty(), "nothing printed when a report file failed");
}

/// A writer that fails once `limit` bytes were written.
struct Full {
    written: usize,
    limit: usize,
}

impl std::io::Write for Full {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.written + buf.len() > self.limit {
            return Err(std::io::Error::other("disk full"));
        }
        self.written += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn output_errors_are_reported_in_every_format() {
    for format in OutputFormat::ALL {
        let mut full = Full {
            written: 0,
            limit: 10,
        };
        let err = run(&reference_as(format), &mut full).unwrap_err();
        assert!(
            matches!(err, CompareError::Output(_)),
            "{format:?}: {err:?}"
        );
        assert!(err.to_string().contains("disk full"), "{err}");
    }
}

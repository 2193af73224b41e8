//! `cutover backtest`: the text report (snapshot) and `--json` against a
//! canned Prometheus, bad input, and an end-to-end run against the real
//! fixture's Prometheus A and its backfilled history (ports 23000-23009).

use std::path::Path;

use cutover_base::exit::ExitClass;
use cutover_test_kit::http::CannedServer;
use cutover_test_kit::prom_range::canned_prometheus;
use serde::Deserialize;

use super::{cutover, err, expect, out, root};

/// An evaluation instant aligned on the minute (2023-11-14T22:13:00Z).
const T0: i64 = 1_699_999_980;

/// What the JSON report carries that these tests read, typed.
#[derive(Debug, Deserialize)]
struct Json {
    total_old: usize,
    total_new: usize,
    matched: usize,
    missing: usize,
    extra: usize,
    match_rate: Option<f64>,
    verdict: String,
    prediction: JsonPrediction,
}

#[derive(Debug, Deserialize)]
struct JsonPrediction {
    from: String,
    no_data: bool,
    old_rules: Vec<JsonRule>,
    new_rules: Vec<JsonRule>,
}

#[derive(Debug, Deserialize)]
struct JsonRule {
    rule: String,
    episodes: usize,
    samples: usize,
    error: Option<String>,
}

fn json(o: &std::process::Output) -> Json {
    serde_json::from_str(&out(o)).unwrap_or_else(|e| panic!("{e}: {}", out(o)))
}

/// The canned Prometheus of these tests (see [`canned_prometheus`]).
fn prometheus() -> CannedServer {
    canned_prometheus(T0 * 1000)
}

const OLD: &str = "groups:
- name: api
  interval: 1m
  rules:
  - alert: ApiDown
    expr: up == 0
    for: 2m
    labels: {severity: page}
  - alert: ApiSlow
    expr: rate(bad[5m]
";

const NEW: &str = "groups:
- name: api
  interval: 1m
  rules:
  - alert: ApiDown
    expr: up == 0
    for: 5m
    labels: {severity: page}
";

fn rules(dir: &Path) {
    std::fs::write(dir.join("old.yml"), OLD).unwrap();
    std::fs::write(dir.join("new.yml"), NEW).unwrap();
}

fn backtest(dir: &Path, server: &CannedServer, extra: &[&str]) -> std::process::Output {
    let url = server.origin();
    let (from, to) = (T0.to_string(), (T0 + 3600).to_string());
    let mut args = vec![
        "backtest",
        "--prometheus",
        &url,
        "--old",
        "old.yml",
        "--new",
        "new.yml",
        "--from",
        &from,
        "--to",
        &to,
    ];
    args.extend_from_slice(extra);
    cutover(dir).args(&args).output().expect("spawn cutover")
}

#[test]
fn backtest_text_report_is_marked_predicted_and_lists_every_rule() {
    let tmp = tempfile::tempdir().unwrap();
    rules(tmp.path());
    let server = prometheus();
    // `for: 5m` instead of 2m: the new rule fires 3 minutes later, beyond
    // a 1-minute tolerance, so the old episode is missing: FAIL.
    let o = backtest(tmp.path(), &server, &["--tolerance", "1m"]);
    expect(&o, ExitClass::Failed.into());
    let mut settings = insta::Settings::clone_current();
    settings.set_omit_expression(true);
    settings.set_description("cutover backtest --old old.yml --new new.yml (canned Prometheus)");
    settings.bind(|| insta::assert_snapshot!("backtest_text", out(&o)));
    // Every query went to the granted server's query_range.
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.method == "POST" && r.path == "/api/v1/query_range")
    );
}

#[test]
fn backtest_json_has_the_compare_fields_the_prediction_and_every_rule() {
    let tmp = tempfile::tempdir().unwrap();
    rules(tmp.path());
    let server = prometheus();
    let o = backtest(tmp.path(), &server, &["--json", "--tolerance", "5m"]);
    expect(&o, ExitClass::Ok.into());
    let j = json(&o);
    assert_eq!(
        (j.total_old, j.total_new, j.matched, j.missing, j.extra),
        (1, 1, 1, 0, 0)
    );
    assert_eq!(j.match_rate, Some(1.0));
    assert_eq!(j.verdict, "pass");
    assert_eq!(j.prediction.from, "2023-11-14T22:13:00Z");
    assert!(!j.prediction.no_data);
    let slow = &j.prediction.old_rules[1];
    assert_eq!(slow.rule, "ApiSlow");
    let e = slow
        .error
        .as_deref()
        .expect("the rejected rule is reported");
    assert!(
        e.contains("bad_data") && e.contains("unclosed left parenthesis"),
        "{e}"
    );
    let down = &j.prediction.new_rules[0];
    assert_eq!(
        (down.rule.as_str(), down.episodes, down.error.as_deref()),
        ("ApiDown", 1, None)
    );
    assert!(down.samples > 0);
    // --format markdown says it is predicted too.
    let o = backtest(
        tmp.path(),
        &server,
        &["--format", "markdown", "--tolerance", "5m"],
    );
    expect(&o, ExitClass::Ok.into());
    assert!(out(&o).contains("Predicted, not observed"), "{}", out(&o));
}

#[test]
fn backtest_without_data_is_no_data_never_a_pass() {
    let tmp = tempfile::tempdir().unwrap();
    rules(tmp.path());
    std::fs::write(tmp.path().join("old.yml"), NEW).unwrap();
    let server = prometheus();
    let url = server.origin();
    let o = cutover(tmp.path())
        .args([
            "backtest",
            "--prometheus",
            &url,
            "--old",
            "old.yml",
            "--new",
            "new.yml",
            "--from",
            "2001-01-01T00:00:00Z",
            "--to",
            "2001-01-01T06:00:00Z",
            "--json",
        ])
        .output()
        .unwrap();
    expect(&o, ExitClass::Inconclusive.into());
    let j = json(&o);
    assert!(j.prediction.no_data);
    assert_eq!(j.verdict, "no-data");
}

#[test]
fn backtest_bad_input_says_where_and_why() {
    let tmp = tempfile::tempdir().unwrap();
    rules(tmp.path());
    std::fs::write(
        tmp.path().join("broken.yml"),
        "groups: [{name: x, rules: 5}]",
    )
    .unwrap();
    let server = prometheus();
    let url = server.origin();
    let cases: [(&[&str], &str); 6] = [
        (
            &["--from", "200", "--to", "100"],
            "--from (1970-01-01T00:03:20.000Z) is after --to",
        ),
        (&["--from", "yesterday", "--to", "100"], "yesterday"),
        (
            &["--from", "0", "--to", "100", "--step", "0s"],
            "--step must be positive",
        ),
        (
            &["--from", "0", "--to", "100", "--scope", "{team=}"],
            "--scope",
        ),
        (
            &["--from", "0", "--to", "100", "--old", "broken.yml"],
            "broken.yml",
        ),
        (
            &["--from", "0", "--to", "100", "--old", "missing.yml"],
            "missing.yml: cannot read it",
        ),
    ];
    for (extra, want) in cases {
        let mut args = vec![
            "backtest",
            "--prometheus",
            &url,
            "--old",
            "old.yml",
            "--new",
            "new.yml",
        ];
        args.extend_from_slice(extra);
        let o = cutover(tmp.path()).args(&args).output().unwrap();
        expect(&o, ExitClass::Usage.into());
        assert!(err(&o).contains(want), "{extra:?}: {}", err(&o));
    }
    let o = cutover(tmp.path())
        .args([
            "backtest",
            "--prometheus",
            "ftp//nowhere",
            "--old",
            "old.yml",
            "--new",
            "new.yml",
            "--from",
            "0",
            "--to",
            "100",
        ])
        .output()
        .unwrap();
    expect(&o, ExitClass::Usage.into());
    assert!(
        err(&o).contains("--prometheus \"ftp//nowhere\""),
        "{}",
        err(&o)
    );
    // Nothing listens: the history cannot be read at all, a plugin-call
    // failure naming the adapter, not a report.
    let port = super::free_port();
    let o = cutover(tmp.path())
        .args([
            "backtest",
            "--prometheus",
            &format!("http://127.0.0.1:{port}"),
            "--old",
            "old.yml",
            "--new",
            "new.yml",
            "--from",
            "0",
            "--to",
            "100",
        ])
        .output()
        .unwrap();
    expect(&o, ExitClass::PluginCall.into());
    assert!(
        err(&o).contains("cannot read history through adapter prometheus"),
        "{}",
        err(&o)
    );
    assert!(out(&o).is_empty());
}

/// The real fixture (migration scenario) on ports 23000-23009 with 2 days
/// of backfilled history in Prometheus A (incidents come and go in it):
/// the old rules against themselves match completely; a new set without WebApiDown and with a
/// rule Prometheus rejects misses WebApiDown, reports the rejected rule
/// with Prometheus's own `bad_data` answer and evaluates the rest.
#[test]
fn e2e_backtest_against_the_fixture_prometheus_history() {
    let run_dir = tempfile::tempdir().unwrap();
    let fixture = cutover_systest::Fixture::start_with(
        &root().join("tests/fixture"),
        run_dir.path(),
        &[
            ("FIXTURE_NODE_PORT", "23000"),
            ("FIXTURE_PROM_A_PORT", "23001"),
            ("FIXTURE_PROM_B_PORT", "23002"),
            ("FIXTURE_AM_A_PORT", "23003"),
            ("FIXTURE_AM_B_PORT", "23004"),
            ("FIXTURE_SINK_PORT", "23009"),
            ("FIXTURE_SCENARIO", "migration"),
            ("FIXTURE_HISTORY", "2d"),
        ],
    )
    .unwrap_or_else(|e| panic!("fixture: {e}"));
    let from = fixture
        .var("FIXTURE_HISTORY_FROM")
        .expect("history from")
        .to_string();
    let to = fixture
        .var("FIXTURE_HISTORY_TO")
        .expect("history to")
        .to_string();
    let tmp = tempfile::tempdir().unwrap();
    let old_rules =
        std::fs::read_to_string(root().join("tests/fixture/rules/migration-old.rules.yml"))
            .unwrap();
    std::fs::write(tmp.path().join("old.yml"), &old_rules).unwrap();
    // Drop WebApiDown, add a rule Prometheus rejects.
    let start = old_rules.find("      - alert: WebApiDown").unwrap();
    let end = old_rules[start..].find("  - name: payments").unwrap() + start;
    let mut new_rules = old_rules.clone();
    new_rules.replace_range(
        start..end,
        "      - alert: WebBroken\n        expr: rate(fixture_error_rate[5m]\n",
    );
    std::fs::write(tmp.path().join("new.yml"), new_rules).unwrap();
    let url = "http://127.0.0.1:23001";
    let go = |new: &str| {
        cutover(tmp.path())
            .args([
                "backtest",
                "--prometheus",
                url,
                "--old",
                "old.yml",
                "--new",
                new,
                "--from",
                &from,
                "--to",
                &to,
                "--step",
                "1m",
                "--json",
            ])
            .output()
            .unwrap()
    };
    let o = go("old.yml");
    expect(&o, ExitClass::Ok.into());
    let j = json(&o);
    // The history makes every rule fire at least once (Watchdog always).
    assert!(j.total_old >= 6, "{}", out(&o));
    assert_eq!(
        (j.total_new, j.matched, j.missing, j.extra),
        (j.total_old, j.total_old, 0, 0)
    );
    assert_eq!(j.match_rate, Some(1.0));
    assert!(
        j.prediction
            .old_rules
            .iter()
            .all(|r| r.error.is_none() && r.episodes >= 1),
        "{:?}",
        j.prediction.old_rules
    );
    let episodes = |rules: &[JsonRule], name: &str| {
        rules
            .iter()
            .find(|r| r.rule == name)
            .map(|r| r.episodes)
            .unwrap()
    };
    let web_api_down = episodes(&j.prediction.old_rules, "WebApiDown");
    let o = go("new.yml");
    expect(&o, ExitClass::Failed.into());
    let j = json(&o);
    assert_eq!(
        (j.total_new, j.matched, j.missing, j.extra),
        (
            j.total_old - web_api_down,
            j.total_old - web_api_down,
            web_api_down,
            0
        )
    );
    let broken = j
        .prediction
        .new_rules
        .iter()
        .find(|r| r.rule == "WebBroken")
        .unwrap();
    let e = broken.error.as_deref().expect("rejected by Prometheus");
    assert!(
        e.contains("bad_data: ") && e.contains("unclosed left parenthesis"),
        "{e}"
    );
    assert_eq!(broken.episodes, 0);
    assert_eq!(
        j.prediction
            .new_rules
            .iter()
            .filter(|r| r.error.is_none() && r.episodes >= 1)
            .count(),
        5
    );
    drop(fixture);
}

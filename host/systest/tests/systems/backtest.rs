//! Backtests on the real fixture, through the prometheus adapter plugin's
//! `query-range`:
//!
//! - [`backtest_replays_what_prometheus_fired`]: Prometheus A evaluates the
//!   fixture's old rules live (1 s interval) while the test rewrites the
//!   textfile so alerts start and stop; the backtest of the same rules over
//!   that range must reproduce what Prometheus's own `ALERTS` series says
//!   fired (≥ 99% matched, ends included).
//! - [`backtest_over_backfilled_history`]: two days of history created by
//!   `tests/fixture/history.sh` + `promtool tsdb create-blocks-from
//!   openmetrics` (`FIXTURE_HISTORY=2d`); the old and the new rules are
//!   backtested over it and fire and resolve many times.
//!
//! Ports 23210-23215 and 23220-23225 (no other test uses them).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cutover_compare::backtest::{RangeSource, Window, evaluate, firing_episodes};
use cutover_compare::{Alert, CompareOptions, compare};
use cutover_engine::backtest::AdapterRangeSource;
use cutover_runtime::{Grants, Origin, Plugin, Runtime, Sandbox};
use cutover_systest::{Fixture, http};
use translate_core::rules::RuleFile;

use super::root;
use super::support::{Watchdog, load_plugin, now_ms};

/// The series of `tests/fixture/textfile/fixture.prom` with their quiet and
/// their alerting value, and when each is alerting: one character per
/// [`PHASE`] of the live run, `X` alerting, `.` quiet. Every run of `X` is
/// one episode of the v1 rule on that series; the first and last phases are
/// quiet.
const SCRIPT: [(&str, &str, &str, &str); 6] = [
    (
        r#"fixture_queue_depth{queue="orders"}"#,
        "10",
        "75",
        ".XX...XX..X..XXX....",
    ),
    (
        r#"fixture_queue_depth{queue="emails"}"#,
        "10",
        "95",
        "...XX......XX....X..",
    ),
    (
        r#"fixture_service_up{service="api"}"#,
        "1",
        "0",
        "..XXX..X...XX...X...",
    ),
    (
        r#"fixture_service_up{service="db"}"#,
        "1",
        "0",
        ".....XX.....X..XX...",
    ),
    (
        r#"fixture_disk_used_ratio{mount="/data"}"#,
        "0.5",
        "0.95",
        "....XXX.......XX....",
    ),
    (
        r#"fixture_error_rate{service="api"}"#,
        "0.01",
        "0.2",
        "..X..X..XX.X.....X..",
    ),
];

/// How long each phase of [`SCRIPT`] holds.
const PHASE: Duration = Duration::from_secs(5);

/// The old rules' evaluation interval (`interval: 1s`), also the step the
/// `ALERTS` series is read at.
const STEP_MS: i64 = 1_000;

/// How far apart the backtest and Prometheus may put the same start or end.
/// A textfile change reaches Prometheus at its next scrape (1 s scrape
/// interval, at a phase of its own: the sample is stamped with the scrape
/// time S) and the rule group sees it at its next evaluation E (1 s
/// interval, another phase; a sample appended a few ms after E is only seen
/// at E + 1 s): S <= E < S + 2 s. `ALERTS` is stamped E and read on the 1 s
/// grid (first grid point >= E); the backtest evaluates on the same grid
/// and sees the sample from the first grid point >= S. Both land on grid
/// points within 2 s of each other; the phase offsets are not in the
/// recorded data, so no smaller tolerance is sound.
const TOLERANCE_MS: i64 = 2_000;

/// The fixture on the given ports (node, Prometheus A/B, Alertmanager A/B,
/// webhook sink), with `env` on top.
fn fixture(run: &Path, ports: [u16; 6], env: &[(&str, &str)]) -> Fixture {
    let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
    let keys = [
        "FIXTURE_NODE_PORT",
        "FIXTURE_PROM_A_PORT",
        "FIXTURE_PROM_B_PORT",
        "FIXTURE_AM_A_PORT",
        "FIXTURE_AM_B_PORT",
        "FIXTURE_SINK_PORT",
    ];
    let mut all: Vec<(&str, &str)> = keys
        .iter()
        .copied()
        .zip(ports.iter().map(String::as_str))
        .collect();
    all.extend_from_slice(env);
    Fixture::start_with(&root().join("tests/fixture"), run, &all).unwrap_or_else(|e| {
        panic!("the real-systems fixture did not start (needs scripts/system-deps.sh): {e}")
    })
}

fn port(fx: &Fixture, key: &str) -> u16 {
    fx.var(key)
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("fixture.env lacks {key}"))
}

/// The fixture's rule file `name`.
fn rules(name: &str) -> Vec<RuleFile> {
    let path = root().join("tests/fixture/rules").join(name);
    let text = std::fs::read_to_string(&path).expect("rules file");
    vec![RuleFile::parse(name, &text).expect("rules parse")]
}

/// Writes the textfile for phase `phase` of [`SCRIPT`] (`None`: all quiet),
/// atomically (node-exporter reads only `*.prom`).
fn write_textfile(path: &Path, phase: Option<usize>) {
    let mut text = String::new();
    let mut family = "";
    for (series, quiet, bad, pattern) in SCRIPT {
        let alerting = phase.is_some_and(|p| pattern.as_bytes()[p] == b'X');
        let name = series.split('{').next().unwrap_or(series);
        if name != family {
            // One TYPE line per family, or node-exporter refuses the file.
            text += &format!("# TYPE {name} gauge\n");
            family = name;
        }
        text += &format!("{series} {}\n", if alerting { bad } else { quiet });
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).expect("write textfile");
    std::fs::rename(&tmp, path).expect("rename textfile");
}

/// Episodes [`SCRIPT`] asks for: runs of `X`, plus the Watchdog.
fn scripted_episodes() -> usize {
    1 + SCRIPT
        .iter()
        .map(|(_, _, _, p)| p.split('.').filter(|r| !r.is_empty()).count())
        .sum::<usize>()
}

/// Names of the alerts Prometheus at `port` says are firing now.
fn firing_now(port: u16) -> Vec<String> {
    let (st, body) = http::request("GET", port, "/api/v1/alerts", None).expect("alerts");
    assert_eq!(st, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("alerts JSON");
    let mut names: Vec<String> = v["data"]["alerts"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|a| a["state"] == "firing" || a["state"] == "pending")
                .filter_map(|a| a["labels"]["alertname"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// `(labels, starts_at, ends_at)` of `alerts`, sorted.
fn episodes(alerts: &[Alert]) -> Vec<(BTreeMap<String, String>, i64, Option<i64>)> {
    let mut e: Vec<_> = alerts
        .iter()
        .map(|a| (a.labels.clone(), a.starts_at, a.ends_at))
        .collect();
    e.sort();
    e
}

/// Pairs of `actual` and `predicted` episodes with the same labels whose
/// starts and ends are both within [`TOLERANCE_MS`] (each used once).
fn matched_with_ends(actual: &[Alert], predicted: &[Alert]) -> usize {
    let mut taken = vec![false; predicted.len()];
    let close = |a: i64, b: i64| (a - b).abs() <= TOLERANCE_MS;
    let mut n = 0;
    for a in actual {
        let found = predicted.iter().enumerate().position(|(i, p)| {
            !taken[i]
                && p.labels == a.labels
                && close(p.starts_at, a.starts_at)
                && match (p.ends_at, a.ends_at) {
                    (Some(x), Some(y)) => close(x, y),
                    (None, None) => true,
                    _ => false,
                }
        });
        if let Some(i) = found {
            taken[i] = true;
            n += 1;
        }
    }
    n
}

#[test]
fn backtest_replays_what_prometheus_fired() {
    let run = tempfile::tempdir().expect("run dir");
    let fx = fixture(
        run.path(),
        [23210, 23211, 23212, 23213, 23214, 23215],
        &[("FIXTURE_HISTORY", "0")],
    );
    let _watchdog = Watchdog::arm(&fx);
    let prom_a = port(&fx, "FIXTURE_PROM_A_PORT");
    let textfile = Path::new(fx.var("FIXTURE_TEXTFILE").expect("textfile")).to_path_buf();

    // Quiet first: only the Watchdog fires.
    write_textfile(&textfile, None);
    let until = Instant::now() + Duration::from_secs(30);
    while firing_now(prom_a) != ["Watchdog"] {
        assert!(
            Instant::now() < until,
            "still firing: {:?}",
            firing_now(prom_a)
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    std::thread::sleep(Duration::from_secs(2));
    let from_ms = now_ms() / STEP_MS * STEP_MS + STEP_MS;

    // The live run: Prometheus evaluates every second while the phases play.
    let started = Instant::now();
    let phases = SCRIPT[0].3.len();
    for p in 0..phases {
        let at = started + PHASE * p as u32;
        std::thread::sleep(at.saturating_duration_since(Instant::now()));
        write_textfile(&textfile, Some(p));
    }
    std::thread::sleep((started + PHASE * phases as u32).saturating_duration_since(Instant::now()));
    let to_ms = now_ms() / STEP_MS * STEP_MS;
    // Let the last evaluations before `to` land.
    std::thread::sleep(Duration::from_secs(2));
    let window = Window { from_ms, to_ms };

    let adapter = Adapter::load();
    let mut source = adapter.source(prom_a);
    // What actually fired, from Prometheus's own ALERTS series.
    let alerts_series = source
        .query_range(r#"ALERTS{alertstate="firing"}"#, from_ms, to_ms, STEP_MS)
        .expect("ALERTS");
    let actual = firing_episodes(&alerts_series, STEP_MS, to_ms);
    assert_eq!(
        actual.len(),
        scripted_episodes(),
        "Prometheus did not fire what the script asked for: {:#?}",
        episodes(&actual)
    );

    // What the backtest predicts for the same rules over the same range.
    let predicted =
        evaluate(&rules("v1-old.rules.yml"), &mut source, window, None).expect("backtest");
    for r in &predicted.rules {
        assert_eq!(r.error, None, "{}: {:?}", r.rule, r.warnings);
        assert_eq!(
            r.evaluations as i64,
            (to_ms - from_ms) / STEP_MS + 1,
            "{}",
            r.rule
        );
    }

    let opts = CompareOptions {
        tolerance: Duration::from_millis(TOLERANCE_MS as u64),
        ..CompareOptions::default()
    };
    let report = compare(&actual, &predicted.alerts, &opts);
    let rate = report.match_rate.unwrap_or(0.0);
    let with_ends = matched_with_ends(&actual, &predicted.alerts);
    let both = with_ends as f64 / actual.len().max(predicted.alerts.len()) as f64;
    eprintln!(
        "ALERTS replay: {} fired, {} predicted, {} matched (rate {rate:.3}), {with_ends} with ends too ({both:.3})",
        actual.len(),
        predicted.alerts.len(),
        report.matched
    );
    let detail = || {
        format!(
            "fired (ALERTS):\n{:#?}\npredicted:\n{:#?}",
            episodes(&actual),
            episodes(&predicted.alerts)
        )
    };
    assert!(rate >= 0.99, "match rate {rate}\n{}", detail());
    assert!(
        report.extra as f64 <= 0.01 * actual.len() as f64,
        "{} extra\n{}",
        report.extra,
        detail()
    );
    assert!(
        both >= 0.99,
        "starts and ends agree for {with_ends} only\n{}",
        detail()
    );
}

#[test]
fn backtest_over_backfilled_history() {
    let run = tempfile::tempdir().expect("run dir");
    let fx = fixture(
        run.path(),
        [23220, 23221, 23222, 23223, 23224, 23225],
        &[("FIXTURE_HISTORY", "2d"), ("FIXTURE_WAIT", "0")],
    );
    let _watchdog = Watchdog::arm(&fx);
    let prom_a = port(&fx, "FIXTURE_PROM_A_PORT");
    let var = |k: &str| -> i64 {
        fx.var(k)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("fixture.env lacks {k}"))
    };
    let (from, to, step) = (
        var("FIXTURE_HISTORY_FROM"),
        var("FIXTURE_HISTORY_TO"),
        var("FIXTURE_HISTORY_STEP"),
    );
    assert_eq!((to - from, step), (2 * 86_400, 15));
    let until = Instant::now() + Duration::from_secs(30);
    while http::request("GET", prom_a, "/-/ready", None)
        .map(|r| r.0)
        .unwrap_or(0)
        != 200
    {
        assert!(Instant::now() < until, "Prometheus A not ready");
        std::thread::sleep(Duration::from_millis(200));
    }
    // Whole minutes, the backtest's step.
    let window = Window {
        from_ms: (from * 1000 + 59_999) / 60_000 * 60_000,
        to_ms: to * 1000 / 60_000 * 60_000,
    };
    let evaluations = (window.to_ms - window.from_ms) / 60_000 + 1;
    let adapter = Adapter::load();
    let mut source = adapter.source(prom_a);

    // Every sample of the history is there, at 15 s.
    let raw = source
        .query_range(
            "count_over_time(fixture_service_up[1h])",
            window.to_ms,
            window.to_ms,
            60_000,
        )
        .expect("count");
    assert_eq!(raw.len(), 2, "{raw:?}");
    for s in &raw {
        // 240 samples an hour; 241 where the range's both ends are included
        // (Prometheus 2.x).
        assert!([240.0, 241.0].contains(&s.samples[0].1), "{s:?}");
        assert_eq!(s.labels["job"], "fixture");
        assert_eq!(
            s.labels["instance"],
            format!("127.0.0.1:{}", port(&fx, "FIXTURE_NODE_PORT"))
        );
    }

    // Old and new rules at 1m over two days: each fires and resolves many times.
    let step = Some(60_000);
    let old = evaluate(&rules("v1-old.rules.yml"), &mut source, window, step).expect("old");
    let new = evaluate(&rules("v2-new.rules.yml"), &mut source, window, step).expect("new");
    let count = |e: &cutover_compare::backtest::Evaluation, name: &str| {
        let r = e.rules.iter().find(|r| r.rule == name).expect("rule");
        assert_eq!(r.error, None, "{name}");
        assert_eq!(i64::from(r.evaluations), evaluations, "{name}");
        r.episodes
    };
    // An incident starts in about 2% of the 5-minute slots of each series
    // (history.sh): about 11 per series over two days (Poisson: below 2 or
    // above 25 per series is out of the question).
    for (name, series) in [
        ("HighQueueDepth", 2),
        ("ServiceDown", 2),
        ("DiskAlmostFull", 1),
        ("ErrorRateHigh", 1),
    ] {
        let n = count(&old, name);
        assert!(
            (2 * series..=25 * series).contains(&n),
            "{name}: {n} episodes"
        );
    }
    assert_eq!(count(&old, "Watchdog"), 1);
    assert_eq!(count(&new, "InstanceDown"), count(&old, "ServiceDown"));
    // v2's threshold 80 keeps a part of v1's queue alerts (bad values
    // 55..99): each of its episodes lies within one of v1's.
    assert!(count(&new, "HighQueueDepth") > 0);
    for n in new
        .alerts
        .iter()
        .filter(|a| a.alertname() == "HighQueueDepth")
    {
        let within = old.alerts.iter().any(|o| {
            o.labels == n.labels
                && o.starts_at <= n.starts_at
                && match (o.ends_at, n.ends_at) {
                    (None, _) => true,
                    (Some(oe), Some(ne)) => ne <= oe,
                    (Some(_), None) => false,
                }
        });
        assert!(within, "v2 episode outside v1's: {n:?}");
    }
    for a in old.alerts.iter().chain(&new.alerts) {
        assert!(a.starts_at >= window.from_ms && a.ends_at.is_none_or(|e| e <= window.to_ms));
    }

    // Compared like a parallel run: the renamed rule matches once renamed,
    // the dropped rule is missing, ErrorRateHigh's `for: 2s` (one 1m step
    // later) is within the default tolerance (1m).
    let opts = CompareOptions {
        rename_alerts: vec![("ServiceDown".into(), "InstanceDown".into())],
        ..CompareOptions::default()
    };
    let report = compare(&old.alerts, &new.alerts, &opts);
    let missing = |name: &str| {
        report
            .missing_alerts
            .iter()
            .filter(|m| m.alertname == name)
            .count()
    };
    assert_eq!(missing("DiskAlmostFull"), count(&old, "DiskAlmostFull"));
    assert_eq!(
        missing("InstanceDown") + missing("ErrorRateHigh") + missing("Watchdog"),
        0,
        "{:#?}",
        report.missing_alerts
    );
    // Only v2 queue alerts can be extra: those starting in a later slot of
    // an incident than v1's (a first slot between 50 and 80).
    assert!(
        report
            .extra_alerts
            .iter()
            .all(|a| a.alertname == "HighQueueDepth"),
        "{:#?}",
        report.extra_alerts
    );
    let rate = report.match_rate.unwrap_or(0.0);
    eprintln!(
        "backtest over 2d of backfilled history ({} queries): old {} episodes, new {}, matched {} (rate {rate:.3})",
        source.queries(),
        old.alerts.len(),
        new.alerts.len(),
        report.matched
    );
    assert!(rate > 0.3 && rate < 1.0, "{rate}");
}

/// The prometheus adapter plugin (`target/plugins/prometheus.wasm`) loaded
/// into a runtime: every query of a backtest is one sandboxed `query-range`
/// call, granted only the Prometheus at `port`.
struct Adapter {
    rt: Runtime,
    plugin: Arc<Plugin>,
    _cache: tempfile::TempDir,
}

impl Adapter {
    fn load() -> Adapter {
        let cache = tempfile::tempdir().expect("cache dir");
        let rt = Runtime::new(Some(cache.path())).expect("runtime");
        let plugin = Arc::new(load_plugin(&rt, "prometheus"));
        Adapter {
            rt,
            plugin,
            _cache: cache,
        }
    }

    /// A backtest source reading the Prometheus at `port`.
    fn source(&self, port: u16) -> AdapterRangeSource<'_> {
        let url = format!("http://127.0.0.1:{port}");
        let sandbox = Sandbox::with_grants(Grants {
            hosts: vec![Origin::parse_grant(&url).expect("grant")],
            dirs: vec![],
            secrets: vec![],
            config: BTreeMap::from([("url".into(), url)]),
        });
        AdapterRangeSource::new(&self.rt, self.plugin.clone(), sandbox)
            .expect("the prometheus adapter reads history (query-range)")
    }
}

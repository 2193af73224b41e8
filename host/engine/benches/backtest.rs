//! Backtest speed: 100 alerting rules over 7 days at 1 m resolution, read
//! through the prometheus adapter plugin (`query-range`, one sandboxed call
//! per query) from a real local Prometheus holding backfilled history, and
//! beside it vmalert's replay mode on the same rules and data, in the same
//! run.
//!
//! `bash scripts/bench-backtest.sh` (or `cargo bench -p cutover-engine
//! --bench backtest`). Needs `scripts/build-plugins.sh`, and prometheus,
//! promtool (and vmalert, for the comparison) from scripts/system-deps.sh.
//! Target: <= 10 s for cutover. Not run by .ci/run.
//!
//! The history is the fixture's (tests/fixture/history.sh: the textfile's
//! series with the labels a scrape adds, deterministic incidents) for
//! [`INSTANCES`] node-exporters, one sample a minute, created with
//! `promtool tsdb create-blocks-from openmetrics`. The rules are the
//! fixture's rule shapes with 100 thresholds, `for` durations and label
//! sets, in 10 groups at `interval: 1m`. vmalert replays with
//! `-replay.rulesDelay=0s` (its default 1 s pause after each rule, meant
//! for chained recording rules, would add 100 s of sleep) and
//! `-replay.maxDatapointsPerQuery=11000` (the points per query cutover
//! asks for), writing its `ALERTS` series to a second Prometheus
//! (`--web.enable-remote-write-receiver`, out-of-order window 30d); the
//! episodes read back from there are compared with cutover's, by `for`.
//! Ports 23250-23252.
//!
//! Measured 2026-12-06 (2 cores, shared): cutover 3.3-4.0 s, vmalert
//! 6.1-7.6 s (ratio about 0.5). The `for: 0s` rules agree episode for
//! episode; Debian's vmalert 1.79 wrote only `pending` `ALERTS` for every
//! rule with `for` > 0 in replay mode (never `firing`, also seen on a
//! one-rule replay against the fixture), so those rules have nothing to
//! compare with.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cutover_base::time::{now_ms, rfc3339_short};
use cutover_compare::backtest::{RangeSource, Window, evaluate, firing_episodes};
use cutover_compare::{CompareOptions, compare};
use cutover_engine::backtest::AdapterRangeSource;
use cutover_runtime::{Grants, Origin, Runtime, Sandbox};
use cutover_test_kit::{plugin_path, repo_root};
use translate_core::rules::RuleFile;

const DAYS: i64 = 7;
const STEP_S: i64 = 60;
const INSTANCES: usize = 25;
const RULES: usize = 100;
const TARGET_S: f64 = 10.0;
const PORT_SOURCE: u16 = 23250;
const PORT_SINK: u16 = 23251;
const PORT_VMALERT: u16 = 23252;
/// The `for` of rule i is `FORS[i % 4]`.
const FORS: [&str; 4] = ["0s", "2m", "5m", "10m"];

/// Processes started here, killed (by their own handle) on drop.
#[derive(Default)]
struct Procs(Vec<(String, Child)>);

impl Procs {
    fn start(&mut self, name: &str, cmd: &mut Command, log: &Path) {
        let out = std::fs::File::create(log).expect("log file");
        let err = out.try_clone().expect("log file");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name}: {e}"));
        self.0.push((name.to_string(), child));
    }
}

impl Drop for Procs {
    fn drop(&mut self) {
        for (_, c) in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn have(bin: &str) -> bool {
    Command::new(bin)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// `GET path` on 127.0.0.1:`port`: the status, or `None` when nothing answers.
fn get_status(port: u16, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

fn wait_ready(port: u16, what: &str, log: &Path) {
    let until = Instant::now() + Duration::from_secs(60);
    while get_status(port, "/-/ready") != Some(200) {
        if Instant::now() > until {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            panic!("{what} on {port} not ready after 60 s; its log:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `prometheus` on `port` over `data`, with `config` and `extra` flags.
fn prometheus(procs: &mut Procs, dir: &Path, name: &str, port: u16, config: &str, extra: &[&str]) {
    let cfg = dir.join(format!("{name}.yml"));
    std::fs::write(&cfg, config).expect("config");
    let log = dir.join(format!("{name}.log"));
    let mut cmd = Command::new("prometheus");
    cmd.arg(format!("--config.file={}", cfg.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join(format!("{name}-data")).display()
        ))
        .arg("--storage.tsdb.retention.time=30d")
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .args(extra);
    procs.start(name, &mut cmd, &log);
    wait_ready(port, name, &log);
}

/// 100 alerting rules shaped like the fixture's, in 10 groups at 1m.
fn rules_yaml() -> String {
    let fors = FORS;
    let mut s = String::from("groups:\n");
    for g in 0..RULES / 10 {
        s += &format!("  - name: bench-{g}\n    interval: 1m\n    rules:\n");
        for k in 0..10 {
            let i = g * 10 + k;
            let (name, expr, team) = match i % 5 {
                0 => (
                    "OrdersQueueDepth",
                    format!("fixture_queue_depth{{queue=\"orders\"}} > {}", 50 + i % 45),
                    "payments",
                ),
                1 => (
                    "EmailsQueueDepth",
                    format!("fixture_queue_depth{{queue=\"emails\"}} > {}", 50 + i % 45),
                    "payments",
                ),
                2 => (
                    "ServiceDown",
                    format!(
                        "fixture_service_up{{service=\"{}\"}} == 0",
                        ["api", "db"][i / 5 % 2]
                    ),
                    "web",
                ),
                3 => (
                    "DiskAlmostFull",
                    format!("fixture_disk_used_ratio > 0.{}", 90 + i % 9),
                    "platform",
                ),
                _ => (
                    "ErrorRateHigh",
                    format!("fixture_error_rate > {:.2}", 0.05 + (i % 40) as f64 / 100.0),
                    "web",
                ),
            };
            s += &format!(
                "      - alert: {name}{i:03}\n        expr: {expr}\n        for: {}\n        labels: {{severity: {}, team: {team}}}\n",
                fors[i % 4],
                ["warning", "critical"][i % 2]
            );
        }
    }
    s
}

/// A backtest source over the Prometheus at `port`, through the adapter.
fn source<'r>(
    rt: &'r Runtime,
    plugin: &Arc<cutover_runtime::Plugin>,
    port: u16,
) -> AdapterRangeSource<'r> {
    let url = format!("http://127.0.0.1:{port}");
    let sandbox = Sandbox::with_grants(Grants {
        hosts: vec![Origin::parse_grant(&url).expect("grant")],
        dirs: vec![],
        secrets: vec![],
        config: BTreeMap::from([("url".into(), url)]),
    });
    AdapterRangeSource::new(rt, plugin.clone(), sandbox).expect("prometheus reads history")
}

fn main() {
    for bin in ["prometheus", "promtool"] {
        if !have(bin) {
            eprintln!("SKIPPED: {bin} is not installed (scripts/system-deps.sh)");
            return;
        }
    }
    let root: PathBuf = repo_root();
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();

    // --- history: 7 days (+ the 5-minute lookback) of INSTANCES x the
    // fixture's series, one sample a minute, backfilled ----------------------
    let t = Instant::now();
    let to_s = now_ms() / 1000 / 3600 * 3600 - 3600;
    let from_s = to_s - DAYS * 86_400;
    let instances: Vec<String> = (1..=INSTANCES)
        .map(|i| format!("10.0.0.{i}:9100"))
        .collect();
    let om = dir.join("history.om");
    let st = Command::new("bash")
        .arg(root.join("tests/fixture/history.sh"))
        .args([
            (from_s - 600).to_string(),
            to_s.to_string(),
            STEP_S.to_string(),
        ])
        .arg(root.join("tests/fixture/textfile/fixture.prom"))
        .args(&instances)
        .stdout(std::fs::File::create(&om).expect("om file"))
        .status()
        .expect("history.sh");
    assert!(st.success(), "history.sh failed");
    let generated = t.elapsed();
    let lines = std::fs::read_to_string(&om).expect("om").lines().count();
    let t = Instant::now();
    let out = Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics", "-q"])
        .arg("--max-block-duration=24h")
        .arg(&om)
        .arg(dir.join("source-data"))
        .output()
        .expect("promtool");
    assert!(
        out.status.success(),
        "promtool: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let backfilled = t.elapsed();
    let _ = std::fs::remove_file(&om);
    println!(
        "history: {} series x {} days at {STEP_S} s ({} samples): generated in {:.1} s, backfilled in {:.1} s",
        INSTANCES * 6,
        DAYS,
        lines - 5,
        generated.as_secs_f64(),
        backfilled.as_secs_f64()
    );

    let mut procs = Procs::default();
    let t = Instant::now();
    prometheus(
        &mut procs,
        dir,
        "source",
        PORT_SOURCE,
        "global:\n  scrape_interval: 1m\n",
        &[],
    );
    prometheus(
        &mut procs,
        dir,
        "sink",
        PORT_SINK,
        "global:\n  scrape_interval: 1m\nstorage:\n  tsdb:\n    out_of_order_time_window: 30d\n",
        &["--web.enable-remote-write-receiver"],
    );
    println!("two Prometheus ready in {:.1} s", t.elapsed().as_secs_f64());

    let rules_path = dir.join("rules.yml");
    let yaml = rules_yaml();
    std::fs::write(&rules_path, &yaml).expect("rules");
    let files = vec![RuleFile::parse("rules.yml", &yaml).expect("rules parse")];
    let window = Window {
        from_ms: from_s * 1000,
        to_ms: to_s * 1000,
    };

    // --- cutover ----------------------------------------------------------
    let cache = tempfile::tempdir().expect("cache");
    let t = Instant::now();
    let rt = Runtime::new(Some(cache.path())).expect("runtime");
    let plugin = Arc::new(
        rt.load_file(&plugin_path("prometheus"), None)
            .expect("load the prometheus adapter (scripts/build-plugins.sh)"),
    );
    let loaded = t.elapsed();
    let mut src = source(&rt, &plugin, PORT_SOURCE);
    let t = Instant::now();
    let e = evaluate(&files, &mut src, window, None).expect("backtest");
    let cutover_s = t.elapsed().as_secs_f64();
    let failed: Vec<_> = e.rules.iter().filter(|r| r.error.is_some()).collect();
    assert!(failed.is_empty(), "rules failed: {failed:#?}");
    let evaluations: u64 = e.rules.iter().map(|r| u64::from(r.evaluations)).sum();
    let samples: usize = e.rules.iter().map(|r| r.samples).sum();
    println!(
        "cutover: {RULES} rules x {} evaluations ({} days at 1m) in {cutover_s:.2} s through the prometheus adapter ({} query-range calls, {samples} samples returned, {} episodes); plugin load {:.2} s not included; target <= {TARGET_S} s: {}",
        evaluations / RULES as u64,
        DAYS,
        src.queries(),
        e.alerts.len(),
        loaded.as_secs_f64(),
        if cutover_s <= TARGET_S {
            "MET"
        } else {
            "MISSED"
        }
    );

    // --- vmalert's replay on the same rules and data -----------------------
    if !have("vmalert") {
        println!("vmalert: not installed (Debian's victoria-metrics package), no comparison");
        return;
    }
    let vm_log = dir.join("vmalert.log");
    let t = Instant::now();
    let out = Command::new("vmalert")
        .arg(format!("-rule={}", rules_path.display()))
        .arg(format!("-datasource.url=http://127.0.0.1:{PORT_SOURCE}"))
        .arg(format!("-remoteWrite.url=http://127.0.0.1:{PORT_SINK}"))
        .arg(format!("-httpListenAddr=127.0.0.1:{PORT_VMALERT}"))
        .arg(format!(
            "-replay.timeFrom={}",
            rfc3339_short(window.from_ms)
        ))
        .arg(format!("-replay.timeTo={}", rfc3339_short(window.to_ms)))
        .args([
            "-replay.disableProgressBar",
            "-replay.rulesDelay=0s",
            "-replay.maxDatapointsPerQuery=11000",
        ])
        .output()
        .expect("vmalert");
    let vmalert_s = t.elapsed().as_secs_f64();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    std::fs::write(&vm_log, &text).expect("vmalert log");
    assert!(
        out.status.success(),
        "vmalert failed ({}):\n{text}",
        out.status
    );
    let summary: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("replay") || l.contains("Imported") || l.contains("imported"))
        .collect();
    println!(
        "vmalert replay: {RULES} rules, same window and data, in {vmalert_s:.2} s ({})",
        summary.last().map_or("", |l| l.trim())
    );
    println!(
        "ratio: cutover {cutover_s:.2} s / vmalert {vmalert_s:.2} s = {:.2}",
        cutover_s / vmalert_s
    );

    // --- the same episodes? vmalert's ALERTS, read back through the adapter.
    let mut sink = source(&rt, &plugin, PORT_SINK);
    let until = Instant::now() + Duration::from_secs(20);
    let replayed = loop {
        let series = sink
            .query_range(
                r#"ALERTS{alertstate="firing"}"#,
                window.from_ms,
                window.to_ms,
                STEP_S * 1000,
            )
            .expect("ALERTS from the remote-write sink");
        let episodes = firing_episodes(&series, STEP_S * 1000, window.to_ms);
        if episodes.len() >= e.alerts.len() || Instant::now() > until {
            break episodes;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let opts = CompareOptions {
        ignore_labels: vec!["alertgroup".into()],
        tolerance: Duration::from_secs(60),
        ..CompareOptions::default()
    };
    let report = compare(&replayed, &e.alerts, &opts);
    // By `for`: rule i has `for` FORS[i % 4] and its index in its name.
    let mut by_for = [(0usize, 0usize, 0usize); 4];
    for (name, b) in &report.by_alertname {
        let i: usize = name[name.len() - 3..].parse().expect("rule index");
        let f = &mut by_for[i % 4];
        *f = (f.0 + b.old, f.1 + b.new, f.2 + b.matched);
    }
    for (k, (vm, cut, matched)) in by_for.iter().enumerate() {
        println!(
            "  rules with for: {:>3}: vmalert fired {vm} episodes, cutover {cut}, matched {matched}",
            FORS[k]
        );
    }
    for l in text
        .lines()
        .filter(|l| l.contains("\twarn\t") || l.contains("\terror\t"))
        .take(5)
    {
        println!("  vmalert: {l}");
    }
    println!(
        "agreement: vmalert fired {} episodes, cutover {}; {} matched within 1m (rate {:.3})",
        replayed.len(),
        e.alerts.len(),
        report.matched,
        report.match_rate.unwrap_or(0.0)
    );
}

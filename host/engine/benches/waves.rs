//! One wave phase over 10,000 services between two file-adapter systems:
//! their ~20,000 Prometheus alerting rules (two per service, one group per
//! service, in 20 files) moved in 40 waves of 250 services, 8 waves at a
//! time (5 batches), each batch's rules imported on top of the earlier ones
//! by the real `prometheus-rules` translator and its services compared
//! over a parallel-run window, with results per service, on 1,000,000
//! alerts a side (100 per service).
//!
//! `cargo bench -p cutover-engine --bench waves`; a quick run:
//! `CUTOVER_BENCH_SERVICES=1000 CUTOVER_BENCH_ALERTS_PER=10 cargo bench ...`.
//! Printed: services, waves, batches, rules, alerts compared (the parallel
//! runs' details), per-service results (the `by` breakdown of each batch's
//! JSON report), wall time in all and per batch (the journaled step
//! durations), peak RSS, journal records and bytes, and the latency of
//! `operator::status_summary` on the finished state (target <= 200 ms);
//! beside them the same alerts compared once by `cutover_compare::compare`
//! in memory (the hardware-limit comparison), measured in the same run.
//!
//! Plugin limits: the adapters get a `120s` deadline, the largest memory
//! allowed (`1GiB`, the runtime's `MAX_MEMORY_BYTES`) and a `1GiB` output
//! cap through `[plan] defaults`, the translator the same through its own
//! `limits` (`512MiB` of memory, as `benches/migrate.rs` gives it for
//! 10,000 rules, is too little for 20,000; the default 8 MiB output cap
//! refuses a batch's translation report and any poll of more than ~9,000
//! recorded alerts).
//!
//! The alerts carry the labels and annotations of a real Alertmanager alert
//! (alertname, severity, service, team, instance, job, namespace; summary,
//! description, runbook_url), named after the rules that fire them. Both
//! dumps are written before the run, so every alert starts a few seconds
//! before it (the new system a second or three after the old, with its own
//! fingerprints) and is still firing: each window clamps such starts to its
//! own opening (`episodes::compare_seen`), and every episode matches.
//!
//! The bench exits non-zero when the run does not complete or a figure is
//! not what the generated data implies.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::BufRead;
use std::path::Path;
use std::time::Instant;

use cutover_compare::{Alert as CompareAlert, AlertState, CompareOptions};
use cutover_engine::{
    Event, Mode, PluginBridge, RunOptions, RunOutcome, Runner, StateAt, StepDetails, operator,
};
use cutover_plan::{LoadedPlan, WavePlan};
use cutover_runtime::Runtime;
use cutover_state::FileJournal;
use cutover_test_kit::measure::{peak_rss_bytes, time_runs};
use cutover_test_kit::plan::{PlanBuilder, step};
use cutover_test_kit::repo_path;

const FILES: usize = 20;
const RULES_PER_SERVICE: usize = 2;
const WAVE_SIZE: usize = 250;
const MAX_PARALLEL: usize = 8;
const PHASE: &str = "full-migration";
/// The parallel runs' window and poll interval.
const WINDOW_MS: u64 = 2000;
const INTERVAL_MS: u64 = 1000;
const TARGET_STATUS_MS: f64 = 200.0;
const STATUS_RUNS: usize = 7;

#[path = "waves/data.rs"]
mod data;
use data::{fingerprint, fired, rule_files, service, write_alerts};

/// How big a run is: `CUTOVER_BENCH_SERVICES` (default 10,000) services,
/// `CUTOVER_BENCH_ALERTS_PER` (default 100) alerts each, on each side.
#[derive(Clone, Copy)]
struct Size {
    services: usize,
    alerts_per: usize,
}

fn env_count(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) => match v.trim().parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => panic!("{name}={v:?} is not a positive count"),
        },
        Err(_) => default,
    }
}

fn plan() -> String {
    let migrate = step(
        "move",
        "migrate",
        "from = \"old\"\nto = \"new\"\ntypes = [\"alert_rules\"]\ntranslate = \"prometheus-rules\"",
    );
    let compare = step(
        "compare",
        "parallel-run",
        &format!(
            "window = \"{WINDOW_MS}ms\"\ninterval = \"{INTERVAL_MS}ms\"\ntolerance = \"30s\"\nmin_match_rate = 0.99"
        ),
    );
    PlanBuilder::new("bench-waves")
        .plan_keys("defaults = { deadline = \"120s\", memory = \"1GiB\", output = \"1GiB\" }")
        .file_adapters("old", "new")
        .plugin(
            "prometheus-rules",
            "prometheus-rules",
            "limits = { deadline = \"120s\", memory = \"1GiB\", output = \"1GiB\" }",
        )
        .build(&format!(
            "\n[[phases]]\nid = \"{PHASE}\"\nname = \"Full migration\"\nrisk = \"low\"\n\
             rollback_point = false\nmax_parallel = {MAX_PARALLEL}\n\
             [phases.waves]\nlabel = \"service\"\nsize = {WAVE_SIZE}\nvalues_file = \"services.txt\"\n\
             {migrate}{compare}"
        ))
}

/// Writes the systems' data, the service list and the plan under `dir`.
/// Returns the rules, the rule bundle's size and the alert dumps' sizes.
fn write_inputs(dir: &Path, size: Size, base_ms: i64) -> (usize, u64, [u64; 2]) {
    for side in ["old", "new"] {
        std::fs::create_dir_all(dir.join(side)).expect("mkdir");
    }
    let files = rule_files(size);
    let rules = files
        .iter()
        .map(|(_, t)| t.matches("  - alert: ").count())
        .sum();
    let bundle: serde_json::Map<String, serde_json::Value> = files
        .iter()
        .map(|(n, t)| (n.clone(), serde_json::json!(t)))
        .collect();
    let bundle = serde_json::to_vec(&bundle).expect("json");
    std::fs::write(dir.join("old/alert_rules.json"), &bundle).expect("write bundle");
    let services: String = (0..size.services).map(|s| service(s) + "\n").collect();
    std::fs::write(dir.join("services.txt"), services).expect("services.txt");
    std::fs::write(dir.join("plan.toml"), plan()).expect("plan");
    (rules, bundle.len() as u64, write_alerts(dir, size, base_ms))
}

/// Rules the new system holds (its `alert_rules.json` bundle).
fn rules_landed(dir: &Path) -> usize {
    let Ok(bytes) = std::fs::read(dir.join("new/alert_rules.json")) else {
        return 0;
    };
    let bundle: BTreeMap<String, String> = serde_json::from_slice(&bytes).expect("a bundle");
    bundle
        .values()
        .map(|t| {
            t.lines()
                .filter(|l| l.trim_start().starts_with("- alert: "))
                .count()
        })
        .sum()
}

/// Results per service of one batch's JSON report (its `by` breakdown):
/// how many services, and how many of them with every episode matched.
#[derive(serde::Deserialize)]
struct ReportByLabel {
    by_label: Option<BTreeMap<String, Group>>,
}

#[derive(serde::Deserialize)]
struct Group {
    old: usize,
    matched: usize,
    missing: usize,
    extra: usize,
}

fn per_service(json_report: &str) -> (usize, usize) {
    let bytes = std::fs::read(json_report).expect("read report");
    let r: ReportByLabel = serde_json::from_slice(&bytes).expect("report json");
    let groups = r.by_label.unwrap_or_default();
    let clean = groups
        .values()
        .filter(|g| g.old > 0 && g.matched == g.old && g.missing == 0 && g.extra == 0)
        .count();
    (groups.len(), clean)
}

fn waves_of(loaded: &LoadedPlan) -> &WavePlan {
    loaded
        .plan
        .phases
        .iter()
        .find(|p| p.id == PHASE)
        .and_then(|p| p.waves.as_ref())
        .expect("the phase has waves")
}

/// What the journal holds: records, bytes, the largest record (one line),
/// parallel-poll records, and each step's journaled duration.
struct JournalFigures {
    records: u64,
    bytes: u64,
    largest: usize,
    polls: usize,
    durations: BTreeMap<String, u64>,
}

fn journal_figures(state: &StateAt, records: u64) -> JournalFigures {
    let path = state.dir.join(FileJournal::FILE_NAME);
    let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
    let mut largest = 0;
    let mut reader = std::io::BufReader::new(std::fs::File::open(&path).expect("journal"));
    let mut line = Vec::new();
    while reader.read_until(b'\n', &mut line).expect("read journal") > 0 {
        largest = largest.max(line.len());
        line.clear();
    }
    let mut polls = 0;
    let mut durations = BTreeMap::new();
    for r in operator::history(state).expect("history") {
        match Event::from_record(&r.kind, &r.payload) {
            Some(Event::ParallelPoll { .. }) => polls += 1,
            Some(Event::StepFinished {
                step, duration_ms, ..
            }) => {
                *durations.entry(step).or_insert(0) += duration_ms;
            }
            _ => {}
        }
    }
    JournalFigures {
        records,
        bytes,
        largest,
        polls,
        durations,
    }
}

/// The same alerts compared once in memory by `cutover_compare`, results
/// per service; returns the seconds `compare` took.
fn baseline(size: Size, base_ms: i64) -> f64 {
    let mut old = Vec::with_capacity(size.services * size.alerts_per);
    let mut new = Vec::with_capacity(size.services * size.alerts_per);
    for s in 0..size.services {
        for a in 0..size.alerts_per {
            let f = fired(s, a, base_ms);
            for (v, side, start) in [
                (&mut old, "old", f.old_start),
                (&mut new, "new", f.new_start),
            ] {
                v.push(CompareAlert {
                    labels: f.labels.clone(),
                    annotations: f.annotations.clone(),
                    starts_at: start,
                    ends_at: None,
                    state: AlertState::Active,
                    source: side.to_string(),
                    fingerprint: fingerprint(&f.labels, side),
                });
            }
        }
    }
    let opts = CompareOptions {
        breakdown_label: Some("service".into()),
        ..CompareOptions::default()
    };
    let t0 = Instant::now();
    let report = cutover_compare::compare(&old, &new, &opts);
    let secs = t0.elapsed().as_secs_f64();
    let services = report.by_label.as_ref().map_or(0, BTreeMap::len);
    println!(
        "baseline: cutover_compare::compare on the same {} + {} alerts in memory: {secs:.3} s; \
         {} matched, {} missing, {} extra; {services} services",
        old.len(),
        new.len(),
        report.matched,
        report.missing,
        report.extra
    );
    assert_eq!(
        report.matched,
        old.len(),
        "the baseline matches every alert"
    );
    secs
}

fn mib(b: u64) -> f64 {
    b as f64 / (1u64 << 20) as f64
}

fn main() {
    let size = Size {
        services: env_count("CUTOVER_BENCH_SERVICES", 10_000),
        alerts_per: env_count("CUTOVER_BENCH_ALERTS_PER", 100),
    };
    let alerts = size.services * size.alerts_per;
    let dir = tempfile::tempdir().expect("tempdir");
    let base_ms = cutover_base::time::now_ms();
    let t_gen = Instant::now();
    let (rules, bundle_bytes, [old_bytes, new_bytes]) = write_inputs(dir.path(), size, base_ms);
    println!(
        "inputs: {} services, {rules} rules in {} files (old/alert_rules.json {:.1} MiB), \
         {alerts} alerts a side (old/alerts.json {:.1} MiB, new/alerts.json {:.1} MiB), written in {:.1} s",
        size.services,
        FILES.min(size.services),
        mib(bundle_bytes),
        mib(old_bytes),
        mib(new_bytes),
        t_gen.elapsed().as_secs_f64()
    );

    let cache = repo_path("target/engine-test-cache");
    let rt = Runtime::new(Some(&cache)).expect("runtime");
    let loaded = match cutover_plan::load(&dir.path().join("plan.toml"), &PluginBridge::new(&rt)) {
        Ok(l) => l,
        Err(d) => panic!("plan rejected:\n{}", d.render_plain()),
    };
    let waves = waves_of(&loaded).clone();
    println!(
        "plan: {} waves of {} services, {} at once: {} batches ({} step instances)",
        waves.waves(),
        waves.size,
        waves.max_parallel,
        waves.batches.len(),
        waves.batches.iter().map(|b| b.steps.len()).sum::<usize>()
    );

    let t0 = Instant::now();
    let mut runner = Runner::open(&rt, &loaded, Mode::Run, RunOptions::default()).expect("open");
    let outcome = runner.execute().expect("execute");
    let run_s = t0.elapsed().as_secs_f64();
    let view = runner.view().clone();
    drop(runner);
    let peak = peak_rss_bytes();
    let state = StateAt::of_plan(&loaded).expect("state");
    let journal = journal_figures(&state, view.records);

    let mut problems = Vec::new();
    if outcome != RunOutcome::Completed {
        problems.push(format!("the run did not complete: {outcome:?}"));
    }
    let (mut compared_old, mut compared_new, mut matched) = (0, 0, 0);
    let (mut services, mut services_clean) = (0, 0);
    let (mut compare_ms, mut compared_runs) = (0, 0);
    for b in &waves.batches {
        let mut line = if b.first_wave == b.last_wave {
            format!("  wave {} ({} services):", b.first_wave, b.services)
        } else {
            format!(
                "  waves {}-{} ({} services):",
                b.first_wave, b.last_wave, b.services
            )
        };
        let mut batch_ms = 0;
        for (_, id) in &b.steps {
            let ms = journal.durations.get(id).copied().unwrap_or(0);
            batch_ms += ms;
            let Some(sv) = view.steps.get(id) else {
                let _ = write!(line, " {id} not started;");
                continue;
            };
            let _ = write!(line, " {id} {:?} {:.2} s;", sv.status, ms as f64 / 1000.0);
            if let StepDetails::ParallelRun(p) = &sv.details {
                compare_ms += ms;
                compared_runs += 1;
                compared_old += p.total_old;
                compared_new += p.total_new;
                matched += p.matched;
                let json = p.reports.iter().flatten().find(|f| f.ends_with(".json"));
                match json {
                    Some(f) => {
                        let (n, clean) = per_service(f);
                        services += n;
                        services_clean += clean;
                        let _ = write!(
                            line,
                            " {} + {} alerts, {} matched, {} polls, {n} services ({clean} all matched);",
                            p.total_old, p.total_new, p.matched, p.polls
                        );
                    }
                    None => {
                        problems.push(format!("{id} wrote no JSON report: {:?}", p.report_error))
                    }
                }
            } else if !sv.summary.is_empty() {
                let _ = write!(line, " ({})", sv.summary);
            }
        }
        println!("{line} batch {:.2} s", batch_ms as f64 / 1000.0);
    }
    let landed = rules_landed(dir.path());
    println!(
        "run: {outcome:?} in {run_s:.2} s; {landed} of {rules} rules on the new system; \
         {compared_old} old + {compared_new} new alerts compared ({matched} matched) in the parallel runs' \
         {:.2} s; {services} per-service results ({services_clean} services with every alert matched)",
        compare_ms as f64 / 1000.0
    );
    if outcome == RunOutcome::Completed {
        for (what, got, want) in [
            ("rules on the new system", landed, rules),
            ("old alerts compared", compared_old, alerts),
            ("new alerts compared", compared_new, alerts),
            ("alerts matched", matched, alerts),
            ("per-service results", services, size.services),
            (
                "services with every alert matched",
                services_clean,
                size.services,
            ),
        ] {
            if got != want {
                problems.push(format!("{what}: {got}, expected {want}"));
            }
        }
    }
    println!(
        "memory: peak RSS {}",
        peak.map_or("unknown".to_string(), |b| format!("{:.0} MiB", mib(b)))
    );
    println!(
        "journal: {} records ({} parallel-poll records), {:.1} MiB, largest record {:.2} MiB",
        journal.records,
        journal.polls,
        mib(journal.bytes),
        mib(journal.largest as u64)
    );
    let status = time_runs(STATUS_RUNS, || {
        operator::status_summary(&state).expect("status")
    });
    println!(
        "status: operator::status_summary on the finished state {:.1} ms (median of {STATUS_RUNS}, \
         min {:.1}, max {:.1}); {} steps; target <= {TARGET_STATUS_MS} ms: {}",
        status.median_ms,
        status.min_ms,
        status.max_ms,
        status.last.steps.len(),
        if status.median_ms <= TARGET_STATUS_MS {
            "met"
        } else {
            "NOT met"
        }
    );
    drop(status);
    let direct = baseline(size, base_ms);
    // Each parallel run spends its window waiting whatever the load: the
    // engine's own work is the rest.
    let windows_s = (compared_runs * WINDOW_MS) as f64 / 1000.0;
    println!(
        "ratio: engine run / direct compare = {:.1}; parallel-run steps / direct compare = {:.1} \
         ({compared_runs} windows of {} s in them; without: {:.1})",
        run_s / direct,
        compare_ms as f64 / 1000.0 / direct,
        WINDOW_MS / 1000,
        (compare_ms as f64 / 1000.0 - windows_s).max(0.0) / direct
    );
    if !problems.is_empty() {
        eprintln!("waves bench FAILED:");
        for p in &problems {
            eprintln!("  - {p}");
        }
        std::process::exit(1);
    }
}

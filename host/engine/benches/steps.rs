//! 1,000 no-op steps, every record durable when the run returns (group
//! commit: records of steps without effects, or idempotent ones, share
//! fsyncs; see `runner/commit.rs`).
//!
//! `cargo bench -p cutover-engine --bench steps`. Target: <= 2 s for 1,000
//! `wait 0s` steps, printed next to the time of 1,000 fsyncs on the same
//! disk. Also reports 1,000 idempotent `noop-action` plugin steps (one
//! sandboxed call each) for reference. `--bench state_scale` runs the same
//! on PostgreSQL.

use std::time::Instant;

use cutover_engine::{Mode, PluginBridge, RunOptions, RunOutcome, Runner};
use cutover_runtime::Runtime;
use cutover_test_kit::plan::{PlanBuilder, dir_grant};
use cutover_test_kit::repo_path;

const STEPS: usize = 1000;
const TARGET_S: f64 = 2.0;

fn plan(step: &str) -> String {
    let mut s = PlanBuilder::new("bench")
        .plugin("noop", "noop-action", "")
        .plugin("file", "file-adapter", &dir_grant("data", "data", true))
        .systems("file", "file")
        .build("\n[[phases]]\nid = \"p\"\nname = \"P\"\nrisk = \"low\"\nrollback_point = false\n");
    for i in 0..STEPS {
        s.push_str(&format!("[[phases.steps]]\nid = \"s{i}\"\n{step}\n"));
    }
    s
}

fn run(rt: &Runtime, label: &str, step: &str) -> Option<f64> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("plan.toml");
    // The systems' file adapters need their data directory: the runner
    // checks both systems' health when the phase starts.
    std::fs::create_dir_all(dir.path().join("data")).expect("data dir");
    std::fs::write(&path, plan(step)).expect("write plan");
    let loaded = match cutover_plan::load(&path, &PluginBridge::new(rt)) {
        Ok(l) => l,
        Err(d) => {
            eprintln!("{label}: plan rejected:\n{}", d.render_plain());
            return None;
        }
    };
    let t0 = Instant::now();
    let mut runner = Runner::open(rt, &loaded, Mode::Run, RunOptions::default()).expect("open");
    let out = runner.execute().expect("execute");
    let secs = t0.elapsed().as_secs_f64();
    assert_eq!(out, RunOutcome::Completed);
    println!(
        "{label}: {STEPS} steps in {secs:.3} s ({:.3} ms/step, {} journal records)",
        secs * 1000.0 / STEPS as f64,
        runner.view().records
    );
    Some(secs)
}

/// The device floor: 1,000 x (write 200 B + fdatasync) on the same filesystem.
fn floor() -> f64 {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.path().join("raw.log"))
        .expect("open");
    let t0 = Instant::now();
    for _ in 0..STEPS {
        f.write_all(&[b'x'; 200]).expect("write");
        f.sync_data().expect("fdatasync");
    }
    let secs = t0.elapsed().as_secs_f64();
    println!("device floor: {STEPS} x (write + fdatasync) in {secs:.3} s (info)");
    secs
}

fn main() {
    let floor = floor();
    let cache = repo_path("target/engine-test-cache");
    let rt = Runtime::new(Some(&cache)).expect("runtime");
    let wait = run(&rt, "wait 0s", "kind = \"wait\"\nduration = \"0s\"");
    run(
        &rt,
        "noop-action",
        "kind = \"action\"\nplugin = \"noop\"\nidempotent = true",
    );
    if let Some(secs) = wait {
        println!(
            "target: {STEPS} no-op steps <= {TARGET_S} s: {} ({secs:.3} s; {:.2}x the time of {STEPS} fsyncs: \
             group commit shares them)",
            if secs <= TARGET_S { "met" } else { "NOT met" },
            secs / floor
        );
    }
}

//! A SIGKILL torture run: `cutover run`/`resume` killed at random fifty
//! times loses nothing and never runs a non-idempotent step twice.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use cutover_base::exit::ExitClass;
use cutover_test_kit::rng::Rng;

use super::*;

fn kill9(child: &mut Child) -> bool {
    let alive = matches!(child.try_wait(), Ok(None));
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    alive
}

#[test]
fn sigkill_torture_loses_nothing_and_never_repeats_a_non_idempotent_step() {
    const PHASES: usize = 3;
    const STEPS: usize = 120;
    let mut body = String::new();
    for p in 0..PHASES {
        body.push_str(&format!(
            "\n[[phases]]\nid = \"p{p}\"\nname = \"P{p}\"\nrisk = \"low\"\nrollback_point = false\n"
        ));
        for s in 0..STEPS {
            let step = if s % 3 == 2 {
                "kind = \"wait\"\nduration = \"25ms\"".to_string()
            } else {
                // Actions default to non-idempotent; every other one says so explicitly.
                format!(
                    "kind = \"action\"\nplugin = \"noop\"\nparams = {{ n = {s} }}\nidempotent = {}",
                    s % 3 == 1
                )
            };
            body.push_str(&format!("[[phases.steps]]\nid = \"p{p}-s{s}\"\n{step}\n"));
        }
    }
    let tmp = fixture(&body);
    let dir = tmp.path();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    eprintln!("torture seed {seed}");
    let mut rng = Rng::seeded(seed);
    let t0 = Instant::now();
    let (mut kills, mut attention, mut started) = (0, 0, false);
    let mut completed = false;
    while kills < 50 {
        assert!(
            t0.elapsed() < Duration::from_secs(150),
            "torture took too long ({kills} kills)"
        );
        // `resume` once a run exists (the first `run` may be killed before it records one).
        // Only a whole line counts: a kill in the middle of the (large)
        // first record leaves a torn line that the next runner cuts.
        started = started
            || std::fs::read_to_string(dir.join(".state/journal.log")).is_ok_and(|j| {
                j.split_inclusive('\n')
                    .any(|l| l.ends_with('\n') && l.contains("\"run-started\""))
            });
        let cmd = if started { "resume" } else { "run" };
        let mut child = cutover(dir)
            .args([cmd, "plan.toml"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(Duration::from_millis(10 + rng.below(120)));
        if kill9(&mut child) {
            kills += 1;
            continue;
        }
        match child.wait().ok().and_then(|s| s.code()).and_then(class) {
            Some(ExitClass::Ok) => {
                completed = true;
                break;
            }
            Some(ExitClass::Paused) => {
                let s = status_json(dir);
                let target = s["waiting_for"].as_str().expect("waiting for").to_string();
                expect(
                    &run(dir, &["approve", "plan.toml", &target, "--by", "torture"]),
                    ExitClass::Ok.into(),
                );
                attention += 1;
            }
            other => panic!("unexpected exit {other:?} (seed {seed})"),
        }
    }
    assert!(
        !completed || kills >= 50,
        "the run completed after only {kills} kills: make it longer"
    );
    // Finish.
    loop {
        let o = run(dir, &["resume", "plan.toml"]);
        match class(code(&o)) {
            Some(ExitClass::Ok) => break,
            Some(ExitClass::Paused) => {
                let target = status_json(dir)["waiting_for"]
                    .as_str()
                    .expect("target")
                    .to_string();
                expect(
                    &run(dir, &["approve", "plan.toml", &target, "--by", "torture"]),
                    ExitClass::Ok.into(),
                );
                attention += 1;
            }
            _ => {
                let journal =
                    std::fs::read_to_string(dir.join(".state/journal.log")).unwrap_or_default();
                let head: String = journal
                    .lines()
                    .take(3)
                    .map(|l| &l[..l.len().min(200)])
                    .collect::<Vec<_>>()
                    .join("\n");
                let files = std::fs::read_dir(dir.join(".state"))
                    .map(|d| {
                        d.filter_map(|e| e.ok())
                            .map(|e| e.file_name().to_string_lossy().into_owned())
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default();
                panic!(
                    "resume failed (seed {seed})\n{}\n{}\njournal: {} lines, {} bytes; state files {files:?}; first lines:\n{head}",
                    out(&o),
                    err(&o),
                    journal.lines().count(),
                    journal.len()
                )
            }
        }
    }
    eprintln!(
        "torture: {kills} kills, {attention} needs-attention approvals, {:?}",
        t0.elapsed()
    );

    // The journal opens (hash chain verified by `history`) and tells the story.
    let h = run(dir, &["history", "plan.toml", "--json"]);
    expect(&h, ExitClass::Ok.into());
    let records: Vec<serde_json::Value> = serde_json::from_str(&out(&h)).expect("json");
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r["seq"].as_u64(), Some(i as u64 + 1), "contiguous seqs");
    }
    for p in 0..PHASES {
        for s in 0..STEPS {
            let id = format!("p{p}-s{s}");
            let of = |kind: &str| {
                records
                    .iter()
                    .filter(|r| r["kind"] == kind && r["payload"]["step"] == id.as_str())
                    .collect::<Vec<_>>()
            };
            let finished = of("step-finished");
            assert_eq!(
                finished.len(),
                1,
                "{id}: exactly one step-finished (seed {seed})"
            );
            let status = finished[0]["payload"]["status"].as_str().unwrap_or("");
            let non_idempotent = s % 3 == 0;
            if non_idempotent {
                assert!(
                    of("step-started").len() <= 1,
                    "{id} (non-idempotent) started twice (seed {seed})"
                );
                assert!(matches!(status, "succeeded" | "skipped"), "{id}: {status}");
            } else {
                assert_eq!(status, "succeeded", "{id}");
            }
        }
    }
    let recovered = records
        .iter()
        .filter(|r| r["kind"] == "lease-recovered")
        .count();
    let interrupted = records
        .iter()
        .filter(|r| r["kind"] == "needs-attention")
        .count();
    eprintln!("torture: {recovered} stale leases recovered, {interrupted} needs-attention records");
    assert!(
        recovered > 0,
        "no kill landed while a runner held the lease (seed {seed})"
    );
    assert_eq!(status_json(dir)["status"], "completed");
}

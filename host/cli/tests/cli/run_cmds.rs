//! `cutover run | resume | status | approve | abort | pause | history |
//! unlock` on a plan: the offline demo end to end, gates, stale plans,
//! corrupt journals, the lease of a live runner.

use std::path::Path;

use cutover_base::exit::ExitClass;
use cutover_test_kit::plan::with_built_plugins;

use super::*;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).expect("copy");
        }
    }
}

#[test]
fn offline_demo_runs_to_completion() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let plans = tmp.path().join("plans");
    copy_dir(&root().join("plans/demo-data"), &plans.join("demo-data"));
    let src = std::fs::read_to_string(root().join("plans/offline-demo.toml")).expect("demo plan");
    std::fs::write(plans.join("offline-demo.toml"), with_built_plugins(&src)).expect("write");
    let plan = "plans/offline-demo.toml";
    expect(
        &run(tmp.path(), &["plugin", "lock", plan]),
        ExitClass::Ok.into(),
    );

    // The demo's story (scripts/demo.sh): preparation waits for a person to
    // confirm the backups; the non-critical pilot's gate stops on the 2
    // missing alerts; the new system's corrected recording fixes it; two
    // more manual items are confirmed by name; the run completes.
    let o = run_expect(tmp.path(), &["run", plan], ExitClass::Paused.into());
    assert_has(&out(&o), "critical checklist item 0");
    run_expect(
        tmp.path(),
        &["approve", plan, "preparation", "--item", "0", "--by", "op"],
        ExitClass::Ok.into(),
    );
    let o = run_expect(tmp.path(), &["resume", plan], ExitClass::Paused.into());
    assert_has(&out(&o), "missing on the new one");
    assert_has(&out(&o), "DiskAlmostFull");
    assert_has(&err(&o), "parallel-noncritical: poll 1/4");
    assert_has(&err(&o), "match rate 66.7%");
    for f in ["alerts.json", "alert_rules.yml"] {
        std::fs::copy(
            plans.join("demo-data/new-fixed").join(f),
            plans.join("demo-data/new").join(f),
        )
        .expect("fix");
    }
    run_expect(tmp.path(), &["resume", plan], ExitClass::Paused.into());
    run_expect(
        tmp.path(),
        &[
            "approve",
            plan,
            "full-migration",
            "--item",
            "0",
            "--by",
            "op",
        ],
        ExitClass::Ok.into(),
    );
    run_expect(tmp.path(), &["resume", plan], ExitClass::Paused.into());
    run_expect(
        tmp.path(),
        &["approve", plan, "decommission", "--item", "0", "--by", "op"],
        ExitClass::Ok.into(),
    );
    let o = run_expect(tmp.path(), &["resume", plan], ExitClass::Ok.into());
    assert_has(&out(&o), "run completed: every phase passed");

    let o = run(tmp.path(), &["status", plan, "--json"]);
    expect(&o, ExitClass::Ok.into());
    let s: serde_json::Value = serde_json::from_str(&out(&o)).expect("json");
    assert_eq!(s["status"], "completed");
    assert!(
        s["fingerprint"]
            .as_str()
            .is_some_and(|f| f.starts_with("sha256:"))
    );
    let phases = s["phases"].as_array().expect("phases");
    assert_eq!(phases.len(), 5);
    assert!(phases.iter().all(|p| p["status"] == "passed"), "{phases:?}");
    for id in ["parallel-noncritical", "parallel-core", "parallel-full"] {
        let step = phases
            .iter()
            .flat_map(|p| p["steps"].as_array().expect("steps"))
            .find(|s| s["id"] == id)
            .expect("step");
        assert_eq!(step["status"], "succeeded", "{id} gates: {step}");
    }

    let text = run(tmp.path(), &["status", plan]);
    assert!(out(&text).contains("match rate  100.0%"), "{}", out(&text));

    let h = run(tmp.path(), &["history", plan, "--json"]);
    expect(&h, ExitClass::Ok.into());
    let records: Vec<serde_json::Value> = serde_json::from_str(&out(&h)).expect("history json");
    let finished: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| r["kind"] == "step-finished")
        .collect();
    assert_eq!(
        finished.len(),
        16,
        "every step of the demo finished once, the stopped pilot run twice"
    );
    let noop = finished
        .iter()
        .find(|r| r["payload"]["step"] == "route-all")
        .expect("route-all");
    assert_eq!(noop["payload"]["plugin"], "noop-action");
    assert_eq!(noop["payload"]["digest"].as_str().map(str::len), Some(64));
    let h = run(tmp.path(), &["history", plan]);
    assert!(
        out(&h).contains("pilot-core/route-core succeeded in"),
        "{}",
        out(&h)
    );

    // Running a finished plan again reports it and does nothing.
    let again = run(tmp.path(), &["run", plan]);
    expect(&again, ExitClass::Ok.into());
    assert!(
        err(&again).contains("had already finished"),
        "{}",
        err(&again)
    );
    let after: Vec<serde_json::Value> =
        serde_json::from_str(&out(&run(tmp.path(), &["history", plan, "--json"]))).expect("json");
    assert_eq!(after.len(), records.len());
}

#[test]
fn gate_pauses_until_approve_and_resume() {
    let tmp = fixture(GATED);
    let dir = tmp.path();
    let o = run(dir, &["run", "plan.toml"]);
    expect(&o, ExitClass::Paused.into());
    assert!(
        out(&o).contains("awaiting approval of two (ready for two?)"),
        "{}",
        out(&o)
    );
    let s = status_json(dir);
    assert_eq!(s["status"], "paused");
    assert_eq!(s["waiting_for"], "two");

    let o = run(dir, &["approve", "plan.toml", "two", "--by", "mallory"]);
    expect(&o, ExitClass::Usage.into());
    assert!(
        err(&o).contains("mallory may not approve phase two"),
        "{}",
        err(&o)
    );
    let o = run(dir, &["approve", "plan.toml", "nope"]);
    expect(&o, ExitClass::Usage.into());

    let o = run(dir, &["approve", "plan.toml", "two", "--by", "alice"]);
    expect(&o, ExitClass::Ok.into());
    assert!(out(&o).contains("approved two by alice"), "{}", out(&o));
    let o = run(dir, &["resume", "plan.toml"]);
    expect(&o, ExitClass::Ok.into());
    assert_eq!(status_json(dir)["status"], "completed");
    let h = out(&run(dir, &["history", "plan.toml"]));
    assert!(h.contains("approved") && h.contains("two by alice"), "{h}");
}

#[test]
fn resume_without_a_run_is_a_usage_error() {
    let tmp = fixture(GATED);
    let o = run(tmp.path(), &["resume", "plan.toml"]);
    expect(&o, ExitClass::Usage.into());
    assert!(err(&o).contains("no run has been started"), "{}", err(&o));
}

#[test]
fn stale_plan_is_refused_and_replan_accepted() {
    let tmp = fixture(GATED);
    let dir = tmp.path();
    expect(&run(dir, &["run", "plan.toml"]), ExitClass::Paused.into());
    let plan = dir.join("plan.toml");
    let text = std::fs::read_to_string(&plan).expect("read");
    std::fs::write(
        &plan,
        text.replace("params = { x = 1 }", "params = { x = 2 }"),
    )
    .expect("write");
    let o = run(dir, &["resume", "plan.toml"]);
    expect(&o, ExitClass::State.into());
    assert!(
        err(&o).contains("phase `two`: step `s2` changed"),
        "{}",
        err(&o)
    );
    assert!(err(&o).contains("--replan"), "{}", err(&o));
    let o = run(dir, &["resume", "plan.toml", "--replan"]);
    expect(&o, ExitClass::Paused.into());
    let h = out(&run(dir, &["history", "plan.toml"]));
    assert!(h.contains("replanned"), "{h}");
}

#[test]
fn corrupt_journal_is_reported_with_its_position() {
    let tmp = fixture(GATED);
    let dir = tmp.path();
    expect(&run(dir, &["run", "plan.toml"]), ExitClass::Paused.into());
    let path = dir.join(".state/journal.log");
    let mut bytes = std::fs::read(&path).expect("read");
    let start = bytes[..bytes.len() - 1]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    bytes[start + 12] ^= 0x04;
    std::fs::write(&path, &bytes).expect("write");
    for args in [&["resume", "plan.toml"][..], &["status", "plan.toml"][..]] {
        let o = run(dir, args);
        expect(&o, ExitClass::State.into());
        assert!(
            err(&o).contains(&format!("corrupt at byte offset {start}")),
            "{}",
            err(&o)
        );
    }
}

#[test]
fn abort_ends_the_run() {
    let tmp = fixture(GATED);
    let dir = tmp.path();
    expect(&run(dir, &["run", "plan.toml"]), ExitClass::Paused.into());
    let o = run(dir, &["abort", "plan.toml", "--reason", "change freeze"]);
    expect(&o, ExitClass::Ok.into());
    assert!(out(&o).contains("abort recorded"), "{}", out(&o));
    let o = run(dir, &["resume", "plan.toml"]);
    expect(&o, ExitClass::Aborted.into());
    assert!(
        out(&o).contains("run aborted: change freeze"),
        "{}",
        out(&o)
    );
    assert_eq!(status_json(dir)["status"], "aborted");
}

#[test]
fn live_runner_holds_the_lease_and_stops_on_pause() {
    let steps = [wait_step("long", "3s"), noop_step("after")];
    let tmp = fixture(&phase("one", "One", "rollback_point = false", &steps));
    let dir = tmp.path();
    let first = spawn_run_until_waiting(dir);
    let o = run(dir, &["run", "plan.toml"]);
    expect(&o, ExitClass::State.into());
    assert!(err(&o).contains("lease held by"), "{}", err(&o));
    assert!(
        err(&o).contains(&format!("pid {}", first.id())),
        "{}",
        err(&o)
    );

    let o = run(dir, &["pause", "plan.toml", "--reason", "lunch"]);
    expect(&o, ExitClass::Ok.into());
    assert!(out(&o).contains("pause requested"), "{}", out(&o));
    let o = first.wait_with_output().expect("wait");
    expect(&o, ExitClass::Paused.into());
    assert!(out(&o).contains("paused: lunch"), "{}", out(&o));
    assert_eq!(status_json(dir)["status"], "paused");

    let o = run(dir, &["resume", "plan.toml"]);
    expect(&o, ExitClass::Ok.into());
    let s = status_json(dir);
    assert_eq!(s["phases"][0]["steps"][1]["status"], "succeeded");
}

#[test]
fn unlock_requires_force_and_is_journaled() {
    let tmp = fixture(GATED);
    let dir = tmp.path();
    expect(&run(dir, &["run", "plan.toml"]), ExitClass::Paused.into());
    expect(
        &run(dir, &["unlock", "plan.toml", "--reason", "x"]),
        ExitClass::Usage.into(),
    );
    let o = run(
        dir,
        &["unlock", "plan.toml", "--force", "--reason", "host gone"],
    );
    expect(&o, ExitClass::Ok.into());
    let h = out(&run(dir, &["history", "plan.toml"]));
    assert!(h.contains("unlocked") && h.contains("host gone"), "{h}");
}

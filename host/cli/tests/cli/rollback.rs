//! `cutover rollback --to POINT` and `cutover approve PLAN rollback:POINT`
//! through the file adapter: verify then apply, the approval gate, `--now`,
//! `--dry-run`, a corrupt point refused, an interrupted rollback resumed, the
//! lease, and what the journal, `status` and `history` show.

use std::path::Path;
use std::process::Stdio;

use super::{cutover, err, expect, fixture, out, run, status_json, wait_for};

/// One phase with a step; its end captures `after-one` (`.old` + `.new`).
const ONE_PHASE: &str = r#"
[[phases]]
id = "one"
name = "One"
risk = "low"
rollback_point = { categories = ["configurations", "user_permissions"] }
[[phases.steps]]
id = "s1"
kind = "action"
plugin = "noop"
"#;

/// Phase one captures `after-one`; phase two waits at a gate.
const ONE_THEN_GATE: &str = r#"
[[phases]]
id = "one"
name = "One"
risk = "low"
rollback_point = { categories = ["configurations", "user_permissions"] }
[[phases.steps]]
id = "s1"
kind = "action"
plugin = "noop"

[[phases]]
id = "two"
name = "Two"
risk = "low"
rollback_point = false
gate = { approvers = ["alice"], message = "ready for two?" }
[[phases.steps]]
id = "s2"
kind = "action"
plugin = "noop"
"#;

fn state(dir: &Path, side: &str, category: &str) -> String {
    std::fs::read_to_string(dir.join(side).join(format!("state/{category}.json")))
        .unwrap_or_else(|e| panic!("{side}/state/{category}.json: {e}"))
}

fn set_state(dir: &Path, side: &str, category: &str, text: &str) {
    std::fs::create_dir_all(dir.join(side).join("state")).expect("mkdir state");
    std::fs::write(dir.join(side).join(format!("state/{category}.json")), text)
        .expect("write state");
}

/// Adds `[plan] rollback_approvers` to the fixture's plan.
fn require_approval(dir: &Path, approvers: &str) {
    let p = dir.join("plan.toml");
    let text = std::fs::read_to_string(&p).expect("plan");
    let text = text.replacen(
        "state_dir = \".state\"\n",
        &format!("state_dir = \".state\"\nrollback_approvers = {approvers}\n"),
        1,
    );
    std::fs::write(&p, text).expect("write plan");
}

fn history_json(dir: &Path) -> Vec<serde_json::Value> {
    let o = run(dir, &["history", "plan.toml", "--json"]);
    expect(&o, 0);
    serde_json::from_str(&out(&o)).expect("history json")
}

fn kinds(dir: &Path) -> Vec<String> {
    history_json(dir)
        .iter()
        .map(|r| r["kind"].as_str().unwrap_or("").to_string())
        .collect()
}

/// The payload of the last record of `kind`.
fn last(dir: &Path, kind: &str) -> serde_json::Value {
    history_json(dir)
        .into_iter()
        .rev()
        .find(|r| r["kind"] == kind)
        .map(|r| r["payload"].clone())
        .unwrap_or_else(|| panic!("no {kind} record"))
}

/// Both systems with state v1, then the run (completing, or pausing at the gate).
fn run_to_point(body: &str, want: i32) -> tempfile::TempDir {
    let tmp = fixture(body);
    let dir = tmp.path();
    for side in ["old", "new"] {
        set_state(dir, side, "configurations", &format!(r#"{{"{side}":1}}"#));
        set_state(dir, side, "user_permissions", r#"{"u":1}"#);
    }
    expect(&run(dir, &["run", "plan.toml"]), want);
    for side in ["old", "new"] {
        set_state(dir, side, "configurations", &format!(r#"{{"{side}":2}}"#));
        set_state(dir, side, "user_permissions", r#"{"u":2}"#);
    }
    tmp
}

#[test]
fn rollback_applies_after_verifying_and_the_journal_shows_it() {
    let tmp = run_to_point(ONE_PHASE, 0);
    let dir = tmp.path();
    assert_eq!(status_json(dir)["status"], "completed");

    let o = run(
        dir,
        &[
            "rollback",
            "--plan",
            "plan.toml",
            "--to",
            "after-one",
            "--by",
            "bob",
        ],
    );
    expect(&o, 0);
    let text = out(&o);
    assert!(
        text.contains("old system: after-one.old (verified before applying)"),
        "{text}"
    );
    assert!(
        text.contains("new system: after-one.new (verified before applying)"),
        "{text}"
    );
    assert!(text.contains("ok      configurations"), "{text}");
    assert!(
        text.contains("rolled back to after-one by bob (journal seq"),
        "{text}"
    );
    assert_eq!(err(&o), "");
    for side in ["old", "new"] {
        assert_eq!(
            state(dir, side, "configurations"),
            format!(r#"{{"{side}":1}}"#)
        );
        assert_eq!(state(dir, side, "user_permissions"), r#"{"u":1}"#);
    }

    // Journal: one rolled-back record with results per system and category.
    let p = last(dir, "rolled-back");
    assert_eq!(p["point"], "after-one");
    assert_eq!(p["by"], "bob");
    assert_eq!(p["now"], false);
    for side in ["old", "new"] {
        let r = &p["results"][side];
        assert_eq!(r["point"], format!("after-one.{side}"));
        assert_eq!(r["ok"], true);
        let cats: Vec<(&str, bool)> = r["categories"]
            .as_array()
            .expect("categories")
            .iter()
            .map(|c| (c["category"].as_str().unwrap_or(""), c["ok"] == true))
            .collect();
        assert_eq!(cats, [("configurations", true), ("user_permissions", true)]);
    }
    // A finished run: no second run-finished, and it now reads rolled back.
    assert_eq!(
        kinds(dir).iter().filter(|k| *k == "run-finished").count(),
        1
    );
    let s = status_json(dir);
    assert_eq!(s["status"], "rolled-back");
    assert_eq!(s["rollbacks"][0]["by"], "bob");
    assert_eq!(s["rollbacks"][0]["ok"], true);
    let st = out(&run(dir, &["status", "plan.toml"]));
    assert!(st.contains("status      rolled-back"), "{st}");
    assert!(st.contains("rollback    to after-one by bob: done"), "{st}");
    let h = out(&run(dir, &["history", "plan.toml"]));
    assert!(
        h.contains("rolled-back")
            && h.contains(
                "to after-one by bob: new: [configurations ok, user_permissions ok]; old: [configurations ok, user_permissions ok]"
            ),
        "{h}"
    );
    // The run is over: run reports it and runs nothing.
    let o = run(dir, &["run", "plan.toml"]);
    expect(&o, 6);
    assert!(
        err(&o).contains("this run had already finished"),
        "{}",
        err(&o)
    );
}

#[test]
fn gated_rollback_is_requested_then_approved_then_applied() {
    let tmp = run_to_point(ONE_THEN_GATE, 5);
    let dir = tmp.path();
    require_approval(dir, r#"["sre-lead", "oncall"]"#);
    assert_eq!(status_json(dir)["status"], "paused");

    // 1. Requested, not applied: exit 5 with the exact approve commands.
    let o = run(
        dir,
        &[
            "rollback",
            "--plan",
            "plan.toml",
            "--to",
            "after-one",
            "--by",
            "bob",
            "--reason",
            "pages are lost",
        ],
    );
    expect(&o, 5);
    let text = out(&o);
    assert!(
        text.contains("rollback to after-one requested (journal seq")
            && text.contains("it needs an approval by one of: sre-lead, oncall"),
        "{text}"
    );
    assert!(
        text.contains("  cutover approve plan.toml rollback:after-one --by sre-lead\n"),
        "{text}"
    );
    assert!(
        text.contains("  cutover approve plan.toml rollback:after-one --by oncall\n"),
        "{text}"
    );
    assert!(
        text.contains("then apply it with: cutover rollback --plan plan.toml --to after-one"),
        "{text}"
    );
    assert_eq!(
        err(&o),
        "paused: rollback to after-one awaits approval; nothing was applied\n"
    );
    assert_eq!(state(dir, "old", "configurations"), r#"{"old":2}"#);
    let req = last(dir, "rollback-requested");
    assert_eq!(req["point"], "after-one");
    assert_eq!(req["by"], "bob");
    assert_eq!(req["reason"], "pages are lost");
    assert_eq!(req["approvers"], serde_json::json!(["sre-lead", "oncall"]));
    let st = out(&run(dir, &["status", "plan.toml"]));
    assert!(
        st.contains("rollback    to after-one requested by bob, awaiting approval: cutover approve plan.toml rollback:after-one --by <sre-lead|oncall>"),
        "{st}"
    );

    // Asking again does not journal a second request.
    let o = run(
        dir,
        &["rollback", "--plan", "plan.toml", "--to", "after-one"],
    );
    expect(&o, 5);
    assert!(out(&o).contains("already requested"), "{}", out(&o));
    assert_eq!(
        kinds(dir)
            .iter()
            .filter(|k| *k == "rollback-requested")
            .count(),
        1
    );

    // 2. Only an approver may approve; the run's gate approvers may not.
    let o = run(
        dir,
        &[
            "approve",
            "plan.toml",
            "rollback:after-one",
            "--by",
            "alice",
        ],
    );
    expect(&o, 2);
    assert!(
        err(&o).contains(
            "alice may not approve rollback:after-one: rollback approvers are sre-lead, oncall"
        ),
        "{}",
        err(&o)
    );
    let o = run(
        dir,
        &[
            "approve",
            "plan.toml",
            "rollback:nowhere",
            "--by",
            "sre-lead",
        ],
    );
    expect(&o, 2);
    assert!(
        err(&o).contains("no rollback to nowhere is waiting for approval"),
        "{}",
        err(&o)
    );
    let o = run(
        dir,
        &[
            "approve",
            "plan.toml",
            "rollback:after-one",
            "--by",
            "sre-lead",
        ],
    );
    expect(&o, 0);
    assert!(
        out(&o).contains("approved rollback:after-one by sre-lead (journal seq"),
        "{}",
        out(&o)
    );
    assert_eq!(state(dir, "old", "configurations"), r#"{"old":2}"#);

    // 3. Running it again applies it.
    let o = run(
        dir,
        &[
            "rollback",
            "--plan",
            "plan.toml",
            "--to",
            "after-one",
            "--by",
            "bob",
        ],
    );
    expect(&o, 0);
    assert!(
        out(&o).contains("rolled back to after-one by bob, approved by sre-lead (journal seq"),
        "{}",
        out(&o)
    );
    for side in ["old", "new"] {
        assert_eq!(
            state(dir, side, "configurations"),
            format!(r#"{{"{side}":1}}"#)
        );
    }
    // The paused run ends rolled back.
    let k = kinds(dir);
    let tail: Vec<&str> = k.iter().rev().take(2).rev().map(String::as_str).collect();
    assert_eq!(tail, ["rolled-back", "run-finished"], "{k:?}");
    assert_eq!(last(dir, "run-finished")["status"], "rolled-back");
    let s = status_json(dir);
    assert_eq!(s["status"], "rolled-back");
    assert_eq!(s["rollback_requests"], serde_json::json!([]));
    let h = out(&run(dir, &["history", "plan.toml"]));
    assert!(h.contains("rollback-requested"), "{h}");
    assert!(
        h.contains("to after-one by bob, approvers sre-lead, oncall: pages are lost"),
        "{h}"
    );
    assert!(h.contains("rollback:after-one by sre-lead"), "{h}");

    // 4. The approval was used up: the next rollback asks again.
    let o = run(
        dir,
        &["rollback", "--plan", "plan.toml", "--to", "after-one"],
    );
    expect(&o, 5);
    assert!(
        out(&o).contains("after-one requested (journal seq"),
        "{}",
        out(&o)
    );
}

#[test]
fn rollback_now_skips_the_gate_and_dry_run_changes_nothing() {
    // No run ever started: points captured by hand.
    let tmp = fixture(ONE_PHASE);
    let dir = tmp.path();
    require_approval(dir, r#"["sre-lead"]"#);
    for side in ["old", "new"] {
        set_state(dir, side, "configurations", &format!(r#"{{"{side}":1}}"#));
        let o = run(
            dir,
            &[
                "backup",
                "point",
                "--plan",
                "plan.toml",
                "--system",
                side,
                "--name",
                &format!("pre.{side}"),
                "--categories",
                "configurations",
            ],
        );
        expect(&o, 0);
        set_state(dir, side, "configurations", &format!(r#"{{"{side}":2}}"#));
    }

    let o = run(
        dir,
        &[
            "rollback",
            "--plan",
            "plan.toml",
            "--to",
            "pre",
            "--dry-run",
        ],
    );
    expect(&o, 0);
    let text = out(&o);
    assert!(
        text.contains("rollback point pre.old (old system, captured")
            && text.contains("rollback point pre.new (new system, captured"),
        "{text}"
    );
    assert!(text.contains("  would restore configurations "), "{text}");
    assert!(
        text.contains("approval: needed from one of sre-lead (or --now)"),
        "{text}"
    );
    assert!(
        text.ends_with("verified; nothing changed (dry run)\n"),
        "{text}"
    );
    assert_eq!(err(&o), "");
    assert_eq!(state(dir, "old", "configurations"), r#"{"old":2}"#);
    assert!(
        !dir.join(".state/journal.log").exists(),
        "a dry run journals nothing"
    );

    let o = run(
        dir,
        &[
            "rollback",
            "--plan",
            "plan.toml",
            "--to",
            "pre",
            "--now",
            "--dry-run",
        ],
    );
    expect(&o, 2);
    assert!(err(&o).contains("cannot be used with"), "{}", err(&o));

    let o = run(
        dir,
        &[
            "rollback",
            "--plan",
            "plan.toml",
            "--to",
            "pre",
            "--now",
            "--by",
            "oncall",
        ],
    );
    expect(&o, 0);
    assert!(
        out(&o).contains("rolled back to pre by oncall, --now: approval gate skipped (journal seq"),
        "{}",
        out(&o)
    );
    for side in ["old", "new"] {
        assert_eq!(
            state(dir, side, "configurations"),
            format!(r#"{{"{side}":1}}"#)
        );
    }
    // The journal was created for it; no run was started.
    assert_eq!(kinds(dir), ["rolled-back"]);
    let p = last(dir, "rolled-back");
    assert_eq!(
        (p["by"].as_str(), p["now"].as_bool()),
        (Some("oncall"), Some(true))
    );
    let st = out(&run(dir, &["status", "plan.toml"]));
    assert!(st.contains("status      not-started"), "{st}");
    assert!(
        st.contains("rollback    to pre by oncall (--now): done"),
        "{st}"
    );
    let h = out(&run(dir, &["history", "plan.toml"]));
    assert!(
        h.contains("to pre by oncall (--now): new: [configurations ok]; old: [configurations ok]"),
        "{h}"
    );
    // A later run starts normally.
    expect(&run(dir, &["run", "plan.toml"]), 0);
}

#[test]
fn corrupt_point_is_refused_naming_the_item_and_nothing_is_applied() {
    let tmp = fixture(ONE_PHASE);
    let dir = tmp.path();
    set_state(dir, "old", "configurations", r#"{"v":1}"#);
    set_state(dir, "old", "user_permissions", r#"{"u":1}"#);
    let o = run(
        dir,
        &[
            "backup",
            "point",
            "--plan",
            "plan.toml",
            "--system",
            "old",
            "--name",
            "p",
            "--categories",
            "configurations,user_permissions",
        ],
    );
    expect(&o, 0);
    set_state(dir, "old", "configurations", r#"{"v":2}"#);
    set_state(dir, "old", "user_permissions", r#"{"u":2}"#);

    // Flip the stored user_permissions blob (the second category: the first
    // one must not be applied either).
    let doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(".state/points/p.json")).expect("point"),
    )
    .expect("point json");
    let digest = doc["body"]["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["kind"] == "user_permissions")
        .and_then(|r| r["digest"].as_str())
        .expect("digest")
        .to_string();
    let blob = dir
        .join(".state/backups/blobs")
        .join(&digest[..2])
        .join(&digest[2..]);
    let mut perms = std::fs::metadata(&blob).expect("blob").permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&blob, perms).expect("chmod");
    std::fs::write(&blob, r#"{"u":9}"#).expect("corrupt");

    for args in [
        &["rollback", "--plan", "plan.toml", "--to", "p"][..],
        &["rollback", "--plan", "plan.toml", "--to", "p", "--now"][..],
        &["rollback", "--plan", "plan.toml", "--to", "p", "--dry-run"][..],
    ] {
        let o = run(dir, args);
        expect(&o, 8);
        assert!(
            out(&o).contains("  CORRUPT point:p user_permissions: "),
            "{}",
            out(&o)
        );
        let e = err(&o);
        assert!(
            e.starts_with(
                "error: refusing to roll back to p: point:p user_permissions is corrupt (point:p: user_permissions is corrupt: expected "
            ) && e.ends_with("; nothing was applied\n"),
            "{e}"
        );
    }
    assert_eq!(state(dir, "old", "configurations"), r#"{"v":2}"#);
    assert_eq!(state(dir, "old", "user_permissions"), r#"{"u":2}"#);
    assert!(
        !kinds(dir).iter().any(|k| k.starts_with("roll")),
        "nothing journaled as rolled back"
    );

    // A point that does not exist is a usage error.
    let o = run(dir, &["rollback", "--plan", "plan.toml", "--to", "nope"]);
    expect(&o, 2);
    assert!(
        err(&o).contains("no rollback point named \"nope\""),
        "{}",
        err(&o)
    );
}

#[test]
fn interrupted_rollback_resumes_without_reapplying() {
    let tmp = fixture(ONE_PHASE);
    let dir = tmp.path();
    set_state(dir, "old", "configurations", r#"{"v":1}"#);
    set_state(dir, "old", "system_metrics", r#"{"cpu":1}"#);
    set_state(dir, "old", "user_permissions", r#"{"u":1}"#);
    let o = run(
        dir,
        &[
            "backup",
            "point",
            "--plan",
            "plan.toml",
            "--system",
            "old",
            "--name",
            "p",
            "--categories",
            "configurations,system_metrics,user_permissions",
        ],
    );
    expect(&o, 0);
    set_state(dir, "old", "configurations", r#"{"v":2}"#);
    set_state(dir, "old", "user_permissions", r#"{"u":2}"#);
    // system_metrics cannot be written: a directory sits where its file goes.
    let blocker = dir.join("old/state/system_metrics.json");
    std::fs::remove_file(&blocker).expect("rm");
    std::fs::create_dir_all(blocker.join("x")).expect("block");

    let o = run(dir, &["rollback", "--plan", "plan.toml", "--to", "p"]);
    expect(&o, 1);
    let text = out(&o);
    assert!(text.contains("ok      configurations"), "{text}");
    assert!(text.contains("FAILED  system_metrics"), "{text}");
    assert!(text.contains("ok      user_permissions"), "{text}");
    let e = err(&o);
    assert!(
        e.starts_with("error: rollback to p incomplete: old system: system_metrics: ")
            && e.ends_with("; run the same command again to resume\n"),
        "{e}"
    );
    assert_eq!(state(dir, "old", "configurations"), r#"{"v":1}"#);
    let f = last(dir, "rollback-failed");
    assert_eq!(f["point"], "p");
    assert_eq!(f["results"]["old"]["ok"], false);
    assert_eq!(
        f["results"]["old"]["applied"],
        serde_json::json!(["configurations", "user_permissions"])
    );
    let st = out(&run(dir, &["status", "plan.toml"]));
    assert!(st.contains("rollback    to p by "), "{st}");
    assert!(
        st.contains(": FAILED: old system: system_metrics: "),
        "{st}"
    );

    // Resume: the blocker is gone; configurations changed again after it
    // was applied and is not re-applied.
    std::fs::remove_dir_all(&blocker).expect("unblock");
    set_state(dir, "old", "configurations", r#"{"v":9}"#);
    let o = run(dir, &["rollback", "--plan", "plan.toml", "--to", "p"]);
    expect(&o, 0);
    let text = out(&o);
    assert!(
        text.contains(
            "  done    configurations       (applied by an earlier, interrupted rollback)"
        ),
        "{text}"
    );
    assert!(text.contains("ok      system_metrics"), "{text}");
    assert_eq!(state(dir, "old", "configurations"), r#"{"v":9}"#);
    assert_eq!(state(dir, "old", "system_metrics"), r#"{"cpu":1}"#);
    let p = last(dir, "rolled-back");
    assert_eq!(
        p["results"]["old"]["resumed"],
        serde_json::json!(["configurations", "user_permissions"])
    );
    assert_eq!(
        p["results"]["old"]["applied"],
        serde_json::json!(["system_metrics"])
    );
}

#[test]
fn no_rollback_while_a_runner_holds_the_lease() {
    let tmp = fixture(
        r#"
[[phases]]
id = "one"
name = "One"
risk = "low"
rollback_point = { name = "first", categories = ["configurations"] }
[[phases.steps]]
id = "s1"
kind = "action"
plugin = "noop"

[[phases]]
id = "two"
name = "Two"
risk = "low"
rollback_point = false
[[phases.steps]]
id = "long"
kind = "wait"
duration = "3s"
"#,
    );
    let dir = tmp.path();
    set_state(dir, "old", "configurations", r#"{"v":1}"#);
    let runner = cutover(dir)
        .args(["run", "plan.toml"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    wait_for("the wait step to start", || {
        std::fs::read_to_string(dir.join(".state/journal.log"))
            .is_ok_and(|j| j.contains("step-deadline"))
    });
    set_state(dir, "old", "configurations", r#"{"v":2}"#);
    let o = run(
        dir,
        &["rollback", "--plan", "plan.toml", "--to", "first", "--now"],
    );
    expect(&o, 8);
    assert!(
        err(&o).contains("lease held by") && err(&o).contains(&format!("pid {}", runner.id())),
        "{}",
        err(&o)
    );
    assert_eq!(state(dir, "old", "configurations"), r#"{"v":2}"#);
    expect(&runner.wait_with_output().expect("runner"), 0);

    // Once the runner is done the rollback goes through; the run ends rolled back.
    let o = run(
        dir,
        &["rollback", "--plan", "plan.toml", "--to", "first", "--now"],
    );
    expect(&o, 0);
    assert_eq!(state(dir, "old", "configurations"), r#"{"v":1}"#);
    assert_eq!(status_json(dir)["status"], "rolled-back");
}

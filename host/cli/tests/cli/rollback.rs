//! `cutover rollback --to POINT` and `cutover approve PLAN rollback:POINT`
//! through the file adapter: verify then apply, the approval gate, `--now`,
//! `--dry-run`, a corrupt point refused, an interrupted rollback resumed, the
//! lease, and what the journal, `status` and `history` show.

use std::path::Path;
use std::process::Output;

use cutover_base::exit::ExitClass;
use cutover_test_kit::state::overwrite_point_blob;

use super::{
    assert_has, err, expect, fixture, noop_step, out, phase, run, run_expect,
    spawn_run_until_waiting, status_json, wait_step,
};

/// Phase one's end captures `after-one` (`.old` + `.new`).
const CAPTURE_AFTER_ONE: &str =
    r#"rollback_point = { categories = ["configurations", "user_permissions"] }"#;

/// One phase with a step; its end captures `after-one`.
fn one_phase() -> String {
    phase("one", "One", CAPTURE_AFTER_ONE, &[noop_step("s1")])
}

/// Phase one captures `after-one`; phase two waits at a gate.
fn one_then_gate() -> String {
    let gate =
        "rollback_point = false\ngate = { approvers = [\"alice\"], message = \"ready for two?\" }";
    one_phase() + &phase("two", "Two", gate, &[noop_step("s2")])
}

fn state(dir: &Path, side: &str, category: &str) -> String {
    std::fs::read_to_string(dir.join(side).join(format!("state/{category}.json")))
        .unwrap_or_else(|e| panic!("{side}/state/{category}.json: {e}"))
}

fn set_state(dir: &Path, side: &str, category: &str, text: &str) {
    std::fs::create_dir_all(dir.join(side).join("state")).expect("mkdir state");
    std::fs::write(dir.join(side).join(format!("state/{category}.json")), text)
        .expect("write state");
}

/// `configurations` of both systems is `{"old":v}` / `{"new":v}`.
fn set_configurations(dir: &Path, v: u32) {
    for side in ["old", "new"] {
        set_state(dir, side, "configurations", &format!(r#"{{"{side}":{v}}}"#));
    }
}

#[track_caller]
fn assert_configurations(dir: &Path, v: u32) {
    for side in ["old", "new"] {
        assert_eq!(
            state(dir, side, "configurations"),
            format!(r#"{{"{side}":{v}}}"#)
        );
    }
}

/// Sets `side`'s state to `before`, captures point `name` of those
/// categories with `cutover backup point`, then sets it to `after`.
fn capture_between(
    dir: &Path,
    side: &str,
    name: &str,
    before: &[(&str, &str)],
    after: &[(&str, &str)],
) {
    for (category, text) in before {
        set_state(dir, side, category, text);
    }
    let categories: Vec<&str> = before.iter().map(|(c, _)| *c).collect();
    let args = [
        "backup",
        "point",
        "--plan",
        "plan.toml",
        "--system",
        side,
        "--name",
        name,
        "--categories",
        &categories.join(","),
    ];
    run_expect(dir, &args, ExitClass::Ok.into());
    for (category, text) in after {
        set_state(dir, side, category, text);
    }
}

/// A fixture of one phase whose old system has point `p` of
/// `configurations` (`{"v":1}`), `extra` and `user_permissions` (`{"u":1}`);
/// configurations and user_permissions changed to 2 since.
fn old_point_p(extra: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = fixture(&one_phase());
    let mut before = vec![("configurations", r#"{"v":1}"#)];
    before.extend_from_slice(extra);
    before.push(("user_permissions", r#"{"u":1}"#));
    let after = [
        ("configurations", r#"{"v":2}"#),
        ("user_permissions", r#"{"u":2}"#),
    ];
    capture_between(tmp.path(), "old", "p", &before, &after);
    tmp
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

/// `cutover rollback --plan plan.toml --to TO EXTRA..`, ending with `want`.
#[track_caller]
fn rollback(dir: &Path, to: &str, extra: &[&str], want: i32) -> Output {
    let mut args = vec!["rollback", "--plan", "plan.toml", "--to", to];
    args.extend_from_slice(extra);
    run_expect(dir, &args, want)
}

/// `cutover approve plan.toml rollback:POINT --by BY`, ending with `want`.
#[track_caller]
fn approve_rollback(dir: &Path, point: &str, by: &str, want: i32) -> Output {
    let target = format!("rollback:{point}");
    run_expect(dir, &["approve", "plan.toml", &target, "--by", by], want)
}

fn status_text(dir: &Path) -> String {
    out(&run(dir, &["status", "plan.toml"]))
}

fn history_text(dir: &Path) -> String {
    out(&run(dir, &["history", "plan.toml"]))
}

fn history_json(dir: &Path) -> Vec<serde_json::Value> {
    let o = run_expect(
        dir,
        &["history", "plan.toml", "--json"],
        ExitClass::Ok.into(),
    );
    serde_json::from_str(&out(&o)).expect("history json")
}

fn kinds(dir: &Path) -> Vec<String> {
    history_json(dir)
        .iter()
        .map(|r| r["kind"].as_str().unwrap_or("").to_string())
        .collect()
}

/// How many records of `kind` the journal holds.
fn count(dir: &Path, kind: &str) -> usize {
    kinds(dir).iter().filter(|k| *k == kind).count()
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
    let set_all = |v: u32| {
        set_configurations(dir, v);
        for side in ["old", "new"] {
            set_state(dir, side, "user_permissions", &format!(r#"{{"u":{v}}}"#));
        }
    };
    set_all(1);
    run_expect(dir, &["run", "plan.toml"], want);
    set_all(2);
    tmp
}

#[test]
fn rollback_applies_after_verifying_and_the_journal_shows_it() {
    let tmp = run_to_point(&one_phase(), ExitClass::Ok.into());
    let dir = tmp.path();
    assert_eq!(status_json(dir)["status"], "completed");

    let o = rollback(dir, "after-one", &["--by", "bob"], ExitClass::Ok.into());
    let text = out(&o);
    assert_has(
        &text,
        "old system: after-one.old (verified before applying)",
    );
    assert_has(
        &text,
        "new system: after-one.new (verified before applying)",
    );
    assert_has(&text, "ok      configurations");
    assert_has(&text, "rolled back to after-one by bob (journal seq");
    assert_eq!(err(&o), "");
    assert_configurations(dir, 1);
    for side in ["old", "new"] {
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
    assert_eq!(count(dir, "run-finished"), 1);
    let s = status_json(dir);
    assert_eq!(s["status"], "rolled-back");
    assert_eq!(s["rollbacks"][0]["by"], "bob");
    assert_eq!(s["rollbacks"][0]["ok"], true);
    let st = status_text(dir);
    assert_has(&st, "status      rolled-back");
    assert_has(&st, "rollback    to after-one by bob: done");
    let h = history_text(dir);
    assert_has(&h, "rolled-back");
    assert_has(
        &h,
        "to after-one by bob: new: [configurations ok, user_permissions ok]; old: [configurations ok, user_permissions ok]",
    );
    // The run is over: run reports it and runs nothing.
    let o = run_expect(dir, &["run", "plan.toml"], ExitClass::Aborted.into());
    assert_has(&err(&o), "this run had already finished");
}

#[test]
fn gated_rollback_is_requested_then_approved_then_applied() {
    let tmp = run_to_point(&one_then_gate(), ExitClass::Paused.into());
    let dir = tmp.path();
    require_approval(dir, r#"["sre-lead", "oncall"]"#);
    assert_eq!(status_json(dir)["status"], "paused");

    // 1. Requested, not applied: exit 5 with the exact approve commands.
    let o = rollback(
        dir,
        "after-one",
        &["--by", "bob", "--reason", "pages are lost"],
        ExitClass::Paused.into(),
    );
    let text = out(&o);
    assert_has(&text, "rollback to after-one requested (journal seq");
    assert_has(&text, "it needs an approval by one of: sre-lead, oncall");
    for by in ["sre-lead", "oncall"] {
        assert_has(
            &text,
            &format!("  cutover approve plan.toml rollback:after-one --by {by}\n"),
        );
    }
    assert_has(
        &text,
        "then apply it with: cutover rollback --plan plan.toml --to after-one",
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
    assert_has(
        &status_text(dir),
        "rollback    to after-one requested by bob, awaiting approval: cutover approve plan.toml rollback:after-one --by <sre-lead|oncall>",
    );

    // Asking again does not journal a second request.
    let o = rollback(dir, "after-one", &[], ExitClass::Paused.into());
    assert_has(&out(&o), "already requested");
    assert_eq!(count(dir, "rollback-requested"), 1);

    // 2. Only an approver may approve; the run's gate approvers may not.
    let o = approve_rollback(dir, "after-one", "alice", ExitClass::Usage.into());
    assert_has(
        &err(&o),
        "alice may not approve rollback:after-one: rollback approvers are sre-lead, oncall",
    );
    let o = approve_rollback(dir, "nowhere", "sre-lead", ExitClass::Usage.into());
    assert_has(&err(&o), "no rollback to nowhere is waiting for approval");
    let o = approve_rollback(dir, "after-one", "sre-lead", ExitClass::Ok.into());
    assert_has(
        &out(&o),
        "approved rollback:after-one by sre-lead (journal seq",
    );
    assert_eq!(state(dir, "old", "configurations"), r#"{"old":2}"#);

    // 3. Running it again applies it.
    let o = rollback(dir, "after-one", &["--by", "bob"], ExitClass::Ok.into());
    assert_has(
        &out(&o),
        "rolled back to after-one by bob, approved by sre-lead (journal seq",
    );
    assert_configurations(dir, 1);
    // The paused run ends rolled back.
    let k = kinds(dir);
    let tail: Vec<&str> = k.iter().rev().take(2).rev().map(String::as_str).collect();
    assert_eq!(tail, ["rolled-back", "run-finished"], "{k:?}");
    assert_eq!(last(dir, "run-finished")["status"], "rolled-back");
    let s = status_json(dir);
    assert_eq!(s["status"], "rolled-back");
    assert_eq!(s["rollback_requests"], serde_json::json!([]));
    let h = history_text(dir);
    assert_has(&h, "rollback-requested");
    assert_has(
        &h,
        "to after-one by bob, approvers sre-lead, oncall: pages are lost",
    );
    assert_has(&h, "rollback:after-one by sre-lead");

    // 4. The approval was used up: the next rollback asks again.
    let o = rollback(dir, "after-one", &[], ExitClass::Paused.into());
    assert_has(&out(&o), "after-one requested (journal seq");
}

#[test]
fn rollback_now_skips_the_gate_and_dry_run_changes_nothing() {
    // No run ever started: points captured by hand.
    let tmp = fixture(&one_phase());
    let dir = tmp.path();
    require_approval(dir, r#"["sre-lead"]"#);
    for side in ["old", "new"] {
        let v = |n: u32| format!(r#"{{"{side}":{n}}}"#);
        let (before, after) = (v(1), v(2));
        capture_between(
            dir,
            side,
            &format!("pre.{side}"),
            &[("configurations", &before)],
            &[("configurations", &after)],
        );
    }

    // `backup point` journaled its captures; the dry run adds nothing.
    let journal = || std::fs::read_to_string(dir.join(".state/journal.log")).unwrap_or_default();
    let captured = journal();
    let o = rollback(dir, "pre", &["--dry-run"], ExitClass::Ok.into());
    let text = out(&o);
    assert_has(&text, "rollback point pre.old (old system, captured");
    assert_has(&text, "rollback point pre.new (new system, captured");
    assert_has(&text, "  would restore configurations ");
    assert_has(&text, "approval: needed from one of sre-lead (or --now)");
    assert!(
        text.ends_with("verified; nothing changed (dry run)\n"),
        "{text}"
    );
    assert_eq!(err(&o), "");
    assert_eq!(state(dir, "old", "configurations"), r#"{"old":2}"#);
    assert_eq!(journal(), captured, "a dry run journals nothing");

    let o = rollback(dir, "pre", &["--now", "--dry-run"], ExitClass::Usage.into());
    assert_has(&err(&o), "cannot be used with");

    let o = rollback(
        dir,
        "pre",
        &["--now", "--by", "oncall"],
        ExitClass::Ok.into(),
    );
    assert_has(
        &out(&o),
        "rolled back to pre by oncall, --now: approval gate skipped (journal seq",
    );
    assert_configurations(dir, 1);
    // Journaled after the two `backup point` captures; no run was started.
    let capture = ["backup-started", "backup-finished"];
    assert_eq!(
        kinds(dir),
        [&capture[..], &capture, &["rolled-back"]].concat()
    );
    let p = last(dir, "rolled-back");
    assert_eq!(
        (p["by"].as_str(), p["now"].as_bool()),
        (Some("oncall"), Some(true))
    );
    let st = status_text(dir);
    assert_has(&st, "status      not-started");
    assert_has(&st, "rollback    to pre by oncall (--now): done");
    assert_has(
        &history_text(dir),
        "to pre by oncall (--now): new: [configurations ok]; old: [configurations ok]",
    );
    // A later run starts normally.
    run_expect(dir, &["run", "plan.toml"], ExitClass::Ok.into());
}

#[test]
fn corrupt_point_is_refused_naming_the_item_and_nothing_is_applied() {
    let tmp = old_point_p(&[]);
    let dir = tmp.path();
    // Flip the stored user_permissions blob (the second category: the first
    // one must not be applied either).
    overwrite_point_blob(&dir.join(".state"), "p", "user_permissions", r#"{"u":9}"#);

    for extra in [&[][..], &["--now"][..], &["--dry-run"][..]] {
        let o = rollback(dir, "p", extra, ExitClass::State.into());
        assert_has(&out(&o), "  CORRUPT point:p user_permissions: ");
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
    let o = rollback(dir, "nope", &[], ExitClass::Usage.into());
    assert_has(&err(&o), "no rollback point named \"nope\"");
}

#[test]
fn interrupted_rollback_resumes_without_reapplying() {
    let tmp = old_point_p(&[("system_metrics", r#"{"cpu":1}"#)]);
    let dir = tmp.path();
    // system_metrics cannot be written: a directory sits where its file goes.
    let blocker = dir.join("old/state/system_metrics.json");
    std::fs::remove_file(&blocker).expect("rm");
    std::fs::create_dir_all(blocker.join("x")).expect("block");

    let o = rollback(dir, "p", &[], ExitClass::Failed.into());
    let text = out(&o);
    assert_has(&text, "ok      configurations");
    assert_has(&text, "FAILED  system_metrics");
    assert_has(&text, "ok      user_permissions");
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
    let st = status_text(dir);
    assert_has(&st, "rollback    to p by ");
    assert_has(&st, ": FAILED: old system: system_metrics: ");
    // The migration does not carry on from a half-applied rollback.
    let o = run(dir, &["run", "plan.toml"]);
    expect(&o, ExitClass::Paused.into());
    assert_has(
        &format!("{}{}", out(&o), err(&o)),
        "finish it with `cutover rollback --to p`",
    );

    // Resume: the blocker is gone; configurations changed again after it
    // was applied and is not re-applied.
    std::fs::remove_dir_all(&blocker).expect("unblock");
    set_state(dir, "old", "configurations", r#"{"v":9}"#);
    let o = rollback(dir, "p", &[], ExitClass::Ok.into());
    let text = out(&o);
    assert_has(
        &text,
        "  done    configurations       (applied by an earlier, interrupted rollback)",
    );
    assert_has(&text, "ok      system_metrics");
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
    let first = r#"rollback_point = { name = "first", categories = ["configurations"] }"#;
    let tmp = fixture(
        &(phase("one", "One", first, &[noop_step("s1")])
            + &phase(
                "two",
                "Two",
                "rollback_point = false",
                &[wait_step("long", "3s")],
            )),
    );
    let dir = tmp.path();
    set_state(dir, "old", "configurations", r#"{"v":1}"#);
    let runner = spawn_run_until_waiting(dir);
    set_state(dir, "old", "configurations", r#"{"v":2}"#);
    let o = rollback(dir, "first", &["--now"], ExitClass::State.into());
    assert_has(&err(&o), "lease held by");
    assert_has(&err(&o), &format!("pid {}", runner.id()));
    assert_eq!(state(dir, "old", "configurations"), r#"{"v":2}"#);
    expect(
        &runner.wait_with_output().expect("runner"),
        ExitClass::Ok.into(),
    );

    // Once the runner is done the rollback goes through; the run ends rolled back.
    rollback(dir, "first", &["--now"], ExitClass::Ok.into());
    assert_eq!(state(dir, "old", "configurations"), r#"{"v":1}"#);
    assert_eq!(status_json(dir)["status"], "rolled-back");
}

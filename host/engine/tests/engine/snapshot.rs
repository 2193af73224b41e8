//! Group commit and status snapshots: a run of instant steps writes its
//! records without an fsync each, `status` folds only what follows the
//! runner's snapshot, and a damaged or stale snapshot is never trusted.

use cutover_engine::{RunView, SNAPSHOT_DOC, SNAPSHOT_EVERY};
use cutover_test_kit::plan::{noop_step, wait_step};

use super::*;

/// The view folded from every record, without any snapshot.
fn full_fold(fx: &Fixture) -> RunView {
    let mut view = RunView::default();
    for r in operator::history(&fx.state_dir()).expect("history") {
        view.apply_record(r.seq, &r.kind, &r.payload);
    }
    view.settled_for_status()
}

/// What `cutover status` reads.
fn summary(fx: &Fixture) -> RunView {
    operator::status_summary(&fx.state_dir()).expect("status summary")
}

fn json(v: &RunView) -> serde_json::Value {
    serde_json::to_value(v).expect("view json")
}

/// A phase of `n` instant (`wait 0s`) steps.
fn instant_steps(n: usize) -> String {
    let steps: Vec<String> = (0..n).map(|i| wait_step(&format!("w{i}"), "0s")).collect();
    phase_one(&steps.concat())
}

#[test]
fn status_from_the_snapshot_equals_the_full_fold_and_a_bad_snapshot_is_not_trusted() {
    let gated = phase(
        "two",
        "Two",
        "gate = { approvers = [\"alice\"], message = \"go?\" }",
        &[noop_step("s2")],
    );
    let body = format!("{}{gated}", instant_steps(SNAPSHOT_EVERY as usize / 2 + 50));
    let fx = Fixture::new(&body);
    assert!(matches!(
        fx.run(Mode::Run).expect("run"),
        RunOutcome::AwaitingApproval { .. }
    ));
    let snap = fx.state_dir().join(SNAPSHOT_DOC);
    assert!(snap.is_file(), "the runner saved a status snapshot");
    let before = std::fs::read(&snap).expect("snapshot");
    assert_eq!(json(&summary(&fx)), json(&full_fold(&fx)));
    assert!(summary(&fx).records > SNAPSHOT_EVERY);

    // An approval journaled after the snapshot is folded on top of it.
    operator::approve(&fx.load(), "two", "alice", false).expect("approve");
    let full = full_fold(&fx);
    assert_eq!(
        std::fs::read(&snap).expect("snapshot"),
        before,
        "no new snapshot"
    );
    assert_eq!(json(&summary(&fx)), json(&full));
    assert!(summary(&fx).approvals.iter().any(|a| a.by == "alice"));

    // A damaged snapshot (checksum) is ignored: the journal is folded.
    let mut bad = before.clone();
    let i = bad.len() / 2;
    bad[i] ^= 0x20;
    std::fs::write(&snap, &bad).expect("write");
    assert_eq!(json(&summary(&fx)), json(&full));

    // A snapshot whose anchor the journal no longer holds is ignored.
    let plain = lz4_flex::decompress_size_prepended(&before).expect("an LZ4 block");
    let v: serde_json::Value = serde_json::from_slice(&plain).expect("json");
    let mut body = v["body"].clone();
    body["view"]["records"] = serde_json::json!(1);
    body["anchor"]["record"]["hash"] = serde_json::json!("ab".repeat(32));
    let forged = cutover_state::encode_checked_json(&snap, &body).expect("encode");
    std::fs::write(&snap, lz4_flex::compress_prepend_size(&forged)).expect("write");
    assert_eq!(json(&summary(&fx)), json(&full));
}

#[test]
fn a_run_of_instant_steps_is_complete_when_it_returns_though_its_records_share_fsyncs() {
    let fx = Fixture::new(&instant_steps(200));
    assert_eq!(fx.run(Mode::Run).expect("run"), RunOutcome::Completed);
    let view = fx.status();
    assert_eq!(view.status, RunStatus::Completed);
    for i in 0..200 {
        assert_eq!(view.step_status(&format!("w{i}")), StepStatus::Succeeded);
    }
}

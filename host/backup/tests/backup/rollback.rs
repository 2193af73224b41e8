//! Rollback points: captured and restored per category, a category the
//! adapter cannot restore reported `unsupported`, and an interrupted
//! rollback resumed without applying a category twice.

use cutover_backup::{RestoreStatus, RollbackProgress};
use cutover_state::write_checked_json;

use super::*;

#[test]
fn rollback_point_restores_state() {
    let (rt, plugin, f, sb, store) = setup();
    set_state(&f.data, "configurations", r#"{"v":1}"#);
    let p = store
        .capture_point(rt, plugin, &sb, "old", "before-cutover", &[], lineage())
        .unwrap();
    let cats: Vec<&str> = p.results.iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(cats, cutover_backup::DEFAULT_CATEGORIES);
    assert!(p.results.iter().all(|r| r.ok), "{p:#?}");
    assert_eq!(store.point("before-cutover").unwrap(), p);

    set_state(&f.data, "configurations", r#"{"v":2}"#);
    set_state(&f.data, "system_metrics", r#"{"cpu":9}"#);
    let report = store
        .rollback(rt, plugin, &sb, "before-cutover", None)
        .unwrap();
    assert!(report.ok(), "{report:#?}");
    assert!(report.resumed.is_empty());
    let got = statuses(&report.results);
    assert_eq!(
        got,
        [
            ("configurations", RestoreStatus::Ok),
            ("active_alerts", RestoreStatus::Unsupported),
            ("system_metrics", RestoreStatus::Ok),
            ("user_permissions", RestoreStatus::Ok),
        ]
    );
    assert_eq!(state_file(&f.data, "configurations"), r#"{"v":1}"#);
    assert_eq!(state_file(&f.data, "system_metrics"), "{}");
    // active_alerts is declared capture only: never sent, nothing written.
    assert!(!f.data.join("state/active_alerts.json").exists());
    let why = report.results[1].reason.clone().unwrap_or_default();
    assert!(why.contains("capture only"), "{why}");
    let progress = store.progress("before-cutover").unwrap().unwrap();
    assert!(progress.finished);
    assert_eq!(
        progress.done,
        strings(&["configurations", "system_metrics", "user_permissions"])
    );

    // A finished rollback does not block the next one.
    set_state(&f.data, "configurations", r#"{"v":3}"#);
    let again = store
        .rollback(rt, plugin, &sb, "before-cutover", None)
        .unwrap();
    assert!(again.resumed.is_empty() && again.results.len() == 4);
    assert_eq!(state_file(&f.data, "configurations"), r#"{"v":1}"#);
}

/// A category whose `restore-state` answers `unsupported` (here one the
/// file adapter does not know, slipped into a point) is reported
/// `unsupported` with the adapter's reason, never `ok`, and does not fail
/// the rollback of the others.
#[test]
fn restore_state_answering_unsupported_is_reported_unsupported() {
    let (rt, plugin, f, sb, store) = setup();
    set_state(&f.data, "configurations", r#"{"v":1}"#);
    let mut point = store
        .capture_point(
            rt,
            plugin,
            &sb,
            "old",
            "p",
            &strings(&["configurations"]),
            lineage(),
        )
        .unwrap();
    let mut extra = point.results[0].clone();
    extra.kind = "audit_logs".into();
    point.results.push(extra);
    point.categories.push("audit_logs".into());
    write_checked_json(&f.state.join(store.point_doc("p")), &point).unwrap();
    set_state(&f.data, "configurations", r#"{"v":2}"#);

    let report = store.rollback(rt, plugin, &sb, "p", None).unwrap();
    let got = statuses(&report.results);
    assert_eq!(
        got,
        [
            ("configurations", RestoreStatus::Ok),
            ("audit_logs", RestoreStatus::Unsupported)
        ]
    );
    assert!(report.ok(), "unsupported is reported, not a failure");
    let why = report.results[1].reason.clone().unwrap_or_default();
    assert!(
        why.contains("cannot restore it") && why.contains("audit_logs"),
        "{why}"
    );
    assert!(report.results[1].outcome.is_none());
    assert_eq!(
        report
            .unsupported()
            .map(|r| r.kind.as_str())
            .collect::<Vec<_>>(),
        ["audit_logs"]
    );
    assert_eq!(state_file(&f.data, "configurations"), r#"{"v":1}"#);
    assert!(store.progress("p").unwrap().unwrap().finished);
}

#[test]
fn interrupted_rollback_resumes_without_reapplying() {
    let (rt, plugin, f, sb, store) = setup();
    set_state(&f.data, "configurations", r#"{"v":1}"#);
    set_state(&f.data, "user_permissions", r#"{"u":1}"#);
    store
        .capture_point(rt, plugin, &sb, "old", "p", &[], lineage())
        .unwrap();

    // 1. A failure mid-way: system_metrics cannot be replaced (a directory
    //    sits where its file goes); the others are applied and recorded.
    set_state(&f.data, "configurations", r#"{"v":2}"#);
    set_state(&f.data, "user_permissions", r#"{"u":2}"#);
    let blocker = f.data.join("state/system_metrics.json");
    fs::create_dir_all(blocker.join("x")).unwrap();
    let first = store.rollback(rt, plugin, &sb, "p", None).unwrap();
    assert!(!first.ok());
    let failed: Vec<&str> = first
        .results
        .iter()
        .filter(|r| r.status == RestoreStatus::Failed)
        .map(|r| r.kind.as_str())
        .collect();
    assert_eq!(failed, ["system_metrics"]);
    let progress = store.progress("p").unwrap().unwrap();
    assert!(!progress.finished);
    // active_alerts is unsupported: reported on each attempt, never done.
    assert_eq!(
        progress.done,
        strings(&["configurations", "user_permissions"])
    );

    // 2. Resume: done categories are not re-applied (configurations keeps a
    //    change made after they were applied), the remaining one is.
    fs::remove_dir_all(&blocker).unwrap();
    set_state(&f.data, "configurations", r#"{"v":9}"#);
    let second = store.rollback(rt, plugin, &sb, "p", None).unwrap();
    assert!(second.ok(), "{second:#?}");
    assert_eq!(second.resumed, progress.done);
    let applied = statuses(&second.results);
    assert_eq!(
        applied,
        [
            ("active_alerts", RestoreStatus::Unsupported),
            ("system_metrics", RestoreStatus::Ok)
        ]
    );
    assert_eq!(state_file(&f.data, "configurations"), r#"{"v":9}"#);
    assert_eq!(state_file(&f.data, "system_metrics"), "{}");
    assert_eq!(state_file(&f.data, "user_permissions"), r#"{"u":1}"#);
    assert!(store.progress("p").unwrap().unwrap().finished);

    // 3. A crash right after the first category (progress as left on disk):
    //    the next rollback applies the other three only.
    let point = store.point("p").unwrap();
    set_state(&f.data, "configurations", r#"{"v":5}"#);
    set_state(&f.data, "user_permissions", r#"{"u":5}"#);
    write_checked_json(
        &f.state.join(store.progress_doc("p")),
        &RollbackProgress {
            point: "p".into(),
            point_created_ms: point.created_ms,
            categories: point.categories.clone(),
            done: strings(&["configurations"]),
            finished: false,
        },
    )
    .unwrap();
    let third = store.rollback(rt, plugin, &sb, "p", None).unwrap();
    assert_eq!(third.resumed, strings(&["configurations"]));
    assert_eq!(third.results.len(), 3);
    assert!(third.ok() && store.progress("p").unwrap().unwrap().finished);
    assert_eq!(state_file(&f.data, "configurations"), r#"{"v":5}"#);
    assert_eq!(state_file(&f.data, "user_permissions"), r#"{"u":1}"#);

    // Progress of an older capture of the same name is ignored.
    set_state(&f.data, "configurations", r#"{"v":6}"#);
    write_checked_json(
        &f.state.join(store.progress_doc("p")),
        &RollbackProgress {
            point: "p".into(),
            point_created_ms: point.created_ms - 1,
            categories: point.categories.clone(),
            done: strings(&["configurations"]),
            finished: false,
        },
    )
    .unwrap();
    let fourth = store.rollback(rt, plugin, &sb, "p", None).unwrap();
    assert!(fourth.resumed.is_empty() && fourth.results.len() == 4);
    assert_eq!(state_file(&f.data, "configurations"), r#"{"v":1}"#);
}

//! Journals written before step details were typed still read, fold and
//! write back the same JSON: the journal format did not change.
//!
//! The fixtures under `tests/fixtures/journals/` are journals the engine
//! wrote (commit fad9e98, when details were an untyped JSON value): the
//! reference migration on the real fixture and the offline demo.

use std::path::Path;

use cutover_engine::details::StepDetails;
use cutover_engine::{Event, RunStatus, operator};

use super::root;

/// The fixture journal `name`, in a state directory of its own.
fn state_with(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    let src = root()
        .join("host/engine/tests/fixtures/journals")
        .join(name);
    std::fs::copy(&src, dir.path().join("journal.log")).expect("fixture journal");
    dir
}

/// Every record decodes into a typed event, and the event encodes back to
/// the payload that was written, field for field.
fn round_trips(state: &Path) -> Vec<Event> {
    let records = operator::history(state).expect("history");
    assert!(records.len() > 20, "{} records", records.len());
    records
        .iter()
        .map(|r| {
            let ev = Event::from_record(&r.kind, &r.payload)
                .unwrap_or_else(|| panic!("record {} ({}) does not decode", r.seq, r.kind));
            let (kind, payload) = ev.to_record();
            assert_eq!(kind, r.kind, "record {}", r.seq);
            assert_eq!(payload, r.payload, "record {} ({}) changed", r.seq, r.kind);
            ev
        })
        .collect()
}

fn details(events: &[Event]) -> Vec<&StepDetails> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::StepFinished { details, .. } => Some(details),
            _ => None,
        })
        .collect()
}

#[test]
fn reference_migration_journal_reads_typed_and_unchanged() {
    let dir = state_with("reference-migration.log");
    let events = round_trips(dir.path());
    let d = details(&events);
    // Each kind the reference migration produces is read as its own type.
    let count = |f: fn(&StepDetails) -> bool| d.iter().filter(|x| f(x)).count();
    assert!(
        count(|x| matches!(x, StepDetails::Migrate(_))) >= 5,
        "{d:#?}"
    );
    assert!(count(|x| matches!(x, StepDetails::ParallelRun(_))) >= 2);
    assert!(count(|x| matches!(x, StepDetails::Backup(_))) >= 2);
    assert!(count(|x| matches!(x, StepDetails::Check(_))) >= 1);
    assert!(count(|x| matches!(x, StepDetails::Action(_))) >= 1);
    // Fields, not string keys: a migration's verification and a parallel
    // run's match rate are there as written.
    let verified: Vec<_> = d.iter().flat_map(|x| x.consistency()).collect();
    assert!(!verified.is_empty());
    assert!(verified.iter().all(|c| c.agreeing <= c.total));
    let pr = d
        .iter()
        .find_map(|x| x.parallel_run())
        .expect("a parallel run");
    assert_eq!(pr.match_rate, pr.gate.match_rate);
    assert!(pr.total_old >= pr.matched);

    // The fold over it still works and agrees with the records.
    let view = operator::status(dir.path()).expect("status");
    assert_eq!(view.status, RunStatus::Completed, "{:?}", view.status);
    assert!(view.match_rate.is_some());
}

#[test]
fn offline_demo_journal_reads_typed_and_unchanged() {
    let dir = state_with("offline-demo.log");
    let events = round_trips(dir.path());
    let d = details(&events);
    assert!(d.iter().any(|x| matches!(x, StepDetails::None)));
    assert!(d.iter().any(|x| x.backup_id().is_some()));
    operator::status(dir.path()).expect("status");
}

#[test]
fn each_kind_of_details_keeps_its_json() {
    // One record of each kind as the engine wrote it before the change
    // (including shapes the fixtures lack: a failed check's error kind kept
    // under its measurements, a preparation failure, a restore, approvals).
    let written = [
        r#"null"#,
        r#"{"error_kind":"deadline"}"#,
        r#"{"marked_done_by":"ana"}"#,
        r#"{"approved_by":"ana"}"#,
        r#"{"outcome":{"routes":"3"}}"#,
        r#"{"measurements":{"error_kind":"limit"},"shadow":false}"#,
        r#"{"measurements":{"consistency.routes.agreeing":3.0,"consistency.routes.total":3.0,"x":null},"shadow":true,"consistency":[{"data_type":"routes","agreeing":3,"total":3}]}"#,
        r#"{"migrate":{"failed_type":"routes","error":"export failed"}}"#,
        r#"{"migrate":{"types":[{"data_type":"routes","scope":"*","ok":1,"warning":0,"untranslatable":0,"documents":1,"outcome":"not-imported","notes":[]}]}}"#,
        r#"{"migrate":{"types":[],"point":"before-m","rolled_back":true},"consistency":[]}"#,
        r#"{"backup_id":"b1","results":[{"kind":"configurations","status":"ok","reason":null,"outcome":{"summary":"ok","details":[]}}]}"#,
        r#"{"backup_id":"b1","system":"old","results":[{"kind":"configurations","ok":false,"error":"x","digest":null,"size":0}]}"#,
    ];
    for text in written {
        let before: serde_json::Value = serde_json::from_str(text).expect("json");
        let typed: StepDetails =
            serde_json::from_value(before.clone()).unwrap_or_else(|e| panic!("{text}: {e}"));
        let after = serde_json::to_value(&typed).expect("json");
        assert_eq!(after, before, "{text} read as {typed:?}");
    }
    // What each reads as.
    let read = |t: &str| serde_json::from_str::<StepDetails>(t).expect("details");
    assert_eq!(read(written[1]).error_kind(), Some("deadline"));
    assert_eq!(read(written[5]).error_kind(), Some("limit"));
    assert_eq!(read(written[6]).consistency().len(), 1);
    assert!(matches!(read(written[10]), StepDetails::Restore(_)));
    assert!(matches!(read(written[11]), StepDetails::Backup(_)));
}

#[test]
fn backup_command_records_keep_their_json_and_fold_as_nothing() {
    // One record of each shape `cutover backup create|point|restore|prune`
    // writes, frozen: later versions must read them back unchanged.
    let written = [
        (
            "backup-started",
            r#"{"op":{"command":"create","id":"b-20261206T150224Z-9bdfb4","system":"old","types":["configurations"]},"by":"ana"}"#,
        ),
        (
            "backup-started",
            r#"{"op":{"command":"point","name":"p","system":"new","categories":[]},"by":"bob"}"#,
        ),
        (
            "backup-started",
            r#"{"op":{"command":"restore","id":"b1","system":"old","types":["configurations"]},"by":"carol"}"#,
        ),
        (
            "backup-started",
            r#"{"op":{"command":"prune","keep":1,"keep_points":2},"by":"dan"}"#,
        ),
        (
            "backup-finished",
            r#"{"started_seq":1,"by":"ana","ok":false,"done":{"command":"create","id":"b1","results":[{"kind":"configurations","ok":true,"error":null,"digest":"ab","size":5},{"kind":"x","ok":false,"error":"no","digest":null,"size":0}]},"error":null}"#,
        ),
        (
            "backup-finished",
            r#"{"started_seq":3,"by":"bob","ok":true,"done":{"command":"point","name":"p","results":[]},"error":null}"#,
        ),
        (
            "backup-finished",
            r#"{"started_seq":5,"by":"carol","ok":true,"done":{"command":"restore","id":"b1","results":[{"kind":"configurations","status":"ok","reason":null,"outcome":{"summary":"ok","details":[]}}]},"error":null}"#,
        ),
        (
            "backup-finished",
            r#"{"started_seq":7,"by":"dan","ok":true,"done":{"command":"prune","deleted_backups":["b1"],"deleted_points":[],"deleted_blobs":2,"freed_bytes":9},"error":null}"#,
        ),
        (
            "backup-finished",
            r#"{"started_seq":9,"by":"dan","ok":false,"done":null,"error":"in progress"}"#,
        ),
    ];
    let mut view = cutover_engine::RunView::default();
    for (seq, (kind, text)) in written.iter().enumerate() {
        let payload: serde_json::Value = serde_json::from_str(text).expect("json");
        let ev = Event::from_record(kind, &payload)
            .unwrap_or_else(|| panic!("{kind} {text} does not decode"));
        assert_eq!(ev.to_record(), (kind.to_string(), payload), "{text}");
        view.apply_record(seq as u64 + 1, kind, &ev.to_record().1);
    }
    // They change nothing a run is made of.
    assert_eq!(view.status, RunStatus::NotStarted);
    assert_eq!(view.records, written.len() as u64);
    assert!(view.points.is_empty() && view.rollbacks.is_empty());
}

//! Operator backup commands (`cutover_engine::backup_cmd`) under the
//! plan's lease and in the run's journal, through the real file adapter:
//! each journals `backup-started` / `backup-finished` with who did it, a
//! backup or point records the seq of its `backup-started` record, a run
//! before or after them is not disturbed, and a held lease or bad input is
//! refused with nothing written.

use cutover_backup::{BackupError, BackupStore};
use cutover_base::exit::{ExitClass, HasExitClass};
use cutover_engine::backup_cmd::{self, BackupCmdError, BackupDone, BackupOp};
use cutover_state::{FileLease, Lease, LeaseError};

use super::*;

fn one_noop_phase() -> String {
    let s1 = step("s1", "action", "plugin = \"noop\"");
    phase("one", "One", "rollback_point = false", &[s1])
}

fn types(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The journal's events, typed, with their seqs.
fn events(f: &Fixture) -> Vec<(u64, Event)> {
    operator::history(&f.state_dir())
        .expect("history")
        .into_iter()
        .filter_map(|r| Event::from_record(&r.kind, &r.payload).map(|e| (r.seq, e)))
        .collect()
}

#[test]
fn backup_commands_journal_who_did_what_around_a_run() {
    let f = Fixture::new(&one_noop_phase());
    let plan = f.load();
    let b = bridge();

    let created =
        backup_cmd::create(&b, &plan, "old", &types(&["configurations"]), "ana").expect("create");
    assert_eq!((created.started_seq, created.finished_seq), (1, 2));
    assert_eq!(created.value.lineage.journal_seq, created.started_seq);
    assert!(created.value.complete());
    let id = created.value.id.clone();

    // A run after it starts and completes as usual.
    assert_eq!(f.run(Mode::Run).expect("run"), RunOutcome::Completed);

    let point = backup_cmd::point(&b, &plan, "new", "p", &types(&["configurations"]), "bob")
        .expect("point");
    let head = events(&f).len() as u64;
    assert_eq!(point.finished_seq, head);
    assert_eq!(point.value.lineage.journal_seq, point.started_seq);
    assert!(point.started_seq > 3, "{}", point.started_seq);

    std::fs::write(f.state_dir().join("../old/configurations.yml"), "changed\n").unwrap();
    let restored = backup_cmd::restore(&b, &plan, &id, &[], "carol").expect("restore");
    assert!(restored.value.ok(), "{:?}", restored.value);
    assert_eq!(
        std::fs::read_to_string(f.state_dir().join("../old/configurations.yml")).unwrap(),
        "system: old\n"
    );

    let pruned = backup_cmd::prune(&plan, 0, Some(0), "dan").expect("prune");
    assert_eq!(pruned.value.deleted_backups, vec![id.clone()]);
    assert_eq!(pruned.value.deleted_points, vec!["p".to_string()]);

    // Each command is a typed started/finished pair naming who did it.
    let evs = events(&f);
    let started: Vec<(u64, &BackupOp, &str)> = evs
        .iter()
        .filter_map(|(seq, e)| match e {
            Event::BackupStarted(s) => Some((*seq, &s.op, s.by.as_str())),
            _ => None,
        })
        .collect();
    let by: Vec<&str> = started.iter().map(|s| s.2).collect();
    assert_eq!(by, ["ana", "bob", "carol", "dan"]);
    assert!(matches!(started[0].1, BackupOp::Create { id: i, .. } if *i == id));
    assert!(matches!(
        started[3].1,
        BackupOp::Prune {
            keep: 0,
            keep_points: 0
        }
    ));
    let finished: Vec<_> = evs
        .iter()
        .filter_map(|(_, e)| match e {
            Event::BackupFinished(f) => Some(f),
            _ => None,
        })
        .collect();
    assert_eq!(finished.len(), 4);
    for (f, s) in finished.iter().zip(&started) {
        assert_eq!(f.started_seq, s.0);
        assert!(f.ok && f.error.is_none(), "{f:?}");
    }
    assert!(matches!(
        &finished[2].done,
        Some(BackupDone::Restore { id: i, results }) if *i == id && results.len() == 1
    ));
    // The run's own state is untouched by the records around it.
    let view = operator::status(&f.state_dir()).expect("status");
    assert_eq!(view.status, RunStatus::Completed);
    assert!(view.points.is_empty(), "{:?}", view.points);
}

#[test]
fn a_held_lease_or_bad_input_is_refused_with_nothing_written() {
    let f = Fixture::new(&one_noop_phase());
    let plan = f.load();
    let b = bridge();
    let held = FileLease::new(&f.state_dir())
        .unwrap()
        .acquire()
        .expect("lease");
    let me = std::process::id();
    let refused: Vec<BackupCmdError> = vec![
        backup_cmd::create(&b, &plan, "old", &types(&["configurations"]), "ana").unwrap_err(),
        backup_cmd::point(&b, &plan, "old", "p", &[], "ana").unwrap_err(),
        backup_cmd::restore(&b, &plan, "b-x", &[], "ana").unwrap_err(),
        backup_cmd::prune(&plan, 0, None, "ana").unwrap_err(),
    ];
    for e in &refused {
        assert!(
            matches!(e, BackupCmdError::Lease(LeaseError::Held { pid, .. }) if *pid == me),
            "{e:?}"
        );
        assert_eq!(e.exit_class(), ExitClass::State);
        let text = e.to_string();
        assert!(text.contains(&format!("pid {me}")), "{text}");
        assert_eq!(text.matches("lease held by").count(), 1, "{text}");
    }
    drop(held);
    assert!(events(&f).is_empty());
    let store = BackupStore::open(&f.state_dir()).unwrap();
    assert!(store.ids().unwrap().is_empty());
    assert!(store.point_names().unwrap().is_empty());

    // Unknown and invalid ids: usage errors, nothing journaled.
    for id in ["b-nope", "../x"] {
        let e = backup_cmd::restore(&b, &plan, id, &[], "ana").unwrap_err();
        assert!(matches!(e, BackupCmdError::Backup(_)), "{e:?}");
        assert_eq!(e.exit_class(), ExitClass::Usage, "{e}");
    }
    // A system the plan does not have.
    let e = backup_cmd::create(&b, &plan, "sideways", &types(&["x"]), "ana").unwrap_err();
    assert!(matches!(e, BackupCmdError::Adapter { .. }), "{e:?}");
    assert!(events(&f).is_empty(), "{:?}", events(&f));
    // A corrupt manifest: refused before anything is journaled or applied.
    let m = backup_cmd::create(&b, &plan, "old", &types(&["configurations"]), "ana")
        .expect("create")
        .value;
    let before = events(&f).len();
    let path = f.state_dir().join(store.manifest_doc(&m.id));
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("\"old\"", "\"new\"", 1)).unwrap();
    let e = backup_cmd::restore(&b, &plan, &m.id, &[], "ana").unwrap_err();
    assert!(
        matches!(e, BackupCmdError::Backup(BackupError::Corrupt { .. })),
        "{e:?}"
    );
    assert_eq!(e.exit_class(), ExitClass::State);
    assert_eq!(events(&f).len(), before);
}

//! `prune` never races a backup in progress: the store's writer lock.
//!
//! The real `alertmanager` adapter backs up `configurations` (its config
//! file) and then `silences` from a slow Alertmanager API that holds the
//! `GET` until the test lets it answer. While it is held, the first blob is
//! stored and no manifest references it: `prune` (even `--keep 0`) is
//! refused naming the backup, deletes nothing, and the backup then commits
//! and restores.

use std::time::Duration;

use cutover_backup::{BackupError, BackupStore};
use cutover_base::exit::{ExitClass, HasExitClass};
use cutover_runtime::{Origin, Runtime};
use cutover_test_kit::slow_am::{SlowAm, silence};

use super::*;

const CONFIG: &str = "route:\n  receiver: ops\nreceivers:\n  - name: ops\n";

fn am_plugin(rt: &Runtime) -> Plugin {
    rt.load_file(&plugin_path("alertmanager"), None)
        .expect("load alertmanager")
}

fn am_sandbox(config: &Path, origin: &str) -> Sandbox {
    Sandbox::with_grants(Grants {
        hosts: vec![Origin::parse_grant(origin).expect("origin")],
        dirs: vec![DirGrant {
            name: "config".into(),
            path: config.to_path_buf(),
            write: true,
        }],
        config: [("url".to_string(), origin.to_string())].into(),
        ..Grants::default()
    })
}

#[test]
fn prune_is_refused_while_a_backup_is_written_and_the_backup_commits_and_restores() {
    let (rt, _) = env();
    let am = am_plugin(rt);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    fs::create_dir_all(&config).unwrap();
    fs::write(config.join("alertmanager.yml"), CONFIG).unwrap();
    let state = dir.path().join("state");
    let (server, slow) = SlowAm::start(vec![silence("s1", "Watchdog")], true);
    let sb = am_sandbox(&config, &server.origin());
    let store = BackupStore::open(&state).unwrap();
    let types = strings(&["configurations", "silences"]);

    let m = std::thread::scope(|s| {
        let writer = s.spawn(|| store.backup(rt, &am, &sb, "new", &types, lineage()));
        assert!(
            slow.wait_held(Duration::from_secs(60)),
            "the backup never asked for the silences"
        );
        // Mid-write: the configuration's blob is stored, no manifest yet.
        let pruner = BackupStore::open(&state).unwrap();
        assert_eq!(pruner.ids().unwrap(), Vec::<String>::new());
        let blobs = pruner.blobs().list().unwrap();
        assert_eq!(blobs.len(), 1, "{blobs:?}");
        let err = pruner.prune(0, 0).unwrap_err();
        let BackupError::InProgress { writing, .. } = &err else {
            panic!("prune ran during the backup: {err:?}");
        };
        assert_eq!(writing.len(), 1, "{err}");
        assert!(writing[0].starts_with("b-"), "{err}");
        assert_eq!(err.exit_class(), ExitClass::State);
        assert!(err.to_string().contains("nothing was pruned"), "{err}");
        assert_eq!(
            pruner.blobs().list().unwrap(),
            blobs,
            "prune deleted a blob"
        );

        slow.release();
        let m = writer.join().expect("writer").expect("backup");
        assert_eq!(writing[0], m.id);
        m
    });
    assert!(m.complete(), "{:?}", m.results);

    // Now prune may run: it keeps the backup and every blob it references.
    let r = store.prune(1, 0).unwrap();
    assert_eq!((r.deleted_backups.len(), r.deleted_blobs), (0, 0), "{r:?}");
    assert_eq!(r.kept_blobs, 2);
    assert!(r.abandoned.is_empty());
    assert!(store.verify(Some(&m.id)).unwrap().iter().all(|i| i.ok));

    // And it restores: the file byte for byte, the silence re-created.
    fs::write(config.join("alertmanager.yml"), "route: {}\n").unwrap();
    slow.set_silences(Vec::new());
    let report = store.restore(rt, &am, &sb, &m.id, None).unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!(
        fs::read_to_string(config.join("alertmanager.yml")).unwrap(),
        CONFIG
    );
    let now = slow.silences();
    assert_eq!(now.len(), 1, "{now:?}");
    assert_eq!(now[0]["matchers"][0]["value"], "Watchdog");
    assert!(slow.reloads() >= 1);
}

#[test]
fn a_backup_whose_writer_died_is_cleared_by_the_next_prune() {
    let (rt, plugin, f, sb, store) = setup();
    let kept = store
        .backup(rt, plugin, &sb, "old", &strings(&TYPES[..1]), lineage())
        .unwrap();
    // A writer that begins a backup and never commits it (its process
    // died: the lock is gone, the in-progress marker stays behind).
    let pending = store.begin_backup().unwrap();
    let dead = pending.id().to_string();
    let marker = f.state.join(format!("backups/.in-progress-{dead}"));
    assert!(marker.exists());
    let err = store.prune(0, 0).unwrap_err();
    assert!(matches!(err, BackupError::InProgress { .. }), "{err:?}");
    std::mem::drop(pending);
    // Dropping removes the marker; recreate what a SIGKILL leaves behind.
    assert!(!marker.exists());
    fs::write(&marker, "4242\n").unwrap();
    let r = store.prune(1, 0).unwrap();
    assert_eq!(r.abandoned, vec![dead]);
    assert!(!marker.exists());
    assert_eq!(r.deleted_backups, Vec::<String>::new());
    assert!(store.verify(Some(&kept.id)).unwrap().iter().all(|i| i.ok));
}

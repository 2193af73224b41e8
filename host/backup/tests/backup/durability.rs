//! What must never break: every corruption of a manifest, point or blob is
//! found before anything is applied, SIGKILL during a backup never leaves a
//! manifest pointing at a bad blob, and pruning never deletes a referenced
//! blob.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cutover_backup::{BackupError, BackupStore};
use cutover_state::Digest;

use super::*;

/// Positions to damage in a file of `len` bytes: ends, middle and random ones.
fn positions(len: usize, rng: &mut fastrand::Rng) -> Vec<usize> {
    let mut p: BTreeSet<usize> = [0, len / 2, len.saturating_sub(1)].into();
    for _ in 0..5 {
        p.insert(rng.usize(..len));
    }
    p.into_iter().collect()
}

#[test]
fn every_corruption_is_detected_before_anything_is_applied() {
    let (rt, plugin, f, sb, store) = setup();
    set_state(&f.data, "configurations", r#"{"v":1}"#);
    let m = store
        .backup(rt, plugin, &sb, "old", &strings(&TYPES), lineage())
        .unwrap();
    let p = store
        .capture_point(rt, plugin, &sb, "old", "pre", &[], lineage())
        .unwrap();
    assert!(m.complete() && p.results.iter().all(|r| r.ok));

    // Change the system so that any applied restore would show.
    scribble(&f.data, "changed");
    set_state(&f.data, "configurations", r#"{"v":2}"#);
    let untouched = snapshot(&f.data);

    // Which documents reference each blob, under which kinds.
    let mut users: BTreeMap<String, Vec<(bool, String)>> = BTreeMap::new();
    for r in &m.results {
        users
            .entry(r.digest.clone().unwrap())
            .or_default()
            .push((true, r.kind.clone()));
    }
    for r in &p.results {
        users
            .entry(r.digest.clone().unwrap())
            .or_default()
            .push((false, r.kind.clone()));
    }
    let mut targets: Vec<(PathBuf, Vec<(bool, String)>)> = vec![
        (
            f.state.join(store.manifest_doc(&m.id)),
            vec![(true, "manifest".into())],
        ),
        (
            f.state.join(store.point_doc("pre")),
            vec![(false, "point".into())],
        ),
    ];
    let files = file_blobs(&f.state);
    for (digest, who) in &users {
        let d = Digest::from_hex(digest).unwrap();
        targets.push((files.path_of(&d), who.clone()));
    }

    let mut rng = fastrand::Rng::with_seed(0x5eed);
    let mut attempts = 0;
    for (path, who) in &targets {
        let original = fs::read(path).unwrap();
        assert!(!original.is_empty(), "{}", path.display());
        for pos in positions(original.len(), &mut rng) {
            let mut flipped = original.clone();
            flipped[pos] ^= 1 << rng.u8(..8);
            let truncated = original[..pos].to_vec();
            for damaged in [flipped, truncated] {
                fs::write(path, &damaged).unwrap();
                for (is_backup, _) in who {
                    attempts += 1;
                    let result = if *is_backup {
                        store.restore(rt, plugin, &sb, &m.id, None).map(|_| ())
                    } else {
                        store.rollback(rt, plugin, &sb, "pre", None).map(|_| ())
                    };
                    match result {
                        Err(BackupError::Corrupt { item, .. }) => assert!(
                            who.iter().any(|(_, k)| *k == item),
                            "{}: corrupt item {item} is not one of {who:?}",
                            path.display()
                        ),
                        other => panic!(
                            "{} damaged at byte {pos}: expected Corrupt, got {other:?}",
                            path.display()
                        ),
                    }
                    assert_eq!(
                        snapshot(&f.data),
                        untouched,
                        "target changed after a refused restore"
                    );
                }
                let findings = store.verify(None).unwrap();
                assert!(
                    findings.iter().any(|i| !i.ok),
                    "verify missed damage at byte {pos} of {}",
                    path.display()
                );
            }
            fs::write(path, &original).unwrap();
        }
    }
    assert!(attempts >= 100, "only {attempts} attempts");
    assert!(store.verify(None).unwrap().iter().all(|i| i.ok));

    // A missing blob is named.
    let gone = m.results[1].digest.clone().unwrap();
    fs::remove_file(files.path_of(&Digest::from_hex(&gone).unwrap())).unwrap();
    let problems: Vec<_> = store
        .verify(Some(&m.id))
        .unwrap()
        .into_iter()
        .filter(|i| !i.ok)
        .collect();
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].kind, "alert_rules");
    assert!(
        problems[0]
            .problem
            .as_deref()
            .unwrap()
            .contains("missing blob")
    );
    match store.restore(rt, plugin, &sb, &m.id, None) {
        Err(BackupError::Corrupt { item, actual, .. }) => {
            assert_eq!(item, "alert_rules");
            assert_eq!(actual, "missing blob");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    assert_eq!(snapshot(&f.data), untouched);
}

/// Child side of the SIGKILL test: loops backups of changing data until killed.
#[test]
fn kill_child_worker() {
    let Ok(dirs) = std::env::var("CUTOVER_BACKUP_KILL_CHILD") else {
        return; // only runs as a re-executed child
    };
    let parts: Vec<&str> = dirs.split('\n').collect();
    let [data, state, ready] = parts[..] else {
        panic!("bad CUTOVER_BACKUP_KILL_CHILD {dirs:?}");
    };
    let (rt, plugin) = env();
    let sb = sandbox(Path::new(data));
    let store = BackupStore::open(Path::new(state)).unwrap();
    let types = strings(&["big_a", "big_b", "configurations"]);
    fs::write(ready, b"ready").unwrap();
    for round in 0u64.. {
        for (i, name) in ["big_a", "big_b"].iter().enumerate() {
            let seed = round * 2 + i as u64 + u64::from(std::process::id());
            let mut rng = fastrand::Rng::with_seed(seed);
            let mut bytes = vec![0u8; 6 << 20];
            rng.fill(&mut bytes);
            fs::write(Path::new(data).join(name), bytes).unwrap();
        }
        store
            .backup(rt, plugin, &sb, "old", &types, lineage())
            .unwrap();
    }
}

#[test]
fn sigkill_during_backup_never_leaves_a_dangling_manifest() {
    let (_rt, _plugin) = env(); // warms the component cache for the children
    let f = fixture();
    let exe = std::env::current_exe().unwrap();
    let mut rng = fastrand::Rng::with_seed(42);
    for run in 0..12 {
        let ready = f.state.with_file_name(format!("ready-{run}"));
        let mut child = Command::new(&exe)
            .args([
                "durability::kill_child_worker",
                "--exact",
                "--test-threads=1",
            ])
            .env(
                "CUTOVER_BACKUP_KILL_CHILD",
                format!(
                    "{}\n{}\n{}",
                    f.data.display(),
                    f.state.display(),
                    ready.display()
                ),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while !ready.exists() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("child {run} exited before it was ready: {status}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "child {run} not ready after 2 minutes"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(rng.u64(20..700)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        let store = BackupStore::open(&f.state).unwrap();
        for m in store.list().unwrap() {
            for r in m.results.iter().filter(|r| r.ok) {
                let d = Digest::from_hex(r.digest.as_deref().unwrap()).unwrap();
                let blob = store.blobs().verify(&d).unwrap_or_else(|e| {
                    panic!("run {run}: manifest {} references a bad blob: {e}", m.id)
                });
                assert_eq!(blob.size, r.size);
            }
        }
    }
    let store = BackupStore::open(&f.state).unwrap();
    let manifests = store.list().unwrap();
    let leftovers = fs::read_dir(file_blobs(&f.state).root().join("tmp"))
        .unwrap()
        .count();
    eprintln!(
        "sigkill: {} complete backups, {leftovers} blob writes cut short by kills",
        manifests.len()
    );
    assert!(
        leftovers > 0,
        "no kill landed while a blob was being written: the test exercised nothing"
    );
    assert!(
        !manifests.is_empty(),
        "no backup ever completed: the kills did not exercise a full backup"
    );
    assert!(store.verify(None).unwrap().iter().all(|i| i.ok));
}

#[test]
fn prune_never_deletes_a_referenced_blob() {
    let (rt, plugin, f, sb, store) = setup();
    let types = strings(&TYPES);
    let mut rng = fastrand::Rng::with_seed(7);
    let mut total_deleted = 0;
    for round in 0..16 {
        // Change some files so backups share some blobs and not others.
        if rng.bool() {
            fs::write(
                f.data.join("configurations.yml"),
                format!("round: {round}\n"),
            )
            .unwrap();
        }
        if rng.bool() {
            fs::write(f.data.join("user_data.json"), format!("[{round}]")).unwrap();
        }
        store
            .backup(rt, plugin, &sb, "old", &types, lineage())
            .unwrap();
        if rng.u8(..4) == 0 {
            let name = format!("p{}", rng.u8(..3));
            store
                .capture_point(rt, plugin, &sb, "old", &name, &[], lineage())
                .unwrap();
        }
        if rng.bool() {
            let (kb, kp) = (rng.usize(..4), rng.usize(..3));
            let before = store.list().unwrap().len();
            let report = store.prune(kb, kp).unwrap();
            total_deleted += report.deleted_blobs;
            assert_eq!(store.list().unwrap().len(), before.min(kb));
            assert!(store.list_points().unwrap().len() <= kp);
            assert_eq!(report.kept_blobs, store.blobs().list().unwrap().len());
        }
        let findings = store.verify(None).unwrap();
        let bad: Vec<_> = findings.iter().filter(|i| !i.ok).collect();
        assert!(bad.is_empty(), "round {round}: {bad:#?}");
    }
    assert!(total_deleted > 0, "prune never deleted anything");

    // The newest backup survives a prune to 1 and restores.
    fs::write(f.data.join("user_data.json"), "[\"last\"]").unwrap();
    let newest = store
        .backup(rt, plugin, &sb, "old", &types, lineage())
        .unwrap();
    store.prune(1, 0).unwrap();
    assert_eq!(store.list().unwrap(), vec![newest.clone()]);
    let referenced: BTreeSet<String> = newest
        .results
        .iter()
        .filter_map(|r| r.digest.clone())
        .collect();
    let stored: BTreeSet<String> = store
        .blobs()
        .list()
        .unwrap()
        .iter()
        .map(|b| b.digest.to_hex())
        .collect();
    assert_eq!(stored, referenced);
    assert!(
        store
            .restore(rt, plugin, &sb, &newest.id, None)
            .unwrap()
            .ok()
    );

    // A corrupt manifest makes prune refuse rather than guess.
    store
        .backup(rt, plugin, &sb, "old", &types, lineage())
        .unwrap();
    let path = f.state.join(store.manifest_doc(&newest.id));
    let mut bytes = fs::read(&path).unwrap();
    bytes[10] ^= 4;
    fs::write(&path, bytes).unwrap();
    let blobs_before = store.blobs().list().unwrap();
    assert!(matches!(
        store.prune(0, 0),
        Err(BackupError::Corrupt { .. })
    ));
    assert_eq!(store.blobs().list().unwrap(), blobs_before);
}

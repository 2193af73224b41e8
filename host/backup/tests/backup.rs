//! Backups, restores and rollbacks through the real `file-adapter` component.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use cutover_backup::{BackupError, BackupStore, Lineage, RestoreStatus, RollbackProgress};
use cutover_runtime::{DirGrant, Grants, Plugin, Runtime, Sandbox};
use cutover_state::{BlobStore, Digest, write_checked_json};

const TYPES: [&str; 4] = [
    "configurations",
    "alert_rules",
    "user_data",
    "historical_alerts",
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn adapter_path() -> PathBuf {
    let p = workspace().join("target/plugins/file-adapter.wasm");
    assert!(
        p.is_file(),
        "{} is missing: run scripts/build-plugins.sh first",
        p.display()
    );
    p
}

fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("backup-test-cache")
}

fn env() -> &'static (Runtime, Plugin) {
    static ENV: OnceLock<(Runtime, Plugin)> = OnceLock::new();
    ENV.get_or_init(|| {
        let rt = Runtime::new(Some(&cache_dir())).expect("runtime");
        let plugin = rt
            .load_file(&adapter_path(), None)
            .expect("load file-adapter");
        (rt, plugin)
    })
}

fn sandbox(data: &Path) -> Sandbox {
    Sandbox::with_grants(Grants {
        dirs: vec![DirGrant {
            name: "data".into(),
            path: data.to_path_buf(),
            write: true,
        }],
        ..Grants::default()
    })
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn lineage() -> Lineage {
    Lineage {
        plan_fingerprint: "f".repeat(64),
        journal_seq: 7,
    }
}

/// A temp dir with `data/` (a copy of the demo data) and `state/`.
struct Fixture {
    _dir: tempfile::TempDir,
    data: PathBuf,
    state: PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let state = dir.path().join("state");
    fs::create_dir_all(&data).unwrap();
    let demo = workspace().join("plans/demo-data/old");
    for e in fs::read_dir(&demo).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), data.join(e.file_name())).unwrap();
    }
    Fixture {
        _dir: dir,
        data,
        state,
    }
}

/// Every file under `dir` (relative path -> bytes).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(
                    p.strip_prefix(root).unwrap().to_path_buf(),
                    fs::read(&p).unwrap(),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Changes every exportable file and the state files.
fn scribble(data: &Path, tag: &str) {
    for (name, body) in [
        (
            "configurations.yml",
            format!("global: {{changed: {tag}}}\n"),
        ),
        ("alert_rules.yml", format!("groups: [] # {tag}\n")),
        ("user_data.json", format!("{{\"users\": [\"{tag}\"]}}")),
        ("historical_alerts.json", format!("[\"{tag}\"]")),
    ] {
        fs::write(data.join(name), body).unwrap();
    }
}

#[test]
fn round_trip_restores_byte_equal() {
    let (rt, plugin) = env();
    let f = fixture();
    let sb = sandbox(&f.data);
    let store = BackupStore::open(&f.state).unwrap();
    let before = snapshot(&f.data);
    let m = store
        .backup(rt, plugin, &sb, "old", &strings(&TYPES), lineage())
        .unwrap();
    assert!(m.complete(), "{m:#?}");
    assert_eq!(m.results.len(), 4);
    assert_eq!(m.lineage, lineage());
    assert_eq!(m.adapter.digest, plugin.info().sha256);
    let user = &m.results[2];
    assert_eq!(user.size, before[Path::new("user_data.json")].len() as u64);
    assert_eq!(
        user.digest.as_deref(),
        Some(
            Digest::of(&before[Path::new("user_data.json")])
                .to_hex()
                .as_str()
        )
    );
    assert_eq!(store.show(&m.id).unwrap(), m);
    assert_eq!(store.list().unwrap(), vec![m.clone()]);
    assert!(store.verify(None).unwrap().iter().all(|i| i.ok));

    scribble(&f.data, "after-backup");
    fs::remove_file(f.data.join("user_data.json")).unwrap();
    assert_ne!(snapshot(&f.data), before);

    let report = store.restore(rt, plugin, &sb, &m.id, None).unwrap();
    assert!(report.ok(), "{report:#?}");
    assert_eq!(report.results.len(), 4);
    assert_eq!(snapshot(&f.data), before);

    // A selected subset restores only that type.
    scribble(&f.data, "again");
    let only = strings(&["alert_rules"]);
    let report = store.restore(rt, plugin, &sb, &m.id, Some(&only)).unwrap();
    assert_eq!(report.results.len(), 1);
    let now = snapshot(&f.data);
    assert_eq!(
        now[Path::new("alert_rules.yml")],
        before[Path::new("alert_rules.yml")]
    );
    assert_ne!(
        now[Path::new("configurations.yml")],
        before[Path::new("configurations.yml")]
    );
}

#[test]
fn failed_type_is_isolated() {
    let (rt, plugin) = env();
    let f = fixture();
    let sb = sandbox(&f.data);
    let store = BackupStore::open(&f.state).unwrap();
    let types = strings(&["configurations", "no_such_kind", "alert_rules"]);
    let m = store
        .backup(rt, plugin, &sb, "old", &types, lineage())
        .unwrap();
    assert!(!m.complete());
    let ok: Vec<bool> = m.results.iter().map(|r| r.ok).collect();
    assert_eq!(ok, [true, false, true]);
    let err = m.results[1].error.as_deref().unwrap();
    assert!(err.contains("no_such_kind"), "{err}");
    assert!(m.results[1].digest.is_none());
    assert!(m.results[0].digest.is_some() && m.results[2].digest.is_some());
    // Nothing half-written: only the two exported blobs exist, no temp files.
    assert_eq!(store.blobs().list().unwrap().len(), 2);
    assert_eq!(store.blobs().clean_temp().unwrap(), 0);

    scribble(&f.data, "x");
    let report = store.restore(rt, plugin, &sb, &m.id, None).unwrap();
    let kinds: Vec<&str> = report.results.iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(kinds, ["configurations", "alert_rules"]);
    assert!(report.ok());
}

/// A restore asking for types the backup lacks fails those types, with the
/// reason, and still restores the others.
#[test]
fn restore_of_a_lacking_type_fails_that_type_only() {
    let (rt, plugin) = env();
    let f = fixture();
    let sb = sandbox(&f.data);
    let store = BackupStore::open(&f.state).unwrap();
    let types = strings(&["configurations", "no_such_kind"]);
    let m = store
        .backup(rt, plugin, &sb, "old", &types, lineage())
        .unwrap();
    let before = snapshot(&f.data);
    scribble(&f.data, "after-backup");

    let asked = strings(&["no_such_kind", "configurations", "user_data"]);
    let report = store.restore(rt, plugin, &sb, &m.id, Some(&asked)).unwrap();
    assert!(!report.ok());
    let got: Vec<(&str, RestoreStatus)> = report
        .results
        .iter()
        .map(|r| (r.kind.as_str(), r.status))
        .collect();
    assert_eq!(
        got,
        [
            ("no_such_kind", RestoreStatus::Failed),
            ("configurations", RestoreStatus::Ok),
            ("user_data", RestoreStatus::Failed),
        ]
    );
    let reason = |i: usize| report.results[i].reason.clone().unwrap_or_default();
    assert!(
        reason(0).contains(&format!("backup {} did not store it", m.id))
            && reason(0).contains("no_such_kind"),
        "{}",
        reason(0)
    );
    assert_eq!(
        reason(2),
        format!(
            "backup {} does not contain it (it holds: configurations)",
            m.id
        )
    );
    let failed: Vec<&str> = report.failed().map(|r| r.kind.as_str()).collect();
    assert_eq!(failed, ["no_such_kind", "user_data"]);
    // configurations was restored; nothing else was touched.
    let now = snapshot(&f.data);
    assert_eq!(
        now[Path::new("configurations.yml")],
        before[Path::new("configurations.yml")]
    );
    assert_ne!(
        now[Path::new("user_data.json")],
        before[Path::new("user_data.json")]
    );
    // The report serialises each type with its status and reason.
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["results"][0]["status"], "failed");
    assert_eq!(json["results"][1]["status"], "ok");
    assert_eq!(json["results"][2]["reason"], reason(2).as_str());
}

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
    let (rt, plugin) = env();
    let f = fixture();
    let sb = sandbox(&f.data);
    fs::create_dir_all(f.data.join("state")).unwrap();
    fs::write(f.data.join("state/configurations.json"), r#"{"v":1}"#).unwrap();
    let store = BackupStore::open(&f.state).unwrap();
    let m = store
        .backup(rt, plugin, &sb, "old", &strings(&TYPES), lineage())
        .unwrap();
    let p = store
        .capture_point(rt, plugin, &sb, "old", "pre", &[], lineage())
        .unwrap();
    assert!(m.complete() && p.results.iter().all(|r| r.ok));

    // Change the system so that any applied restore would show.
    scribble(&f.data, "changed");
    fs::write(f.data.join("state/configurations.json"), r#"{"v":2}"#).unwrap();
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
        (store.manifest_path(&m.id), vec![(true, "manifest".into())]),
        (store.point_path("pre"), vec![(false, "point".into())]),
    ];
    for (digest, who) in &users {
        let d = Digest::from_hex(digest).unwrap();
        targets.push((store.blobs().path_of(&d), who.clone()));
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
    fs::remove_file(store.blobs().path_of(&Digest::from_hex(&gone).unwrap())).unwrap();
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
            .args(["kill_child_worker", "--exact", "--test-threads=1"])
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
    let leftovers = fs::read_dir(store.blobs().root().join("tmp"))
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
    let (rt, plugin) = env();
    let f = fixture();
    let sb = sandbox(&f.data);
    let store = BackupStore::open(&f.state).unwrap();
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
    let path = store.manifest_path(&newest.id);
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

fn state_file(data: &Path, category: &str) -> String {
    fs::read_to_string(data.join(format!("state/{category}.json"))).unwrap()
}

#[test]
fn rollback_point_restores_state() {
    let (rt, plugin) = env();
    let f = fixture();
    let sb = sandbox(&f.data);
    fs::create_dir_all(f.data.join("state")).unwrap();
    fs::write(f.data.join("state/configurations.json"), r#"{"v":1}"#).unwrap();
    let store = BackupStore::open(&f.state).unwrap();
    let p = store
        .capture_point(rt, plugin, &sb, "old", "before-cutover", &[], lineage())
        .unwrap();
    let cats: Vec<&str> = p.results.iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(cats, cutover_backup::DEFAULT_CATEGORIES);
    assert!(p.results.iter().all(|r| r.ok), "{p:#?}");
    assert_eq!(store.point("before-cutover").unwrap(), p);

    fs::write(f.data.join("state/configurations.json"), r#"{"v":2}"#).unwrap();
    fs::write(f.data.join("state/system_metrics.json"), r#"{"cpu":9}"#).unwrap();
    let report = store
        .rollback(rt, plugin, &sb, "before-cutover", None)
        .unwrap();
    assert!(report.ok(), "{report:#?}");
    assert!(report.resumed.is_empty());
    let got: Vec<(&str, RestoreStatus)> = report
        .results
        .iter()
        .map(|r| (r.kind.as_str(), r.status))
        .collect();
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
    fs::write(f.data.join("state/configurations.json"), r#"{"v":3}"#).unwrap();
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
    let (rt, plugin) = env();
    let f = fixture();
    let sb = sandbox(&f.data);
    fs::create_dir_all(f.data.join("state")).unwrap();
    fs::write(f.data.join("state/configurations.json"), r#"{"v":1}"#).unwrap();
    let store = BackupStore::open(&f.state).unwrap();
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
    write_checked_json(&store.point_path("p"), &point).unwrap();
    fs::write(f.data.join("state/configurations.json"), r#"{"v":2}"#).unwrap();

    let report = store.rollback(rt, plugin, &sb, "p", None).unwrap();
    let got: Vec<(&str, RestoreStatus)> = report
        .results
        .iter()
        .map(|r| (r.kind.as_str(), r.status))
        .collect();
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
    let (rt, plugin) = env();
    let f = fixture();
    let sb = sandbox(&f.data);
    fs::create_dir_all(f.data.join("state")).unwrap();
    fs::write(f.data.join("state/configurations.json"), r#"{"v":1}"#).unwrap();
    fs::write(f.data.join("state/user_permissions.json"), r#"{"u":1}"#).unwrap();
    let store = BackupStore::open(&f.state).unwrap();
    store
        .capture_point(rt, plugin, &sb, "old", "p", &[], lineage())
        .unwrap();

    // 1. A failure mid-way: system_metrics cannot be replaced (a directory
    //    sits where its file goes); the others are applied and recorded.
    fs::write(f.data.join("state/configurations.json"), r#"{"v":2}"#).unwrap();
    fs::write(f.data.join("state/user_permissions.json"), r#"{"u":2}"#).unwrap();
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
    fs::write(f.data.join("state/configurations.json"), r#"{"v":9}"#).unwrap();
    let second = store.rollback(rt, plugin, &sb, "p", None).unwrap();
    assert!(second.ok(), "{second:#?}");
    assert_eq!(second.resumed, progress.done);
    let applied: Vec<(&str, RestoreStatus)> = second
        .results
        .iter()
        .map(|r| (r.kind.as_str(), r.status))
        .collect();
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
    fs::write(f.data.join("state/configurations.json"), r#"{"v":5}"#).unwrap();
    fs::write(f.data.join("state/user_permissions.json"), r#"{"u":5}"#).unwrap();
    write_checked_json(
        &store.progress_path("p"),
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
    fs::write(f.data.join("state/configurations.json"), r#"{"v":6}"#).unwrap();
    write_checked_json(
        &store.progress_path("p"),
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

#[test]
fn names_are_checked() {
    let f = fixture();
    let store = BackupStore::open(&f.state).unwrap();
    for bad in ["", "../x", "a/b", ".hidden"] {
        assert!(
            matches!(store.show(bad), Err(BackupError::InvalidName { .. })),
            "{bad:?}"
        );
    }
    assert!(matches!(
        store.show("b-20260101T000000Z-abcdef"),
        Err(BackupError::NotFound { .. })
    ));
    assert!(matches!(
        store.verify(Some("nope")),
        Err(BackupError::NotFound { .. })
    ));
    assert!(matches!(
        store.verify(Some("point:nope")),
        Err(BackupError::NotFound { .. })
    ));
    assert!(matches!(
        store.verify(Some("point:../x")),
        Err(BackupError::InvalidName { .. })
    ));
}

/// Describes every plugin as the file adapter (what `describe()` returns).
struct AdapterResolver;

impl cutover_plan::PluginResolver for AdapterResolver {
    fn describe(&self, _id: &str, _path: &Path) -> Result<cutover_plan::PluginInfo, String> {
        Ok(cutover_plan::PluginInfo {
            kind: cutover_plan::PluginKind::Adapter,
            name: "file-adapter".into(),
            version: "0.1.0".into(),
            hosts: Vec::new(),
            dirs: vec![("data".into(), true)],
            secrets: Vec::new(),
            config_keys: Vec::new(),
            support: cutover_plan::AdapterSupport {
                backup_types: strings(&TYPES),
                rollback_categories: strings(&[
                    "configurations",
                    "system_metrics",
                    "user_permissions",
                ]),
                capture_only: strings(&["active_alerts"]),
            },
            kinds: Vec::new(),
        })
    }
}

#[test]
fn sandbox_from_plan_grants_the_data_dir() {
    let (rt, plugin) = env();
    let f = fixture();
    let root = f.data.parent().unwrap();
    let wasm = adapter_path();
    let pin = Digest::of(&fs::read(&wasm).unwrap()).to_hex();
    let plan = format!(
        r#"
[plan]
name = "t"
description = "d"
owner = "o"
state_dir = "state"
defaults = {{ deadline = "7s", memory = "32MiB" }}

[plugins.file-old]
path = "{wasm}"
sha256 = "{pin}"
grants = {{ dirs = [{{ name = "data", path = "data", write = true }}] }}

[plugins.file-new]
path = "{wasm}"
sha256 = "{pin}"
grants = {{ dirs = [{{ name = "data", path = "data", write = true }}], tls_ca = ["ca.crt"] }}

[systems.old]
adapter = "file-old"
label = "old"

[systems.new]
adapter = "file-new"
label = "new"

[[phases]]
id = "prep"
name = "Prep"
duration = "1s"
risk = "low"

[[phases.steps]]
id = "backup-old"
kind = "backup"
system = "old"
types = ["configurations"]
"#,
        wasm = wasm.display()
    );
    let plan_path = root.join("plan.toml");
    fs::write(&plan_path, plan).unwrap();
    let ca_file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime/tests/fixtures/tls/ca.crt");
    fs::copy(&ca_file, root.join("ca.crt")).unwrap();
    let loaded = match cutover_plan::load(&plan_path, &AdapterResolver) {
        Ok(l) => l,
        Err(d) => panic!("{}", d.render_auto()),
    };
    assert_eq!(
        cutover_backup::adapter_id(&loaded, "old").unwrap(),
        "file-old"
    );
    assert!(cutover_backup::adapter_id(&loaded, "sideways").is_err());
    assert!(cutover_backup::sandbox_for(&loaded, "nope").is_err());
    let sb = cutover_backup::sandbox_for(&loaded, "file-old").unwrap();
    assert_eq!(sb.limits.deadline, Duration::from_secs(7));
    assert_eq!(sb.limits.memory_bytes, 32 << 20);
    assert_eq!(sb.grants.dirs.len(), 1);
    assert_eq!(sb.grants.dirs[0].path, root.join("data"));
    assert!(sb.grants.dirs[0].write);
    assert!(sb.tls_ca.is_none(), "no tls_ca grant: the public roots");
    // The granted CA is loaded (relative to the plan) when the sandbox is built.
    let ca = cutover_backup::sandbox_for(&loaded, "file-new")
        .unwrap()
        .tls_ca
        .expect("tls_ca granted");
    assert_eq!(ca.files(), [root.join("ca.crt")]);
    assert_eq!(ca.certificates(), 1);
    fs::write(root.join("ca.crt"), "not a certificate").unwrap();
    match cutover_backup::sandbox_for(&loaded, "file-new") {
        Err(e) => assert!(e.to_string().contains("ca.crt"), "{e}"),
        Ok(_) => panic!("a CA file that is no certificate must fail the sandbox"),
    }

    let store = BackupStore::open(&loaded.state_dir()).unwrap();
    assert_eq!(loaded.state_dir(), f.state);
    let m = store
        .backup(
            rt,
            plugin,
            &sb,
            "old",
            &strings(&["configurations"]),
            lineage(),
        )
        .unwrap();
    assert!(m.complete(), "{m:#?}");
}

//! Backups, restores and rollbacks through the real `file-adapter`
//! component, one binary: backups and restores (`backup/restore.rs`),
//! rollback points (`backup/rollback.rs`), what SIGKILL, corruption and
//! pruning cannot break (`backup/durability.rs`), no prune during a
//! backup in progress (`backup/in_progress.rs`), and the same round trip
//! over any state backend, files or PostgreSQL (`backup/backends.rs`).

#[path = "backup/backends.rs"]
mod backends;
#[path = "backup/durability.rs"]
mod durability;
#[path = "backup/in_progress.rs"]
mod in_progress;
#[path = "backup/restore.rs"]
mod restore;
#[path = "backup/rollback.rs"]
mod rollback;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use cutover_backup::{BackupStore, Lineage, RestoreStatus, TypeRestore};
use cutover_runtime::{DirGrant, Grants, Plugin, Runtime, Sandbox};
use cutover_state::FileBlobStore;
use cutover_test_kit::{plugin_path, repo_path};

const TYPES: [&str; 4] = [
    "configurations",
    "alert_rules",
    "user_data",
    "historical_alerts",
];

fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("backup-test-cache")
}

fn env() -> &'static (Runtime, Plugin) {
    static ENV: OnceLock<(Runtime, Plugin)> = OnceLock::new();
    ENV.get_or_init(|| {
        let rt = Runtime::new(Some(&cache_dir())).expect("runtime");
        let plugin = rt
            .load_file(&plugin_path("file-adapter"), None)
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
    for e in fs::read_dir(repo_path("plans/demo-data/old")).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), data.join(e.file_name())).unwrap();
    }
    Fixture {
        _dir: dir,
        data,
        state,
    }
}

/// A [`Fixture`] with the file adapter, a sandbox over its data and a store
/// over its state.
fn setup() -> (
    &'static Runtime,
    &'static Plugin,
    Fixture,
    Sandbox,
    BackupStore,
) {
    let (rt, plugin) = env();
    let f = fixture();
    let sb = sandbox(&f.data);
    let store = BackupStore::open(&f.state).unwrap();
    (rt, plugin, f, sb, store)
}

/// The blob files of the store [`BackupStore::open`] made over `state`
/// (`backups/blobs/..`), for the tests that damage them on disk.
fn file_blobs(state: &Path) -> FileBlobStore {
    FileBlobStore::open(&state.join("backups")).expect("blob directory")
}

/// Writes the adapter's state file of `category` (`state/CATEGORY.json`).
fn set_state(data: &Path, category: &str, text: &str) {
    fs::create_dir_all(data.join("state")).unwrap();
    fs::write(data.join(format!("state/{category}.json")), text).unwrap();
}

fn state_file(data: &Path, category: &str) -> String {
    fs::read_to_string(data.join(format!("state/{category}.json"))).unwrap()
}

/// Each type's or category's kind and status.
fn statuses(results: &[TypeRestore]) -> Vec<(&str, RestoreStatus)> {
    results
        .iter()
        .map(|r| (r.kind.as_str(), r.status))
        .collect()
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

//! The store over any state backend, through its two traits only: a full
//! backup -> verify -> restore, capture_point -> rollback and prune round
//! trip, and manifests or points edited in the document store refused
//! before anything is applied. Each is written once, as a function of the
//! backend; it runs over files (blobs and documents in two different
//! directories, so nothing can reach one through the other's paths) and
//! over PostgreSQL (a fresh database of the test-kit's server, opened as
//! the engine opens it: `StateBackend`, the lease, then its stores).

use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use cutover_backup::{BackupError, BackupStore, RestoreStatus};
use cutover_base::exit::{ExitClass, HasExitClass};
use cutover_state::{
    AnyLeaseHandle, BlobError, BlobStore, Digest, DocError, DocStore, FileBlobStore, FileDocStore,
    Lease, LeaseHandle, StateBackend, StateLocation,
};
use cutover_test_kit::pg::PgFixture;

use super::*;

/// Writes bytes to a named document without going through the store.
type Tamper = Box<dyn Fn(&str, &[u8])>;

/// One backend's blob and document stores, as the engine hands them to
/// [`BackupStore::on`].
struct Backend {
    name: &'static str,
    blobs: Arc<dyn BlobStore>,
    docs: Arc<dyn DocStore>,
    /// The local directory of the writer lock.
    work: PathBuf,
    /// Replaces the bytes of a document behind the store's back: the file
    /// on disk, the row in the database.
    tamper: Tamper,
    /// What must outlive the stores (temp dirs, the lease's heartbeat).
    _keep: Vec<Box<dyn Any>>,
}

impl Backend {
    fn store(&self) -> BackupStore {
        BackupStore::on(self.blobs.clone(), self.docs.clone(), &self.work).expect("store")
    }
}

/// Blobs under `<tmp>/blobs`, documents under `<tmp>/docs`, the lock in
/// `<tmp>/work`: three unrelated directories.
fn files() -> (Backend, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (blob_root, doc_root) = (dir.path().join("blobs"), dir.path().join("docs"));
    let root = doc_root.clone();
    let backend = Backend {
        name: "files",
        blobs: Arc::new(FileBlobStore::open(&blob_root).expect("blobs")),
        docs: Arc::new(FileDocStore::new(&doc_root)),
        work: dir.path().join("work"),
        tamper: Box::new(move |name, bytes| fs::write(root.join(name), bytes).unwrap()),
        _keep: vec![Box::new(dir)],
    };
    (backend, blob_root, doc_root)
}

const PLAN: &str = "backup-tests";

/// Heartbeats a held lease until dropped, then releases it (as the runner
/// does: the database refuses the writes of an expired lease).
struct Heartbeat {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Heartbeat {
    fn start(mut handle: AnyLeaseHandle) -> Heartbeat {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                handle.heartbeat().expect("lease heartbeat");
                for _ in 0..20 {
                    if flag.load(Ordering::Relaxed) {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            handle.release().expect("release the lease");
        });
        Heartbeat {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The state of a fresh database of the test-kit's PostgreSQL, opened as
/// the engine opens a `postgres://` state (the password handed over
/// directly: tests running at once share the process environment).
fn pg_state() -> (StateBackend, String) {
    let server = PgFixture::start();
    let db = server.fresh_db();
    let dir = tempfile::tempdir().expect("tempdir");
    let location = match StateLocation::resolve(Some(&db.url), dir.path(), PLAN).unwrap() {
        StateLocation::Postgres(cfg) => {
            StateLocation::Postgres(cfg.with_password(Some(db.password.clone())))
        }
        other => panic!("{} resolved to {other:?}", db.url),
    };
    let state = StateBackend::open(&location).expect("connect");
    state.ensure().expect("create the plan's tables");
    (state, db.name)
}

/// Blobs and documents in PostgreSQL, written under a held (heartbeated)
/// lease; the lock in a local temp directory.
fn postgres() -> Backend {
    let (state, db) = pg_state();
    let lease = state
        .lease(Some("backup tests"))
        .unwrap()
        .acquire()
        .expect("lease")
        .handle;
    let blobs = state.blobs("backups", lease.fence()).expect("blobs");
    let docs = state.docs(lease.fence()).expect("docs");
    let work = tempfile::tempdir().expect("tempdir");
    Backend {
        name: "postgres",
        blobs,
        docs,
        work: work.path().join("work"),
        tamper: Box::new(move |name, bytes| {
            let sql = format!(
                "UPDATE cutover_docs SET body = decode('{}', 'hex') WHERE name = '{name}' \
                 RETURNING name",
                hex::encode(bytes)
            );
            assert_eq!(PgFixture::start().psql(&db, &sql), name, "no row {name}");
        }),
        _keep: vec![Box::new(work), Box::new(Heartbeat::start(lease))],
    }
}

/// The digest of every stored result.
fn digests(results: &[cutover_backup::TypeResult]) -> Vec<Digest> {
    results
        .iter()
        .filter(|r| r.ok)
        .map(|r| Digest::from_hex(r.digest.as_deref().unwrap()).unwrap())
        .collect()
}

/// Backup -> verify -> restore, capture_point -> rollback, then prune, all
/// through `BackupStore::on` over `b`.
fn round_trip(b: &Backend) {
    let (rt, plugin) = env();
    let f = fixture();
    let sb = sandbox(&f.data);
    let store = b.store();
    let before = snapshot(&f.data);

    let m = store
        .backup(rt, plugin, &sb, "old", &strings(&TYPES), lineage())
        .unwrap();
    assert!(m.complete(), "{}: {m:#?}", b.name);
    // The manifest is a document of the document store, the data blobs of
    // the blob store, under the names and digests of the file layout.
    let doc = b.docs.get(&format!("backups/{}.json", m.id)).unwrap();
    assert!(doc.is_some_and(|d| d.ends_with(b"}\n")), "{}", b.name);
    for d in digests(&m.results) {
        assert!(
            b.blobs.exists(&d).unwrap(),
            "{}: blob {d} not stored",
            b.name
        );
    }
    assert_eq!(store.ids().unwrap(), vec![m.id.clone()]);
    assert_eq!(store.show(&m.id).unwrap(), m);
    let items = store.verify(None).unwrap();
    assert_eq!(items.len(), 1 + TYPES.len(), "{items:#?}");
    assert!(items.iter().all(|i| i.ok), "{}: {items:#?}", b.name);

    scribble(&f.data, "after-backup");
    fs::remove_file(f.data.join("user_data.json")).unwrap();
    let report = store.restore(rt, plugin, &sb, &m.id, None).unwrap();
    assert!(report.ok(), "{}: {report:#?}", b.name);
    assert_eq!(
        snapshot(&f.data),
        before,
        "{}: restore not byte-equal",
        b.name
    );

    set_state(&f.data, "configurations", r#"{"v":1}"#);
    let p = store
        .capture_point(rt, plugin, &sb, "old", "pre", &[], lineage())
        .unwrap();
    assert!(p.results.iter().all(|r| r.ok), "{}: {p:#?}", b.name);
    assert_eq!(store.point_names().unwrap(), vec!["pre".to_string()]);
    assert_eq!(store.resolve_point("pre").unwrap(), vec!["pre".to_string()]);
    set_state(&f.data, "configurations", r#"{"v":2}"#);
    set_state(&f.data, "system_metrics", r#"{"cpu":9}"#);
    let report = store.rollback(rt, plugin, &sb, "pre", None).unwrap();
    assert!(report.ok(), "{}: {report:#?}", b.name);
    assert_eq!(
        statuses(&report.results),
        [
            ("configurations", RestoreStatus::Ok),
            ("active_alerts", RestoreStatus::Unsupported),
            ("system_metrics", RestoreStatus::Ok),
            ("user_permissions", RestoreStatus::Ok),
        ]
    );
    assert_eq!(state_file(&f.data, "configurations"), r#"{"v":1}"#);
    assert_eq!(state_file(&f.data, "system_metrics"), "{}");
    assert!(store.progress("pre").unwrap().unwrap().finished);
    assert!(b.docs.get("points/pre.rollback.json").unwrap().is_some());
    // The progress document is not a point.
    assert_eq!(store.point_names().unwrap(), vec!["pre".to_string()]);

    // A second backup shares every blob but the changed file's; pruning to
    // one backup deletes the first manifest and that blob only.
    fs::write(f.data.join("user_data.json"), "[\"second\"]").unwrap();
    let second = store
        .backup(rt, plugin, &sb, "old", &strings(&TYPES), lineage())
        .unwrap();
    let blobs_before = b.blobs.list().unwrap().len();
    let pruned = store.prune(1, 1).unwrap();
    assert_eq!(pruned.deleted_backups, vec![m.id.clone()], "{}", b.name);
    assert_eq!(pruned.deleted_blobs, 1, "{}: {pruned:?}", b.name);
    assert_eq!(b.blobs.list().unwrap().len(), blobs_before - 1);
    assert!(b.docs.get(&store.manifest_doc(&m.id)).unwrap().is_none());
    assert_eq!(store.list().unwrap(), vec![second.clone()]);
    assert!(store.verify(None).unwrap().iter().all(|i| i.ok));
    scribble(&f.data, "again");
    assert!(
        store
            .restore(rt, plugin, &sb, &second.id, None)
            .unwrap()
            .ok()
    );
    assert_eq!(
        fs::read_to_string(f.data.join("user_data.json")).unwrap(),
        "[\"second\"]"
    );
}

/// A manifest or point whose bytes were changed in the document store
/// (behind its back: the file, the row) is refused as corrupt before
/// anything is applied, and verify names it.
fn edited_documents_are_refused(b: &Backend) {
    let (rt, plugin) = env();
    let f = fixture();
    let sb = sandbox(&f.data);
    let store = b.store();
    set_state(&f.data, "configurations", r#"{"v":1}"#);
    let m = store
        .backup(rt, plugin, &sb, "old", &strings(&TYPES), lineage())
        .unwrap();
    store
        .capture_point(rt, plugin, &sb, "old", "pre", &[], lineage())
        .unwrap();
    scribble(&f.data, "changed");
    set_state(&f.data, "configurations", r#"{"v":2}"#);
    let untouched = snapshot(&f.data);

    for (doc, item) in [
        (store.manifest_doc(&m.id), "manifest"),
        (store.point_doc("pre"), "point"),
    ] {
        let original = b.docs.get(&doc).unwrap().expect("document stored");
        let text = String::from_utf8(original.clone()).unwrap();
        assert!(text.contains("\"old\""), "{text}");
        let edits: [Vec<u8>; 3] = [
            // The system named in the body: the checksum no longer matches.
            text.replacen("\"old\"", "\"new\"", 1).into_bytes(),
            // The last byte cut off.
            original[..original.len() - 1].to_vec(),
            // One bit flipped in the middle.
            {
                let mut v = original.clone();
                v[original.len() / 2] ^= 0x08;
                v
            },
        ];
        for edited in edits {
            (b.tamper)(&doc, &edited);
            assert_eq!(b.docs.get(&doc).unwrap().as_deref(), Some(&edited[..]));
            let refused = if item == "manifest" {
                store.restore(rt, plugin, &sb, &m.id, None).map(|_| ())
            } else {
                store.rollback(rt, plugin, &sb, "pre", None).map(|_| ())
            };
            match refused {
                Err(BackupError::Corrupt { item: got, .. }) => assert_eq!(got, item),
                other => panic!("{}: edited {doc}: expected Corrupt, got {other:?}", b.name),
            }
            assert_eq!(snapshot(&f.data), untouched, "{}: {doc} applied", b.name);
            let label = if item == "manifest" {
                m.id.clone()
            } else {
                "point:pre".into()
            };
            let bad: Vec<_> = store
                .verify(Some(&label))
                .unwrap()
                .into_iter()
                .filter(|i| !i.ok)
                .collect();
            assert_eq!(bad.len(), 1, "{}: {bad:#?}", b.name);
            assert_eq!(bad[0].kind, item);
        }
        b.docs.put(&doc, &original).unwrap();
    }
    assert!(store.verify(None).unwrap().iter().all(|i| i.ok));
    assert!(store.restore(rt, plugin, &sb, &m.id, None).unwrap().ok());
    let rolled = store.rollback(rt, plugin, &sb, "pre", None).unwrap();
    assert!(rolled.ok(), "{rolled:#?}");
    assert_eq!(state_file(&f.data, "configurations"), r#"{"v":1}"#);
}

#[test]
fn round_trip_over_files_kept_apart() {
    let (b, blob_root, doc_root) = files();
    round_trip(&b);
    // Documents only under the document root, data only under the blob
    // root, nothing but the lock in the work directory.
    let docs = snapshot(&doc_root);
    assert!(
        docs.keys()
            .all(|p| p.starts_with("backups") || p.starts_with("points")),
        "{:?}",
        docs.keys()
    );
    assert!(
        docs.keys()
            .all(|p| p.extension().is_some_and(|e| e == "json"))
    );
    let blobs = snapshot(&blob_root);
    assert!(
        blobs.keys().all(|p| p.starts_with("blobs")),
        "{:?}",
        blobs.keys()
    );
    assert!(!blobs.is_empty());
    let work: Vec<PathBuf> = snapshot(&b.work).into_keys().collect();
    assert_eq!(work, [PathBuf::from("backups/.write.lock")]);
}

#[test]
fn edited_documents_are_refused_over_files() {
    edited_documents_are_refused(&files().0);
}

#[test]
fn round_trip_over_postgres() {
    round_trip(&postgres());
}

#[test]
fn edited_documents_are_refused_over_postgres() {
    edited_documents_are_refused(&postgres());
}

/// Stores opened without the lease read what the lease holder wrote, and
/// their writes are refused by the database: a state error, nothing stored.
#[test]
fn postgres_refuses_writes_made_without_the_lease() {
    let (rt, plugin) = env();
    let (state, _db) = pg_state();
    let f = fixture();
    let sb = sandbox(&f.data);
    let lease = state
        .lease(Some("backup tests"))
        .unwrap()
        .acquire()
        .unwrap();
    let held = BackupStore::on(
        state.blobs("backups", lease.handle.fence()).unwrap(),
        state.docs(lease.handle.fence()).unwrap(),
        &f.state,
    )
    .unwrap();
    let m = held
        .backup(rt, plugin, &sb, "old", &strings(&TYPES[..1]), lineage())
        .unwrap();
    let reader = BackupStore::on(
        state.blobs("backups", None).unwrap(),
        state.docs(None).unwrap(),
        &f.state,
    )
    .unwrap();
    assert_eq!(reader.show(&m.id).unwrap(), m);
    assert!(reader.verify(None).unwrap().iter().all(|i| i.ok));

    fs::write(f.data.join("configurations.yml"), "global: {}\n").unwrap();
    let err = reader
        .backup(rt, plugin, &sb, "old", &strings(&TYPES[..1]), lineage())
        .unwrap_err();
    assert!(
        matches!(err, BackupError::Doc(DocError::Fenced { .. })),
        "{err:?}"
    );
    assert_eq!(err.exit_class(), ExitClass::State);
    assert!(
        err.to_string().contains("without holding the lease"),
        "{err}"
    );
    assert!(matches!(
        reader.blobs().put_bytes(b"x"),
        Err(BlobError::Fenced { .. })
    ));
    assert_eq!(reader.ids().unwrap(), vec![m.id.clone()]);
    assert_eq!(reader.blobs().list().unwrap().len(), 1);
    lease.handle.release().unwrap();
}

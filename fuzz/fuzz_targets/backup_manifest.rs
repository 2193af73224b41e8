//! The backup manifest and rollback point reader: a document is read and
//! checked (checksum, exact fields, format and id) or refused as corrupt,
//! naming it; listing and verifying never fail on it and write nothing.
//!
//! First byte odd: the rest is the body, sealed with its right checksum, so
//! the fuzzer gets past the checksum to the fields.
#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

use cutover_backup::{BackupError, BackupStore};
use libfuzzer_sys::fuzz_target;

const ID: &str = "b-20261127T031310Z-dcae55";
const POINT: &str = "before-cutover";

static DIR: LazyLock<PathBuf> = LazyLock::new(|| cutover_fuzz::scratch("backup_manifest"));
/// One store for every input (creating one fsyncs its directories).
static STORE: LazyLock<BackupStore> = LazyLock::new(|| BackupStore::open(&DIR).unwrap());

fuzz_target!(|data: &[u8]| {
    let (seal, rest) = cutover_fuzz::mode(data);
    let bytes = if seal {
        cutover_fuzz::seal_checked(rest)
    } else {
        rest.to_vec()
    };
    let (dir, store) = (&*DIR, &*STORE);
    std::fs::write(dir.join(store.manifest_doc(ID)), &bytes).unwrap();
    std::fs::write(dir.join(store.point_doc(POINT)), &bytes).unwrap();
    let before = cutover_fuzz::tree(dir);
    let shown = store.show(ID);
    let point = store.point(POINT);
    for err in [shown.as_ref().err(), point.as_ref().err()]
        .into_iter()
        .flatten()
    {
        assert!(
            matches!(err, BackupError::Corrupt { .. }),
            "not reported as corrupt: {err}"
        );
    }
    if let Ok(m) = &shown {
        let _ = (m.complete(), m.total_size());
    }
    let listed = store.list();
    assert_eq!(listed.is_ok(), shown.is_ok());
    assert_eq!(store.list_points().is_ok(), point.is_ok());
    let items = store
        .verify(None)
        .expect("verify reports problems, never fails");
    assert!(items.iter().all(|i| i.ok == i.problem.is_none()));
    assert!(
        items
            .iter()
            .any(|i| i.id == ID && i.kind == "manifest" && i.ok == shown.is_ok()),
        "verify disagrees with show"
    );
    assert_eq!(
        cutover_fuzz::tree(dir),
        before,
        "reading wrote to the state"
    );
});

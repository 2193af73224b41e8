//! Small named documents, on both backends: put, replace, get, list by
//! directory and suffix, delete, and names checked.

use cutover_state::{DocError, Lease};

use super::harness::{Backend, TestState};

both_backends!(documents_round_trip_list_delete_and_names);

fn documents_round_trip_list_delete_and_names(backend: Backend) {
    let ts = TestState::new(backend);
    let held = ts.state.lease(None).unwrap().acquire().unwrap().handle;
    let docs = ts.state.docs(held.fence()).unwrap();
    assert_eq!(docs.get("backups/a.json").unwrap(), None);
    docs.put("backups/b.json", b"{\"n\":1}").unwrap();
    docs.put("backups/a.json", b"first").unwrap();
    docs.put("backups/a.json", b"second").unwrap();
    docs.put("backups/notes.txt", b"x").unwrap();
    docs.put("backups/deeper/c.json", b"x").unwrap();
    docs.put("backupsX/d.json", b"x").unwrap();
    docs.put("snapshot.json", &[0u8, 255, 10]).unwrap();
    assert_eq!(docs.get("backups/a.json").unwrap().unwrap(), b"second");
    assert_eq!(docs.get("snapshot.json").unwrap().unwrap(), [0u8, 255, 10]);
    assert_eq!(
        docs.list("backups", ".json").unwrap(),
        vec!["backups/a.json", "backups/b.json"]
    );
    assert_eq!(docs.list("backups", "").unwrap().len(), 3);
    assert!(docs.list("nothing", ".json").unwrap().is_empty());
    assert!(docs.delete("backups/a.json").unwrap());
    assert!(!docs.delete("backups/a.json").unwrap());
    assert_eq!(docs.get("backups/a.json").unwrap(), None);
    assert_eq!(
        docs.list("backups", ".json").unwrap(),
        vec!["backups/b.json"]
    );
    for bad in ["", "/abs", "a//b", "a/../b", "./a", "a b", "a/é", "x\n"] {
        assert!(
            matches!(docs.put(bad, b"x"), Err(DocError::BadName { .. })),
            "{bad:?} accepted"
        );
        assert!(
            matches!(docs.get(bad), Err(DocError::BadName { .. })),
            "{bad:?}"
        );
        assert!(
            matches!(docs.delete(bad), Err(DocError::BadName { .. })),
            "{bad:?}"
        );
    }
    // Another handle (a later process) reads the same documents.
    let reader = ts.state.docs(None).unwrap();
    assert_eq!(reader.get("backups/b.json").unwrap().unwrap(), b"{\"n\":1}");
}

//! Small named documents, on both backends: put, replace, get, list by
//! directory and suffix, delete, and names checked.

use cutover_state::{DocError, DocStore, Lease};

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

#[test]
fn a_request_to_the_holder_is_the_one_document_written_without_the_lease() {
    let ts = TestState::new(Backend::Pg);
    let cutover_state::StateBackend::Postgres(pg) = &ts.state else {
        panic!("a database state");
    };
    ts.state.ensure().unwrap();
    let held = ts.state.lease(None).unwrap().acquire().unwrap().handle;
    let outsider = pg.docs(None).unwrap();
    outsider
        .post_request("requests/control.json", b"pause, please")
        .unwrap();
    let holder = ts.state.docs(held.fence()).unwrap();
    assert_eq!(
        holder.get("requests/control.json").unwrap().as_deref(),
        Some(&b"pause, please"[..])
    );
    // Nothing else goes around the fence.
    assert!(matches!(
        outsider.post_request("backups/b.json", b"x"),
        Err(DocError::BadName { .. })
    ));
    assert!(matches!(
        outsider.put("requests/control.json", b"x"),
        Err(DocError::Fenced { .. })
    ));
    assert!(matches!(
        outsider.delete("requests/control.json"),
        Err(DocError::Fenced { .. })
    ));
    assert!(holder.delete("requests/control.json").unwrap());
}

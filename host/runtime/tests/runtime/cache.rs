//! The compiled-component cache: one keyed pass verifies an entry, binds it
//! to its component and engine, and carries the component's sha256 so a
//! cached load needs no sha256 pass; every tampering is a typed rejection
//! and the entry is replaced, never deserialized.

use std::path::Path;

use cutover_runtime::{
    CacheStatus, ComponentCache, EntryCheck, LoadError, Rejection, Runtime, Sandbox,
};
use cutover_test_kit::{plugin_path, sha256_hex};

use super::ctx;

/// A runtime with its own cache, and the noop action's bytes loaded once
/// (so its entry exists).
fn primed() -> (tempfile::TempDir, Runtime, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let rt = Runtime::new(Some(dir.path())).unwrap();
    let bytes = std::fs::read(plugin_path("noop-action")).unwrap();
    assert_eq!(
        rt.load(&bytes, "a").unwrap().info().cache,
        CacheStatus::Miss
    );
    (dir, rt, bytes)
}

fn cache(rt: &Runtime) -> &ComponentCache {
    rt.cache().expect("cache enabled")
}

/// Rewrites the entry with `edit` applied (a new file, as an attacker or a
/// disk would leave it).
fn tamper(entry: &Path, edit: impl FnOnce(&mut Vec<u8>)) {
    let mut e = std::fs::read(entry).unwrap();
    edit(&mut e);
    std::fs::write(entry, &e).unwrap();
}

/// The entry is rejected for `why`, the load recompiles and replaces it,
/// and the plugin works.
fn assert_rejected_then_replaced(rt: &Runtime, bytes: &[u8], why: Rejection) {
    assert_eq!(cache(rt).check(bytes), EntryCheck::Rejected(why));
    let p = rt.load(bytes, "a").unwrap();
    assert_eq!(p.info().cache, CacheStatus::Replaced);
    assert_eq!(
        rt.run_action(&p, &Sandbox::default(), &ctx("{}"))
            .unwrap()
            .summary,
        "noop"
    );
    assert_eq!(
        cache(rt).check(bytes),
        EntryCheck::Valid {
            sha256: sha256_hex(bytes)
        }
    );
    assert_eq!(rt.load(bytes, "a").unwrap().info().cache, CacheStatus::Hit);
}

#[test]
fn a_hit_takes_the_sha256_from_the_verified_entry_and_still_checks_the_pin() {
    let dir = tempfile::tempdir().unwrap();
    let rt = Runtime::new(Some(dir.path())).unwrap();
    let path = plugin_path("noop-action");
    let sha = sha256_hex(&std::fs::read(&path).unwrap());
    let miss = rt.load_file(&path, Some(&sha)).unwrap();
    assert_eq!(miss.info().cache, CacheStatus::Miss);
    assert_eq!(miss.info().sha256, sha);
    let hit = rt.load_file(&path, Some(&sha.to_uppercase())).unwrap();
    assert_eq!(hit.info().cache, CacheStatus::Hit);
    assert_eq!(hit.info().sha256, sha);
    let wrong = "0".repeat(64);
    match rt.load_file(&path, Some(&wrong)) {
        Err(LoadError::PinMismatch {
            expected, actual, ..
        }) => {
            assert_eq!(expected, wrong);
            assert_eq!(actual, sha);
        }
        other => panic!("expected PinMismatch, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn a_flipped_bit_anywhere_is_a_mismatch() {
    let (_dir, rt, bytes) = primed();
    let entry = cache(&rt).entry_path(&bytes);
    let len = std::fs::metadata(&entry).unwrap().len() as usize;
    // First payload byte, middle of the payload, the recorded sha256 (so a
    // pin cannot be satisfied by editing it), the tag itself.
    for at in [0, len / 2, len - 88, len - 40] {
        tamper(&entry, |e| e[at] ^= 0x01);
        assert_rejected_then_replaced(&rt, &bytes, Rejection::Mismatch);
    }
}

#[test]
fn a_truncated_or_unrecognised_entry_is_rejected() {
    let (_dir, rt, bytes) = primed();
    let entry = cache(&rt).entry_path(&bytes);
    tamper(&entry, |e| e.truncate(40));
    assert_rejected_then_replaced(&rt, &bytes, Rejection::Truncated);
    tamper(&entry, |e| e.clear());
    assert_rejected_then_replaced(&rt, &bytes, Rejection::Truncated);
    // A payload byte missing, the trailer intact: the recorded length says so.
    tamper(&entry, |e| {
        e.remove(100);
    });
    assert_rejected_then_replaced(&rt, &bytes, Rejection::Truncated);
    // The last byte missing: no trailer where it should be.
    tamper(&entry, |e| {
        e.pop();
    });
    assert_rejected_then_replaced(&rt, &bytes, Rejection::Unrecognised);
    // An entry of the previous format (header first, no trailer).
    tamper(&entry, |e| {
        let mut old = b"CUTOVERC1\n".to_vec();
        old.extend_from_slice(&[0u8; 96]);
        old.extend_from_slice(&e[..e.len() - 88]);
        *e = old;
    });
    assert_rejected_then_replaced(&rt, &bytes, Rejection::Unrecognised);
}

#[test]
fn an_entry_of_another_component_is_a_mismatch() {
    let (_dir, rt, bytes) = primed();
    let other = std::fs::read(plugin_path("http-probe")).unwrap();
    rt.load(&other, "b").unwrap();
    let entry = cache(&rt).entry_path(&bytes);
    std::fs::copy(cache(&rt).entry_path(&other), &entry).unwrap();
    assert_rejected_then_replaced(&rt, &bytes, Rejection::Mismatch);
}

#[test]
fn an_entry_of_another_engine_configuration_is_a_mismatch() {
    let (dir, rt, bytes) = primed();
    // wasmtime's default configuration differs from the runtime's (fuel,
    // epochs, pooling, ...): another engine identity, another entry name.
    let foreign = ComponentCache::open(dir.path(), &wasmtime::Engine::default()).unwrap();
    let ours = cache(&rt).entry_path(&bytes);
    let theirs = foreign.entry_path(&bytes);
    assert_ne!(ours, theirs, "the engines must differ for this test");
    assert_eq!(foreign.check(&bytes), EntryCheck::Absent);
    // Our entry under their name: bound to our engine, so refused there.
    std::fs::copy(&ours, &theirs).unwrap();
    assert_eq!(
        foreign.check(&bytes),
        EntryCheck::Rejected(Rejection::Mismatch)
    );
    // And theirs (a copy of ours, renamed back) is still ours: the name
    // alone is not what binds it.
    std::fs::rename(&theirs, &ours).unwrap();
    assert_eq!(
        cache(&rt).check(&bytes),
        EntryCheck::Valid {
            sha256: sha256_hex(&bytes)
        }
    );
}

#[test]
fn a_changed_component_misses_the_cache() {
    let (_dir, rt, bytes) = primed();
    // The same component with a custom section appended: still valid,
    // another key.
    let mut changed = bytes.clone();
    changed.extend_from_slice(&[0, 6, 5, b'n', b'o', b't', b'e', b'!']);
    assert_ne!(
        cache(&rt).entry_path(&changed),
        cache(&rt).entry_path(&bytes)
    );
    assert_eq!(cache(&rt).check(&changed), EntryCheck::Absent);
    let p = rt.load(&changed, "changed").unwrap();
    assert_eq!(p.info().cache, CacheStatus::Miss);
    assert_eq!(p.info().sha256, sha256_hex(&changed));
    assert_eq!(rt.load(&bytes, "a").unwrap().info().cache, CacheStatus::Hit);
}

/// The `.ident` records of a cache directory.
fn records(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "ident"))
        .collect()
}

#[test]
fn a_recorded_file_identity_still_lets_every_change_through_to_the_full_check() {
    let dir = tempfile::tempdir().unwrap();
    let rt = Runtime::new(Some(dir.path())).unwrap();
    // A component file of our own, so that it can be changed.
    let files = tempfile::tempdir().unwrap();
    let path = files.path().join("noop.wasm");
    let bytes = std::fs::read(plugin_path("noop-action")).unwrap();
    std::fs::write(&path, &bytes).unwrap();
    let sha = sha256_hex(&bytes);
    assert_eq!(
        rt.load_file(&path, None).unwrap().info().cache,
        CacheStatus::Miss
    );
    // Files changed within the last second are never recorded.
    assert_eq!(
        rt.load_file(&path, None).unwrap().info().cache,
        CacheStatus::Hit
    );
    assert!(records(dir.path()).is_empty(), "recorded an unsettled file");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    // A full check of settled files records them; the next load uses the
    // record (same answer, sha256 and pin included).
    assert_eq!(
        rt.load_file(&path, None).unwrap().info().cache,
        CacheStatus::Hit
    );
    assert_eq!(records(dir.path()).len(), 1);
    let hit = rt.load_file(&path, Some(&sha)).unwrap();
    assert_eq!(
        (hit.info().cache, hit.info().sha256.as_str()),
        (CacheStatus::Hit, sha.as_str())
    );
    assert!(matches!(
        rt.load_file(&path, Some(&"0".repeat(64))),
        Err(LoadError::PinMismatch { .. })
    ));
    // A tampered entry (a new ctime) is still found out and replaced.
    tamper(&cache(&rt).entry_path(&bytes), |e| e[100] ^= 0x01);
    assert_eq!(
        rt.load_file(&path, None).unwrap().info().cache,
        CacheStatus::Replaced
    );
    // A garbled record is ignored.
    let record = &records(dir.path())[0];
    std::fs::write(record, b"not a record").unwrap();
    assert_eq!(
        rt.load_file(&path, None).unwrap().info().cache,
        CacheStatus::Hit
    );
    // The component file rewritten with other bytes: another key, a miss,
    // whatever the record said.
    let mut changed = bytes.clone();
    changed.extend_from_slice(&[0, 6, 5, b'n', b'o', b't', b'e', b'!']);
    std::fs::write(&path, &changed).unwrap();
    let p = rt.load_file(&path, None).unwrap();
    assert_eq!(p.info().cache, CacheStatus::Miss);
    assert_eq!(p.info().sha256, sha256_hex(&changed));
}

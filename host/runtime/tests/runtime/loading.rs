//! Loading components: the first-party plugins describe themselves,
//! malformed or foreign components and incompatible contracts are refused
//! with typed errors, pins are checked, and the compilation cache survives
//! corrupt or foreign entries.

use cutover_runtime::{CacheStatus, LoadError, World};

use super::*;

#[test]
fn first_party_plugins_describe_themselves() {
    for (name, world) in [
        ("noop-action", World::Action),
        ("http-probe", World::Check),
        ("file-adapter", World::Adapter),
    ] {
        let p = load(name);
        assert_eq!(p.world(), world, "{name}");
        assert_eq!(p.name(), name);
        let info = p.info();
        assert_eq!(info.contract_version.as_deref(), Some("0.1.3"));
        assert_eq!(
            info.sha256,
            cutover_runtime::sha256_hex(&std::fs::read(plugin_path(name)).unwrap())
        );
        assert!(
            info.imports
                .iter()
                .any(|i| i == "cutover:plugin/host@0.1.3")
        );
    }
    let fa = load("file-adapter");
    let dirs = &fa.descriptor().capabilities.directories;
    assert_eq!(dirs.len(), 1);
    assert_eq!(dirs[0].name, "data");
}

#[test]
fn malformed_components_are_refused() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("garbage", b"definitely not wasm".to_vec()),
        ("core module", b"\0asm\x01\0\0\0".to_vec()),
        (
            "truncated",
            std::fs::read(plugin_path("noop-action")).unwrap()[..4096].to_vec(),
        ),
        ("bad text", b"(component (func $oops".to_vec()),
    ];
    for (what, bytes) in cases {
        match rt().load(&bytes, what) {
            Err(LoadError::Malformed { .. }) => {}
            Err(other) => panic!("{what}: expected Malformed, got {other:?}"),
            Ok(_) => panic!("{what}: loaded"),
        }
    }
    assert_healthy();
}

#[test]
fn components_of_the_wrong_world_are_refused() {
    for file in ["wrong-world.wat", "mistyped-world.wat"] {
        match rt().load(wat::hostile(file).as_bytes(), file) {
            Err(LoadError::WrongWorld { .. }) => {}
            Err(other) => panic!("{file}: expected WrongWorld, got {other:?}"),
            Ok(_) => panic!("{file}: loaded"),
        }
    }
}

#[test]
fn incompatible_contract_versions_name_both_versions() {
    for (file, want) in [
        ("contract-0.2.imports.wat", "0.2.0"),
        ("contract-0.1.9.imports.wat", "0.1.9"),
    ] {
        let text = wat::check(
            "wat-contract",
            &wat::hostile("pass.body.wat"),
            "",
            &wat::hostile(file),
        );
        match rt().load(text.as_bytes(), file) {
            Err(LoadError::ContractVersion { plugin, host, .. }) => {
                assert_eq!(plugin, want);
                assert_eq!(host, "0.1.3");
            }
            Err(other) => panic!("{file}: expected ContractVersion, got {other:?}"),
            Ok(_) => panic!("{file}: loaded"),
        }
    }
}

#[test]
fn pin_mismatch_names_both_digests() {
    let path = plugin_path("noop-action");
    let actual = cutover_runtime::sha256_hex(&std::fs::read(&path).unwrap());
    let wrong = "0".repeat(64);
    match rt().load_file(&path, Some(&wrong)) {
        Err(LoadError::PinMismatch {
            expected,
            actual: a,
            ..
        }) => {
            assert_eq!(expected, wrong);
            assert_eq!(a, actual);
        }
        other => panic!(
            "expected PinMismatch, got {:?}",
            other.map(|p| p.name().to_string())
        ),
    }
    assert!(rt().load_file(&path, Some(&actual)).is_ok());
}

#[test]
fn cache_hits_and_rejects_corrupt_or_foreign_entries() {
    let dir = tempfile::tempdir().unwrap();
    let rt = Runtime::new(Some(dir.path())).unwrap();
    let bytes = std::fs::read(plugin_path("noop-action")).unwrap();
    assert_eq!(
        rt.load(&bytes, "a").unwrap().info().cache,
        CacheStatus::Miss
    );
    assert_eq!(rt.load(&bytes, "a").unwrap().info().cache, CacheStatus::Hit);
    let entry = rt.cache().unwrap().entry_path(&bytes);
    // Corrupt: flip one byte in the payload.
    let mut e = std::fs::read(&entry).unwrap();
    let mid = e.len() / 2;
    e[mid] ^= 0x40;
    std::fs::write(&entry, &e).unwrap();
    let p = rt.load(&bytes, "a").unwrap();
    assert_eq!(p.info().cache, CacheStatus::Replaced);
    assert_eq!(
        rt.run_action(&p, &Sandbox::default(), &ctx("{}"))
            .unwrap()
            .summary,
        "noop"
    );
    assert_eq!(rt.load(&bytes, "a").unwrap().info().cache, CacheStatus::Hit);
    // Foreign: another component's entry under this digest's name.
    let other = std::fs::read(plugin_path("http-probe")).unwrap();
    rt.load(&other, "b").unwrap();
    let other_entry = rt.cache().unwrap().entry_path(&other);
    std::fs::copy(&other_entry, &entry).unwrap();
    let p = rt.load(&bytes, "a").unwrap();
    assert_eq!(p.info().cache, CacheStatus::Replaced);
    assert_eq!(p.world(), World::Action);
    // Truncated entry.
    let e = std::fs::read(&entry).unwrap();
    std::fs::write(&entry, &e[..40]).unwrap();
    assert_eq!(
        rt.load(&bytes, "a").unwrap().info().cache,
        CacheStatus::Replaced
    );
}

#[test]
fn calling_the_wrong_world_is_typed() {
    let p = load("noop-action");
    let err = rt()
        .evaluate(&p, &Sandbox::default(), &ctx("{}"))
        .unwrap_err();
    assert!(matches!(
        err,
        CallError::WorldMismatch {
            expected: World::Check,
            found: World::Action,
            ..
        }
    ));
}

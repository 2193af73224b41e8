//! The inputs of the `compare_dumps` fuzz target (`fuzz/`, `scripts/fuzz.sh`)
//! replayed through the check it asserts: the streaming scanner (whole, in
//! blocks, into alerts or the compact table) and the serde path, a file and
//! the same text, agree for every format. `tests/fixtures/fuzz/` holds what
//! fuzzing found; the other inputs are the fixtures it is seeded from.

use cutover_compare::parse::fuzzing::disagreement;
use std::path::Path;

/// Every file of the fuzz seeds, the dump fixtures and the findings.
fn inputs() -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dirs = [
        "tests/fixtures",
        "tests/fixtures/reference",
        "tests/fixtures/fuzz",
        "../../fuzz/seeds/compare_dumps",
    ];
    let mut out = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for e in entries.map(Result::unwrap) {
            if e.path().is_file() {
                let name = format!("{dir}/{}", e.file_name().to_string_lossy());
                out.push((name, std::fs::read(e.path()).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn fuzzed_and_fixture_dumps_read_alike_every_way() {
    let dir = tempfile::tempdir().unwrap();
    let scratch = dir.path().join("dump.json");
    let inputs = inputs();
    assert!(inputs.len() >= 14, "inputs missing: {}", inputs.len());
    for (name, bytes) in &inputs {
        assert_eq!(disagreement(bytes, &scratch), None, "{name}");
    }
}

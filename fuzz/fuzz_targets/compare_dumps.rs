//! The four alert-dump parsers (Alertmanager v2, Prometheus v1, webhook,
//! cutover export): the streaming scanner (whole, in blocks, into alerts and
//! into the compact table) and the serde path agree on every input, as do
//! reading a file and reading the same text, for every forced format and
//! auto-detection; syntax errors carry a line.
#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

use cutover_compare::parse::fuzzing::disagreement;
use libfuzzer_sys::fuzz_target;

static SCRATCH: LazyLock<PathBuf> =
    LazyLock::new(|| cutover_fuzz::scratch("compare_dumps").join("dump.json"));

fuzz_target!(|data: &[u8]| {
    if let Some(d) = disagreement(data, &SCRATCH) {
        panic!("{d}");
    }
});

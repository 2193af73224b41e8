//! The Alertmanager configuration handling of the guests (translate-core, as
//! the alertmanager-routes translator uses it), built natively: a config
//! parses or is refused naming the file (and line and column for YAML); a
//! merge that succeeds gives a config that parses, and merging it again
//! changes nothing. The input is `old`, or `old\0new`; without a NUL it is
//! merged with the sample configurations both ways.
#![no_main]

use libfuzzer_sys::fuzz_target;
use translate_core::alertmanager::{AmConfig, parse_matchers_line};
use translate_core::samples::{ROUTES_NEW, ROUTES_OLD};
use translate_core::{Selection, merge_routes_in};

fn merge_is_stable(old: &str, new: &str) {
    let all = Selection::all();
    let Ok(once) = merge_routes_in(old, new, &all) else {
        return;
    };
    AmConfig::parse("merged", &once.config)
        .unwrap_or_else(|e| panic!("merged config does not parse: {e}\n{}", once.config));
    let twice = merge_routes_in(old, &once.config, &all)
        .unwrap_or_else(|e| panic!("merging again fails: {e}\n{}", once.config));
    assert_eq!(
        twice.config, once.config,
        "merging twice changed the config"
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(line) = text.lines().next() {
        let _ = parse_matchers_line(line);
    }
    match text.split_once('\0') {
        Some((old, new)) => merge_is_stable(old, new),
        None => {
            if AmConfig::parse("fuzz.yml", text).is_err() {
                return;
            }
            merge_is_stable(text, ROUTES_NEW);
            merge_is_stable(ROUTES_OLD, text);
        }
    }
});

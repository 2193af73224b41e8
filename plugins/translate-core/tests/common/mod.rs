//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use std::collections::BTreeMap;

use translate_core::rules::RuleFile;
use translate_core::{Counts, Item, RulesParams, Status};

pub const V1: &str = include_str!("../data/v1-old.rules.yml");
pub const V2: &str = include_str!("../data/v2-new.rules.yml");
pub const NODE: &str = include_str!("../data/node.rules.yml");
pub const AM_A: &str = include_str!("../data/alertmanager-a.yml");
pub const AM_B: &str = include_str!("../data/alertmanager-b.yml");
pub const AM_OLD: &str = include_str!("../data/am-old.yml");
pub const AM_NEW: &str = include_str!("../data/am-new.yml");

/// The item whose id is `id` (panics with the list when absent).
pub fn item<'a>(items: &'a [Item], id: &str) -> &'a Item {
    items
        .iter()
        .find(|i| i.id == id)
        .unwrap_or_else(|| panic!("no item {id:?} in {items:#?}"))
}

/// Asserts status and that the reason contains `needle`.
pub fn expect(items: &[Item], id: &str, status: Status, needle: &str) {
    let it = item(items, id);
    assert_eq!(it.status, status, "{it:?}");
    assert!(
        it.reason.contains(needle),
        "{id}: reason {:?} lacks {needle:?}",
        it.reason
    );
}

/// [`expect`] for each `(id, status, needle)` row of a table.
pub fn expect_all(items: &[Item], rows: &[(&str, Status, &str)]) {
    for (id, status, needle) in rows {
        expect(items, id, *status, needle);
    }
}

pub fn counts(items: &[Item]) -> Counts {
    Counts::of(items)
}

/// Runs an installed checker (`promtool`, `amtool`) on `file`. A missing
/// tool is a failure, not a skip: the repository installs them.
pub fn run_checker(tool: &str, args: &[&str], file: &Path) -> String {
    let out = Command::new(tool)
        .args(args)
        .arg(file)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `{tool}` ({e}); it is installed by scripts/system-deps.sh \
             (Debian packages prometheus and prometheus-alertmanager)"
            )
        });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "`{tool} {} {}` failed:\n{text}\n--- file ---\n{}",
        args.join(" "),
        file.display(),
        std::fs::read_to_string(file).unwrap_or_default()
    );
    text
}

pub fn files(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
        .collect()
}

pub fn params(json: &str) -> RulesParams {
    RulesParams::from_json(json).unwrap()
}

pub fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

pub fn rule_count(text: &str) -> usize {
    RuleFile::parse("x", text)
        .unwrap()
        .groups
        .iter()
        .map(|g| g.rules.len())
        .sum()
}

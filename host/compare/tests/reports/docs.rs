//! docs/report.md documents every field the JSON report has.

use super::*;
use cutover_compare::{JsonLayout, NoiseFloor, REPORT_SCHEMA, render_json_with};
use serde_json::Value;
use std::collections::BTreeSet;

/// Objects keyed by data (label values, alertnames), not by field names.
const DATA_MAPS: &[&str] = &["labels", "by_alertname", "by_severity", "by_label"];

/// Every field name in `v`, descending into arrays and into the values of
/// data-keyed maps without collecting their keys.
fn field_names(v: &Value, into: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                into.insert(k.clone());
                if DATA_MAPS.contains(&k.as_str()) {
                    if let Value::Object(groups) = child {
                        groups.values().for_each(|g| field_names(g, into));
                    }
                } else {
                    field_names(child, into);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|c| field_names(c, into)),
        _ => {}
    }
}

fn docs() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/report.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn docs_describe_every_json_field() {
    // A report where every optional part is present.
    let old = parse_file(&fixture("reference/old_alertmanager.json"), None).unwrap();
    let second = parse_file(&fixture("reference/old_second_read.json"), None).unwrap();
    let opts = CompareOptions {
        ignore_labels: vec!["instance".into()],
        ..CompareOptions::default()
    };
    let r = reference_report().with_noise_floor(NoiseFloor::measure(
        &old.alerts,
        &second.alerts,
        &opts,
    ));
    let v: Value = serde_json::from_str(&render_json_with(&r, JsonLayout::FULL).unwrap()).unwrap();
    let top: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert!(top.len() >= 20, "{top:?}");
    for k in &top {
        assert!(
            !v[k.as_str()].is_null(),
            "{k} is null: the test report should fill it"
        );
    }
    let mut names = BTreeSet::new();
    field_names(&v, &mut names);
    let doc = docs();
    let undocumented: Vec<&String> = names
        .iter()
        .filter(|k| !doc.contains(&format!("`{k}`")))
        .collect();
    assert!(
        undocumented.is_empty(),
        "docs/report.md does not mention {undocumented:?}"
    );
    // Each top-level key has its own row in the field table.
    for k in top {
        assert!(
            doc.contains(&format!("| `{k}` |")),
            "docs/report.md has no table row for `{k}`"
        );
    }
    assert!(doc.contains(REPORT_SCHEMA));
    for flag in [
        "--report-md",
        "--report-html",
        "--report-json",
        "--format",
        "--pretty",
        "--matched",
    ] {
        assert!(doc.contains(flag), "docs/report.md does not mention {flag}");
    }
}

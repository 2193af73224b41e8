//! Error chains say each thing once: the memory, table, deadline and output
//! limits, hit in a call, in `describe()` at load or declared by the
//! component, rendered as the CLI renders them (anyhow's `{:#}`, every
//! `source()` in turn). No layer repeats the next, no clause comes twice,
//! and the limit is named once. The renderings are kept in the golden file
//! `tests/fixtures/error-chains.txt` (`UPDATE_GOLDENS=1` rewrites it).

use cutover_runtime::{Document, Limits, LoadError, TranslateRequest};
use cutover_test_kit::golden::assert_golden;

use super::*;

/// Checks one rendered chain, which must say each of `once` exactly once
/// (the plugin, the limit), and returns its lines for the golden file.
fn checked(case: &str, err: anyhow::Error, once: &[&str]) -> String {
    let layers: Vec<String> = err.chain().map(|c| c.to_string()).collect();
    for pair in layers.windows(2) {
        assert!(
            !pair[0].contains(&pair[1]),
            "{case}: a layer repeats its cause\n  layer: {}\n  cause: {}",
            pair[0],
            pair[1]
        );
    }
    let full = format!("{err:#}");
    let clauses: Vec<&str> = full.split(": ").map(str::trim).collect();
    for (i, clause) in clauses.iter().enumerate() {
        assert!(
            !clauses[..i].contains(clause),
            "{case}: {clause:?} comes twice in {full:?}"
        );
    }
    for named in once {
        assert_eq!(
            full.matches(named).count(),
            1,
            "{case}: {named:?} must be said exactly once in {full:?}"
        );
    }
    format!("{case}\n  {full}\n")
}

fn load_err(text: &str, origin: &str, limits: &Limits) -> LoadError {
    match rt().load_with(text.as_bytes(), origin, limits) {
        Err(e) => e,
        Ok(p) => panic!("{origin}: loaded as {}", p.name()),
    }
}

fn evaluate_err(body_file: &str, name: &str, deadline_ms: u64) -> CallError {
    let p = load_wat(name, body_file);
    rt().evaluate(&p, &quick(deadline_ms), &ctx("{}"))
        .unwrap_err()
}

#[test]
fn limit_errors_say_each_thing_once() {
    let defaults = Limits::default();
    let big = |from: &str, to: &str| {
        wat::check("wat-big", &wat::hostile("pass.body.wat"), "", "").replace(from, to)
    };
    let describing = |name: &str, describe: &str| wat::translator(name, describe, "", 1);
    let mut golden = String::new();
    let mut add = |case: &str, err: anyhow::Error, once: &[&str]| {
        golden.push_str(&checked(case, err, once));
    };
    // Memory: grown in a call, grown in describe() at load, declared.
    add(
        "memory, in a call",
        evaluate_err("memory-bomb.body.wat", "wat-membomb", 5_000).into(),
        &["wat-membomb", "memory limit"],
    );
    add(
        "memory, in describe() at load",
        load_err(
            &describing(
                "wat-describe-memory",
                "(drop (memory.grow (i32.const 2000)))",
            ),
            "describe-memory.wat",
            &defaults,
        )
        .into(),
        &["describe-memory.wat", "memory limit"],
    );
    add(
        "memory, declared",
        load_err(
            &big(
                "(memory (export \"memory\") 1)",
                "(memory (export \"memory\") 2048)",
            ),
            "big-memory.wat",
            &defaults,
        )
        .into(),
        &["big-memory.wat", "memory limit"],
    );
    // Table: grown in a call, declared.
    add(
        "table, in a call",
        evaluate_err("table-growth.body.wat", "wat-table", 5_000).into(),
        &["wat-table", "table elements limit"],
    );
    add(
        "table, declared",
        load_err(
            &big("(table $t 1 funcref)", "(table $t 30000 funcref)"),
            "big-table.wat",
            &defaults,
        )
        .into(),
        &["big-table.wat", "table elements limit"],
    );
    // Deadline: in a call, in describe() at load.
    add(
        "deadline, in a call",
        evaluate_err("infinite-loop.body.wat", "wat-loop", 200).into(),
        &["wat-loop", "deadline"],
    );
    let short = Limits {
        deadline: Duration::from_millis(200),
        ..Limits::default()
    };
    add(
        "deadline, in describe() at load",
        load_err(
            &describing("wat-describe-spin", &wat::hostile("infinite-loop.body.wat")),
            "describe-spin.wat",
            &short,
        )
        .into(),
        &["describe-spin.wat", "deadline"],
    );
    // Output: a result over the cap, a description over the cap, a
    // translation over the cap.
    let p = load("hostile-output");
    let mut capped = quick(10_000);
    capped.limits.max_output_bytes = 1 << 20;
    add(
        "output, in a call",
        rt().run_action(&p, &capped, &ctx(r#"{"bytes": 16777216}"#))
            .unwrap_err()
            .into(),
        &["hostile-output", "output size limit"],
    );
    add(
        "output, in describe() at load",
        load_err(
            &describing(
                "wat-describe-flood",
                "(drop (memory.grow (i32.const 300))) (i32.store (i32.const 308) (i32.const 0x1000000))",
            ),
            "describe-flood.wat",
            &defaults,
        )
        .into(),
        &["describe-flood.wat", "output size limit"],
    );
    let t = load("hostile-translator");
    let docs = [Document::new("a.yml", "1")];
    add(
        "memory, in a translation",
        rt().translate(
            &t,
            &Sandbox::default(),
            &TranslateRequest::new("anything", r#"{"mode": "memory"}"#, &docs),
        )
        .unwrap_err()
        .into(),
        &["hostile-translator", "memory limit"],
    );
    assert_golden(
        &cutover_test_kit::repo_path("host/runtime/tests/fixtures/error-chains.txt"),
        &golden,
    );
}

//! Limits a hostile component runs into: deadline, memory, stack, table,
//! output and resource-table caps, each a typed error after which the
//! process still serves normal calls.

use std::time::Instant;

use super::*;

/// Evaluates `p` with a deadline of `deadline_ms` and checks that the call
/// ran into `limit`, and that the process is healthy afterwards.
fn evaluate_hits(p: &Plugin, deadline_ms: u64, limit: Limit) {
    let err = rt()
        .evaluate(p, &quick(deadline_ms), &ctx("{}"))
        .unwrap_err();
    assert_eq!(limit_of(&err), Some(limit), "{err:?}");
    assert_healthy();
}

/// [`evaluate_hits`] on the hand-written check `name` running `body_file`.
fn wat_hits(name: &str, body_file: &str, limit: Limit) {
    evaluate_hits(&load_wat(name, body_file), 5_000, limit);
}

#[test]
fn well_behaved_wat_check_passes() {
    let p = load_wat("wat-pass", "pass.body.wat");
    let v = rt().evaluate(&p, &quick(1000), &ctx("{}")).expect("pass");
    assert_eq!(v.verdict, wit::VerdictKind::Pass);
    assert_healthy();
}

#[test]
fn infinite_loop_hits_the_deadline() {
    let p = load_wat("wat-loop", "infinite-loop.body.wat");
    let started = Instant::now();
    let err = rt().evaluate(&p, &quick(300), &ctx("{}")).unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(
            err,
            CallError::Deadline {
                deadline_ms: 300,
                ..
            }
        ),
        "{err:?}"
    );
    // The deadline + 100 ms bound is asserted in `bounds.rs` (and the bench
    // reports the overrun); here only that the call was interrupted.
    assert!(
        elapsed < Duration::from_millis(300 + 2_000),
        "took {elapsed:?}"
    );
    assert_healthy();
}

#[test]
fn memory_bomb_hits_the_memory_limit() {
    wat_hits("wat-membomb", "memory-bomb.body.wat", Limit::Memory);
}

#[test]
fn deep_recursion_hits_the_stack_limit() {
    wat_hits("wat-recursion", "deep-recursion.body.wat", Limit::Stack);
}

#[test]
fn table_growth_hits_the_table_limit() {
    wat_hits("wat-table", "table-growth.body.wat", Limit::TableElements);
}

#[test]
fn trap_mid_call_is_a_typed_trap() {
    let p = load_wat("wat-trap", "trap.body.wat");
    let err = rt().evaluate(&p, &quick(5_000), &ctx("{}")).unwrap_err();
    assert!(matches!(err, CallError::Trap { .. }), "{err:?}");
    assert_eq!(err.kind(), "trap");
    assert_healthy();
}

#[test]
fn huge_output_hits_the_output_cap() {
    let p = load("hostile-output");
    let mut sb = quick(10_000);
    sb.limits.max_output_bytes = 1 << 20;
    let err = rt()
        .run_action(&p, &sb, &ctx(r#"{"bytes": 16777216}"#))
        .unwrap_err();
    assert_eq!(limit_of(&err), Some(Limit::Output), "{err:?}");
    // Below the cap the same plugin is fine.
    let ok = rt().run_action(&p, &sb, &ctx(r#"{"bytes": 1000}"#));
    assert_eq!(
        ok.as_ref().err().and_then(limit_of),
        Some(Limit::Output),
        "100k detail pairs still exceed 1 MiB: {ok:?}"
    );
    assert_healthy();
}

#[test]
fn resource_flood_hits_the_resource_table_cap() {
    evaluate_hits(&load("hostile-flood"), 10_000, Limit::ResourceTable);
}

#[test]
fn stdout_flood_is_captured_and_capped_not_fatal() {
    let p = load("hostile-stdout");
    let out = rt()
        .run_action(&p, &quick(20_000), &ctx("{}"))
        .expect("stdout flood is not an error");
    assert!(!out.summary.is_empty());
    assert_healthy();
}

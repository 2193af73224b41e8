//! `cutover plugin run | inspect | test` under the sandbox's limits:
//! `describe()` at load gets the `--deadline` given (not the runtime's
//! default of 10 s), and a limit hit, in a call or declared by the
//! component, is named once, by its typed error's message.

use super::*;

use cutover_test_kit::wat;

#[test]
fn plugin_commands_give_describe_at_load_the_deadline_given() {
    let tmp = tempfile::tempdir().unwrap();
    let spin = wat::hostile("infinite-loop.body.wat");
    let text = wat::translator("describe-spin", &spin, "", 1);
    std::fs::write(tmp.path().join("describe-spin.wat"), text).unwrap();
    for args in [
        &["plugin", "run", "describe-spin.wat", "--deadline", "200ms"][..],
        &[
            "plugin",
            "inspect",
            "describe-spin.wat",
            "--deadline",
            "200ms",
        ],
        &[
            "plugin",
            "test",
            "describe-spin.wat",
            "x.json",
            "--deadline",
            "200ms",
        ],
    ] {
        let started = std::time::Instant::now();
        let o = run(tmp.path(), args);
        let elapsed = started.elapsed();
        expect(&o, ExitClass::PluginLoad.into());
        assert_eq!(
            err(&o).matches("exceeded its deadline of 200 ms").count(),
            1,
            "{args:?}: {}",
            err(&o)
        );
        // Not the runtime's default deadline of 10 s.
        assert!(
            elapsed < std::time::Duration::from_secs(5),
            "{args:?} took {elapsed:?}"
        );
    }
}

#[test]
fn run_names_the_limit_hit_once() {
    let tmp = tempfile::tempdir().unwrap();
    let bomb = wat::check_fixture("bomb", "memory-bomb.body.wat");
    std::fs::write(tmp.path().join("bomb.wat"), &bomb).unwrap();
    let o = run(
        tmp.path(),
        &["plugin", "run", "bomb.wat", "--memory", "16MiB"],
    );
    expect(&o, ExitClass::PluginCall.into());
    assert_eq!(
        err(&o)
            .lines()
            .filter(|l| l.starts_with("error:"))
            .collect::<Vec<_>>(),
        [
            "error: plugin bomb exceeded its memory limit: it asked to grow a linear memory to 16842752 bytes; 16777216 are allowed"
        ],
    );
    // A memory declared over the limit is refused at load, naming it.
    let big = bomb.replace(
        "(memory (export \"memory\") 1)",
        "(memory (export \"memory\") 512)",
    );
    std::fs::write(tmp.path().join("big.wat"), big).unwrap();
    let o = run(
        tmp.path(),
        &["plugin", "run", "big.wat", "--memory", "16MiB"],
    );
    expect(&o, ExitClass::PluginLoad.into());
    assert!(
        err(&o).contains(
            "big.wat declares a linear memory of 33554432 bytes, over the memory limit of 16777216 bytes"
        ),
        "{}",
        err(&o)
    );
}

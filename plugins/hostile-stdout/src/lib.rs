//! `hostile-stdout`: writes 10 MiB to stdout and 10 MiB to stderr, then
//! returns ok. The host must cap or discard guest output.

use std::io::Write;

use cutover_plugin_sdk::{Context, Outcome, PluginError};

/// Bytes written to each stream.
const TOTAL: usize = 10 * 1024 * 1024;

cutover_plugin_sdk::action_guest!(HostileStdout {
    name: "hostile-stdout",
    description: "Hostile test plugin: prints 10 MiB to stdout and 10 MiB to stderr, then succeeds \
        (write errors are counted in details, not fatal).",
    run: run,
});

fn run(_ctx: Context) -> Result<Outcome, PluginError> {
    let line = "y".repeat(1023);
    let lines = TOTAL / 1024;
    // `writeln!` rather than `println!`: a host that caps the pipe makes
    // writes fail, and `println!` would turn that into a panic (a trap).
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    let (mut out_failed, mut err_failed) = (0usize, 0usize);
    for _ in 0..lines {
        if writeln!(out, "{line}").is_err() {
            out_failed += 1;
        }
        if writeln!(err, "{line}").is_err() {
            err_failed += 1;
        }
    }
    Ok(Outcome {
        summary: format!("printed {} bytes to stdout and to stderr", lines * 1024),
        details: vec![
            ("stdout_failed_lines".to_owned(), out_failed.to_string()),
            ("stderr_failed_lines".to_owned(), err_failed.to_string()),
        ],
    })
}

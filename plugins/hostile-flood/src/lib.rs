//! `hostile-flood`: creates host resources in a loop without dropping them.
//! The host's resource-table cap must stop it with a trap; returning at all
//! means the cap is missing.

use cutover_plugin_sdk::{Context, PluginError, Verdict, VerdictKind};

/// How many `wasi:cli/stdout` handles to leak.
const ITERATIONS: u64 = 10_000_000;

cutover_plugin_sdk::check_guest!(HostileFlood {
    name: "hostile-flood",
    description: "Hostile test plugin: leaks 10 million wasi:cli/stdout handles; \
        the host's resource-table cap must trap it. Passes only if it survives.",
    evaluate: evaluate,
});

fn evaluate(_ctx: Context) -> Result<Verdict, PluginError> {
    for _ in 0..ITERATIONS {
        std::mem::forget(wasip2::cli::stdout::get_stdout());
    }
    Ok(Verdict {
        verdict: VerdictKind::Pass,
        message: format!("SANDBOX LEAK: created {ITERATIONS} resources without a trap"),
        measurements: Vec::new(),
    })
}

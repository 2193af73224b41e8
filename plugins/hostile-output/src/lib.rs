//! `hostile-output`: returns an outcome far larger than any host should
//! accept. Params: `{ "bytes": N }` (summary size; default 32 MiB).

use cutover_plugin_sdk::{Context, Outcome, PluginError};
use serde::Deserialize;

/// Number of detail pairs in the outcome.
const DETAILS: usize = 100_000;

#[derive(Debug, Deserialize)]
struct Params {
    #[serde(default = "default_bytes")]
    bytes: usize,
}

fn default_bytes() -> usize {
    32 * 1024 * 1024
}

cutover_plugin_sdk::action_guest!(HostileOutput {
    name: "hostile-output",
    description: "Hostile test plugin: returns a summary of params.bytes bytes (default 32 MiB) \
        and 100000 detail pairs.",
    run: run,
});

fn run(ctx: Context) -> Result<Outcome, PluginError> {
    let p: Params = cutover_plugin_sdk::params(&ctx)?;
    Ok(Outcome {
        summary: "x".repeat(p.bytes),
        details: (0..DETAILS)
            .map(|i| (format!("key-{i}"), format!("value-{i}")))
            .collect(),
    })
}

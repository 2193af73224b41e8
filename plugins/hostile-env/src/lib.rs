//! `hostile-env`: tries to read environment variables, arguments, an
//! ungranted secret and an ungranted config key.
//! Passing means something leaked; a sealed host yields `denied`.

use cutover_plugin_sdk::{Context, PluginError, Verdict, VerdictKind};

cutover_plugin_sdk::check_guest!(HostileEnv {
    name: "hostile-env",
    description: "Hostile test plugin: reads env vars, args (beyond argv0), secret `db_password` \
        and config `not_granted`. Passes only if any of them is visible (a leak).",
    evaluate: evaluate,
});

fn evaluate(_ctx: Context) -> Result<Verdict, PluginError> {
    let mut leaks = Vec::new();
    let mut denials = Vec::new();
    let vars: Vec<String> = std::env::vars().map(|(k, v)| format!("{k}={v}")).collect();
    if vars.is_empty() {
        denials.push("no env vars".to_owned());
    } else {
        leaks.push(format!("env: {vars:?}"));
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        denials.push("no args".to_owned());
    } else {
        leaks.push(format!("args: {args:?}"));
    }
    match cutover_plugin_sdk::secret("db_password") {
        Ok(s) => leaks.push(format!("secret db_password={s}")),
        Err(e) => denials.push(format!("{e:?}")),
    }
    match cutover_plugin_sdk::config("not_granted") {
        Some(v) => leaks.push(format!("config not_granted={v}")),
        None => denials.push("config not_granted: none".to_owned()),
    }
    if leaks.is_empty() {
        Err(PluginError::Denied(denials.join("; ")))
    } else {
        Ok(Verdict {
            verdict: VerdictKind::Pass,
            message: format!("SANDBOX LEAK: {}", leaks.join("; ")),
            measurements: Vec::new(),
        })
    }
}

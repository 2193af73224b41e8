//! `hostile-fs`: tries to read and write outside what it was granted.
//! Passing means the sandbox leaked; a sealed host yields `denied`.

use cutover_plugin_sdk::{Context, PluginError, Verdict, VerdictKind};

cutover_plugin_sdk::check_guest!(HostileFs {
    name: "hostile-fs",
    description: "Hostile test plugin: reads /etc/passwd, lists / and ., writes /data/x. \
        Passes only if one of them succeeds (a sandbox leak).",
    evaluate: evaluate,
});

fn evaluate(_ctx: Context) -> Result<Verdict, PluginError> {
    let mut leaks = Vec::new();
    let mut errors = Vec::new();
    match std::fs::read_to_string("/etc/passwd") {
        Ok(s) => leaks.push(format!("read /etc/passwd: {s}")),
        Err(e) => errors.push(format!("read /etc/passwd: {e}")),
    }
    for dir in ["/", "."] {
        match std::fs::read_dir(dir) {
            Ok(rd) => {
                let names: Vec<String> = rd
                    .filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect();
                leaks.push(format!("read_dir {dir}: {names:?}"));
            }
            Err(e) => errors.push(format!("read_dir {dir}: {e}")),
        }
    }
    match std::fs::write("/data/x", b"hostile") {
        Ok(()) => leaks.push("wrote /data/x".to_owned()),
        Err(e) => errors.push(format!("write /data/x: {e}")),
    }
    if leaks.is_empty() {
        Err(PluginError::Denied(errors.join("; ")))
    } else {
        Ok(Verdict {
            verdict: VerdictKind::Pass,
            message: format!("SANDBOX LEAK: {}", leaks.join("; ")),
            measurements: Vec::new(),
        })
    }
}

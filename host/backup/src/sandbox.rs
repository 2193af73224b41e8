//! Building a plugin's sandbox (grants and limits) from a loaded plan.

use std::sync::Arc;
use std::time::Duration;

use cutover_plan::LoadedPlan;
use cutover_runtime::{
    DirGrant, EnvSecrets, Grants, Limits, MAX_MEMORY_BYTES, Origin, Sandbox, TlsCa,
};

use crate::error::BackupError;

/// The sandbox the plan gives plugin `plugin_id`: its host, directory
/// (resolved against the plan's directory), secret and config grants, and its
/// effective deadline and memory limits, and its granted CA certificates
/// (`tls_ca`, loaded and checked here). Secrets resolve from the environment.
pub fn sandbox_for(loaded: &LoadedPlan, plugin_id: &str) -> Result<Sandbox, BackupError> {
    let spec = loaded
        .plan
        .plugins
        .get(plugin_id)
        .ok_or_else(|| BackupError::Plan(format!("no plugin `{plugin_id}` in the plan")))?;
    let g = &spec.grants;
    let hosts = g
        .hosts
        .iter()
        .map(|h| {
            Origin::parse_grant(h)
                .map_err(|e| BackupError::Plan(format!("plugin `{plugin_id}`: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let dirs = g
        .dirs
        .iter()
        .map(|d| DirGrant {
            name: d.name.clone(),
            path: loaded.base_dir.join(&d.path),
            write: d.write,
        })
        .collect();
    let grants = Grants {
        hosts,
        dirs,
        secrets: g.secrets.clone(),
        config: g.config.clone(),
    };
    // Granted CAs are parsed here, once per sandbox: a bad file fails before
    // any call, naming the file.
    let tls_ca = if g.tls_ca.is_empty() {
        None
    } else {
        let files: Vec<_> = g.tls_ca.iter().map(|f| loaded.base_dir.join(f)).collect();
        let ca = TlsCa::load(&files)
            .map_err(|e| BackupError::Plan(format!("plugin `{plugin_id}`: {e}")))?;
        Some(Arc::new(ca))
    };
    let memory = usize::try_from(spec.limits.memory_bytes)
        .unwrap_or(MAX_MEMORY_BYTES)
        .min(MAX_MEMORY_BYTES);
    Ok(Sandbox {
        grants: Arc::new(grants),
        limits: Limits {
            deadline: Duration::from_millis(spec.limits.deadline_ms.max(1)),
            memory_bytes: memory,
            ..Limits::default()
        },
        secrets: Arc::new(EnvSecrets),
        progress: None,
        http_replay: None,
        tls_ca,
    })
}

/// The adapter plugin id of system `side` (`old` or `new`).
pub fn adapter_id<'a>(loaded: &'a LoadedPlan, side: &str) -> Result<&'a str, BackupError> {
    match side {
        "old" => Ok(&loaded.plan.systems.old.adapter),
        "new" => Ok(&loaded.plan.systems.new.adapter),
        other => Err(BackupError::Plan(format!(
            "unknown system {other:?} (expected old or new)"
        ))),
    }
}

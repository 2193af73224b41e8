//! Subcommands, one module each.

pub mod backup;
pub mod compare;
pub mod init;
pub mod lock;
pub mod migrate;
pub mod ops;
pub mod plan;
pub mod plan_migrate;
pub mod plugin;
pub mod plugin_test;
pub mod scaffold;
pub mod translate;

use crate::exit;

/// Maps an error chain to a documented exit code by the typed errors in it.
pub fn exit_code_of(e: &anyhow::Error) -> u8 {
    for cause in e.chain() {
        if cause.downcast_ref::<cutover_runtime::LoadError>().is_some() {
            return exit::PLUGIN_LOAD;
        }
        if cause.downcast_ref::<cutover_runtime::CallError>().is_some() {
            return exit::PLUGIN_CALL;
        }
        if let Some(e) = cause.downcast_ref::<cutover_runtime::TranslateError>() {
            return translate::exit_code(e);
        }
        if cause.downcast_ref::<cutover_plan::Diagnostics>().is_some() {
            return exit::USAGE;
        }
        if let Some(e) = cause.downcast_ref::<cutover_compare::CompareError>() {
            return match e {
                cutover_compare::CompareError::Output(_)
                | cutover_compare::CompareError::Serialize(_) => exit::INTERNAL,
                _ => exit::USAGE,
            };
        }
        if let Some(e) = cause.downcast_ref::<cutover_engine::EngineError>() {
            return if e.is_state() {
                exit::STATE
            } else {
                exit::USAGE
            };
        }
        if let Some(e) = cause.downcast_ref::<cutover_backup::BackupError>() {
            return backup::exit_code(e);
        }
        if cause.downcast_ref::<UsageError>().is_some() {
            return exit::USAGE;
        }
    }
    exit::INTERNAL
}

/// A bad command-line value.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Shorthand for a usage error.
pub fn usage(msg: impl Into<String>) -> anyhow::Error {
    UsageError(msg.into()).into()
}

/// The runner's component cache: `$CUTOVER_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/cutover`, else `~/.cache/cutover`.
pub fn cache_dir() -> Option<std::path::PathBuf> {
    if let Some(d) = std::env::var_os("CUTOVER_CACHE_DIR") {
        return (!d.is_empty()).then(|| d.into());
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(std::path::PathBuf::from(d).join("cutover"));
    }
    std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cache").join("cutover"))
}

/// Creates the process-wide runtime with the component cache.
pub fn runtime() -> anyhow::Result<cutover_runtime::Runtime> {
    Ok(cutover_runtime::Runtime::new(cache_dir().as_deref())?)
}

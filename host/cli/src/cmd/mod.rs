//! Subcommands, one module each.

pub mod artifacts;
pub mod backtest;
pub mod backup;
pub mod compare;
pub mod history;
pub mod init;
pub mod lock;
pub mod migrate;
pub mod plan;
pub mod plan_migrate;
pub mod plugin;
pub mod plugin_test;
pub mod rollback;
pub mod scaffold;
pub mod state;
pub mod status;
pub mod translate;
pub mod watch;

use cutover_base::exit::{ExitClass, HasExitClass};

/// The exit class of an error chain: that of its outermost cause whose type
/// is one of the typed errors below, each classified by its own
/// [`HasExitClass`] impl. `None` when no cause has a class: a bug, which
/// `main` reports as such.
pub fn exit_class_of(e: &anyhow::Error) -> Option<ExitClass> {
    e.chain()
        .find_map(class_of)
        .or_else(|| e.chain().find_map(machine_class))
}

/// What no typed error classified, but is the machine's, not a bug in
/// cutover: an I/O failure writing output or state (a read of a file the
/// command line names is a usage error, see [`read_input`]).
fn machine_class(cause: &(dyn std::error::Error + 'static)) -> Option<ExitClass> {
    cause
        .downcast_ref::<std::io::Error>()
        .map(|_| ExitClass::Internal)
}

/// The class of one cause, if its type is a typed error the commands let
/// reach `main` (one concrete type per cause, so the order does not matter).
fn class_of(cause: &(dyn std::error::Error + 'static)) -> Option<ExitClass> {
    macro_rules! class_of_any {
        ($($t:ty),+ $(,)?) => {
            None$(.or_else(|| cause.downcast_ref::<$t>().map(HasExitClass::exit_class)))+
        };
    }
    class_of_any!(
        UsageError,
        cutover_runtime::RuntimeError,
        cutover_runtime::LoadError,
        cutover_runtime::CallError,
        cutover_runtime::TranslateError,
        cutover_plan::Diagnostics,
        cutover_compare::CompareError,
        cutover_engine::EngineError,
        cutover_engine::bridge::BridgeError,
        cutover_engine::backtest::HistoryError,
        cutover_engine::rollback::RollbackError,
        cutover_engine::backup_cmd::BackupCmdError,
        cutover_backup::BackupError,
        cutover_ops::OpsError,
    )
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

impl HasExitClass for UsageError {
    fn exit_class(&self) -> ExitClass {
        ExitClass::Usage
    }
}

/// Reads a file the command line names: one that cannot be read is a
/// usage error naming it, like any other bad argument.
pub fn read_input(path: impl AsRef<std::path::Path>, what: &str) -> anyhow::Result<String> {
    let path = path.as_ref();
    std::fs::read_to_string(path)
        .map_err(|e| usage(format!("cannot read {what} {}: {e}", path.display())))
}

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

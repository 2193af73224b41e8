//! Typed errors for setting up the runtime, loading and calling plugins,
//! and checking translations.

use cutover_base::exit::{ExitClass, HasExitClass};
use serde::{Deserialize, Serialize};

use crate::alert_frame::FramingError;
use crate::grants::OriginError;
use crate::limits::{Limit, LimitHit};
use crate::report::Summary;
use crate::tls::TlsCaError;
use crate::world::World;

/// A capability the plan did not grant and the plugin tried to use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "target", rename_all = "kebab-case")]
pub enum Denied {
    /// Outgoing HTTP to an origin that is not granted.
    Http(String),
    /// A raw socket connection (never granted).
    Socket(String),
    /// A secret that is not granted.
    Secret(String),
}

impl std::fmt::Display for Denied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Denied::Http(o) => write!(f, "HTTP to {o}"),
            Denied::Socket(a) => write!(f, "socket to {a}"),
            Denied::Secret(s) => write!(f, "secret {s:?}"),
        }
    }
}

/// The typed error a plugin returned (the contract's `plugin-error`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", content = "message", rename_all = "kebab-case")]
pub enum PluginError {
    /// The parameters or input were rejected.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A remote system could not be reached.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The host refused a capability.
    #[error("denied: {0}")]
    Denied(String),
    /// Not supported by this plugin.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The operation failed.
    #[error("failed: {0}")]
    Failed(String),
}

impl PluginError {
    /// The contract's name for this error kind (`invalid-input`, `denied`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            PluginError::InvalidInput(_) => "invalid-input",
            PluginError::Unavailable(_) => "unavailable",
            PluginError::Denied(_) => "denied",
            PluginError::Unsupported(_) => "unsupported",
            PluginError::Failed(_) => "failed",
        }
    }
}

/// Why a call into a plugin did not produce a value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// The plugin ran past its deadline and was interrupted.
    #[error("plugin {plugin} exceeded its deadline of {deadline_ms} ms")]
    Deadline {
        /// Plugin name.
        plugin: String,
        /// The deadline that applied.
        deadline_ms: u64,
    },
    /// The plugin hit a resource limit.
    #[error("plugin {plugin} exceeded its {limit} limit: {detail}")]
    Limit {
        /// Plugin name.
        plugin: String,
        /// Which limit.
        limit: Limit,
        /// What happened.
        detail: String,
    },
    /// The plugin trapped (a bug or a deliberate abort in the guest).
    #[error("plugin {plugin} trapped: {detail}")]
    Trap {
        /// Plugin name.
        plugin: String,
        /// wasmtime's trap description, with the guest backtrace when known.
        detail: String,
    },
    /// The plugin tried to use something the plan does not grant.
    #[error("plugin {plugin} was denied {denied} (not granted by the plan)")]
    Denied {
        /// Plugin name.
        plugin: String,
        /// The first denied attempt.
        denied: Denied,
    },
    /// The plugin returned its own typed error.
    #[error("plugin {plugin} returned an error: {error}")]
    Plugin {
        /// Plugin name.
        plugin: String,
        /// The error.
        error: PluginError,
    },
    /// The plugin returned a value the host cannot accept.
    #[error("plugin {plugin} returned invalid output: {detail}")]
    InvalidOutput {
        /// Plugin name.
        plugin: String,
        /// What is wrong with it.
        detail: String,
    },
    /// The alert stream of `collect-alerts-into` (contract 0.1.3) breaks
    /// the alert framing. Kind `invalid-output`, like any output the host
    /// cannot accept.
    #[error("plugin {plugin} streamed malformed alerts: {error}")]
    AlertFraming {
        /// Plugin name.
        plugin: String,
        /// What is wrong, where.
        error: FramingError,
    },
    /// The plugin implements another world than the call needs.
    #[error("plugin {plugin} is a {} plugin, not a {} plugin", found.as_str(), expected.as_str())]
    WorldMismatch {
        /// Plugin name.
        plugin: String,
        /// The world the call needs.
        expected: World,
        /// The plugin's world.
        found: World,
    },
    /// The plugin's world lacks an optional export the call needs (an
    /// adapter without contract 0.1.2 query-range, for instance).
    #[error("plugin {plugin} does not export {export}: {why}")]
    NotExported {
        /// Plugin name.
        plugin: String,
        /// The export and the contract version that added it, e.g.
        /// `contract 0.1.2 query-range`.
        export: String,
        /// Why it is needed and what to use instead.
        why: String,
    },
    /// The host failed to set up or run the call.
    #[error("host error calling plugin {plugin}: {detail}")]
    Host {
        /// Plugin name.
        plugin: String,
        /// What failed.
        detail: String,
    },
}

impl CallError {
    /// A stable machine-readable kind, for JSON output and exit codes.
    pub fn kind(&self) -> &'static str {
        match self {
            CallError::Deadline { .. } => "deadline",
            CallError::Limit { .. } => "limit",
            CallError::Trap { .. } => "trap",
            CallError::Denied { .. } => "denied",
            CallError::Plugin { .. } => "plugin-error",
            CallError::InvalidOutput { .. } | CallError::AlertFraming { .. } => "invalid-output",
            CallError::WorldMismatch { .. } => "world-mismatch",
            CallError::NotExported { .. } => "not-exported",
            CallError::Host { .. } => "host",
        }
    }
}

/// Why a component could not be loaded as a plugin.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read. The I/O error is part of the message,
    /// not a separate cause, so that a chain never says it twice.
    #[error("cannot read plugin {path}: {cause}")]
    Io {
        /// The path.
        path: String,
        /// The I/O error.
        cause: std::io::Error,
    },
    /// The file's digest differs from the pin.
    #[error("plugin {path} does not match its pin: expected sha256 {expected}, found {actual}")]
    PinMismatch {
        /// The path.
        path: String,
        /// The pinned digest.
        expected: String,
        /// The file's digest.
        actual: String,
    },
    /// A memory or table the component declares starts larger than the
    /// plugin may have: the limits it is loaded with (the plan's or the
    /// command line's memory, the host's table cap) or the pooling
    /// allocator's slot, whichever is smaller.
    #[error("{origin} declares a {} of {asked} {unit}, over the {limit} limit of {allowed} {unit}", over_limit_what(.limit), unit = over_limit_unit(.limit))]
    OverLimit {
        /// Where the bytes came from.
        origin: String,
        /// [`Limit::Memory`] or [`Limit::TableElements`].
        limit: Limit,
        /// The declared initial size (bytes of memory, table elements).
        asked: u64,
        /// The most allowed, in the same unit.
        allowed: u64,
    },
    /// Not a valid WebAssembly component.
    #[error("{origin} is not a valid WebAssembly component: {detail}")]
    Malformed {
        /// Where the bytes came from.
        origin: String,
        /// Why.
        detail: String,
    },
    /// Built against a contract version this host does not provide.
    #[error(
        "{origin} needs contract cutover:plugin@{plugin}, but this host provides cutover:plugin@{host}"
    )]
    ContractVersion {
        /// Where the bytes came from.
        origin: String,
        /// The version the plugin was built against.
        plugin: String,
        /// The version this host implements.
        host: String,
    },
    /// The component does not implement any plugin world.
    #[error("{origin} does not implement a cutover plugin world: {detail}")]
    WrongWorld {
        /// Where the bytes came from.
        origin: String,
        /// What was found instead.
        detail: String,
    },
    /// The component imports something the host does not provide.
    #[error("{origin} cannot be linked: {detail}")]
    Link {
        /// Where the bytes came from.
        origin: String,
        /// Which import is missing or mistyped.
        detail: String,
    },
    /// `describe()` failed or contradicted the world. The call error is
    /// part of the message, not a separate cause, so that a chain never
    /// says it twice; it names the plugin by its origin (the name a plugin
    /// has until its `describe()` returns), so the message does not again.
    #[error("describe() at load failed: {cause}")]
    Describe {
        /// Where the bytes came from.
        origin: String,
        /// The call error.
        cause: CallError,
    },
    /// `describe()` names a kind other than the world the component implements.
    #[error("{origin} implements the {world} world but describe() says kind {declared}")]
    KindMismatch {
        /// Where the bytes came from.
        origin: String,
        /// The world found.
        world: String,
        /// The kind declared.
        declared: String,
    },
    /// The host itself failed (engine, cache directory).
    #[error("host error loading {origin}: {detail}")]
    Host {
        /// Where the bytes came from.
        origin: String,
        /// What failed.
        detail: String,
    },
}

impl LoadError {
    /// A stable machine-readable kind, for JSON output and exit codes.
    pub fn kind(&self) -> &'static str {
        match self {
            LoadError::Io { .. } => "io",
            LoadError::PinMismatch { .. } => "pin-mismatch",
            LoadError::OverLimit { .. } => "over-limit",
            LoadError::Malformed { .. } => "malformed",
            LoadError::ContractVersion { .. } => "contract-version",
            LoadError::WrongWorld { .. } => "wrong-world",
            LoadError::Link { .. } => "link",
            LoadError::Describe { .. } => "describe",
            LoadError::KindMismatch { .. } => "kind-mismatch",
            LoadError::Host { .. } => "host",
        }
    }
}

/// What [`LoadError::OverLimit`] calls the thing that is too large.
fn over_limit_what(limit: &Limit) -> &'static str {
    match limit {
        Limit::TableElements => "table",
        _ => "linear memory",
    }
}

/// The unit of [`LoadError::OverLimit`]'s sizes.
fn over_limit_unit(limit: &Limit) -> &'static str {
    match limit {
        Limit::TableElements => "elements",
        _ => "bytes",
    }
}

/// Errors creating the runtime.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The engine could not be configured.
    #[error("cannot create the wasm engine: {0}")]
    Engine(String),
    /// The cache directory could not be created (the I/O error is part of
    /// the message, not a separate cause).
    #[error("cannot open the component cache at {path}: {cause}")]
    Cache {
        /// The directory.
        path: String,
        /// The I/O error.
        cause: std::io::Error,
    },
}

/// Why a translation produced nothing usable. Every variant names the
/// translator (`plugin`, its `describe()` name) and, where there is one, the
/// document or report item at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TranslateError {
    /// The call failed: a trap, a limit, the deadline, a denied capability,
    /// the translator's own `plugin-error`, or a plugin of another world.
    #[error(transparent)]
    Call(#[from] CallError),
    /// The translator does not declare the requested data kind.
    #[error("translator {plugin} does not translate {kind:?} (it translates {})", supported.join(", "))]
    UnsupportedKind {
        /// Translator name.
        plugin: String,
        /// The kind asked for.
        kind: String,
        /// The kinds its `describe()` lists.
        supported: Vec<String>,
    },
    /// An input document the host refuses to send (the caller's mistake).
    #[error("translator {plugin}: input document {name:?}: {detail}")]
    Input {
        /// Translator name.
        plugin: String,
        /// The document.
        name: String,
        /// What is wrong with it.
        detail: String,
    },
    /// The output stream breaks the document framing (JSON Lines of
    /// `{"name", "text"}` objects with plain, distinct file names).
    #[error("translator {plugin} wrote malformed output at line {line}{}: {detail}", name.as_ref().map(|n| format!(" (document {n:?})")).unwrap_or_default())]
    MalformedOutput {
        /// Translator name.
        plugin: String,
        /// 1-based line of the output stream.
        line: usize,
        /// The document the line names, if it names one.
        name: Option<String>,
        /// What is wrong.
        detail: String,
    },
    /// A report item without an id or a kind.
    #[error("translator {plugin}: report item #{index} ({id:?}) {detail}")]
    InvalidItem {
        /// Translator name.
        plugin: String,
        /// 0-based position in the report.
        index: usize,
        /// Its id (possibly empty).
        id: String,
        /// What is wrong.
        detail: String,
    },
    /// Two report items with the same id.
    #[error("translator {plugin} reported item {id:?} twice (items #{first} and #{second})")]
    DuplicateItem {
        /// Translator name.
        plugin: String,
        /// The repeated id.
        id: String,
        /// 0-based position of the first one.
        first: usize,
        /// 0-based position of the second one.
        second: usize,
    },
    /// The report's summary disagrees with its items.
    #[error(
        "translator {plugin}: the report's summary ({reported}) does not match its items ({counted})"
    )]
    SummaryMismatch {
        /// Translator name.
        plugin: String,
        /// What the summary says.
        reported: Summary,
        /// What the items say.
        counted: Summary,
    },
    /// Fewer report items than the caller counted in the input: some input
    /// item is not accounted for.
    #[error(
        "translator {plugin} reported {reported} items for {expected} input items; every input item must be accounted for"
    )]
    MissingItems {
        /// Translator name.
        plugin: String,
        /// Items in the report.
        reported: u64,
        /// Items the caller counted in the input.
        expected: u64,
    },
}

impl TranslateError {
    /// A stable machine-readable kind, for JSON output and exit codes.
    pub fn kind(&self) -> &'static str {
        match self {
            TranslateError::Call(e) => e.kind(),
            TranslateError::UnsupportedKind { .. } => "unsupported-kind",
            TranslateError::Input { .. } => "input",
            TranslateError::MalformedOutput { .. } => "malformed-output",
            TranslateError::InvalidItem { .. } => "invalid-item",
            TranslateError::DuplicateItem { .. } => "duplicate-item",
            TranslateError::SummaryMismatch { .. } => "summary-mismatch",
            TranslateError::MissingItems { .. } => "missing-items",
        }
    }

    /// Whether the caller's input is at fault (a kind the translator does
    /// not declare, a bad document name, or input or params the translator
    /// rejected as `invalid-input` or `unsupported`), rather than the
    /// translator or the host.
    pub fn is_bad_input(&self) -> bool {
        self.exit_class() == ExitClass::Usage
    }
}

/// Every load error: the plugin could not be loaded.
impl HasExitClass for LoadError {
    fn exit_class(&self) -> ExitClass {
        match self {
            LoadError::Io { .. }
            | LoadError::PinMismatch { .. }
            | LoadError::OverLimit { .. }
            | LoadError::Malformed { .. }
            | LoadError::ContractVersion { .. }
            | LoadError::WrongWorld { .. }
            | LoadError::Link { .. }
            | LoadError::Describe { .. }
            | LoadError::KindMismatch { .. }
            | LoadError::Host { .. } => ExitClass::PluginLoad,
        }
    }
}

/// Every call error, the plugin's own typed error included: the call failed.
impl HasExitClass for CallError {
    fn exit_class(&self) -> ExitClass {
        match self {
            CallError::Deadline { .. }
            | CallError::Limit { .. }
            | CallError::Trap { .. }
            | CallError::Denied { .. }
            | CallError::Plugin { .. }
            | CallError::InvalidOutput { .. }
            | CallError::AlertFraming { .. }
            | CallError::WorldMismatch { .. }
            | CallError::Host { .. } => ExitClass::PluginCall,
            CallError::NotExported { .. } => ExitClass::Usage,
        }
    }
}

/// Usage when the caller's input is at fault (a kind the translator does not
/// declare, a bad document, input or params the translator rejected as
/// `invalid-input` or `unsupported`), else a failed plugin call.
impl HasExitClass for TranslateError {
    fn exit_class(&self) -> ExitClass {
        match self {
            TranslateError::Call(CallError::Plugin { error, .. }) => match error {
                PluginError::InvalidInput(_) | PluginError::Unsupported(_) => ExitClass::Usage,
                PluginError::Unavailable(_) | PluginError::Denied(_) | PluginError::Failed(_) => {
                    ExitClass::PluginCall
                }
            },
            TranslateError::Call(e) => e.exit_class(),
            TranslateError::UnsupportedKind { .. } | TranslateError::Input { .. } => {
                ExitClass::Usage
            }
            TranslateError::MalformedOutput { .. }
            | TranslateError::InvalidItem { .. }
            | TranslateError::DuplicateItem { .. }
            | TranslateError::SummaryMismatch { .. }
            | TranslateError::MissingItems { .. } => ExitClass::PluginCall,
        }
    }
}

/// The runtime itself could not be set up: internal.
impl HasExitClass for RuntimeError {
    fn exit_class(&self) -> ExitClass {
        match self {
            RuntimeError::Engine(_) | RuntimeError::Cache { .. } => ExitClass::Internal,
        }
    }
}

/// A host grant the operator wrote that is not `scheme://host:port`.
impl HasExitClass for OriginError {
    fn exit_class(&self) -> ExitClass {
        ExitClass::Usage
    }
}

/// Granted CA certificates that cannot be used: the plan's grant is at fault.
impl HasExitClass for TlsCaError {
    fn exit_class(&self) -> ExitClass {
        match self {
            TlsCaError::Read { .. }
            | TlsCaError::Pem { .. }
            | TlsCaError::Certificate { .. }
            | TlsCaError::Config { .. } => ExitClass::Usage,
        }
    }
}

/// A plugin hit a resource limit: its call failed.
impl HasExitClass for LimitHit {
    fn exit_class(&self) -> ExitClass {
        ExitClass::PluginCall
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin_error(error: PluginError) -> TranslateError {
        TranslateError::Call(CallError::Plugin {
            plugin: "t".into(),
            error,
        })
    }

    #[test]
    fn a_translation_is_a_usage_error_when_the_input_is_at_fault() {
        let usage = [
            plugin_error(PluginError::InvalidInput("x".into())),
            plugin_error(PluginError::Unsupported("x".into())),
            TranslateError::UnsupportedKind {
                plugin: "t".into(),
                kind: "routes".into(),
                supported: vec![],
            },
        ];
        for e in usage {
            assert_eq!(e.exit_class(), ExitClass::Usage, "{e}");
            assert!(e.is_bad_input(), "{e}");
        }
        let call = [
            plugin_error(PluginError::Failed("x".into())),
            TranslateError::Call(CallError::Trap {
                plugin: "t".into(),
                detail: "unreachable".into(),
            }),
            TranslateError::MissingItems {
                plugin: "t".into(),
                reported: 1,
                expected: 2,
            },
        ];
        for e in call {
            assert_eq!(e.exit_class(), ExitClass::PluginCall, "{e}");
            assert!(!e.is_bad_input(), "{e}");
        }
    }
}

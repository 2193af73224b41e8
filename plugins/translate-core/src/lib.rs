//! `translate-core`: the logic behind the translator plugins, as a plain
//! library (no WIT, no WASI-specific code; builds natively and for
//! `wasm32-wasip2`).
//!
//! - [`scope`]: scopes in Prometheus label-matcher syntax (`{team="core"}`, `*`).
//! - [`rules`]: Prometheus rule files (parse / write, order kept).
//! - [`rules_translate`]: scope filtering, renames, added labels and `for:`
//!   overrides over rule files, with one report [`Item`] per input rule.
//! - [`routes`]: merging in-scope routes (and their receivers and
//!   inhibition rules) of an old Alertmanager configuration into a new one.
//! - [`silences`]: an Alertmanager silence list restricted to a scope, with
//!   one report [`Item`] per silence.
//! - [`time`]: RFC 3339 and unix milliseconds without a date library, for
//!   the guests and the host's RFC 3339 fast path.
//!
//! YAML goes through `serde-saphyr` (see [`yaml`]). With the `samples`
//! feature, `samples` holds canned input for each data kind, for tests.

pub mod alertmanager;
pub mod count;
pub mod decide;
pub mod duration;
pub mod lex;
pub mod promql;
pub mod routes;
pub mod rules;
pub mod rules_params;
pub mod rules_translate;
#[cfg(feature = "samples")]
pub mod samples;
pub mod scope;
pub mod selection;
pub mod silences;
pub mod time;
pub mod yaml;

pub use count::input_items;
pub use routes::{RoutesOutput, RoutesParams, merge_routes, merge_routes_in};
pub use rules_translate::{RulesOutput, RulesParams, Target, translate_rules};
pub use scope::{Scope, ScopeError};
pub use selection::Selection;
pub use silences::{SilencesOutput, SilencesParams, restrict_silences};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Why a translation could not run at all. Per-rule and per-route problems
/// are [`Item`]s instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranslateError {
    /// Invalid parameters; `path` is the JSON path of the offending value.
    #[error("params: at JSON path `{path}`: {message}")]
    Params { path: String, message: String },
    /// A YAML document that does not parse (or does not have the expected
    /// shape); line and column are 1-based (0 when unknown).
    #[error("{file}: line {line}, column {column}: {message}")]
    Yaml {
        file: String,
        line: u64,
        column: u64,
        message: String,
    },
    /// A document that parses but is not a valid configuration.
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    /// A bug: output that could not be produced.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Reads a translation's JSON params into `T`; an error is
/// [`TranslateError::Params`] naming the JSON path.
pub(crate) fn params_from_json<T: DeserializeOwned>(text: &str) -> Result<T, TranslateError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| TranslateError::Params {
        path: e.path().to_string(),
        message: e.inner().to_string(),
    })
}

/// What an [`Item`] reports on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    AlertRule,
    RecordingRule,
    Route,
    Receiver,
    InhibitRule,
    Silence,
}

impl ItemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::AlertRule => "alert_rule",
            ItemKind::RecordingRule => "recording_rule",
            ItemKind::Route => "route",
            ItemKind::Receiver => "receiver",
            ItemKind::InhibitRule => "inhibit_rule",
            ItemKind::Silence => "silence",
        }
    }
}

/// The outcome for one input object.
///
/// - `Ok`: translated as asked, or deliberately left out because it is out
///   of scope (the reason says which). Out-of-scope objects are a decision,
///   not a problem, so they do not need a person's attention.
/// - `Warning`: needs a person's review; the reason says whether the object
///   was written to the output or not.
/// - `Untranslatable`: could not be translated; not in the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Warning,
    Untranslatable,
}

/// One line of the translation report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    pub id: String,
    pub kind: ItemKind,
    pub status: Status,
    pub reason: String,
}

/// Number of items per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub ok: usize,
    pub warning: usize,
    pub untranslatable: usize,
}

impl Counts {
    /// Counts `items` by status.
    pub fn of(items: &[Item]) -> Counts {
        let mut c = Counts::default();
        for i in items {
            match i.status {
                Status::Ok => c.ok += 1,
                Status::Warning => c.warning += 1,
                Status::Untranslatable => c.untranslatable += 1,
            }
        }
        c
    }

    pub fn total(&self) -> usize {
        self.ok + self.warning + self.untranslatable
    }
}

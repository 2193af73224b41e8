//! The cutover plan: TOML format, validation with located diagnostics,
//! fingerprint, dry-run preview and JSON Schema.

pub mod diagnostics;
pub mod duration;
pub mod model;
pub mod raw;
pub mod resolver;
pub mod scope;
mod step_fields;
pub mod support;
pub mod validate;
pub mod waves;

pub use diagnostics::{Diagnostic, Diagnostics};
pub use model::*;
pub use resolver::{DescriptorFileResolver, PluginInfo, PluginKind, PluginResolver};
pub use support::{AdapterSupport, Asked, Undeclared, undeclared};
pub use translate_core::{Scope, Selection};
pub use validate::{LoadedPlan, load, validate, validate_in};
pub mod fingerprint;
pub mod preview;
pub mod schema;

pub use fingerprint::fingerprint_diff;
pub use preview::preview;
pub use schema::schema_json;

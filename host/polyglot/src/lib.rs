//! cutover-polyglot: where the four-language example check lives for the host.
//!
//! `scripts/build-polyglot.sh` builds `examples/checks/{rust,js,python,c}`
//! into `target/plugins/example-check-<lang>.wasm`; this crate locates those
//! components and the shared fixtures (`examples/checks/fixtures/*.json`) and
//! turns a fixture into the check's step parameters. The integration test
//! (`tests/polyglot.rs`) runs all four in the real runtime and proves they
//! agree; the bench (`benches/large_guests.rs`) times cold compile against
//! cached load for the large JS and Python components.

use std::path::{Path, PathBuf};

/// The guest languages of the example check, as used in the component names.
pub const LANGS: [&str; 4] = ["rust", "js", "python", "c"];

/// Errors reading a fixture.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// The file could not be read.
    #[error("cannot read fixture {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `target/plugins/example-check-<lang>.wasm`.
pub fn component_path(lang: &str) -> PathBuf {
    repo_root()
        .join("target/plugins")
        .join(format!("example-check-{lang}.wasm"))
}

/// `examples/checks/fixtures/<name>.json`.
pub fn fixture_path(name: &str) -> PathBuf {
    repo_root()
        .join("examples/checks/fixtures")
        .join(format!("{name}.json"))
}

/// The check's step parameters for a fixture: `{"rules": "<file text>"}`.
pub fn fixture_params(name: &str) -> Result<String, FixtureError> {
    let path = fixture_path(name);
    let text = std::fs::read_to_string(&path).map_err(|source| FixtureError::Io {
        path: path.display().to_string(),
        source,
    })?;
    Ok(params_for(&text))
}

/// Wraps rule-set text as the check's step parameters.
pub fn params_for(rules_text: &str) -> String {
    serde_json::json!({ "rules": rules_text }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_embed_the_text_verbatim() {
        let p = params_for("{\"data\":\n{}}");
        let v: serde_json::Value = serde_json::from_str(&p).unwrap();
        assert_eq!(v["rules"], "{\"data\":\n{}}");
    }

    #[test]
    fn every_fixture_is_valid_json() {
        for name in ["compliant", "offenders", "recording-only"] {
            let p = fixture_params(name).unwrap();
            let v: serde_json::Value = serde_json::from_str(&p).unwrap();
            let rules = v["rules"].as_str().unwrap();
            assert!(
                serde_json::from_str::<serde_json::Value>(rules).is_ok(),
                "{name}"
            );
        }
    }
}

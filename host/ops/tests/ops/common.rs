//! Shared test helpers: load the shipped plan with stand-in plugin files.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use cutover_plan::{LoadedPlan, PluginInfo, PluginResolver, validate_in};

/// The crate directory.
pub fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The repository root.
pub fn repo() -> PathBuf {
    manifest().join("../..")
}

/// `UPDATE_GOLDENS=1` rewrites golden files.
pub fn update() -> bool {
    std::env::var_os("UPDATE_GOLDENS").is_some_and(|v| v == "1")
}

/// Compares `actual` with the golden at `path`, or rewrites it when updating.
pub fn golden(path: &Path, actual: &str) {
    if update() {
        std::fs::write(path, actual).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    let expected = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDENS=1)", path.display()));
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .map_or("end".to_string(), |i| (i + 1).to_string());
        panic!(
            "{} is out of date (first difference at line {line}); rerun with UPDATE_GOLDENS=1 and review.\n--- actual\n{actual}",
            path.display()
        );
    }
}

/// Describes plugins from the plan crate's descriptors of the shipped plugins
/// (`host/plan/tests/ui/plugins/shipped-<id>.describe.json`, taken from the
/// real components' `describe()`).
struct FixtureResolver;

impl PluginResolver for FixtureResolver {
    fn describe(&self, id: &str, _path: &Path) -> Result<PluginInfo, String> {
        let file = repo().join(format!(
            "host/plan/tests/ui/plugins/shipped-{id}.describe.json"
        ));
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))
    }
}

/// Validates `plans/<name>` with stand-in plugin files pinned by digest.
pub fn load_plan(name: &str) -> LoadedPlan {
    let path = repo().join("plans").join(name);
    let src = std::fs::read_to_string(&path).expect("plan");
    let tmp = tempfile::tempdir().expect("tmp");
    let mut pinned = src;
    for id in [
        "alertmanager",
        "prometheus",
        "http-probe",
        "rules-diff",
        "noop-action",
        "alertmanager-routes",
        "alertmanager-silences",
        "alertmanager-silence",
        "notifications-muted",
    ] {
        let bytes = format!("stand-in {id}");
        let file = tmp.path().join(format!("{id}.wasm"));
        std::fs::write(&file, &bytes).expect("write");
        let digest = {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(bytes.as_bytes()))
        };
        pinned = pinned.replace(
            &format!(
                "path = \"../target/plugins/{id}.wasm\"\nsha256 = \"{}\"",
                "0".repeat(64)
            ),
            &format!("path = \"{}\"\nsha256 = \"{digest}\"", file.display()),
        );
    }
    let base = path.parent().expect("dir").to_path_buf();
    match validate_in(&pinned, name, &base, &FixtureResolver) {
        Ok(loaded) => loaded,
        Err(d) => panic!("{name}:\n{}", d.render_plain()),
    }
}

//! Where things are: the repository root, and the compiled first-party
//! guest plugins in `target/plugins/` (built by `scripts/build-plugins.sh`;
//! the example checks by `scripts/build-polyglot.sh`).

use std::path::{Path, PathBuf};

use sha2::Digest as _;

/// The repository root (the workspace's directory), without `..` in it.
pub fn repo_root() -> PathBuf {
    let kit = Path::new(env!("CARGO_MANIFEST_DIR"));
    kit.parent()
        .and_then(Path::parent)
        .map_or_else(|| kit.join("../.."), Path::to_path_buf)
}

/// `rel` below the repository root.
pub fn repo_path(rel: impl AsRef<Path>) -> PathBuf {
    repo_root().join(rel)
}

/// `target/plugins`, where the build scripts put the compiled guests.
pub fn plugins_dir() -> PathBuf {
    repo_path("target/plugins")
}

/// `target/plugins/<name>.wasm`; panics, saying how to build it, when the
/// file is missing.
pub fn plugin_path(name: &str) -> PathBuf {
    let path = plugins_dir().join(format!("{name}.wasm"));
    assert!(
        path.is_file(),
        "{} is missing: run scripts/build-plugins.sh first (scripts/build-polyglot.sh for the example checks)",
        path.display()
    );
    path
}

/// The path of the built plugin `name` (as a string, for plan files) and
/// the sha256 a plan pins it with.
pub fn plugin_pin(name: &str) -> (String, String) {
    let path = plugin_path(name);
    let bytes =
        std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    (path.display().to_string(), sha256_hex(&bytes))
}

/// The text of the translators' canned input `file`
/// (`plugins/translate-core/samples/`, shared with the plugins' own tests).
pub fn translator_sample(file: &str) -> String {
    let path = repo_path("plugins/translate-core/samples").join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("sample {}: {e}", path.display()))
}

/// Lower-case hex sha256 of `bytes`, as plans pin plugins.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_is_the_workspace() {
        let root = repo_root();
        assert!(root.join("Cargo.toml").is_file(), "{}", root.display());
        assert!(root.join("host/test-kit").is_dir());
        assert!(!root.display().to_string().contains(".."));
    }

    #[test]
    fn translator_samples_are_readable() {
        assert!(translator_sample("rules.yml").contains("alert: NodeDown"));
    }

    #[test]
    fn sha256_of_nothing_is_the_known_digest() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    #[should_panic(expected = "scripts/build-plugins.sh")]
    fn a_missing_plugin_says_how_to_build_it() {
        plugin_path("no-such-plugin-anywhere");
    }
}

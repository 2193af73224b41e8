//! File names from configuration and atomic writes inside a granted directory.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Checks that `name` is a plain file name (no directory part, not hidden,
/// not `.`/`..`), so a config value cannot escape the granted directory.
pub fn plain_name(key: &str, name: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("config `{key}` = {name:?}: {why}"));
    if name.is_empty() {
        return bad("empty file name");
    }
    if name.contains('/') || name.contains('\\') {
        return bad("must be a file name, not a path");
    }
    if name.starts_with('.') {
        return bad("must not start with `.`");
    }
    if name.chars().any(char::is_control) {
        return bad("contains control characters");
    }
    Ok(())
}

/// Writes `bytes` to `dir/name` atomically: a temporary file in the same
/// directory, flushed, then renamed over the target.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), String> {
    let target = dir.join(name);
    let tmp = dir.join(format!(".{name}.cutover-tmp"));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, &target)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        format!("cannot write {}: {e}", target.display())
    })
}

/// Reads `dir/name`, or `None` when it does not exist.
pub fn read_optional(dir: &Path, name: &str) -> Result<Option<Vec<u8>>, String> {
    let path = dir.join(name);
    match fs::read(&path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// Removes `dir/name`; a missing file is fine.
pub fn remove_optional(dir: &Path, name: &str) -> Result<(), String> {
    let path = dir.join(name);
    match fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("cannot remove {}: {e}", path.display())),
    }
}

/// Names of the regular, non-hidden files in `dir` whose name ends with one
/// of `suffixes`, sorted.
pub fn list(dir: &Path, suffixes: &[&str]) -> Result<Vec<String>, String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        let is_file = entry.file_type().map(|t| t.is_file()).unwrap_or(false);
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if is_file && !name.starts_with('.') && suffixes.iter().any(|s| name.ends_with(s)) {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// `dir/name` as a path (for messages).
pub fn path_of(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_only() {
        assert!(plain_name("k", "alertmanager.yml").is_ok());
        for bad in ["", "../x", "a/b", ".hidden", "..", "a\nb"] {
            let err = plain_name("config_file", bad).unwrap_err();
            assert!(err.contains("config_file"), "{err}");
        }
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        write_atomic(dir.path(), "a.yml", b"one").unwrap();
        write_atomic(dir.path(), "a.yml", b"two").unwrap();
        assert_eq!(fs::read(dir.path().join("a.yml")).unwrap(), b"two");
        assert_eq!(list(dir.path(), &[""]).unwrap(), vec!["a.yml"]);
        assert_eq!(read_optional(dir.path(), "nope").unwrap(), None);
        remove_optional(dir.path(), "a.yml").unwrap();
        remove_optional(dir.path(), "a.yml").unwrap();
        assert!(list(dir.path(), &[".yml"]).unwrap().is_empty());
    }

    #[test]
    fn list_filters_suffix_and_hidden() {
        let dir = tempfile::tempdir().unwrap();
        for n in ["b.yml", "a.yaml", ".x.yml", "c.txt"] {
            fs::write(dir.path().join(n), "").unwrap();
        }
        fs::create_dir(dir.path().join("d.yml")).unwrap();
        assert_eq!(
            list(dir.path(), &[".yml", ".yaml"]).unwrap(),
            vec!["a.yaml", "b.yml"]
        );
        assert!(list(&dir.path().join("missing"), &[]).is_err());
    }
}

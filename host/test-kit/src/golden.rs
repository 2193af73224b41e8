//! Golden files: expected output kept beside the tests. A test compares
//! what it got with the file; `UPDATE_GOLDENS=1` (or `scripts/bless.sh`)
//! rewrites the file instead, for review with `git diff`.

use std::path::Path;

/// The environment variable that makes [`check`] rewrite goldens.
pub const UPDATE_ENV: &str = "UPDATE_GOLDENS";

/// Whether goldens are being rewritten (`UPDATE_GOLDENS=1`).
pub fn updating() -> bool {
    std::env::var_os(UPDATE_ENV).is_some_and(|v| v == "1")
}

/// How to bless a golden.
fn bless_hint() -> String {
    format!("rerun with {UPDATE_ENV}=1 (or scripts/bless.sh) and review the diff")
}

/// Compares `actual` with the golden at `path`, or rewrites the golden when
/// updating. The error names the file, the first differing line and how to
/// bless it, and shows what was produced.
pub fn check(path: &Path, actual: &str) -> Result<(), String> {
    if updating() {
        return std::fs::write(path, actual).map_err(|e| format!("{}: {e}", path.display()));
    }
    let expected = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: {e}; {}", path.display(), bless_hint()))?;
    if expected == actual {
        return Ok(());
    }
    let line = expected
        .lines()
        .zip(actual.lines())
        .position(|(a, b)| a != b)
        .map_or_else(
            || (expected.lines().count().min(actual.lines().count()) + 1).to_string(),
            |i| (i + 1).to_string(),
        );
    Err(format!(
        "{} is out of date (first difference at line {line}); {}.\n--- actual\n{actual}\n--- golden\n{expected}",
        path.display(),
        bless_hint()
    ))
}

/// [`check`], panicking with its message.
#[track_caller]
pub fn assert_golden(path: &Path, actual: &str) {
    if let Err(e) = check(path, actual) {
        panic!("{e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_text_passes_and_a_difference_names_line_and_remedy() {
        if updating() {
            return; // this test checks comparisons, which updating skips
        }
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("x.out");
        std::fs::write(&path, "a\nb\nc\n").expect("write");
        assert!(check(&path, "a\nb\nc\n").is_ok());
        let err = check(&path, "a\nB\nc\n").expect_err("differs");
        assert!(err.contains("first difference at line 2"), "{err}");
        assert!(err.contains("UPDATE_GOLDENS=1"), "{err}");
        let err = check(&path, "a\nb\n").expect_err("shorter");
        assert!(err.contains("line 3"), "{err}");
        let err = check(&dir.path().join("missing.out"), "x").expect_err("missing");
        assert!(
            err.contains("missing.out") && err.contains("UPDATE_GOLDENS=1"),
            "{err}"
        );
    }
}

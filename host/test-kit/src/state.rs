//! A run's state directory (`.state/` beside the plan) as tests tamper
//! with it: rollback points' stored blobs.

use std::path::{Path, PathBuf};

/// The stored blob of `category` in rollback point `point` (the file
/// `points/POINT.json`, e.g. `before.new` for a phase's point of the new
/// system).
pub fn point_blob(state_dir: &Path, point: &str, category: &str) -> PathBuf {
    let file = state_dir.join(format!("points/{point}.json"));
    let text =
        std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("point {}: {e}", file.display()));
    let doc: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("point {}: {e}", file.display()));
    let digest = doc["body"]["results"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["kind"] == category)
        .and_then(|r| r["digest"].as_str())
        .unwrap_or_else(|| panic!("{} stores no {category}", file.display()))
        .to_string();
    state_dir
        .join("backups/blobs")
        .join(&digest[..2])
        .join(&digest[2..])
}

/// Overwrites the stored blob of `category` in point `point` with `text`
/// (the store keeps blobs read-only), so that verifying it must fail.
pub fn overwrite_point_blob(state_dir: &Path, point: &str, category: &str, text: &str) {
    let blob = point_blob(state_dir, point, category);
    let mut perms = std::fs::metadata(&blob)
        .unwrap_or_else(|e| panic!("blob {}: {e}", blob.display()))
        .permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&blob, perms).expect("chmod blob");
    std::fs::write(&blob, text).expect("overwrite blob");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_point_blob_is_found_by_category_and_overwritten() {
        let dir = tempfile::tempdir().expect("tmp");
        let digest = format!("ab{}", "c".repeat(62));
        std::fs::create_dir_all(dir.path().join("points")).expect("mkdir");
        std::fs::write(
            dir.path().join("points/p.json"),
            format!(
                r#"{{"body": {{"results": [{{"kind": "configurations", "digest": "{digest}"}}]}}}}"#
            ),
        )
        .expect("point");
        let blob = point_blob(dir.path(), "p", "configurations");
        assert_eq!(blob, dir.path().join("backups/blobs/ab").join(&digest[2..]));
        std::fs::create_dir_all(blob.parent().expect("dir")).expect("mkdir");
        std::fs::write(&blob, "x").expect("blob");
        let mut perms = std::fs::metadata(&blob).expect("meta").permissions();
        perms.set_readonly(true);
        std::fs::set_permissions(&blob, perms).expect("chmod");
        overwrite_point_blob(dir.path(), "p", "configurations", "y");
        assert_eq!(std::fs::read_to_string(&blob).expect("read"), "y");
    }
}

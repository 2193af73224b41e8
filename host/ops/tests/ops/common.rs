//! Shared test helper: the shipped plans, validated with stand-in plugin
//! files and the plugins' recorded descriptors.

use cutover_plan::{DescriptorFileResolver, LoadedPlan, validate_in};
use cutover_test_kit::{plan::pin_stand_ins, repo_path};

/// Validates `plans/<name>` with stand-in plugin files pinned by digest,
/// described by the plan crate's descriptors of the shipped plugins
/// (`host/plan/tests/ui/plugins/shipped-<id>.describe.json`, taken from the
/// real components' `describe()`).
pub fn load_plan(name: &str) -> LoadedPlan {
    let path = repo_path("plans").join(name);
    let src = std::fs::read_to_string(&path).expect("plan");
    let tmp = tempfile::tempdir().expect("tmp");
    let descriptors = repo_path("host/plan/tests/ui/plugins");
    let pinned = pin_stand_ins(&src, tmp.path(), Some(&descriptors));
    let base = path.parent().expect("dir").to_path_buf();
    match validate_in(&pinned, name, &base, &DescriptorFileResolver) {
        Ok(loaded) => loaded,
        Err(d) => panic!("{name}:\n{}", d.render_plain()),
    }
}

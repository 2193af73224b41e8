//! Plans read durations with the one grammar of `cutover_base::time`, the
//! same function every command-line flag (`--tolerance`, `--extend`,
//! `--deadline`, `CUTOVER_ESCALATION`) calls: a plan accepts exactly the
//! forms a flag accepts, with the same value, and rejects the others with the
//! same message.

use std::path::{Path, PathBuf};

use cutover_plan::{DescriptorFileResolver, PluginInfo, PluginResolver, validate};

/// Resolves descriptor files relative to the crate, whatever the cwd.
struct ManifestResolver;

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

impl PluginResolver for ManifestResolver {
    fn describe(&self, id: &str, path: &Path) -> Result<PluginInfo, String> {
        DescriptorFileResolver.describe(id, &manifest().join(path))
    }
}

/// Forms written in plans and on command lines, good and bad.
const FORMS: [&str; 24] = [
    "500ms",
    "30s",
    "15m",
    "4h",
    "2d",
    "1w",
    "1h30m",
    "1w2d3h4m5s6ms",
    "30m1h",
    "0s",
    " 45s ",
    "60",
    "0",
    "",
    " ",
    "-1s",
    "1.5m",
    "30 seconds",
    "1h 30m",
    "2days",
    "1h30",
    "soon",
    "5µs",
    "99999999999w",
];

#[test]
fn plan_deadlines_read_like_flags() {
    let valid =
        std::fs::read_to_string(manifest().join("tests/ui/valid-plan.toml")).expect("valid plan");
    let written = "defaults = { deadline = \"30s\"";
    assert!(valid.contains(written), "the valid plan changed");
    for form in FORMS {
        let src = valid.replacen(written, &format!("defaults = {{ deadline = \"{form}\""), 1);
        let plan = validate(&src, "tests/ui/valid-plan.toml", &ManifestResolver);
        match (cutover_base::time::parse_duration_ms(form), plan) {
            (Ok(ms), Ok(plan)) => {
                assert_eq!(plan.plugins["am"].limits.deadline_ms, ms, "{form:?}");
            }
            (Err(e), Err(diags)) => {
                let messages: Vec<&str> = diags.items.iter().map(|d| d.message.as_str()).collect();
                let want = format!("bad duration for `deadline`: {e}");
                assert_eq!(messages, [want.as_str()], "{form:?}");
            }
            (flag, plan) => panic!(
                "{form:?}: the flag grammar says {flag:?}, the plan {}",
                match plan {
                    Ok(_) => "is valid".to_string(),
                    Err(d) => d.render_plain(),
                }
            ),
        }
    }
}

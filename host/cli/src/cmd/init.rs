//! `cutover init DIR`: writes a starter plan (`DIR/plan.toml`) with the five
//! phases of an alerting migration, its checklists, risks and emergency
//! procedures, from the template `templates/plan/plan.toml` (embedded at
//! compile time). The first-party plugins the plan uses are copied into
//! `DIR/plugins` and pinned by sha256, the directories its grants name are
//! created, and the written plan is validated before `init` reports success.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use toml_edit::{DocumentMut, Item, value};

use super::usage;
use crate::exit;
use cutover_engine::PluginBridge;

/// The starter plan.
pub const TEMPLATE: &str = include_str!("../../../../templates/plan/plan.toml");

/// The plan file `init` writes inside DIR.
pub const PLAN_FILE: &str = "plan.toml";

/// Arguments of `init`.
#[derive(Args)]
pub struct InitArgs {
    /// Directory to write the starter plan into (created when missing).
    pub dir: PathBuf,
    /// Directory holding the built first-party plugins (default:
    /// `target/plugins` of the cutover checkout, or of $CUTOVER_SOURCE_DIR;
    /// `scripts/build-plugins.sh` builds them).
    #[arg(long, value_name = "DIR")]
    pub plugins: Option<PathBuf>,
    /// Overwrite an existing DIR/plan.toml.
    #[arg(long)]
    pub force: bool,
}

/// Where the built first-party plugins are by default.
fn default_plugin_dir() -> PathBuf {
    let root = std::env::var_os("CUTOVER_SOURCE_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."));
    let dir = root.join("target/plugins");
    dir.canonicalize().unwrap_or(dir)
}

/// Plugin ids of the template with their `path` (relative to the plan).
fn template_plugins(doc: &DocumentMut) -> anyhow::Result<Vec<(String, String)>> {
    let plugins = doc
        .get("plugins")
        .and_then(Item::as_table_like)
        .context("the plan template has no [plugins]")?;
    plugins
        .iter()
        .map(|(id, item)| {
            let path = item
                .get("path")
                .and_then(Item::as_str)
                .with_context(|| format!("template plugin `{id}` has no path"))?;
            Ok((id.to_string(), path.to_string()))
        })
        .collect()
}

/// Directory paths granted to the template's plugins (relative to the plan).
fn granted_dirs(text: &str) -> anyhow::Result<Vec<String>> {
    let raw: toml::Table = toml::from_str(text).context("the plan template is not TOML")?;
    let mut dirs: Vec<String> = raw
        .get("plugins")
        .and_then(|p| p.as_table())
        .into_iter()
        .flat_map(|t| t.values())
        .filter_map(|p| p.get("grants")?.get("dirs")?.as_array())
        .flatten()
        .filter_map(|d| d.get("path")?.as_str().map(str::to_string))
        .collect();
    dirs.sort();
    dirs.dedup();
    Ok(dirs)
}

/// Writes the starter plan into `a.dir`.
pub fn init(a: InitArgs) -> anyhow::Result<u8> {
    let plan_path = a.dir.join(PLAN_FILE);
    if plan_path.exists() && !a.force {
        return Err(usage(format!(
            "{} exists; pass --force to overwrite it",
            plan_path.display()
        )));
    }
    let source = a.plugins.unwrap_or_else(default_plugin_dir);
    let mut doc: DocumentMut = TEMPLATE.parse().context("the plan template is not TOML")?;
    let plugins = template_plugins(&doc)?;
    let missing: Vec<String> = plugins
        .iter()
        .filter_map(|(_, rel)| {
            let name = Path::new(rel).file_name()?;
            (!source.join(name).is_file()).then(|| name.to_string_lossy().into_owned())
        })
        .collect();
    if !missing.is_empty() {
        return Err(usage(format!(
            "the first-party plugins {} are not in {}; build them with scripts/build-plugins.sh or pass --plugins DIR",
            missing.join(", "),
            source.display()
        )));
    }
    std::fs::create_dir_all(&a.dir).with_context(|| format!("creating {}", a.dir.display()))?;
    for (id, rel) in &plugins {
        let from = source.join(Path::new(rel).file_name().unwrap_or_default());
        let to = a.dir.join(rel);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        let bytes = std::fs::read(&from).with_context(|| format!("reading {}", from.display()))?;
        std::fs::write(&to, &bytes).with_context(|| format!("writing {}", to.display()))?;
        doc["plugins"][id.as_str()]["sha256"] = value(cutover_runtime::sha256_hex(&bytes));
    }
    let text = doc.to_string();
    let dirs = granted_dirs(&text)?;
    for d in &dirs {
        let path = a.dir.join(d);
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
    }
    std::fs::write(&plan_path, &text)
        .with_context(|| format!("writing {}", plan_path.display()))?;
    let rt = super::runtime()?;
    let loaded = cutover_plan::load(&plan_path, &PluginBridge::new(&rt)).map_err(|diags| {
        eprint!("{}", diags.render_auto());
        anyhow::anyhow!(
            "the starter plan written to {} does not validate (see above): the plugins in {} do not fit the template",
            plan_path.display(),
            source.display()
        )
    })?;
    let ids: Vec<&str> = plugins.iter().map(|(id, _)| id.as_str()).collect();
    print!("{}", summary(&loaded, &a.dir, &ids, &dirs));
    Ok(exit::OK)
}

/// What `init` wrote, for the operator.
fn summary(
    loaded: &cutover_plan::LoadedPlan,
    dir: &Path,
    plugins: &[&str],
    dirs: &[String],
) -> String {
    let plan = &loaded.plan;
    let items: Vec<&cutover_plan::ChecklistItem> =
        plan.phases.iter().flat_map(|p| &p.checklist).collect();
    let checked = |c: &cutover_plan::ChecklistItem| c.check.is_some() || c.match_rate.is_some();
    let n_checked = items.iter().filter(|c| checked(c)).count();
    let plan_file = dir.join(PLAN_FILE);
    let mut o = String::new();
    let _ = writeln!(
        o,
        "wrote {}: plan {:?}, {} phases, {} checklist items ({} checked by cutover, {} confirmed by hand), {} risks, {} emergency procedures",
        plan_file.display(),
        plan.meta.name,
        plan.phases.len(),
        items.len(),
        n_checked,
        items.len() - n_checked,
        plan.risks.len(),
        plan.emergency.len()
    );
    for (n, p) in plan.phases.iter().enumerate() {
        let checked_here = p.checklist.iter().filter(|c| checked(c)).count();
        let critical = p.checklist.iter().filter(|c| c.critical).count();
        let _ = writeln!(
            o,
            "  {}. {:<18} {:<19} {:<7} risk {:<6} checklist {} ({} critical, {} checked)",
            n + 1,
            p.id,
            p.name,
            p.duration_text().unwrap_or_else(|| "-".into()),
            p.risk.to_string(),
            p.checklist.len(),
            critical,
            checked_here
        );
    }
    let _ = writeln!(o, "risks:");
    for r in &plan.risks {
        let level = cutover_ops::risks::level_of(cutover_ops::risks::score(r));
        let _ = writeln!(
            o,
            "  {} {}: probability {} x impact {} = {level}",
            r.id, r.name, r.probability, r.impact
        );
    }
    let _ = writeln!(o, "emergency procedures:");
    for (name, e) in &plan.emergency {
        let _ = writeln!(
            o,
            "  {name}: {} steps, escalation after {}",
            e.steps.len(),
            cutover_plan::duration::format_duration_ms(e.escalation_ms)
        );
    }
    let _ = writeln!(
        o,
        "plugins copied to {} and pinned: {}",
        dir.join("plugins").display(),
        plugins.join(", ")
    );
    let _ = writeln!(
        o,
        "directories for the plugins' grants: {}",
        dirs.join(", ")
    );
    let _ = writeln!(
        o,
        "next: point the URLs, directories, approvers and targets at your systems, then\n  cutover validate {0}\n  cutover plan {0}\n  cutover run {0}",
        plan_file.display()
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_names_its_plugins_and_their_directories() {
        let doc: DocumentMut = TEMPLATE.parse().expect("template is TOML");
        let ids: Vec<String> = template_plugins(&doc)
            .expect("plugins")
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(
            ids,
            ["alertmanager", "prometheus", "http-probe", "rules-diff"]
        );
        assert_eq!(
            granted_dirs(TEMPLATE).expect("dirs"),
            [
                "rules/new",
                "rules/old",
                "systems/alertmanager",
                "systems/prometheus-rules"
            ]
        );
    }
}

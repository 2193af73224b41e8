//! `cutover validate PLAN` and `cutover plan PLAN`.

use std::path::PathBuf;

use clap::Args;

use crate::exit;
use cutover_engine::PluginBridge;

/// Arguments of `cutover validate`.
#[derive(Args)]
pub struct ValidateArgs {
    /// The plan file (TOML).
    pub plan: PathBuf,
}

/// Arguments of `cutover plan`.
#[derive(Args)]
pub struct PlanArgs {
    /// The plan file (TOML).
    pub plan: PathBuf,
    /// Print the migration preview as JSON (`{"steps": [...]}`).
    #[arg(long)]
    pub json: bool,
    /// Do not contact the systems: skip the migration preview.
    #[arg(long)]
    pub offline: bool,
}

fn load(
    plan: &std::path::Path,
) -> anyhow::Result<Result<cutover_plan::LoadedPlan, cutover_plan::Diagnostics>> {
    let rt = super::runtime()?;
    let resolver = PluginBridge::new(&rt);
    Ok(cutover_plan::load(plan, &resolver))
}

/// Validates and prints every diagnostic.
pub fn validate(a: ValidateArgs) -> anyhow::Result<u8> {
    match load(&a.plan)? {
        Ok(loaded) => {
            let steps: usize = loaded.plan.phases.iter().map(|p| p.steps.len()).sum();
            println!(
                "{}: valid plan {:?}: {} phases, {} steps, {} plugins",
                a.plan.display(),
                loaded.plan.meta.name,
                loaded.plan.phases.len(),
                steps,
                loaded.plan.plugins.len()
            );
            println!("fingerprint {}", loaded.fingerprint());
            Ok(exit::OK)
        }
        Err(diags) => {
            eprint!("{}", diags.render_auto());
            Ok(exit::USAGE)
        }
    }
}

/// Prints the dry-run preview, then every migrate step's export and
/// translation (read-only). Exit 1 when a migrate step would fail.
pub fn preview(a: PlanArgs) -> anyhow::Result<u8> {
    match load(&a.plan)? {
        Ok(loaded) => {
            let previews = if a.offline {
                Vec::new()
            } else {
                let rt = super::runtime()?;
                cutover_engine::migrate::preview(&rt, &loaded)
            };
            let (text, blocked) = super::plan_migrate::render(&loaded, &previews);
            if a.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({ "steps": previews }))?
                );
            } else {
                print!("{}", cutover_plan::preview(&loaded, &loaded.infos));
                print!("{text}");
            }
            Ok(if blocked { exit::FAILED } else { exit::OK })
        }
        Err(diags) => {
            eprint!("{}", diags.render_auto());
            Ok(exit::USAGE)
        }
    }
}

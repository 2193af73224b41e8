//! `cutover validate PLAN` and `cutover plan PLAN`.

use std::path::PathBuf;

use clap::Args;

use crate::exit;
use crate::resolver::RuntimeResolver;

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
}

fn load(
    plan: &std::path::Path,
) -> anyhow::Result<Result<cutover_plan::LoadedPlan, cutover_plan::Diagnostics>> {
    let rt = super::runtime()?;
    let resolver = RuntimeResolver::new(&rt);
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

/// Prints the dry-run preview.
pub fn preview(a: PlanArgs) -> anyhow::Result<u8> {
    match load(&a.plan)? {
        Ok(loaded) => {
            print!("{}", cutover_plan::preview(&loaded, &loaded.infos));
            Ok(exit::OK)
        }
        Err(diags) => {
            eprint!("{}", diags.render_auto());
            Ok(exit::USAGE)
        }
    }
}

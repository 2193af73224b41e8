//! `cutover compare OLD NEW`.

use cutover_compare::Verdict;

use crate::exit;

/// Runs the comparison and maps the verdict to an exit code.
pub fn run(args: cutover_compare::cli::Args) -> anyhow::Result<u8> {
    let mut out = std::io::stdout().lock();
    Ok(match cutover_compare::cli::run(&args, &mut out)? {
        Verdict::Pass => exit::OK,
        Verdict::Fail => exit::FAILED,
        Verdict::Inconclusive | Verdict::NoData => exit::INCONCLUSIVE,
    })
}

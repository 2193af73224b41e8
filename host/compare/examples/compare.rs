//! Stand-alone runner of `cutover compare` for development:
//! `cargo run -p cutover-compare --example compare -- OLD NEW [flags]`.

use clap::Parser;
use cutover_compare::Verdict;
use cutover_compare::cli::{Args, run};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args, &mut std::io::stdout().lock()) {
        Ok(Verdict::Pass) => ExitCode::SUCCESS,
        Ok(Verdict::Fail) => ExitCode::from(1),
        Ok(Verdict::Inconclusive) => ExitCode::from(2),
        Ok(Verdict::NoData) => ExitCode::from(3),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(4)
        }
    }
}

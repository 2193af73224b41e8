//! Stand-alone runner of the comparison for development, with default
//! options: `cargo run -p cutover-compare --example compare -- OLD NEW
//! [text|json|md|html]` (`cutover compare` has every flag).

use cutover_compare::{CompareRequest, OutputFormat, Verdict, run};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (old, new, format) = match args.as_slice() {
        [old, new] => (old, new, Some(OutputFormat::Text)),
        [old, new, f] => (
            old,
            new,
            OutputFormat::ALL.into_iter().find(|o| o.name() == f),
        ),
        _ => (&String::new(), &String::new(), None),
    };
    let Some(format) = format else {
        eprintln!("usage: compare OLD NEW [text|json|md|html]");
        return ExitCode::from(4);
    };
    let mut req = CompareRequest::new(old, new);
    req.format = format;
    match run(&req, &mut std::io::stdout().lock()) {
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

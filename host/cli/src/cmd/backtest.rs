//! `cutover backtest`: what an old and a new rule set would have fired over
//! a stretch of a Prometheus's recorded history, compared like a parallel
//! run and marked as predicted.
//!
//! The host never talks to Prometheus: the first-party `prometheus`
//! adapter (a `history-adapter`, contract 0.1.2) is loaded from the
//! first-party plugin directory and granted exactly the origin of
//! `--prometheus`; every range query is one sandboxed `query-range` call.
//! A rule whose expression Prometheus rejects is reported with
//! Prometheus's answer and the others go on; a window without data is
//! `no-data` (exit 7), never a pass. Exit codes as `cutover compare`.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use cutover_base::time::{UnixUnit, parse_duration, parse_instant};
use cutover_compare::backtest::{BacktestReport, RuleOutcome, Window};
use cutover_compare::{JsonLayout, OutputFormat, Verdict, write_report};
use cutover_engine::backtest::{AdapterRangeSource, BacktestRequest, run as run_backtest};
use cutover_runtime::{Grants, Origin, Sandbox};
use translate_core::rules::RuleFile;
use translate_core::{Scope, Selection};

use super::compare::ReportArgs;
use super::translate::first_party_dirs;
use super::usage;
use crate::exit;

/// The first-party adapter that reads Prometheus's history.
const ADAPTER: &str = "prometheus";

/// Arguments of `cutover backtest`.
#[derive(Debug, Clone, Args)]
pub struct BacktestArgs {
    /// The Prometheus whose recorded history is evaluated, e.g.
    /// http://127.0.0.1:9090 (the adapter is granted exactly its origin).
    #[arg(long, value_name = "URL")]
    pub prometheus: String,
    /// The old rule set: Prometheus rule files.
    #[arg(long, value_name = "RULES", num_args = 1.., required = true)]
    pub old: Vec<PathBuf>,
    /// The new rule set: Prometheus rule files.
    #[arg(long, value_name = "RULES", num_args = 1.., required = true)]
    pub new: Vec<PathBuf>,
    /// Start of the window: RFC 3339 (2026-12-01T00:00:00Z) or unix seconds.
    #[arg(long, value_name = "T", value_parser = instant)]
    pub from: i64,
    /// End of the window (inclusive): RFC 3339 or unix seconds.
    #[arg(long, value_name = "T", value_parser = instant)]
    pub to: i64,
    /// Evaluate every group at this step (e.g. 1m) instead of each
    /// group's own `interval`.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub step: Option<Duration>,
    /// Compare only the predicted alerts this label selector covers, e.g.
    /// '{team="web"}' (default: all).
    #[arg(long, value_name = "SELECTOR")]
    pub scope: Option<String>,
    /// Wall-clock budget of one range query through the adapter.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub query_timeout: Duration,
    /// Comparison options and report outputs, as `cutover compare`.
    #[command(flatten)]
    pub report: ReportArgs,
}

fn instant(text: &str) -> Result<i64, String> {
    parse_instant(text, UnixUnit::Seconds).map_err(|e| e.to_string())
}

/// `scheme://host:port` of a URL, for the network grant.
fn origin_of(url: &str) -> anyhow::Result<Origin> {
    let bad = |why: &str| usage(format!("--prometheus {url:?}: {why}"));
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| bad("expected http://HOST:PORT or https://HOST:PORT"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(bad("credentials in the URL are not supported"));
    }
    Origin::parse_grant(&format!("{scheme}://{authority}")).map_err(|e| bad(&e.to_string()))
}

/// The rule files of one side, parsed (errors name the file).
fn rule_files(side: &str, paths: &[PathBuf]) -> anyhow::Result<Vec<RuleFile>> {
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p)
                .map_err(|e| usage(format!("--{side} {}: cannot read it: {e}", p.display())))?;
            let name = p.file_name().map_or_else(
                || p.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            RuleFile::parse(&name, &text)
                .map_err(|e| usage(format!("--{side} {}: {e}", p.display())))
        })
        .collect()
}

/// The first-party prometheus adapter's component.
fn adapter_path() -> anyhow::Result<PathBuf> {
    let dirs = first_party_dirs();
    dirs.iter()
        .map(|d| d.join(format!("{ADAPTER}.wasm")))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            let looked: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
            usage(format!(
                "the first-party {ADAPTER} adapter is not in {} (build it with \
                 scripts/build-plugins.sh, or set CUTOVER_PLUGIN_DIR)",
                looked.join(" or ")
            ))
        })
}

/// Runs `cutover backtest`.
pub fn run(a: BacktestArgs) -> anyhow::Result<u8> {
    if a.from > a.to {
        return Err(usage(format!(
            "--from ({}) is after --to ({})",
            cutover_base::time::rfc3339(a.from),
            cutover_base::time::rfc3339(a.to)
        )));
    }
    let step_ms = match a.step {
        Some(d) if d.as_millis() == 0 => return Err(usage("--step must be positive")),
        Some(d) => Some(i64::try_from(d.as_millis()).map_err(|_| usage("--step is too long"))?),
        None => None,
    };
    let scope = match &a.scope {
        Some(s) => Selection::any([Scope::parse(s).map_err(|e| usage(format!("--scope: {e}")))?]),
        None => Selection::all(),
    };
    let options = a.report.options();
    options.validate()?;
    let old = rule_files("old", &a.old)?;
    let new = rule_files("new", &a.new)?;
    let origin = origin_of(&a.prometheus)?;
    let rt = super::runtime()?;
    let path = adapter_path()?;
    let plugin = rt.load_file(&path, None)?;
    let mut sandbox = Sandbox::with_grants(Grants {
        hosts: vec![origin],
        config: [
            (
                "url".to_string(),
                a.prometheus.trim_end_matches('/').to_string(),
            ),
            (
                "timeout_ms".to_string(),
                a.query_timeout.as_millis().to_string(),
            ),
        ]
        .into(),
        ..Grants::default()
    });
    sandbox.limits.deadline = a.query_timeout + Duration::from_secs(5);
    let mut source = AdapterRangeSource::new(&rt, Arc::new(plugin), sandbox)?;
    let req = BacktestRequest {
        old: &old,
        new: &new,
        window: Window {
            from_ms: a.from,
            to_ms: a.to,
        },
        step_ms,
        options: &options,
        scope: &scope,
    };
    let result = run_backtest(&req, &mut source).map_err(|e| usage(e.to_string()))?;
    if let Some(e) = source.unavailable() {
        return Err(e.into());
    }
    let layout = a.report.json_layout();
    for (format, path) in a.report.report_files() {
        write_report(&result.report, format, layout, &path)?;
    }
    let format = a.report.stdout_format();
    let stdout = JsonLayout {
        pretty: layout.pretty || std::io::IsTerminal::is_terminal(&std::io::stdout()),
        ..layout
    };
    let mut text = format.render(&result.report, stdout)?;
    if format == OutputFormat::Text {
        text.push_str(&rules_text(&result));
    }
    print!("{text}");
    Ok(match result.report.verdict {
        Verdict::Pass => exit::OK,
        Verdict::Fail => exit::FAILED,
        Verdict::Inconclusive | Verdict::NoData => exit::INCONCLUSIVE,
    })
}

/// How each rule of both sets fared, for the text report.
pub fn rules_text(r: &BacktestReport) -> String {
    let mut o = String::new();
    for (side, rules) in [("old", &r.old.rules), ("new", &r.new.rules)] {
        let _ = writeln!(o, "\nRules of the {side} set ({}):", rules.len());
        for rule in rules {
            let _ = writeln!(o, "  {}", rule_line(rule));
        }
    }
    o
}

fn rule_line(r: &RuleOutcome) -> String {
    let name = format!("{}/{}", r.group, r.rule);
    let mut line = match &r.error {
        Some(e) => format!("✗ {name}: {e}"),
        None => format!(
            "{} {name}: {} episode{} from {} series ({} evaluations)",
            if r.has_data() { "✓" } else { "∅" },
            r.episodes,
            if r.episodes == 1 { "" } else { "s" },
            r.label_sets,
            r.evaluations
        ),
    };
    for w in &r.warnings {
        let _ = write!(line, "\n      warning: {w}");
    }
    line
}

//! Command-line arguments of `cutover compare OLD NEW` and the command itself.

use crate::duration::parse_duration;
use crate::error::CompareError;
use crate::options::{CompareOptions, RiskThresholds};
use crate::output::{OutputFormat, write_report};
use crate::parse::{Format, parse_file};
use crate::report::{InputInfo, Inputs, NoiseFloor, Verdict, compare};
use std::path::PathBuf;
use std::time::Duration;

/// Compare the alerts an OLD and a NEW alerting system fired over a window.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "compare")]
pub struct Args {
    /// Dump of the old system (Alertmanager /api/v2/alerts, Prometheus
    /// /api/v1/alerts, webhook JSON lines or cutover-alerts/v1).
    pub old: PathBuf,
    /// Dump of the new system.
    pub new: PathBuf,
    /// Format of OLD (default: detected).
    #[arg(long, value_enum)]
    pub old_format: Option<Format>,
    /// Format of NEW (default: detected).
    #[arg(long, value_enum)]
    pub new_format: Option<Format>,
    /// Label to drop from both sides before matching (repeatable).
    #[arg(long = "ignore-label", value_name = "LABEL")]
    pub ignore_label: Vec<String>,
    /// Alertname rename OLD=NEW applied to the old side (repeatable).
    #[arg(long = "rename", value_name = "OLD=NEW", value_parser = parse_pair)]
    pub rename: Vec<(String, String)>,
    /// Label-name rename OLD=NEW applied to the old side (repeatable).
    #[arg(long = "rename-label", value_name = "OLD=NEW", value_parser = parse_pair)]
    pub rename_label: Vec<(String, String)>,
    /// Label-value rename LABEL:OLD=NEW applied to the old side (repeatable).
    #[arg(long = "rename-value", value_name = "LABEL:OLD=NEW", value_parser = parse_value_rename)]
    pub rename_value: Vec<(String, String, String)>,
    /// Largest start-time difference for the same episode (ms, s, m, h).
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub tolerance: Duration,
    /// Break results down by this label (e.g. service).
    #[arg(long = "by", value_name = "LABEL")]
    pub by: Option<String>,
    /// Print the report as pretty JSON (same as `--format json`).
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Format of the report printed on stdout (default: text).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<OutputFormat>,
    /// Also write the report as JSON to this file (atomically).
    #[arg(long, value_name = "PATH")]
    pub report_json: Option<PathBuf>,
    /// Also write the report as Markdown to this file (atomically).
    #[arg(long, value_name = "PATH")]
    pub report_md: Option<PathBuf>,
    /// Also write the report as one self-contained HTML page to this file
    /// (atomically).
    #[arg(long, value_name = "PATH")]
    pub report_html: Option<PathBuf>,
    /// Second read of the old system, to measure the noise floor.
    #[arg(long, value_name = "OLD2")]
    pub noise: Option<PathBuf>,
    /// Match rate below this is high risk.
    #[arg(long, default_value_t = 0.8)]
    pub high_below: f64,
    /// Match rate below this is medium risk.
    #[arg(long, default_value_t = 0.95)]
    pub medium_below: f64,
}

impl Args {
    /// Format of the report printed on stdout: `--format`, else JSON with
    /// `--json`, else text.
    pub fn stdout_format(&self) -> OutputFormat {
        match (self.format, self.json) {
            (Some(f), _) => f,
            (None, true) => OutputFormat::Json,
            (None, false) => OutputFormat::Text,
        }
    }

    /// The report files requested (`--report-json`, `--report-md`,
    /// `--report-html`), in that order.
    pub fn report_files(&self) -> Vec<(OutputFormat, &std::path::Path)> {
        [
            (OutputFormat::Json, &self.report_json),
            (OutputFormat::Md, &self.report_md),
            (OutputFormat::Html, &self.report_html),
        ]
        .into_iter()
        .filter_map(|(f, p)| p.as_deref().map(|p| (f, p)))
        .collect()
    }

    /// The [`CompareOptions`] these arguments describe.
    pub fn options(&self) -> CompareOptions {
        CompareOptions {
            ignore_labels: self.ignore_label.clone(),
            rename_alerts: self.rename.clone(),
            rename_labels: self.rename_label.clone(),
            rename_values: self.rename_value.clone(),
            tolerance: self.tolerance,
            breakdown_label: self.by.clone(),
            thresholds: RiskThresholds {
                high_below: self.high_below,
                medium_below: self.medium_below,
                ..RiskThresholds::default()
            },
        }
    }
}

/// Run the comparison, write the requested report files (each atomically)
/// and print the report to `out` in [`Args::stdout_format`]. Returns the
/// verdict; the caller maps it to an exit code.
pub fn run(args: &Args, out: &mut dyn std::io::Write) -> Result<Verdict, CompareError> {
    let opts = args.options();
    opts.validate()?;
    if args.stdout_format() == OutputFormat::Json && args.report_files().is_empty() {
        // Same bytes as rendering the full report, for dumps of any size.
        return crate::streaming::run_json(args, &opts, out);
    }
    let old = parse_file(&args.old, args.old_format)?;
    let new = parse_file(&args.new, args.new_format)?;
    let inputs = Inputs {
        old: InputInfo::new(&args.old.display().to_string(), &old),
        new: InputInfo::new(&args.new.display().to_string(), &new),
    };
    let mut report = compare(&old.alerts, &new.alerts, &opts).with_inputs(inputs);
    if let Some(path) = &args.noise {
        let second = parse_file(path, args.old_format)?;
        report = report.with_noise_floor(NoiseFloor::measure(&old.alerts, &second.alerts, &opts));
    }
    for (format, path) in args.report_files() {
        write_report(&report, format, path)?;
    }
    out.write_all(args.stdout_format().render(&report)?.as_bytes())?;
    Ok(report.verdict)
}

/// Parse `OLD=NEW`.
pub fn parse_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((a, b)) if !a.is_empty() && !b.is_empty() => Ok((a.to_string(), b.to_string())),
        _ => Err(format!("expected OLD=NEW, got {s:?}")),
    }
}

/// Parse `LABEL:OLD=NEW`.
pub fn parse_value_rename(s: &str) -> Result<(String, String, String), String> {
    let err = || format!("expected LABEL:OLD=NEW, got {s:?}");
    let (label, rest) = s.split_once(':').ok_or_else(err)?;
    let (from, to) = rest.split_once('=').ok_or_else(err)?;
    if label.is_empty() {
        return Err(err());
    }
    Ok((label.to_string(), from.to_string(), to.to_string()))
}

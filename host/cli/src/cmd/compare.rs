//! `cutover compare OLD NEW`: the command-line arguments, turned into a
//! [`CompareRequest`] for `cutover_compare::run`; [`ReportArgs`], the
//! options and outputs `cutover backtest` shares.

use clap::builder::PossibleValue;
use cutover_base::time::parse_duration;
use cutover_compare::{
    CompareOptions, CompareRequest, Format, JsonLayout, OutputFormat, RiskThresholds, Verdict,
};
use std::path::PathBuf;
use std::time::Duration;

use crate::exit;

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
    pub old_format: Option<Choice<Format>>,
    /// Format of NEW (default: detected).
    #[arg(long, value_enum)]
    pub new_format: Option<Choice<Format>>,
    /// Second read of the old system, to measure the noise floor.
    #[arg(long, value_name = "OLD2")]
    pub noise: Option<PathBuf>,
    /// Comparison options and report outputs.
    #[command(flatten)]
    pub report: ReportArgs,
}

/// The comparison options (renames, ignored labels, tolerance, breakdown,
/// risk thresholds) and report outputs (stdout format, report files) that
/// `cutover compare` and `cutover backtest` share.
#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {
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
    /// Largest start-time difference for the same episode, e.g. 60s, 1m30s
    /// (units ms, s, m, h, d, w).
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub tolerance: Duration,
    /// Break results down by this label (e.g. service).
    #[arg(long = "by", value_name = "LABEL")]
    pub by: Option<String>,
    /// Print the report as JSON (same as `--format json`).
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Indent the JSON report (stdout and `--report-json`); without it JSON
    /// is compact unless printed on a terminal.
    #[arg(long)]
    pub pretty: bool,
    /// List every matched pair in the JSON report (`matched_alerts`); without
    /// it matched pairs are only summarised (counts, delays, breakdowns).
    #[arg(long)]
    pub matched: bool,
    /// Format of the report printed on stdout (default: text).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Choice<OutputFormat>>,
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
    /// Match rate below this is high risk.
    #[arg(long, default_value_t = 0.8)]
    pub high_below: f64,
    /// Match rate below this is medium risk.
    #[arg(long, default_value_t = 0.95)]
    pub medium_below: f64,
}

impl ReportArgs {
    /// Format of the report printed on stdout: `--format`, else JSON with
    /// `--json`, else text.
    pub fn stdout_format(&self) -> OutputFormat {
        match (self.format, self.json) {
            (Some(Choice(f)), _) => f,
            (None, true) => OutputFormat::Json,
            (None, false) => OutputFormat::Text,
        }
    }

    /// The report files requested (`--report-json`, `--report-md`,
    /// `--report-html`), in that order.
    pub fn report_files(&self) -> Vec<(OutputFormat, PathBuf)> {
        [
            (OutputFormat::Json, &self.report_json),
            (OutputFormat::Md, &self.report_md),
            (OutputFormat::Html, &self.report_html),
        ]
        .into_iter()
        .filter_map(|(f, p)| p.clone().map(|p| (f, p)))
        .collect()
    }

    /// Layout of the JSON report (`--pretty`, `--matched`); stdout adds
    /// pretty printing when it is a terminal.
    pub fn json_layout(&self) -> JsonLayout {
        JsonLayout {
            pretty: self.pretty,
            matched: self.matched,
        }
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

impl Args {
    /// The comparison these arguments ask for.
    pub fn request(&self) -> CompareRequest {
        CompareRequest {
            old: self.old.clone(),
            old_format: self.old_format.map(|Choice(f)| f),
            new: self.new.clone(),
            new_format: self.new_format.map(|Choice(f)| f),
            noise: self.noise.clone(),
            options: self.report.options(),
            format: self.report.stdout_format(),
            report_files: self.report.report_files(),
            json: self.report.json_layout(),
            terminal: false,
        }
    }
}

/// Runs the comparison and maps the verdict to an exit code.
pub fn run(args: Args) -> anyhow::Result<u8> {
    use std::io::IsTerminal;
    let mut out = std::io::stdout().lock();
    let req = CompareRequest {
        terminal: out.is_terminal(),
        ..args.request()
    };
    Ok(match cutover_compare::run(&req, &mut out)? {
        Verdict::Pass => exit::OK,
        Verdict::Fail => exit::FAILED,
        Verdict::Inconclusive | Verdict::NoData => exit::INCONCLUSIVE,
    })
}

/// A value of one of the comparison's enums on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice<T>(pub T);

/// What the command line shows of an enum of the comparison: its values'
/// names, one-line descriptions and aliases.
pub trait Choices: Copy + Send + Sync + 'static {
    /// Every value, in the order `--help` lists them.
    const ALL: &'static [Choice<Self>];
    /// The value's name on the command line.
    fn name(self) -> &'static str;
    /// One line describing the value.
    fn about(self) -> &'static str;
    /// Other names accepted for the value (not listed).
    fn aliases(self) -> &'static [&'static str] {
        &[]
    }
}

impl<T: Choices> clap::ValueEnum for Choice<T> {
    fn value_variants<'a>() -> &'a [Self] {
        T::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let v = self.0;
        Some(
            PossibleValue::new(v.name())
                .help(v.about())
                .aliases(v.aliases().iter().copied()),
        )
    }
}

impl Choices for Format {
    const ALL: &'static [Choice<Format>] = &{
        let a = Format::ALL;
        [Choice(a[0]), Choice(a[1]), Choice(a[2]), Choice(a[3])]
    };

    fn name(self) -> &'static str {
        Format::name(self)
    }

    fn about(self) -> &'static str {
        Format::about(self)
    }
}

impl Choices for OutputFormat {
    const ALL: &'static [Choice<OutputFormat>] = &{
        let a = OutputFormat::ALL;
        [Choice(a[0]), Choice(a[1]), Choice(a[2]), Choice(a[3])]
    };

    fn name(self) -> &'static str {
        OutputFormat::name(self)
    }

    fn about(self) -> &'static str {
        OutputFormat::about(self)
    }

    fn aliases(self) -> &'static [&'static str] {
        match self {
            OutputFormat::Md => &["markdown"],
            _ => &[],
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parse(argv: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(std::iter::once("compare").chain(argv.iter().copied()))
    }

    #[test]
    fn flags_make_the_request() {
        let args = parse(&[
            "o.json",
            "n.json",
            "--old-format",
            "alertmanager-v2",
            "--new-format",
            "webhook",
            "--ignore-label",
            "instance",
            "--ignore-label",
            "prometheus",
            "--rename",
            "A=B",
            "--rename-label",
            "svc=service",
            "--rename-value",
            "severity:crit=critical",
            "--tolerance",
            "1m30s",
            "--by",
            "team",
            "--high-below",
            "0.7",
            "--noise",
            "o2.json",
        ])
        .unwrap();
        let req = args.request();
        assert_eq!(req.old, PathBuf::from("o.json"));
        assert_eq!(req.new, PathBuf::from("n.json"));
        assert_eq!(req.noise, Some(PathBuf::from("o2.json")));
        assert_eq!(req.old_format, Some(Format::AlertmanagerV2));
        assert_eq!(req.new_format, Some(Format::Webhook));
        let o = &req.options;
        assert_eq!(o.ignore_labels, vec!["instance", "prometheus"]);
        assert_eq!(o.rename_alerts, vec![("A".to_string(), "B".to_string())]);
        assert_eq!(
            o.rename_labels,
            vec![("svc".to_string(), "service".to_string())]
        );
        assert_eq!(o.rename_values[0].2, "critical");
        assert_eq!(o.tolerance, Duration::from_secs(90));
        assert_eq!(o.breakdown_label.as_deref(), Some("team"));
        assert_eq!(o.thresholds.high_below, 0.7);
        assert_eq!(o.thresholds.medium_below, 0.95);
        assert_eq!(req.format, OutputFormat::Text);
        assert!(req.report_files.is_empty());
        assert_eq!(req.json, JsonLayout::default());
        let full = parse(&["o", "n", "--pretty", "--matched"])
            .unwrap()
            .request();
        assert_eq!(full.json, JsonLayout::FULL);
        assert!(parse(&["o", "n", "--rename", "AB"]).is_err());
        assert!(parse(&["o", "n", "--rename-value", ":a=b"]).is_err());
        assert!(parse(&["o", "n", "--tolerance", "3 days"]).is_err());
        assert!(parse(&["o", "n", "--old-format", "csv"]).is_err());
        let d = parse(&["o", "n"]).unwrap().request();
        assert_eq!(d.options, CompareOptions::default());
        assert_eq!((d.old_format, d.new_format), (None, None));
    }

    #[test]
    fn format_flag_parses_and_conflicts_with_json() {
        let format = |argv: &[&str]| parse(argv).unwrap().report.stdout_format();
        assert_eq!(
            format(&["o", "n", "--format", "markdown"]),
            OutputFormat::Md
        );
        assert_eq!(format(&["o", "n", "--format", "md"]), OutputFormat::Md);
        assert_eq!(format(&["o", "n", "--format", "html"]), OutputFormat::Html);
        assert_eq!(format(&["o", "n", "--json"]), OutputFormat::Json);
        assert_eq!(format(&["o", "n"]), OutputFormat::Text);
        assert!(parse(&["o", "n", "--json", "--format", "md"]).is_err());
        assert!(parse(&["o", "n", "--format", "pdf"]).is_err());
    }

    #[test]
    fn report_files_keep_json_md_html_order() {
        let args = parse(&[
            "o",
            "n",
            "--report-html",
            "r.html",
            "--report-json",
            "r.json",
            "--report-md",
            "r.md",
        ])
        .unwrap();
        assert_eq!(
            args.request().report_files,
            vec![
                (OutputFormat::Json, PathBuf::from("r.json")),
                (OutputFormat::Md, PathBuf::from("r.md")),
                (OutputFormat::Html, PathBuf::from("r.html")),
            ]
        );
    }

    #[test]
    fn help_lists_every_format_with_its_description() {
        let help = <Args as clap::CommandFactory>::command()
            .render_long_help()
            .to_string();
        for f in Format::ALL {
            assert!(help.contains(&format!("- {}:", f.name())), "{help}");
            assert!(help.contains(f.about()), "{help}");
        }
        for f in OutputFormat::ALL {
            assert!(help.contains(f.about()), "{help}");
        }
        assert!(!help.contains("- markdown"), "aliases stay hidden: {help}");
    }
}

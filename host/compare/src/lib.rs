//! Parallel-run comparison engine for `cutover`.
//!
//! Reads what alerts an OLD and a NEW alerting system fired over a window
//! (from Alertmanager, Prometheus, webhook or cutover's own dumps), matches
//! them into episodes and produces a [`Report`] with a risk level and a
//! verdict on whether the migration is safe, rendered as text, JSON
//! (`docs/report.md`), Markdown or one self-contained HTML page.

pub mod cli;
pub mod duration;
pub mod error;
pub mod html;
pub mod matching;
pub mod model;
pub mod options;
pub mod output;
pub mod parse;
mod recommend;
pub mod render;
pub mod render_md;
pub mod report;
pub mod stats;
mod streaming;
pub mod timefmt;

pub use error::CompareError;
pub use html::render_html;
pub use matching::{AlertKey, MatchOutcome, Normalizer, match_alerts};
pub use model::{Alert, AlertState};
pub use options::{CompareOptions, RiskThresholds};
pub use output::{OutputFormat, write_atomic, write_report};
pub use parse::{Format, ParseStats, Parsed, parse_file, parse_str};
pub use render::{render_json, render_text};
pub use render_md::render_markdown;
pub use report::{
    Breakdown, InputInfo, Inputs, MatchedAlert, NoiseFloor, REPORT_SCHEMA, Report, RiskLevel,
    TimeRange, UnmatchedAlert, Verdict, compare,
};
pub use stats::{DelayStats, HistogramBucket, Le};

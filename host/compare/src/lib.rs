//! Parallel-run comparison engine for `cutover`.
//!
//! Reads what alerts an OLD and a NEW alerting system fired over a window
//! (from Alertmanager, Prometheus, webhook or cutover's own dumps), matches
//! them into episodes and produces a [`Report`] with a risk level and a
//! verdict on whether the migration is safe, rendered as text, JSON
//! (`docs/report.md`), Markdown or one self-contained HTML page.
//!
//! [`run`] does it for two dump files as `cutover compare` asks
//! ([`CompareRequest`]), streaming every format; [`compare`] compares
//! alerts held in memory and returns the whole [`Report`].

pub mod backtest;
pub mod error;
mod in_memory;
mod intern;
pub mod matching;
pub mod model;
pub mod options;
pub mod output;
pub mod parse;
mod recommend;
pub mod render;
pub mod report;
mod request;
pub mod stats;
mod streaming;
mod summary;
pub mod timefmt;

pub use error::CompareError;
pub use in_memory::compare;
pub use matching::{AlertKey, MatchOutcome, Normalizer, match_alerts};
pub use model::{Alert, AlertState};
pub use options::{CompareOptions, RiskThresholds};
pub use output::{OutputFormat, write_atomic, write_report};
pub use parse::{Format, ParseStats, Parsed, parse_file, parse_str};
pub use render::json::{JsonLayout, render_json_with};
pub use render::{render_html, render_json, render_markdown, render_text};
pub use report::{
    Breakdown, InputInfo, Inputs, MatchedAlert, NoiseFloor, REPORT_SCHEMA, Report, RiskLevel,
    TimeRange, UnmatchedAlert, Verdict,
};
pub use request::{CompareRequest, run};
pub use stats::{DelayStats, HistogramBucket, Le};

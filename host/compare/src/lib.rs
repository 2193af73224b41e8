//! Parallel-run comparison engine for `cutover`.
//!
//! Reads what alerts an OLD and a NEW alerting system fired over a window
//! (from Alertmanager, Prometheus, webhook or cutover's own dumps), matches
//! them into episodes and produces a [`Report`] with a risk level and a
//! verdict on whether the migration is safe.

pub mod cli;
pub mod duration;
pub mod error;
pub mod matching;
pub mod model;
pub mod options;
pub mod parse;
mod recommend;
pub mod render;
pub mod report;
pub mod stats;
pub mod timefmt;

pub use error::CompareError;
pub use matching::{AlertKey, MatchOutcome, Normalizer, match_alerts};
pub use model::{Alert, AlertState};
pub use options::{CompareOptions, RiskThresholds};
pub use parse::{Format, ParseStats, Parsed, parse_file, parse_str};
pub use render::render_text;
pub use report::{
    Breakdown, InputInfo, Inputs, MatchedAlert, NoiseFloor, Report, RiskLevel, UnmatchedAlert,
    Verdict, compare,
};
pub use stats::{DelayStats, HistogramBucket, Le};

//! `cutover compare` for dumps of any size.
//!
//! The same comparison as [`crate::compare`], on compact data: both dumps
//! are parsed on two threads into [`crate::model::AlertTable`]s (interned
//! strings, sorted label-id runs, millisecond times), labels are normalised
//! once per alert into a shared vocabulary ([`vocab`]), match keys are
//! interned and episodes matched per key in one linear pass ([`sides`]),
//! and the report's summary is counted from that ([`summary`]) through the
//! same constructor as the in-memory report. The alert lists are never
//! built: the JSON writer formats them straight from the compact data
//! ([`json`]) and the other formats walk them one alert at a time
//! ([`rows`]). Memory is a few dozen bytes per alert instead of a
//! `BTreeMap` per label set; every format's output is byte-for-byte that
//! of rendering `compare(..)` (checked by the crate tests).

mod comparison;
mod json;
mod rows;
mod sides;
mod summary;
mod vocab;

pub(crate) use comparison::phase;
pub(crate) use rows::Streamed;

use crate::error::CompareError;
use crate::options::CompareOptions;
use crate::parse::{Format, parse_file_table};
use comparison::Comparison;
use std::path::Path;

/// The dump files of a comparison.
pub(crate) struct Dumps<'a> {
    /// The old system's dump and its format (detected when `None`).
    pub(crate) old: (&'a Path, Option<Format>),
    /// The new system's dump and its format.
    pub(crate) new: (&'a Path, Option<Format>),
    /// A second read of the old system (in the old system's format).
    pub(crate) noise: Option<&'a Path>,
}

/// Parse the dumps (in parallel) and compare them.
pub(crate) fn compare_files<'o>(
    dumps: &Dumps<'_>,
    opts: &'o CompareOptions,
) -> Result<Streamed<'o>, CompareError> {
    phase("start");
    let ((old_path, old_format), (new_path, new_format)) = (dumps.old, dumps.new);
    let (old, new, noise) = std::thread::scope(|s| {
        let new = s.spawn(|| parse_file_table(new_path, new_format));
        let noise = dumps
            .noise
            .map(|p| s.spawn(move || parse_file_table(p, old_format)));
        let old = parse_file_table(old_path, old_format);
        let join = |h: std::thread::ScopedJoinHandle<'_, _>| {
            h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
        };
        (old, join(new), noise.map(join))
    });
    // Errors in the order the inputs are named.
    let (old, new, noise) = (old?, new?, noise.transpose()?);
    phase("parse");
    let cmp = Comparison::new(old, new, noise, opts);
    phase("match");
    let summary = cmp.summary(old_path, new_path);
    phase("report");
    Ok(Streamed::new(cmp, summary))
}

//! The agreement the fuzz target `compare_dumps` (see `fuzz/`) asserts on
//! every input, and the crate's regression tests replay: the streaming
//! scanner and the serde path read a dump the same way. Not an API.

use super::alertmanager::{self, AlertsSink, TableSink};
use super::stream::{Streamed, stream_blocks, stream_str};
use super::{Format, Parsed, parse_file, parse_file_table, parse_str, sort_alerts};
use crate::error::CompareError;
use crate::model::Alert;
use std::path::Path;

/// Block sizes the block scanner is tried with (1 byte cuts every token and
/// every UTF-8 character).
const BLOCKS: [usize; 2] = [1, 61];

/// What differs between the ways `bytes` can be read, or `None` when they
/// all agree (same alerts, or all refuse with the same error). `scratch` is
/// a file the bytes are written to for the file readers.
pub fn disagreement(bytes: &[u8], scratch: &Path) -> Option<String> {
    if let Ok(text) = std::str::from_utf8(bytes)
        && let Some(d) = scanner_vs_serde(text)
    {
        return Some(d);
    }
    if let Err(e) = std::fs::write(scratch, bytes) {
        return Some(format!(
            "cannot write scratch file {}: {e}",
            scratch.display()
        ));
    }
    let origin = scratch.display().to_string();
    for format in std::iter::once(None).chain(Format::ALL.map(Some)) {
        let file = parse_file(scratch, format);
        if let Err(e) = &file
            && let Some(d) = unpositioned(e)
        {
            return Some(d);
        }
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => parse_str(text, &origin, format),
            Err(_) if file.is_err() => continue,
            Err(_) => return Some(format!("{format:?}: invalid UTF-8 read as a dump")),
        };
        if let Some(d) = differ("parse_file", &file, "parse_str", &text) {
            return Some(format!("{format:?}: {d}"));
        }
        if !matches!(format, None | Some(Format::AlertmanagerV2)) {
            continue; // read whole by both, through the same `parse_str`
        }
        let table = parse_file_table(scratch, format).map(|t| Parsed {
            format: t.format,
            alerts: t.table.to_alerts(&origin),
            stats: t.stats,
        });
        // The table holds neither annotations nor a source per alert.
        let file = file.map(|mut p| {
            for a in &mut p.alerts {
                a.annotations.clear();
                a.source.clone_from(&origin);
            }
            p
        });
        if let Some(d) = differ("parse_file", &file, "parse_file_table", &table) {
            return Some(format!("{format:?}: {d}"));
        }
    }
    None
}

/// The scanner, whole or in blocks, into full alerts or the compact table,
/// against the serde reference parser.
fn scanner_vs_serde(text: &str) -> Option<String> {
    let mut sink = AlertsSink::new("o");
    let streamed = stream_str(text, false, &mut sink);
    let mut scanned = sink.into_alerts();
    sort_alerts(&mut scanned);
    for block in BLOCKS {
        let mut sink = AlertsSink::new("o");
        let size = Some(text.len() as u64);
        let by_block = match stream_blocks(text.as_bytes(), block, size, false, &mut sink) {
            Ok(s) => s,
            Err(e) => {
                return Some(format!(
                    "block scanner ({block} bytes) failed on UTF-8: {e}"
                ));
            }
        };
        if by_block != streamed {
            return Some(format!(
                "scanner: {streamed:?} whole, {by_block:?} in blocks of {block} bytes"
            ));
        }
        let mut got = sink.into_alerts();
        sort_alerts(&mut got);
        if streamed == Streamed::Done && got != scanned {
            return Some(format!("scanner: other alerts in blocks of {block} bytes"));
        }
    }
    if streamed != Streamed::Done {
        // The scanner gave up: serde judges alone.
        return None;
    }
    let mut reference = match alertmanager::parse(text, "o") {
        Ok(alerts) => alerts,
        Err(e) => return Some(format!("the scanner read what serde refuses: {e}")),
    };
    sort_alerts(&mut reference);
    if scanned != reference {
        return Some(format!(
            "scanner and serde read other alerts:\nscanner {scanned:?}\nserde   {reference:?}"
        ));
    }
    let mut sink = TableSink::default();
    if stream_str(text, false, &mut sink) != Streamed::Done {
        return Some("scanner: gave up into the table, not into alerts".into());
    }
    let mut table = sink.into_table();
    table.sort();
    let compact: Vec<Alert> = reference
        .into_iter()
        .map(|mut a| {
            a.annotations.clear();
            a
        })
        .collect();
    (table.to_alerts("o") != compact).then(|| "scanner: the table holds other alerts".into())
}

/// Two readings of the same bytes: equal, or both refused with one message.
fn differ(
    a: &str,
    ra: &Result<Parsed, CompareError>,
    b: &str,
    rb: &Result<Parsed, CompareError>,
) -> Option<String> {
    match (ra, rb) {
        (Ok(x), Ok(y)) if x == y => None,
        (Err(x), Err(y)) if x.to_string() == y.to_string() => None,
        (Ok(x), Ok(y)) => Some(format!("{a} and {b} read other alerts:\n{x:?}\n{y:?}")),
        (x, y) => Some(format!("{a} gives {}, {b} gives {}", brief(x), brief(y))),
    }
}

fn brief(r: &Result<Parsed, CompareError>) -> String {
    match r {
        Ok(p) => format!("{} alert(s)", p.alerts.len()),
        Err(e) => format!("error `{e}`"),
    }
}

/// A syntax error must say where: line 1 or later.
fn unpositioned(e: &CompareError) -> Option<String> {
    match e {
        CompareError::Syntax { line: 0, .. } => Some(format!("error without a line: {e}")),
        _ => None,
    }
}

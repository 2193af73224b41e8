//! Parsers for alert dumps, with format auto-detection.

mod alertmanager;
mod cutover;
#[doc(hidden)]
pub mod fuzzing;
mod prometheus;
pub(crate) mod rfc3339;
pub(crate) mod scan;
mod stream;
mod webhook;

use crate::error::CompareError;
use crate::model::{Alert, AlertTable};
use alertmanager::{AlertsSink, AmSink, TableSink};
use serde::Serialize;
use std::fs::File;
use std::io::{Read, Seek};

use std::path::Path;
use stream::Streamed;

/// Input formats understood by the comparison engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Alertmanager API v2 alerts.
    AlertmanagerV2,
    /// Prometheus API v1 alerts.
    PrometheusV1,
    /// Alertmanager webhook payloads.
    Webhook,
    /// cutover's own export.
    Cutover,
}

impl Format {
    /// Every format, in the order `--help` lists them.
    pub const ALL: [Format; 4] = [
        Format::AlertmanagerV2,
        Format::PrometheusV1,
        Format::Webhook,
        Format::Cutover,
    ];

    /// The format's name, as reports and the command line spell it.
    pub fn name(self) -> &'static str {
        match self {
            Format::AlertmanagerV2 => "alertmanager-v2",
            Format::PrometheusV1 => "prometheus-v1",
            Format::Webhook => "webhook",
            Format::Cutover => "cutover",
        }
    }

    /// One line describing what a dump of this format is, as
    /// `cutover compare --help` lists it.
    pub fn about(self) -> &'static str {
        match self {
            Format::AlertmanagerV2 => "Alertmanager `GET /api/v2/alerts` (a JSON array)",
            Format::PrometheusV1 => {
                "Prometheus `GET /api/v1/alerts` (`{\"status\":\"success\",\"data\":{\"alerts\":[...]}}`)"
            }
            Format::Webhook => "Alertmanager webhook payloads, one JSON object per line",
            Format::Cutover => "cutover's own export, `{\"format\":\"cutover-alerts/v1\",...}`",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Counters about what a parser read and dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ParseStats {
    /// Prometheus alerts in `pending` state, which have not fired and are skipped.
    pub skipped_pending: usize,
    /// Webhook payloads (lines) read.
    pub payloads: usize,
    /// Webhook notifications merged into an existing episode.
    pub merged_notifications: usize,
}

/// Result of parsing one dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// Format used (detected or forced); `None` for an empty input.
    pub format: Option<Format>,
    /// The alert episodes, sorted by start time then labels.
    pub alerts: Vec<Alert>,
    /// What was read and skipped.
    pub stats: ParseStats,
}

/// Read and parse a file. `format` overrides auto-detection.
///
/// Alertmanager dumps are streamed (see `stream`): memory is bounded by the
/// alerts, not by the file. Other formats are read whole.
pub fn parse_file(path: &Path, format: Option<Format>) -> Result<Parsed, CompareError> {
    let origin = path.display().to_string();
    match route(path, format)? {
        Route::Empty => Ok(empty(format)),
        Route::Whole => read_whole(path, format),
        Route::Stream(file, check_cutover) => {
            let mut sink = AlertsSink::new(&origin);
            match streamed(file, path, check_cutover, &mut sink)? {
                Streamed::Done => Ok(sorted(sink.into_alerts())),
                Streamed::NotAlertmanager => read_whole(path, format),
                Streamed::GaveUp => {
                    let mut sink = AlertsSink::new(&origin);
                    match reference_parse(path, format, &mut sink)? {
                        None => Ok(sorted(sink.into_alerts())),
                        Some(text) => parse_str(&text, &origin, format),
                    }
                }
            }
        }
    }
}

/// A dump in compact form, as the streaming comparison uses it.
#[derive(Debug, Default)]
pub(crate) struct TableParsed {
    /// Format used (detected or forced); `None` for an empty input.
    pub(crate) format: Option<Format>,
    /// The alerts, in [`Parsed`] order.
    pub(crate) table: AlertTable,
    /// What was read and skipped.
    pub(crate) stats: ParseStats,
}

/// [`parse_file`] into the compact [`AlertTable`] form: same formats, order,
/// semantics and errors, without annotations and per-alert allocations.
pub(crate) fn parse_file_table(
    path: &Path,
    format: Option<Format>,
) -> Result<TableParsed, CompareError> {
    let table_of = |p: Parsed| -> Result<TableParsed, CompareError> {
        Ok(TableParsed {
            format: p.format,
            table: AlertTable::from_alerts(&p.alerts),
            stats: p.stats,
        })
    };
    let whole = |path: &Path| table_of(read_whole(path, format)?);
    let mut table = match route(path, format)? {
        Route::Empty => {
            return Ok(TableParsed {
                format,
                ..TableParsed::default()
            });
        }
        Route::Whole => return whole(path),
        Route::Stream(file, check_cutover) => {
            let mut sink = TableSink::default();
            match streamed(file, path, check_cutover, &mut sink)? {
                Streamed::Done => sink.into_table(),
                Streamed::NotAlertmanager => return whole(path),
                Streamed::GaveUp => {
                    let mut sink = TableSink::default();
                    if let Some(text) = reference_parse(path, format, &mut sink)? {
                        return table_of(parse_str(&text, &path.display().to_string(), format)?);
                    }
                    sink.into_table()
                }
            }
        }
    };
    table.sort();
    Ok(TableParsed {
        format: Some(Format::AlertmanagerV2),
        table,
        stats: ParseStats::default(),
    })
}

/// How a file is read.
enum Route {
    /// Only whitespace.
    Empty,
    /// Read whole and parsed with [`parse_str`] (non-Alertmanager formats).
    Whole,
    /// Streamed as Alertmanager; the flag asks to detect cutover exports.
    Stream(File, bool),
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> CompareError + '_ {
    move |source| CompareError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Look at the first non-whitespace byte: `[` may be an Alertmanager dump.
fn route(path: &Path, format: Option<Format>) -> Result<Route, CompareError> {
    if !matches!(format, None | Some(Format::AlertmanagerV2)) {
        return Ok(Route::Whole);
    }
    let mut file = File::open(path).map_err(io_err(path))?;
    let mut buf = [0u8; 8192];
    loop {
        let n = match file.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_err(path)(e)),
        };
        if n == 0 {
            return Ok(Route::Empty);
        }
        match buf[..n]
            .iter()
            .find(|b| !matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
        {
            Some(b'[') => break,
            Some(_) => return Ok(Route::Whole),
            None => {}
        }
    }
    file.rewind().map_err(io_err(path))?;
    Ok(Route::Stream(file, format.is_none()))
}

fn streamed(
    file: File,
    path: &Path,
    check_cutover: bool,
    sink: &mut impl AmSink,
) -> Result<Streamed, CompareError> {
    let size = file.metadata().ok().map(|m| m.len());
    stream::stream_reader(file, size, check_cutover, sink).map_err(io_err(path))
}

/// What the scanner gave up on, read again the reference way: the text whole
/// (failing like `read_to_string` on invalid UTF-8), the format detected like
/// [`detect`] when not forced, then serde one alert at a time, so errors and
/// their positions are exactly those of [`parse_str`] without its memory.
/// Returns the text when it is not an Alertmanager dump (parse it whole).
fn reference_parse(
    path: &Path,
    format: Option<Format>,
    sink: &mut impl AmSink,
) -> Result<Option<String>, CompareError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    if text.trim().is_empty() || format.is_none() && !detect_array(&text, &origin)? {
        return Ok(Some(text));
    }
    alertmanager::parse_into(&text, &origin, sink)?;
    Ok(None)
}

/// [`detect`] for text starting with `[`, reading the array's elements one
/// at a time as JSON values (the same errors as reading the whole array as
/// one value). True for an Alertmanager dump; false for a cutover export or
/// when the first value is not an array (let [`parse_str`] decide).
fn detect_array(text: &str, origin: &str) -> Result<bool, CompareError> {
    enum Probe {
        Array { cutover: bool },
        Other,
    }
    impl<'de> serde::Deserialize<'de> for Probe {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Probe, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Probe;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("any valid JSON value")
                }
                fn visit_seq<A: serde::de::SeqAccess<'de>>(
                    self,
                    mut seq: A,
                ) -> Result<Probe, A::Error> {
                    let mut cutover = None;
                    while let Some(v) = seq.next_element::<serde_json::Value>()? {
                        cutover.get_or_insert_with(|| v.get("starts_at").is_some());
                    }
                    Ok(Probe::Array {
                        cutover: cutover.unwrap_or(false),
                    })
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Probe, A::Error> {
                    while map
                        .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                        .is_some()
                    {}
                    Ok(Probe::Other)
                }
            }
            d.deserialize_any(V)
        }
    }
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Probe>();
    let first = match stream.next() {
        Some(Ok(v)) => v,
        Some(Err(e)) => return Err(CompareError::from_json(origin, &e, 0)),
        None => return Ok(false),
    };
    let more = stream.next().is_some();
    match first {
        Probe::Array { cutover } if !more => Ok(!cutover),
        Probe::Array { .. } => Err(CompareError::UnknownFormat {
            origin: origin.to_string(),
            reason: "expected a JSON array (Alertmanager /api/v2/alerts) or JSON object(s)"
                .to_string(),
        }),
        Probe::Other => Ok(false),
    }
}

fn read_whole(path: &Path, format: Option<Format>) -> Result<Parsed, CompareError> {
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    parse_str(&text, &path.display().to_string(), format)
}

fn empty(format: Option<Format>) -> Parsed {
    Parsed {
        format,
        alerts: Vec::new(),
        stats: ParseStats::default(),
    }
}

/// An Alertmanager result in [`Parsed`] order.
fn sorted(mut alerts: Vec<Alert>) -> Parsed {
    sort_alerts(&mut alerts);
    Parsed {
        format: Some(Format::AlertmanagerV2),
        alerts,
        stats: ParseStats::default(),
    }
}

fn sort_alerts(alerts: &mut [Alert]) {
    alerts.sort_by(|a, b| {
        (a.starts_at, &a.labels, &a.fingerprint).cmp(&(b.starts_at, &b.labels, &b.fingerprint))
    });
}

/// Parse a dump held in memory. `origin` names the input in errors and is the
/// default `source` of the alerts; `format` overrides auto-detection.
pub fn parse_str(text: &str, origin: &str, format: Option<Format>) -> Result<Parsed, CompareError> {
    if text.trim().is_empty() {
        return Ok(empty(format));
    }
    let starts_array = text
        .bytes()
        .find(|b| !matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
        == Some(b'[');
    if starts_array && matches!(format, None | Some(Format::AlertmanagerV2)) {
        let mut sink = AlertsSink::new(origin);
        if stream::stream_str(text, format.is_none(), &mut sink) == Streamed::Done {
            return Ok(sorted(sink.into_alerts()));
        }
    }
    let format = match format {
        Some(f) => f,
        None => detect(text, origin)?,
    };
    let mut stats = ParseStats::default();
    let mut alerts = match format {
        Format::AlertmanagerV2 => alertmanager::parse(text, origin)?,
        Format::PrometheusV1 => prometheus::parse(text, origin, &mut stats)?,
        Format::Webhook => webhook::parse(text, origin, &mut stats)?,
        Format::Cutover => cutover::parse(text, origin)?,
    };
    sort_alerts(&mut alerts);
    Ok(Parsed {
        format: Some(format),
        alerts,
        stats,
    })
}

/// Guess the format of a non-empty dump from its first JSON value.
pub fn detect(text: &str, origin: &str) -> Result<Format, CompareError> {
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<serde_json::Value>();
    let first = match stream.next() {
        Some(Ok(v)) => v,
        Some(Err(e)) => return Err(CompareError::from_json(origin, &e, 0)),
        None => {
            return Err(CompareError::UnknownFormat {
                origin: origin.to_string(),
                reason: "no JSON value found".into(),
            });
        }
    };
    let more = stream.next().is_some();
    let unknown = |reason: &str| CompareError::UnknownFormat {
        origin: origin.to_string(),
        reason: reason.to_string(),
    };
    match &first {
        serde_json::Value::Array(items) if !more => {
            // Alertmanager says startsAt; cutover's recorded dumps say starts_at.
            let cutover = items.first().is_some_and(|i| i.get("starts_at").is_some());
            Ok(if cutover {
                Format::Cutover
            } else {
                Format::AlertmanagerV2
            })
        }
        serde_json::Value::Object(map) => {
            if more {
                return Ok(Format::Webhook);
            }
            if map.get("format").and_then(|v| v.as_str()) == Some("cutover-alerts/v1") {
                Ok(Format::Cutover)
            } else if map.contains_key("data") && map.contains_key("status") {
                Ok(Format::PrometheusV1)
            } else if map.contains_key("alerts")
                && (map.contains_key("version") || map.contains_key("receiver"))
            {
                Ok(Format::Webhook)
            } else {
                Err(unknown(
                    "expected a cutover-alerts/v1 export, a Prometheus /api/v1/alerts response \
                     or Alertmanager webhook payloads",
                ))
            }
        }
        _ => Err(unknown(
            "expected a JSON array (Alertmanager /api/v2/alerts) or JSON object(s)",
        )),
    }
}

/// Deserialize `text` as `T`, mapping errors to a positioned [`CompareError`].
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    text: &str,
    origin: &str,
) -> Result<T, CompareError> {
    serde_json::from_str(text).map_err(|e| CompareError::from_json(origin, &e, 0))
}

#[cfg(test)]
mod tests {
    use super::alertmanager::{AlertsSink, TableSink};
    use super::stream::{Streamed, stream_blocks, stream_str};
    use super::*;

    /// Valid but unusual Alertmanager input: escapes, duplicate and unsorted
    /// labels, all time forms, missing/empty/odd fingerprints, unknown fields.
    const TRICKY: &str = r#"[
 {"labels": {"alertname": "A", "b": "x\"y\\z\n\u00e9\ud83d\ude00\t", "a": "1", "a": "2"},
  "annotations": {"s": "t\u0001", "d": "line\nbreak"},
  "startsAt": "2026-11-20T10:00:00.123456789Z", "endsAt": null,
  "updatedAt": "2026-11-20T11:00:00+01:00", "fingerprint": "",
  "status": {"state": "suppressed", "silencedBy": ["x"], "x": {"deep": [1, 2.5, -3, true, false, null, {}]}},
  "receivers": [{"name": "r"}], "generatorURL": "http://x/?a=b&c=\"d\""},
 {"fingerprint": "ABCDEF0123456789", "status": {"state": "unprocessed"}, "labels": {},
  "startsAt": 1795165200000, "endsAt": "0001-01-01T00:00:00Z"},
 {"labels": {"alertname": "B"}, "startsAt": "2026-11-20T10:00:00Z",
  "endsAt": "2026-11-20T10:30:00Z", "status": {"state": "active"}, "fingerprint": "0123456789abcdef"},
 {"labels": {"alertname": "B"}, "startsAt": "2026-11-20T10:00:00Z",
  "endsAt": "2026-11-20T09:30:00Z", "status": {"state": "active"}, "fingerprint": null,
  "unknown": {"a": [[[]]], "b": "\u00e9"}},
 {"labels": {"alertname": "B", "z": ""}, "startsAt": "2026-11-20T10:00:00Z",
  "status": {"state": "active"}, "fingerprint": "not hex"},
 {"labels": {"alertname": "C"}, "startsAt": "2026-11-20T10:00:00.5Z",
  "endsAt": "2026-11-20T12:00:00Z", "updatedAt": null, "status": {"state": "active"}},
 {"labels": {"alertname": "\u00e9t\u00e9", "\u00fc": "\u00fc"}, "startsAt": "1969-12-31T23:59:59.9995Z",
  "status": {"state": "active"}, "endsAt": "2026-11-20T10:00:00Z"}
]"#;

    /// Stream [`TRICKY`] in blocks of `block` bytes into `sink`.
    fn stream_tricky(block: usize, sink: &mut impl AmSink) -> Streamed {
        let size = Some(TRICKY.len() as u64);
        stream_blocks(TRICKY.as_bytes(), block, size, true, sink).unwrap()
    }

    fn reference(text: &str) -> Vec<Alert> {
        let mut alerts = alertmanager::parse(text, "o").expect("serde reads it");
        sort_alerts(&mut alerts);
        alerts
    }

    #[test]
    fn streamed_alerts_equal_serde_at_any_block_size() {
        let want = reference(TRICKY);
        assert_eq!(want.len(), 7);
        let mut sink = AlertsSink::new("o");
        assert_eq!(stream_str(TRICKY, true, &mut sink), Streamed::Done);
        let mut got = sink.into_alerts();
        sort_alerts(&mut got);
        assert_eq!(got, want);
        for block in [1, 2, 7, 13, 64, 1000] {
            let mut sink = AlertsSink::new("o");
            let r = stream_tricky(block, &mut sink);
            assert_eq!(r, Streamed::Done, "block {block}");
            let mut got = sink.into_alerts();
            sort_alerts(&mut got);
            assert_eq!(got, want, "block {block}");
        }
    }

    #[test]
    fn compact_tables_hold_the_same_alerts() {
        let want: Vec<Alert> = reference(TRICKY)
            .into_iter()
            .map(|mut a| {
                a.annotations.clear();
                a.source = "s".into();
                a
            })
            .collect();
        for block in [3, 4096] {
            let mut sink = TableSink::default();
            let r = stream_tricky(block, &mut sink);
            assert_eq!(r, Streamed::Done);
            let mut table = sink.into_table();
            table.sort();
            assert_eq!(table.to_alerts("s"), want, "block {block}");
        }
    }

    #[test]
    fn the_scanner_gives_up_on_what_serde_must_judge() {
        let ok = r#"{"labels":{},"startsAt":"2026-11-20T10:00:00Z","status":{"state":"active"}}"#;
        let cases = [
            format!("[{ok}"),
            format!("[{ok}] x"),
            format!("[{ok}] []"),
            format!("[{ok},]"),
            r#"[{"labels":{},"status":{"state":"active"}}]"#.to_string(),
            r#"[{"labels":{"a":1},"startsAt":0,"status":{"state":"active"}}]"#.to_string(),
            r#"[{"labels":{},"labels":{},"startsAt":0,"status":{"state":"active"}}]"#.to_string(),
            r#"[{"labels":{},"startsAt":"yesterday","status":{"state":"active"}}]"#.to_string(),
            r#"[{"labels":{},"startsAt":1.5,"status":{"state":"active"}}]"#.to_string(),
            r#"[{"labels":{},"startsAt":0,"status":{"state":"gone"}}]"#.to_string(),
            r#"[{"labels":{},"startsAt":0,"status":{"state":"active"},"x":1e400}]"#.to_string(),
            r#"[{"labels":{"a":"\ud800"},"startsAt":0,"status":{"state":"active"}}]"#.to_string(),
            r#"[{"labels\u0073":{},"startsAt":0,"status":{"state":"active"}}]"#.to_string(),
            format!(
                r#"[{{"x":{}0{}, {}]"#,
                "[".repeat(200),
                "]".repeat(200),
                &ok[1..]
            ),
            "[1]".to_string(),
        ];
        for bad in cases {
            let mut sink = AlertsSink::new("o");
            assert_eq!(stream_str(&bad, true, &mut sink), Streamed::GaveUp, "{bad}");
        }
        let cutover = r#"[{"labels":{"alertname":"A"},"starts_at":0}]"#;
        let mut sink = AlertsSink::new("o");
        assert_eq!(
            stream_str(cutover, true, &mut sink),
            Streamed::NotAlertmanager
        );
        let mut sink = AlertsSink::new("o");
        assert_eq!(stream_str(cutover, false, &mut sink), Streamed::GaveUp);
    }
}

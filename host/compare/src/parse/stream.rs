//! Streaming reader of Alertmanager `GET /api/v2/alerts` dumps.
//!
//! The input is read in blocks; each alert object is scanned straight from
//! the block (strings borrowed, escapes decoded into a scratch buffer, times
//! parsed to milliseconds) and handed to an [`AmSink`]; only the unfinished
//! tail of a block is carried over to the next one. Nothing proportional to
//! the file is held. Whatever the scanner does not handle (malformed input,
//! escaped keys, exotic numbers...) makes it give up ([`Streamed::GaveUp`]);
//! the caller then runs the serde reference parser, which reports errors with
//! their exact line and column.

use super::alertmanager::{AmSink, AmState, RawAm};
use super::rfc3339::{DayCache, parse_utc_millis_cached};
use super::scan::{Cursor, Scan, Stop, Str};
use crate::timefmt::parse_rfc3339_millis;
use std::io::{self, Read};

/// Bytes read per block.
const BLOCK: usize = 4 << 20;

/// How a streaming read ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Streamed {
    /// Every alert was handed to the sink and [`AmSink::finish`] was called.
    Done,
    /// The scanner gave up; the sink holds a partial result (discard it).
    GaveUp,
    /// The first element has `starts_at`: a cutover export, not Alertmanager.
    NotAlertmanager,
}

/// Where the array scan is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    Open,
    FirstOrClose,
    Element,
    AfterElement,
    Trailing,
}

/// State carried from block to block.
struct State {
    at: At,
    first: bool,
    check_cutover: bool,
    reference: Option<i64>,
    scratch: String,
    days: DayCache,
    /// Alerts and labels read so far (for the size estimate).
    alerts: usize,
    labels: usize,
    spare: Vec<(&'static str, &'static str)>,
    spare_ann: Vec<(&'static str, &'static str)>,
}

impl State {
    fn new(check_cutover: bool) -> State {
        State {
            at: At::Open,
            first: true,
            check_cutover,
            reference: None,
            scratch: String::new(),
            days: DayCache::default(),
            alerts: 0,
            labels: 0,
            spare: Vec::new(),
            spare_ann: Vec::new(),
        }
    }
}

/// Stream a dump held in memory.
pub(crate) fn stream_str(text: &str, check_cutover: bool, sink: &mut impl AmSink) -> Streamed {
    let mut st = State::new(check_cutover);
    let mut pos = 0;
    match run(text, true, &mut pos, &mut st, sink) {
        Ok(()) => {
            sink.finish(st.reference);
            Streamed::Done
        }
        Err(Stop::NotAlertmanager) => Streamed::NotAlertmanager,
        Err(Stop::More | Stop::Bail) => Streamed::GaveUp,
    }
}

/// Stream a dump from `r` in blocks. Invalid UTF-8 is an I/O error, as for
/// `read_to_string`.
/// `size` (the input's length, when known) lets the sink reserve room for
/// the alerts once the first block shows their average size.
pub(crate) fn stream_reader(
    r: impl Read,
    size: Option<u64>,
    check_cutover: bool,
    sink: &mut impl AmSink,
) -> io::Result<Streamed> {
    stream_blocks(r, BLOCK, size, check_cutover, sink)
}

/// [`stream_reader`] with blocks of `block` bytes (at least 1).
pub(crate) fn stream_blocks(
    mut r: impl Read,
    block: usize,
    size: Option<u64>,
    check_cutover: bool,
    sink: &mut impl AmSink,
) -> io::Result<Streamed> {
    let mut consumed: u64 = 0;
    let mut estimated = false;
    let mut st = State::new(check_cutover);
    let mut buf = vec![0u8; block.max(1)];
    let mut filled = 0;
    let mut eof = false;
    loop {
        while filled < buf.len() && !eof {
            match r.read(&mut buf[filled..]) {
                Ok(0) => eof = true,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let (text, complete) = match std::str::from_utf8(&buf[..filled]) {
            Ok(t) => (t, eof),
            // A character cut by the block end: parse up to it.
            Err(e) if e.error_len().is_none() && !eof => (
                std::str::from_utf8(&buf[..e.valid_up_to()]).map_err(bad_utf8)?,
                false,
            ),
            Err(e) => return Err(bad_utf8(e)),
        };
        let mut pos = 0;
        match run(text, complete, &mut pos, &mut st, sink) {
            Ok(()) => {
                sink.finish(st.reference);
                return Ok(Streamed::Done);
            }
            Err(Stop::More) => {}
            Err(Stop::Bail) => return Ok(Streamed::GaveUp),
            Err(Stop::NotAlertmanager) => return Ok(Streamed::NotAlertmanager),
        }
        consumed += pos as u64;
        if !estimated
            && st.alerts > 0
            && let Some(size) = size
        {
            estimated = true;
            let per_alert = (consumed / st.alerts as u64).max(1);
            let more = size.saturating_sub(consumed) / per_alert;
            let more = usize::try_from(more + more / 16).unwrap_or(usize::MAX);
            sink.reserve(more, st.labels.div_ceil(st.alerts));
        }
        buf.copy_within(pos..filled, 0);
        filled -= pos;
        if filled == buf.len() {
            // One alert larger than the buffer.
            buf.resize(buf.len() * 2, 0);
        }
    }
}

/// The error `read_to_string` gives for invalid UTF-8.
fn bad_utf8(_: std::str::Utf8Error) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "stream did not contain valid UTF-8",
    )
}

/// Scan as far as `text` allows from `pos`, which advances past every
/// completed step.
fn run(text: &str, eof: bool, pos: &mut usize, st: &mut State, sink: &mut impl AmSink) -> Scan<()> {
    let mut labels: Vec<(Str<'_>, Str<'_>)> = Vec::with_capacity(16);
    let mut annotations: Vec<(Str<'_>, Str<'_>)> = Vec::new();
    let want_annotations = sink.wants_annotations();
    loop {
        let mut cur = Cursor::new(text, *pos, eof);
        match st.at {
            At::Open => {
                cur.eat(b'[')?;
                st.at = At::FirstOrClose;
            }
            At::FirstOrClose => {
                if cur.peek()? == b']' {
                    cur.pos += 1;
                    st.at = At::Trailing;
                } else {
                    st.at = At::Element;
                }
            }
            At::Element => {
                labels.clear();
                annotations.clear();
                st.scratch.clear();
                let check = st.check_cutover && st.first;
                let f = element(
                    &mut cur,
                    &mut labels,
                    want_annotations.then_some(&mut annotations),
                    &mut st.scratch,
                    &mut st.days,
                    check,
                )?;
                if let Some(u) = f.updated_at {
                    st.reference = Some(st.reference.map_or(u, |r| r.max(u)));
                }
                let scratch = st.scratch.as_str();
                let mut resolved: Vec<(&str, &str)> = std::mem::take(&mut st.spare)
                    .into_iter()
                    .map(|_| ("", ""))
                    .collect();
                let mut resolved_ann: Vec<(&str, &str)> = std::mem::take(&mut st.spare_ann)
                    .into_iter()
                    .map(|_| ("", ""))
                    .collect();
                resolve(&labels, scratch, &mut resolved);
                resolve(&annotations, scratch, &mut resolved_ann);
                sink.push(&RawAm {
                    labels: &resolved,
                    annotations: &resolved_ann,
                    starts_at: f.starts_at,
                    ends_at: f.ends_at,
                    fingerprint: f.fingerprint.map(|s| s.get(scratch)),
                    state: f.state,
                });
                resolved.clear();
                resolved_ann.clear();
                // Keep the allocations for the next alert.
                st.spare = resolved.into_iter().map(|_| ("", "")).collect();
                st.spare_ann = resolved_ann.into_iter().map(|_| ("", "")).collect();
                st.first = false;
                st.alerts += 1;
                st.labels += labels.len();
                st.at = At::AfterElement;
            }
            At::AfterElement => {
                st.at = if cur.next_or_close(b']')? {
                    At::Element
                } else {
                    At::Trailing
                };
            }
            At::Trailing => {
                // Anything after the array is left to the reference parser
                // (an error, or a second value when detecting the format).
                return if cur.at_end()? {
                    Ok(())
                } else {
                    Err(Stop::Bail)
                };
            }
        }
        *pos = cur.pos;
    }
}

/// Texts of a string map in `BTreeMap` form: sorted by key, the last of
/// duplicate keys winning.
fn resolve<'s>(pairs: &[(Str<'s>, Str<'s>)], scratch: &'s str, out: &mut Vec<(&'s str, &'s str)>) {
    out.extend(pairs.iter().map(|(k, v)| (k.get(scratch), v.get(scratch))));
    if out.windows(2).all(|w| w[0].0 < w[1].0) {
        return;
    }
    out.sort_by(|a, b| a.0.cmp(b.0));
    let mut kept = 0;
    for i in 0..out.len() {
        if kept > 0 && out[kept - 1].0 == out[i].0 {
            out[kept - 1] = out[i];
        } else {
            out[kept] = out[i];
            kept += 1;
        }
    }
    out.truncate(kept);
}

/// Scalar fields of one alert.
struct Fields<'a> {
    starts_at: i64,
    ends_at: Option<i64>,
    updated_at: Option<i64>,
    fingerprint: Option<Str<'a>>,
    state: AmState,
}

/// One alert object, the way serde reads `AmAlert`: unknown fields skipped
/// (but validated), duplicate known fields refused, required fields checked.
fn element<'a>(
    cur: &mut Cursor<'a>,
    labels: &mut Vec<(Str<'a>, Str<'a>)>,
    mut annotations: Option<&mut Vec<(Str<'a>, Str<'a>)>>,
    scratch: &mut String,
    days: &mut DayCache,
    check_cutover: bool,
) -> Scan<Fields<'a>> {
    const LABELS: u8 = 1;
    const ANNOTATIONS: u8 = 2;
    const STARTS: u8 = 4;
    const ENDS: u8 = 8;
    const UPDATED: u8 = 16;
    const FINGERPRINT: u8 = 32;
    const STATUS: u8 = 64;
    let mut seen = 0u8;
    let mut once = |bit: u8| -> Scan<()> {
        if seen & bit != 0 {
            return Err(Stop::Bail);
        }
        seen |= bit;
        Ok(())
    };
    let mut f = Fields {
        starts_at: 0,
        ends_at: None,
        updated_at: None,
        fingerprint: None,
        state: AmState::Active,
    };
    cur.eat(b'{')?;
    if cur.peek()? == b'}' {
        // No labels: let serde say so.
        return Err(Stop::Bail);
    }
    loop {
        let key = cur.key()?;
        cur.eat(b':')?;
        match key {
            "labels" => {
                once(LABELS)?;
                cur.string_map(labels, scratch)?;
            }
            "annotations" => {
                once(ANNOTATIONS)?;
                match annotations.as_deref_mut() {
                    Some(out) => cur.string_map(out, scratch)?,
                    None => cur.skip_string_map()?,
                }
            }
            "startsAt" => {
                once(STARTS)?;
                f.starts_at = time(cur, scratch, days)?;
            }
            "endsAt" => {
                once(ENDS)?;
                f.ends_at = optional_time(cur, scratch, days)?;
            }
            "updatedAt" => {
                once(UPDATED)?;
                f.updated_at = optional_time(cur, scratch, days)?;
            }
            "fingerprint" => {
                once(FINGERPRINT)?;
                f.fingerprint = if cur.null()? {
                    None
                } else {
                    Some(cur.string(scratch)?)
                };
            }
            "status" => {
                once(STATUS)?;
                f.state = status(cur)?;
            }
            "starts_at" if check_cutover => return Err(Stop::NotAlertmanager),
            _ => cur.skip_value()?,
        }
        if !cur.next_or_close(b'}')? {
            break;
        }
    }
    if seen & (LABELS | STARTS | STATUS) != LABELS | STARTS | STATUS {
        return Err(Stop::Bail);
    }
    Ok(f)
}

/// An RFC 3339 string or integer milliseconds (`JsonTime`).
#[inline]
fn time(cur: &mut Cursor<'_>, scratch: &mut String, days: &mut DayCache) -> Scan<i64> {
    match cur.peek()? {
        b'"' => {
            let s = cur.string(scratch)?;
            let s = s.get(scratch);
            match parse_utc_millis_cached(s, days) {
                Some(ms) => Ok(ms),
                None => parse_rfc3339_millis(s).map_err(|_| Stop::Bail),
            }
        }
        b'-' | b'0'..=b'9' => cur.integer(),
        _ => Err(Stop::Bail),
    }
}

fn optional_time(
    cur: &mut Cursor<'_>,
    scratch: &mut String,
    days: &mut DayCache,
) -> Scan<Option<i64>> {
    if cur.null()? {
        Ok(None)
    } else {
        time(cur, scratch, days).map(Some)
    }
}

/// `{"state": "active" | "suppressed" | "unprocessed", ...}`.
fn status(cur: &mut Cursor<'_>) -> Scan<AmState> {
    cur.eat(b'{')?;
    let mut state = None;
    if cur.peek()? == b'}' {
        return Err(Stop::Bail);
    }
    loop {
        let key = cur.key()?;
        cur.eat(b':')?;
        if key == "state" {
            if state.is_some() {
                return Err(Stop::Bail);
            }
            state = Some(match cur.key()? {
                "active" => AmState::Active,
                "suppressed" => AmState::Suppressed,
                "unprocessed" => AmState::Unprocessed,
                _ => return Err(Stop::Bail),
            });
        } else {
            cur.skip_value()?;
        }
        if !cur.next_or_close(b'}')? {
            break;
        }
    }
    state.ok_or(Stop::Bail)
}

//! The alert framing of `collect-alerts-into` (contract 0.1.3), version 1,
//! as documented on the `streaming-adapter` world in `wit/plugin.wit`:
//!
//! ```text
//! stream = version:u8 (= 1) alert*
//! alert  = starts-at:s64 flags:u8 [ends-at:s64]
//!          n-labels:u32 n-annotations:u32 fingerprint:string
//!          (name:string value:string){n-labels}
//!          (name:string value:string){n-annotations}
//! string = len:u32 bytes (UTF-8)          all integers little-endian
//! flags  = bits 0-1 state (0 active, 1 suppressed, 2 resolved),
//!          bit 2 ends-at present, bits 3-7 zero
//! ```
//!
//! [`decode_alerts`] is strict: anything else is a typed [`FramingError`],
//! never a panic, and it allocates per batch, not per alert (counts in the
//! stream are never used to reserve memory: each pair read consumes at
//! least 8 bytes of it).

use crate::alert_batch::{AlertBatch, Builder, HAS_END, Record, STATE};
use crate::bindings::wit;

/// The framing version this host reads and [`encode_alerts`] writes.
pub const ALERT_FRAMING_VERSION: u8 = 1;

/// Which field of an alert record a [`FramingError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `starts-at`.
    StartsAt,
    /// The flags byte.
    Flags,
    /// `ends-at`.
    EndsAt,
    /// The label count.
    LabelCount,
    /// The annotation count.
    AnnotationCount,
    /// The fingerprint.
    Fingerprint,
    /// A label's name.
    LabelName,
    /// A label's value.
    LabelValue,
    /// An annotation's name.
    AnnotationName,
    /// An annotation's value.
    AnnotationValue,
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Field::StartsAt => "starts-at",
            Field::Flags => "flags",
            Field::EndsAt => "ends-at",
            Field::LabelCount => "label count",
            Field::AnnotationCount => "annotation count",
            Field::Fingerprint => "fingerprint",
            Field::LabelName => "label name",
            Field::LabelValue => "label value",
            Field::AnnotationName => "annotation name",
            Field::AnnotationValue => "annotation value",
        })
    }
}

/// Why an alert stream was refused. `alert` is the 0-based record number,
/// `offset` the byte offset in the stream where the field starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FramingError {
    /// Not even the version byte.
    #[error("the alert stream is empty (not even its version byte)")]
    Empty,
    /// A version this host does not read.
    #[error(
        "alert framing version {found} is unknown (this host reads version {ALERT_FRAMING_VERSION})"
    )]
    Version {
        /// The stream's first byte.
        found: u8,
    },
    /// The stream ends inside a record.
    #[error(
        "alert #{alert} is cut short: its {field} at byte {offset} needs {needed} bytes, {left} are left"
    )]
    Truncated {
        /// Record number.
        alert: u64,
        /// The field being read.
        field: Field,
        /// Where it starts.
        offset: u64,
        /// Bytes it needs (for a string: its length prefix, then its text).
        needed: u64,
        /// Bytes left in the stream.
        left: u64,
    },
    /// Reserved flag bits set, or state 3.
    #[error(
        "alert #{alert}: flags byte {flags:#04x} at byte {offset} has reserved bits set or state 3"
    )]
    Flags {
        /// Record number.
        alert: u64,
        /// Where it is.
        offset: u64,
        /// The byte.
        flags: u8,
    },
    /// A string that is not UTF-8.
    #[error("alert #{alert}: the {field} at byte {offset} is not UTF-8")]
    Utf8 {
        /// Record number.
        alert: u64,
        /// Which string.
        field: Field,
        /// Where its length prefix starts.
        offset: u64,
    },
    /// The call's answer and the stream disagree on the number of alerts.
    #[error("collect-alerts-into returned {returned} alerts, but the stream holds {framed}")]
    CountMismatch {
        /// What the call returned.
        returned: u64,
        /// Records decoded.
        framed: u64,
    },
    /// More than a batch can index (4 GiB of text).
    #[error("the alerts are too large for one batch ({bytes} bytes of text; at most 4 GiB)")]
    TooLarge {
        /// Text bytes reached.
        bytes: u64,
    },
}

struct Reader<'b> {
    buf: &'b [u8],
    pos: usize,
    alert: u64,
}

impl<'b> Reader<'b> {
    fn truncated(&self, field: Field, needed: usize) -> FramingError {
        FramingError::Truncated {
            alert: self.alert,
            field,
            offset: self.pos as u64,
            needed: needed as u64,
            left: (self.buf.len() - self.pos) as u64,
        }
    }

    #[inline]
    fn take<const N: usize>(&mut self, field: Field) -> Result<[u8; N], FramingError> {
        match self.buf.get(self.pos..).and_then(|r| r.first_chunk::<N>()) {
            Some(b) => {
                self.pos += N;
                Ok(*b)
            }
            None => Err(self.truncated(field, N)),
        }
    }

    #[inline]
    fn u32(&mut self, field: Field) -> Result<u32, FramingError> {
        self.take::<4>(field).map(u32::from_le_bytes)
    }

    #[inline]
    fn i64(&mut self, field: Field) -> Result<i64, FramingError> {
        self.take::<8>(field).map(i64::from_le_bytes)
    }

    /// A string's bytes; checked as UTF-8 here when `check` (the slow path
    /// that names the string at fault), else with the whole batch.
    #[inline]
    fn string(&mut self, field: Field, check: bool) -> Result<&'b [u8], FramingError> {
        let at = self.pos;
        let len = self.u32(field)? as usize;
        let end = self.pos.checked_add(len).filter(|&e| e <= self.buf.len());
        let Some(end) = end else {
            self.pos = at;
            return Err(self.truncated(field, len.saturating_add(4)));
        };
        let s = &self.buf[self.pos..end];
        if check && std::str::from_utf8(s).is_err() {
            return Err(FramingError::Utf8 {
                alert: self.alert,
                field,
                offset: at as u64,
            });
        }
        self.pos = end;
        Ok(s)
    }
}

/// Decodes a `collect-alerts-into` stream whose call returned `returned`.
pub fn decode_alerts(bytes: &[u8], returned: u64) -> Result<AlertBatch, FramingError> {
    if bytes.len() > u32::MAX as usize {
        return Err(FramingError::TooLarge {
            bytes: bytes.len() as u64,
        });
    }
    match decode(bytes, returned, false)?.finish() {
        Some(batch) => Ok(batch),
        // Some string is not UTF-8: find it and name it.
        None => match decode(bytes, returned, true) {
            Err(e) => Err(e),
            Ok(_) => Err(FramingError::Utf8 {
                alert: 0,
                field: Field::Fingerprint,
                offset: 1,
            }),
        },
    }
}

fn decode(bytes: &[u8], returned: u64, check: bool) -> Result<Builder, FramingError> {
    let (&version, _) = bytes.split_first().ok_or(FramingError::Empty)?;
    if version != ALERT_FRAMING_VERSION {
        return Err(FramingError::Version { found: version });
    }
    let mut r = Reader {
        buf: bytes,
        pos: 1,
        alert: 0,
    };
    let mut b = Builder::with_capacity(bytes.len());
    while r.pos < bytes.len() {
        let starts_at = r.i64(Field::StartsAt)?;
        let at = r.pos;
        let [flags] = r.take::<1>(Field::Flags)?;
        if flags & !(STATE | HAS_END) != 0 || flags & STATE == STATE {
            return Err(FramingError::Flags {
                alert: r.alert,
                offset: at as u64,
                flags,
            });
        }
        let ends_at = if flags & HAS_END != 0 {
            r.i64(Field::EndsAt)?
        } else {
            0
        };
        let labels = r.u32(Field::LabelCount)?;
        let annotations = r.u32(Field::AnnotationCount)?;
        let first = b.next_index()?;
        b.push(r.string(Field::Fingerprint, check)?)?;
        for _ in 0..labels {
            b.push(r.string(Field::LabelName, check)?)?;
            b.push(r.string(Field::LabelValue, check)?)?;
        }
        for _ in 0..annotations {
            b.push(r.string(Field::AnnotationName, check)?)?;
            b.push(r.string(Field::AnnotationValue, check)?)?;
        }
        b.records.push(Record {
            starts_at,
            ends_at,
            first,
            labels,
            annotations,
            flags,
        });
        r.alert += 1;
    }
    if r.alert != returned {
        return Err(FramingError::CountMismatch {
            returned,
            framed: r.alert,
        });
    }
    Ok(b)
}

/// `alerts` in the alert framing (what the SDK's encoder writes; for tests
/// and tools). Panics on none of them; a string over 4 GiB is cut to its
/// first `u32::MAX` bytes' length prefix and so makes a stream the decoder
/// refuses.
pub fn encode_alerts(alerts: &[wit::Alert]) -> Vec<u8> {
    let mut out = vec![ALERT_FRAMING_VERSION];
    let string = |out: &mut Vec<u8>, s: &str| {
        out.extend_from_slice(&(s.len() as u32).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    };
    for a in alerts {
        out.extend_from_slice(&a.starts_at.to_le_bytes());
        let state = match a.state {
            wit::AlertState::Active => 0,
            wit::AlertState::Suppressed => 1,
            wit::AlertState::Resolved => 2,
        };
        match a.ends_at {
            Some(e) => {
                out.push(state | HAS_END);
                out.extend_from_slice(&e.to_le_bytes());
            }
            None => out.push(state),
        }
        out.extend_from_slice(&(a.labels.len() as u32).to_le_bytes());
        out.extend_from_slice(&(a.annotations.len() as u32).to_le_bytes());
        string(&mut out, &a.fingerprint);
        for (k, v) in a.labels.iter().chain(&a.annotations) {
            string(&mut out, k);
            string(&mut out, v);
        }
    }
    out
}

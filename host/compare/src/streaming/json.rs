//! `--format json` of a streaming comparison: the report's small parts go
//! through serde exactly as [`crate::render_json`] would write them, while
//! the missing/extra/matched lists (the bulk of a large report) are
//! formatted in chunks on worker threads straight from the compact data.
//! The bytes are those of `render_json` of the full report (checked by the
//! crate tests).

use crate::error::CompareError;
use crate::parse::rfc3339::{DayCache, write_utc_millis_cached};
use crate::parse::scan::find_special;
use crate::render::json::{Compact, JsonLayout, JsonView};
use crate::render::wording::Kind;
use crate::report::{MatchedAlert, Report, UnmatchedAlert};
use crate::streaming::comparison::Comparison;
use crate::streaming::sides::{NONE, Side};
use crate::timefmt::format_millis;
use std::io::Write;

/// Append the pretty or the compact form of a literal (the same text with
/// the whitespace outside strings dropped).
macro_rules! lit {
    ($buf:expr, $compact:expr, $pretty:expr, $short:expr) => {
        $buf.extend_from_slice(if $compact { $short } else { $pretty })
    };
}

/// Items formatted per chunk (by one worker thread).
const CHUNK: usize = 4096;

impl Comparison<'_> {
    /// Write `report` as `render_json_with` writes it in `layout`, with the
    /// alert lists streamed from the compact data. The pretty text is
    /// written through [`Compact`] unless `layout.pretty`.
    pub(super) fn write_json(
        &self,
        report: &Report,
        layout: JsonLayout,
        out: &mut dyn Write,
    ) -> Result<(), CompareError> {
        self.write_layout(report, layout, out)?;
        out.write_all(b"\n")?;
        Ok(())
    }

    /// The JSON of `report` in `layout`, without the final newline. The
    /// small parts are written pretty by serde and compacted by [`Compact`]
    /// when asked; the alert lists are formatted in the asked layout by the
    /// worker threads, so that the thread writing the output only writes.
    fn write_layout(
        &self,
        report: &Report,
        layout: JsonLayout,
        out: &mut dyn Write,
    ) -> Result<(), CompareError> {
        let matched = layout.matched;
        let compact = !layout.pretty;
        let view = JsonView::new(report, matched);
        let text = serde_json::to_vec_pretty(&view).map_err(CompareError::Serialize)?;
        // Top-level fields are the only lines indented by exactly two spaces
        // (strings cannot hold a raw newline), so the markers are unique.
        // Without `matched`, `matched_alerts` is `null` and stays so.
        let lists: [(&[u8], Kind); 3] = [
            (b"\n  \"missing_alerts\": []", Kind::Missing),
            (b"\n  \"extra_alerts\": []", Kind::Extra),
            (b"\n  \"matched_alerts\": []", Kind::Matched),
        ];
        let lists = &lists[..if matched { 3 } else { 2 }];
        let mut at = 0;
        for &(marker, list) in lists {
            let pos = text[at..]
                .windows(marker.len())
                .position(|w| w == marker)
                .ok_or_else(|| {
                    CompareError::Output(std::io::Error::other(
                        "report layout unexpected: alert list not found",
                    ))
                })?;
            let open = at + pos + marker.len() - 2;
            write_part(&text[at..open], compact, out)?;
            self.write_list(list, compact, out)?;
            at = open + 2;
        }
        write_part(&text[at..], compact, out)?;
        Ok(())
    }

    fn write_list(&self, list: Kind, compact: bool, out: &mut dyn Write) -> std::io::Result<()> {
        let m = &self.m;
        let idx: Vec<u32> = match list {
            Kind::Missing | Kind::Matched => {
                let want_matched = matches!(list, Kind::Matched);
                (0..self.old.len() as u32)
                    .filter(|&i| (m.partner[i as usize] != NONE) == want_matched)
                    .collect()
            }
            Kind::Extra => (0..self.new.len() as u32)
                .filter(|&j| !m.taken[j as usize])
                .collect(),
        };
        if idx.is_empty() {
            return out.write_all(b"[]");
        }
        out.write_all(b"[")?;
        let item = |k: usize, buf: &mut Vec<u8>, s: &mut Scratch| {
            match (k, s.compact) {
                (0, true) => {}
                (_, true) => buf.push(b','),
                (0, false) => buf.extend_from_slice(b"\n    "),
                (_, false) => buf.extend_from_slice(b",\n    "),
            }
            let i = idx[k] as usize;
            match list {
                Kind::Missing => self.write_unmatched(&self.old, i, buf, s),
                Kind::Extra => self.write_unmatched(&self.new, i, buf, s),
                Kind::Matched => self.write_matched(i, m.partner[i] as usize, buf, s),
            }
        };
        write_chunks(idx.len(), compact, out, &item)?;
        out.write_all(if compact { b"]" } else { b"\n  ]" })
    }

    /// One `UnmatchedAlert`, as serde_json's pretty printer writes it (or
    /// its compact printer, with `s.compact`).
    fn write_unmatched(&self, side: &Side, i: usize, buf: &mut Vec<u8>, s: &mut Scratch) {
        let labels = side.labels(i);
        let t = side.table();
        lit!(buf, s.compact, b"{\n      \"key\": ", b"{\"key\":");
        self.key_json(labels, buf, &mut s.text);
        lit!(
            buf,
            s.compact,
            b",\n      \"alertname\": ",
            b",\"alertname\":"
        );
        self.value_json(self.alertname_of(labels), buf);
        lit!(buf, s.compact, b",\n      \"labels\": ", b",\"labels\":");
        self.labels_json(t.labels(i), buf, s.compact);
        lit!(
            buf,
            s.compact,
            b",\n      \"starts_at\": ",
            b",\"starts_at\":"
        );
        json_time(buf, Some(t.starts_at(i)), &mut s.days);
        lit!(buf, s.compact, b",\n      \"ends_at\": ", b",\"ends_at\":");
        json_time(buf, t.ends_at(i), &mut s.days);
        lit!(
            buf,
            s.compact,
            b",\n      \"fingerprint\": ",
            b",\"fingerprint\":"
        );
        match t.fingerprint(i) {
            Ok(v) => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                buf.push(b'"');
                for shift in (0..16).rev() {
                    buf.push(HEX[(v >> (shift * 4)) as usize & 0xf]);
                }
                buf.push(b'"');
            }
            Err(text) => json_str(buf, text),
        }
        lit!(buf, s.compact, b"\n    }", b"}");
    }

    /// One `MatchedAlert`, as serde_json's pretty printer writes it (or its
    /// compact printer, with `s.compact`).
    fn write_matched(&self, i: usize, j: usize, buf: &mut Vec<u8>, s: &mut Scratch) {
        let labels = self.old.labels(i);
        let (to, tn) = (self.old.table(), self.new.table());
        lit!(buf, s.compact, b"{\n      \"key\": ", b"{\"key\":");
        self.key_json(labels, buf, &mut s.text);
        lit!(
            buf,
            s.compact,
            b",\n      \"alertname\": ",
            b",\"alertname\":"
        );
        self.value_json(self.alertname_of(labels), buf);
        lit!(buf, s.compact, b",\n      \"labels\": ", b",\"labels\":");
        self.labels_json(labels, buf, s.compact);
        lit!(
            buf,
            s.compact,
            b",\n      \"starts_at\": ",
            b",\"starts_at\":"
        );
        json_time(buf, Some(to.starts_at(i)), &mut s.days);
        lit!(
            buf,
            s.compact,
            b",\n      \"new_starts_at\": ",
            b",\"new_starts_at\":"
        );
        json_time(buf, Some(tn.starts_at(j)), &mut s.days);
        lit!(
            buf,
            s.compact,
            b",\n      \"delay_seconds\": ",
            b",\"delay_seconds\":"
        );
        let delay = tn.starts_at(j).wrapping_sub(to.starts_at(i)) as f64 / 1000.0;
        json_f64(buf, delay);
        lit!(buf, s.compact, b",\n      \"ends_at\": ", b",\"ends_at\":");
        json_time(buf, to.ends_at(i), &mut s.days);
        lit!(
            buf,
            s.compact,
            b",\n      \"new_ends_at\": ",
            b",\"new_ends_at\":"
        );
        json_time(buf, tn.ends_at(j), &mut s.days);
        lit!(buf, s.compact, b"\n    }", b"}");
    }

    /// A label map at the depth of an alert's fields.
    fn labels_json(&self, labels: &[(u32, u32)], buf: &mut Vec<u8>, compact: bool) {
        if labels.is_empty() {
            buf.extend_from_slice(b"{}");
            return;
        }
        buf.push(b'{');
        for (k, &(n, v)) in labels.iter().enumerate() {
            match (k, compact) {
                (0, true) => {}
                (_, true) => buf.push(b','),
                (0, false) => buf.extend_from_slice(b"\n        "),
                (_, false) => buf.extend_from_slice(b",\n        "),
            }
            self.name_json(n, buf);
            lit!(buf, compact, b": ", b":");
            self.value_json(v, buf);
        }
        lit!(buf, compact, b"\n      }", b"}");
    }

    /// The key of normalised labels as a JSON string: plain copies when no
    /// part needs escaping (the usual case), else via [`Comparison::key_string`].
    fn key_json(&self, labels: &[(u32, u32)], buf: &mut Vec<u8>, s: &mut String) {
        let p = &self.plain;
        let name = self.alertname_of(labels);
        let plain = p.values_debug[name as usize]
            && labels.iter().all(|&(n, v)| {
                n == self.alertname || (p.names[n as usize] && p.values_debug[v as usize])
            });
        if !plain {
            self.key_string(labels, s);
            json_str(buf, s);
            return;
        }
        buf.push(b'"');
        buf.extend_from_slice(self.value(name).as_bytes());
        let mut first = true;
        for &(n, v) in labels {
            if n == self.alertname {
                continue;
            }
            buf.push(if first { b'{' } else { b',' });
            first = false;
            buf.extend_from_slice(self.name(n).as_bytes());
            buf.extend_from_slice(b"=\\\"");
            buf.extend_from_slice(self.value(v).as_bytes());
            buf.extend_from_slice(b"\\\"");
        }
        if !first {
            buf.push(b'}');
        }
        buf.push(b'"');
    }

    /// A vocabulary value as a JSON string.
    #[inline]
    fn value_json(&self, v: u32, buf: &mut Vec<u8>) {
        str_json(buf, self.value(v), self.plain.values_json[v as usize]);
    }

    /// A vocabulary name as a JSON string.
    #[inline]
    fn name_json(&self, n: u32, buf: &mut Vec<u8>) {
        str_json(buf, self.name(n), self.plain.names[n as usize]);
    }
}

/// `s` as a JSON string: copied between quotes when `plain` (nothing in it
/// needs escaping), else escaped by [`json_str`].
#[inline]
fn str_json(buf: &mut Vec<u8>, s: &str, plain: bool) {
    if plain {
        buf.push(b'"');
        buf.extend_from_slice(s.as_bytes());
        buf.push(b'"');
    } else {
        json_str(buf, s);
    }
}

/// The fields this module writes for each alert list entry. Destructuring
/// without `..` makes any field added to these types fail to compile here,
/// pointing at the writers above, which must then write it too.
#[allow(dead_code)]
fn written_fields(m: MatchedAlert, u: UnmatchedAlert) {
    let MatchedAlert {
        key: _,
        alertname: _,
        labels: _,
        starts_at: _,
        new_starts_at: _,
        delay_seconds: _,
        ends_at: _,
        new_ends_at: _,
    } = m;
    let UnmatchedAlert {
        key: _,
        alertname: _,
        labels: _,
        starts_at: _,
        ends_at: _,
        fingerprint: _,
    } = u;
}

/// A part of the pretty text outside the alert lists, compacted when asked
/// (each part starts and ends outside a string).
fn write_part(text: &[u8], compact: bool, out: &mut dyn Write) -> std::io::Result<()> {
    if compact {
        Compact::to(out).write_all(text)
    } else {
        out.write_all(text)
    }
}

/// Format items `0..n` in chunks on worker threads (one chunk each in turn,
/// so the output is written in order with two chunks in flight per worker),
/// in the compact layout when `compact`.
fn write_chunks(
    n: usize,
    compact: bool,
    out: &mut dyn Write,
    item: &(dyn Fn(usize, &mut Vec<u8>, &mut Scratch) + Sync),
) -> std::io::Result<()> {
    let chunks = n.div_ceil(CHUNK);
    let format = |c: usize, buf: &mut Vec<u8>, s: &mut Scratch| {
        for k in c * CHUNK..n.min((c + 1) * CHUNK) {
            item(k, buf, s);
        }
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, |p| p.get())
        .clamp(1, 4)
        .min(chunks);
    if workers <= 1 {
        let (mut buf, mut s) = (Vec::new(), Scratch::new(compact));
        for c in 0..chunks {
            buf.clear();
            format(c, &mut buf, &mut s);
            out.write_all(&buf)?;
        }
        return Ok(());
    }
    use std::sync::mpsc::sync_channel;
    std::thread::scope(|scope| {
        let mut filled = Vec::new();
        let mut empty = Vec::new();
        for w in 0..workers {
            let (full_tx, full_rx) = sync_channel::<Vec<u8>>(2);
            let (empty_tx, empty_rx) = sync_channel::<Vec<u8>>(3);
            filled.push(full_rx);
            empty.push(empty_tx);
            let format = &format;
            scope.spawn(move || {
                let mut s = Scratch::new(compact);
                let mut c = w;
                while c < chunks {
                    let mut buf = empty_rx.try_recv().unwrap_or_default();
                    buf.clear();
                    format(c, &mut buf, &mut s);
                    if full_tx.send(buf).is_err() {
                        return;
                    }
                    c += workers;
                }
            });
        }
        for c in 0..chunks {
            let buf = filled[c % workers]
                .recv()
                .map_err(|_| std::io::Error::other("report formatter stopped"))?;
            out.write_all(&buf)?;
            let _ = empty[c % workers].try_send(buf);
        }
        Ok(())
    })
}

/// A JSON string as serde_json writes it.
fn json_str(buf: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    buf.push(b'"');
    let mut start = 0;
    while let Some(i) = find_special(b, start) {
        buf.extend_from_slice(&b[start..i]);
        match b[i] {
            b'"' => buf.extend_from_slice(b"\\\""),
            b'\\' => buf.extend_from_slice(b"\\\\"),
            0x08 => buf.extend_from_slice(b"\\b"),
            0x09 => buf.extend_from_slice(b"\\t"),
            0x0a => buf.extend_from_slice(b"\\n"),
            0x0c => buf.extend_from_slice(b"\\f"),
            0x0d => buf.extend_from_slice(b"\\r"),
            c => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                buf.extend_from_slice(b"\\u00");
                buf.push(HEX[usize::from(c >> 4)]);
                buf.push(HEX[usize::from(c & 0xf)]);
            }
        }
        start = i + 1;
    }
    buf.extend_from_slice(&b[start..]);
    buf.push(b'"');
}

/// Per-worker scratch space and layout of the list writers.
struct Scratch {
    text: String,
    days: DayCache,
    /// Write serde_json's compact form instead of its pretty form.
    compact: bool,
}

impl Scratch {
    fn new(compact: bool) -> Scratch {
        Scratch {
            text: String::new(),
            days: DayCache::default(),
            compact,
        }
    }
}

/// An RFC 3339 time (as `format_millis`) or `null`.
#[inline]
fn json_time(buf: &mut Vec<u8>, ms: Option<i64>, days: &mut DayCache) {
    match ms {
        None => buf.extend_from_slice(b"null"),
        Some(ms) => {
            buf.push(b'"');
            if !write_utc_millis_cached(buf, ms, days) {
                buf.extend_from_slice(format_millis(ms).as_bytes());
            }
            buf.push(b'"');
        }
    }
}

/// A float as serde_json writes it (`null` when not finite).
fn json_f64(buf: &mut Vec<u8>, v: f64) {
    use serde_json::ser::Formatter;
    if v.is_finite() {
        let _ = serde_json::ser::CompactFormatter.write_f64(buf, v);
    } else {
        buf.extend_from_slice(b"null");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_like_serde_json() {
        let mut all: String = (0u8..0x80).map(char::from).collect();
        all.push_str("\u{e9}\u{2028}\u{1f600}");
        for s in [all.as_str(), "", "plain", "a\"b\\c", "\u{7f}"] {
            let mut buf = Vec::new();
            json_str(&mut buf, s);
            assert_eq!(
                String::from_utf8(buf).unwrap(),
                serde_json::to_string(s).unwrap()
            );
        }
    }

    #[test]
    fn floats_are_written_like_serde_json() {
        for v in [0.0, -0.0, 1.5, -2.5, 60.0, 1e-7, 123456789.123, f64::NAN] {
            let mut buf = Vec::new();
            json_f64(&mut buf, v);
            assert_eq!(
                String::from_utf8(buf).unwrap(),
                serde_json::to_string(&v).unwrap()
            );
        }
    }
}

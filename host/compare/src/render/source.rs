//! What the renderers read and where they write.
//!
//! A renderer reads a [`Source`]: the report's summary (everything but the
//! alert lists) plus the lists walked one alert at a time, so that a report
//! of any size renders without its lists being held. A [`Report`] built in
//! memory is a source; so is the streaming comparison, which walks its
//! compact data. Renderers write text into an [`Out`], which hands it to the
//! destination in large pieces.

use crate::error::CompareError;
use crate::model::Interner;
use crate::render::json::JsonLayout;
use crate::render::wording::Kind;
use crate::report::Report;
use std::collections::BTreeMap;
use std::io::Write;

/// A report as the renderers read it.
pub(crate) trait Source {
    /// The report. Its alert lists may be empty: read them with
    /// [`Source::rows`] and [`Source::len`].
    fn report(&self) -> &Report;
    /// Number of alerts in a list.
    fn len(&self, kind: Kind) -> usize;
    /// Matched pairs the new system fired first (negative delay).
    fn early(&self) -> usize;
    /// Call `each` on the first `limit` alerts of a list, in report order.
    fn rows(&self, kind: Kind, limit: usize, each: &mut dyn FnMut(&Row<'_>));
    /// Write the report as JSON in `layout` followed by a newline (the bytes
    /// of [`crate::render::json::render_json_with`]).
    fn write_json(&self, layout: JsonLayout, out: &mut dyn Write) -> Result<(), CompareError>;
}

/// One alert of a report's lists.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Row<'a> {
    /// Which list.
    pub kind: Kind,
    /// Normalised match key.
    pub key: &'a str,
    /// Alert name (new vocabulary).
    pub alertname: &'a str,
    /// Labels: as the system reported them for unmatched alerts,
    /// normalised for matched pairs.
    pub labels: Labels<'a>,
    /// Start (the old start of a matched pair), unix ms.
    pub start: i64,
    /// End (the old end of a matched pair), unix ms, when it ended.
    pub end: Option<i64>,
    /// New start of a matched pair.
    pub new_start: Option<i64>,
    /// Delay of a matched pair, seconds.
    pub delay: Option<f64>,
}

/// The labels of a [`Row`], in name order.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Labels<'a> {
    /// Held as strings.
    Map(&'a BTreeMap<String, String>),
    /// Interned `(name, value)` id pairs, sorted by name.
    Ids {
        pairs: &'a [(u32, u32)],
        names: &'a Interner,
        values: &'a Interner,
    },
}

impl<'a> Labels<'a> {
    /// `(name, value)` pairs in name order.
    pub(crate) fn iter(self) -> Box<dyn Iterator<Item = (&'a str, &'a str)> + 'a> {
        match self {
            Labels::Map(m) => Box::new(m.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            Labels::Ids {
                pairs,
                names,
                values,
            } => Box::new(
                pairs
                    .iter()
                    .map(move |&(n, v)| (names.get(n), values.get(v))),
            ),
        }
    }
}

impl Source for Report {
    fn report(&self) -> &Report {
        self
    }

    fn len(&self, kind: Kind) -> usize {
        match kind {
            Kind::Matched => self.matched_alerts.len(),
            Kind::Missing => self.missing_alerts.len(),
            Kind::Extra => self.extra_alerts.len(),
        }
    }

    fn early(&self) -> usize {
        self.matched_alerts
            .iter()
            .filter(|m| m.delay_seconds < 0.0)
            .count()
    }

    fn rows(&self, kind: Kind, limit: usize, each: &mut dyn FnMut(&Row<'_>)) {
        if kind == Kind::Matched {
            for m in self.matched_alerts.iter().take(limit) {
                each(&Row {
                    kind,
                    key: &m.key,
                    alertname: &m.alertname,
                    labels: Labels::Map(&m.labels),
                    start: m.starts_at,
                    end: m.ends_at,
                    new_start: Some(m.new_starts_at),
                    delay: Some(m.delay_seconds),
                });
            }
            return;
        }
        let list = match kind {
            Kind::Missing => &self.missing_alerts,
            _ => &self.extra_alerts,
        };
        for a in list.iter().take(limit) {
            each(&Row {
                kind,
                key: &a.key,
                alertname: &a.alertname,
                labels: Labels::Map(&a.labels),
                start: a.starts_at,
                end: a.ends_at,
                new_start: None,
                delay: None,
            });
        }
    }

    fn write_json(&self, layout: JsonLayout, out: &mut dyn Write) -> Result<(), CompareError> {
        crate::render::json::write_json(self, layout, out)
    }
}

/// Text written by a renderer: collected into a string, or handed to a
/// writer whenever [`FLUSH_AT`] bytes are pending. The first write error
/// is kept for [`Out::finish`]; later writes are dropped.
pub(crate) struct Out<'w> {
    buf: String,
    to: Option<&'w mut dyn Write>,
    err: Option<std::io::Error>,
}

/// Pending bytes that make [`Out`] write to its writer.
const FLUSH_AT: usize = 1 << 16;

impl<'w> Out<'w> {
    /// Text for `to`.
    pub(crate) fn to(to: &'w mut dyn Write) -> Out<'w> {
        Out {
            buf: String::with_capacity(FLUSH_AT + 1024),
            to: Some(to),
            err: None,
        }
    }

    /// What `render` writes, as one string.
    pub(crate) fn collect(render: impl FnOnce(&mut Out<'_>)) -> String {
        let mut out = Out {
            buf: String::new(),
            to: None,
            err: None,
        };
        render(&mut out);
        out.buf
    }

    /// Append text.
    pub(crate) fn push_str(&mut self, s: &str) {
        self.buf.push_str(s);
        if self.buf.len() >= FLUSH_AT {
            self.flush();
        }
    }

    /// Append a character.
    pub(crate) fn push(&mut self, c: char) {
        self.buf.push(c);
    }

    fn flush(&mut self) {
        let Some(to) = self.to.as_mut() else {
            return;
        };
        if self.err.is_none()
            && let Err(e) = to.write_all(self.buf.as_bytes())
        {
            self.err = Some(e);
        }
        self.buf.clear();
    }

    /// Write what is pending; the first error met, if any.
    pub(crate) fn finish(mut self) -> Result<(), CompareError> {
        self.flush();
        match self.err {
            Some(e) => Err(CompareError::Output(e)),
            None => Ok(()),
        }
    }
}

impl std::fmt::Write for Out<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.push_str(s);
        Ok(())
    }
}

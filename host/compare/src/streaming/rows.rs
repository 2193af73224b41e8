//! A streaming comparison as a report [`Source`]: the summary, and the
//! alert lists walked from the compact data one alert at a time.

use crate::error::CompareError;
use crate::render::json::JsonLayout;
use crate::render::source::{Labels, Row, Source};
use crate::render::wording::Kind;
use crate::report::Report;
use crate::streaming::comparison::Comparison;
use crate::streaming::sides::NONE;
use std::io::Write;

/// A finished streaming comparison and its report's summary (the report
/// without its alert lists).
pub(crate) struct Streamed<'o> {
    cmp: Comparison<'o>,
    summary: Report,
}

impl<'o> Streamed<'o> {
    pub(super) fn new(cmp: Comparison<'o>, summary: Report) -> Streamed<'o> {
        Streamed { cmp, summary }
    }
}

impl Source for Streamed<'_> {
    fn report(&self) -> &Report {
        &self.summary
    }

    fn len(&self, kind: Kind) -> usize {
        match kind {
            Kind::Matched => self.summary.matched,
            Kind::Missing => self.summary.missing,
            Kind::Extra => self.summary.extra,
        }
    }

    fn early(&self) -> usize {
        let c = &self.cmp;
        let (so, sn) = (c.old.table().starts(), c.new.table().starts());
        c.m.partner
            .iter()
            .zip(so)
            .filter(|&(&j, &s)| j != NONE && delay(s, sn[j as usize]) < 0.0)
            .count()
    }

    fn rows(&self, kind: Kind, limit: usize, each: &mut dyn FnMut(&Row<'_>)) {
        let c = &self.cmp;
        let (m, to, tn) = (&c.m, c.old.table(), c.new.table());
        let ids = |pairs| Labels::Ids {
            pairs,
            names: &c.vocab.names,
            values: &c.vocab.values,
        };
        let mut key = String::new();
        let mut left = limit;
        let (side, t, n) = match kind {
            Kind::Extra => (&c.new, tn, c.new.len()),
            _ => (&c.old, to, c.old.len()),
        };
        for i in 0..n {
            if left == 0 {
                return;
            }
            let j = match kind {
                Kind::Extra if m.taken[i] => continue,
                Kind::Extra => NONE,
                _ => m.partner[i],
            };
            if (j != NONE) != (kind == Kind::Matched) {
                continue;
            }
            left -= 1;
            let labels = side.labels(i);
            let (new_start, shown) = if j == NONE {
                // Unmatched: the labels as the system reported them.
                (None, t.labels(i))
            } else {
                (Some(tn.starts_at(j as usize)), labels)
            };
            c.key_string(labels, &mut key);
            each(&Row {
                kind,
                key: &key,
                alertname: c.value(c.alertname_of(labels)),
                labels: ids(shown),
                start: t.starts_at(i),
                end: t.ends_at(i),
                new_start,
                delay: new_start.map(|n| delay(t.starts_at(i), n)),
            });
        }
    }

    fn write_json(&self, layout: JsonLayout, out: &mut dyn Write) -> Result<(), CompareError> {
        self.cmp.write_json(&self.summary, layout, out)
    }
}

/// Delay of a matched pair in seconds, as the JSON report writes it.
fn delay(old_start: i64, new_start: i64) -> f64 {
    new_start.wrapping_sub(old_start) as f64 / 1000.0
}

//! The data of a streaming comparison: both dumps in one vocabulary, their
//! normalised labels, the matching and the noise floor, and how keys and
//! values read as strings.

use crate::matching::tolerance_ms;
use crate::options::CompareOptions;
use crate::parse::TableParsed;
use crate::report::NoiseFloor;
use crate::streaming::sides::{Matching, Side, View, match_sides};
use crate::streaming::vocab::{Plain, Vocab, rules};

/// With `CUTOVER_COMPARE_TIMING` set, print the time since the previous
/// phase to stderr (for profiling large comparisons).
pub(crate) fn phase(name: &str) {
    use std::sync::Mutex;
    use std::time::Instant;
    static LAST: Mutex<Option<Instant>> = Mutex::new(None);
    if std::env::var_os("CUTOVER_COMPARE_TIMING").is_none() {
        return;
    }
    static LAST_CPU: Mutex<u64> = Mutex::new(0);
    let now = Instant::now();
    // CPU time of this thread (ns), to see through a busy machine.
    let cpu: u64 = std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let prev_cpu = LAST_CPU
        .lock()
        .map_or(0, |mut c| std::mem::replace(&mut *c, cpu));
    if let Ok(mut last) = LAST.lock()
        && let Some(prev) = last.replace(now)
    {
        eprintln!(
            "{name}: {:.3} s wall, {:.3} s cpu (this thread)",
            (now - prev).as_secs_f64(),
            cpu.saturating_sub(prev_cpu) as f64 / 1e9
        );
    }
}

/// Everything the report and its lists are made from.
pub(super) struct Comparison<'o> {
    pub(super) opts: &'o CompareOptions,
    pub(super) vocab: Vocab,
    pub(super) old: Side,
    pub(super) new: Side,
    pub(super) m: Matching,
    /// Id of the name `alertname`.
    pub(super) alertname: u32,
    /// Id of the empty value.
    pub(super) empty: u32,
    pub(super) noise: Option<NoiseFloor>,
    pub(super) plain: Plain,
}

impl<'o> Comparison<'o> {
    /// Put the dumps in one vocabulary, normalise their labels and match
    /// them (and the old dump against its second read, when given).
    pub(super) fn new(
        mut old: TableParsed,
        mut new: TableParsed,
        noise: Option<TableParsed>,
        opts: &'o CompareOptions,
    ) -> Comparison<'o> {
        let (names, values) = old.table.take_vocabulary();
        let mut vocab = Vocab { names, values };
        new.table.remap(&mut vocab.names, &mut vocab.values);
        let mut noise = noise;
        if let Some(n) = &mut noise {
            n.table.remap(&mut vocab.names, &mut vocab.values);
        }
        let empty = vocab.values.intern("");
        let full = rules(&mut vocab, opts, true);
        let plain = rules(&mut vocab, opts, false);
        let alertname = full.alertname;
        let tol = tolerance_ms(opts);
        let (old_norm, new_norm) = std::thread::scope(|s| {
            let new_norm = s.spawn(|| plain.normalise(&new.table));
            let old_norm = full.normalise(&old.table);
            (
                old_norm,
                new_norm
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e)),
            )
        });
        let old = Side {
            parsed: old,
            norm: old_norm,
        };
        let new = Side {
            parsed: new,
            norm: new_norm,
        };
        phase("normalise");
        let m = match_sides(old.view(), new.view(), alertname, empty, tol);
        // Noise floor: the old system against a second read of itself, no
        // renames (see `NoiseFloor::measure`).
        let noise = noise.map(|second| {
            let first_norm = plain.normalise(old.table());
            let second_norm = plain.normalise(&second.table);
            let first = View {
                table: old.table(),
                norm: first_norm.as_ref(),
            };
            let second = View {
                table: &second.table,
                norm: second_norm.as_ref(),
            };
            let nm = match_sides(first, second, alertname, empty, tol);
            let total = first.len();
            NoiseFloor {
                match_rate: (total > 0).then(|| nm.matched as f64 / total as f64),
                missing: total - nm.matched,
                extra: second.len() - nm.matched,
            }
        });
        Comparison {
            opts,
            plain: Plain::of(&vocab),
            vocab,
            old,
            new,
            m,
            alertname,
            empty,
            noise,
        }
    }

    /// A label name.
    pub(super) fn name(&self, id: u32) -> &str {
        self.vocab.names.get(id)
    }

    /// A label value.
    pub(super) fn value(&self, id: u32) -> &str {
        self.vocab.values.get(id)
    }

    /// Alert name of normalised labels (empty when absent).
    pub(super) fn alertname_of(&self, labels: &[(u32, u32)]) -> u32 {
        labels
            .iter()
            .find(|&&(n, _)| n == self.alertname)
            .map_or(self.empty, |&(_, v)| v)
    }

    /// Display of the key of normalised labels (`AlertKey`'s format).
    pub(super) fn key_string(&self, labels: &[(u32, u32)], out: &mut String) {
        out.clear();
        out.push_str(self.value(self.alertname_of(labels)));
        let mut first = true;
        for &(n, v) in labels {
            if n == self.alertname {
                continue;
            }
            out.push_str(if first { "{" } else { "," });
            first = false;
            out.push_str(self.name(n));
            out.push('=');
            debug_str(self.value(v), out);
        }
        if !first {
            out.push('}');
        }
    }
}

/// A string as `{:?}` shows it (`AlertKey` displays values that way).
pub(super) fn debug_str(v: &str, out: &mut String) {
    if v.bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
    {
        out.push('"');
        out.push_str(v);
        out.push('"');
    } else {
        use std::fmt::Write as _;
        let _ = write!(out, "{v:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_shown_like_debug() {
        for v in [
            "plain",
            "a\"b",
            "back\\slash",
            "tab\t",
            "\u{e9}",
            "\u{300}x",
            "'",
        ] {
            let mut s = String::new();
            debug_str(v, &mut s);
            assert_eq!(s, format!("{v:?}"));
        }
    }
}

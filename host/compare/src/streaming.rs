//! `cutover compare --json` for dumps of any size.
//!
//! The same comparison as [`crate::compare`], on compact data: both dumps
//! are parsed on two threads into [`AlertTable`]s (interned strings, sorted
//! label-id runs, millisecond times), labels are normalised once per alert
//! into a shared vocabulary, match keys are interned, episodes are matched
//! per key in one linear pass, and the report is written as it is produced:
//! its small parts go through serde exactly as [`crate::render_json`] would
//! write them, while the missing/extra/matched lists (the bulk of a large
//! report) are formatted in chunks on worker threads straight from the
//! compact data. Memory is a few dozen bytes per alert instead of a
//! `BTreeMap` per label set; the output is byte-for-byte that of
//! `render_json(&compare(..))` (checked by the crate tests).

use crate::cli::Args;
use crate::error::CompareError;
use crate::matching::{HintKeys, find_hints, greedy, tolerance_ms};
use crate::model::{AlertTable, Interner, hasher};
use crate::options::CompareOptions;
use crate::parse::rfc3339::{DayCache, write_utc_millis_cached};
use crate::parse::{TableParsed, parse_file_table};
use crate::recommend;
use crate::report::{
    Breakdown, InputInfo, Inputs, MatchedAlert, NONE_GROUP, NoiseFloor, REPORT_SCHEMA, Report,
    TimeRange, UnmatchedAlert, Verdict, assess,
};
use crate::stats::DelayStats;
use crate::timefmt::format_millis;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::path::Path;

/// No partner / no key.
const NONE: u32 = u32::MAX;

/// Parse the dumps of `args` (in parallel), compare them and write the
/// report as pretty JSON to `out`, as `render_json` of the full report would.
pub(crate) fn run_json(
    args: &Args,
    opts: &CompareOptions,
    out: &mut dyn Write,
) -> Result<Verdict, CompareError> {
    phase("start");
    let (old, new, noise) = std::thread::scope(|s| {
        let new = s.spawn(|| parse_file_table(&args.new, args.new_format));
        let noise = args
            .noise
            .as_deref()
            .map(|p| s.spawn(move || parse_file_table(p, args.old_format)));
        let old = parse_file_table(&args.old, args.old_format);
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
    let report = cmp.report(&args.old, &args.new);
    phase("report");
    cmp.write_json(&report, out)?;
    phase("write");
    Ok(report.verdict)
}

/// With `CUTOVER_COMPARE_TIMING` set, print the time since the previous
/// phase to stderr (for profiling large comparisons).
fn phase(name: &str) {
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

/// Label names and values of all dumps, interned once.
struct Vocab {
    names: Interner,
    values: Interner,
}

/// Per interned string: whether JSON and `{:?}` show it as is (no escapes).
struct Plain {
    names: Vec<bool>,
    values_json: Vec<bool>,
    values_debug: Vec<bool>,
}

impl Plain {
    fn of(vocab: &Vocab) -> Plain {
        let json = |s: &str| s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\');
        let debug = |s: &str| {
            s.bytes()
                .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
        };
        let all = |i: &Interner, f: &dyn Fn(&str) -> bool| -> Vec<bool> {
            (0..i.len() as u32).map(|id| f(i.get(id))).collect()
        };
        Plain {
            names: all(&vocab.names, &|s| debug(s)),
            values_json: all(&vocab.values, &json),
            values_debug: all(&vocab.values, &debug),
        }
    }
}

/// Each alert's labels after normalisation (renames and ignores), when they
/// differ from the labels as read.
struct Norm {
    pairs: Vec<(u32, u32)>,
    spans: Vec<(u32, u32)>,
}

/// Normalisation rules in vocabulary ids.
struct Rules {
    /// Name id -> new name id (old side only; identity when no rename).
    rename_label: Vec<u32>,
    /// `(from, to)` alert name value ids, first match wins.
    rename_alert: Vec<(u32, u32)>,
    /// `(label, from, to)` ids, applied in order.
    rename_value: Vec<(u32, u32, u32)>,
    /// Name ids to drop.
    ignore: Vec<bool>,
    /// Sort rank of each name id (names in string order).
    rank: Vec<u32>,
    alertname: u32,
    renames: bool,
}

impl Rules {
    /// Whether `labels` can come out different from how they went in.
    fn touches(&self, labels: &[(u32, u32)]) -> bool {
        self.renames
            || labels
                .iter()
                .any(|&(n, _)| self.ignore.get(n as usize).copied().unwrap_or(false))
    }

    /// Normalise one alert's labels into `out`, sorted by name.
    fn apply(&self, labels: &[(u32, u32)], out: &mut Vec<(u32, u32)>) {
        out.clear();
        if self.renames {
            // A BTreeMap insert per label, in the original name order.
            for &(n, v) in labels {
                let n = self.rename_label.get(n as usize).copied().unwrap_or(n);
                match out.iter_mut().find(|(k, _)| *k == n) {
                    Some(slot) => slot.1 = v,
                    None => out.push((n, v)),
                }
            }
            if let Some(slot) = out.iter_mut().find(|(k, _)| *k == self.alertname)
                && let Some(&(_, to)) = self.rename_alert.iter().find(|(from, _)| *from == slot.1)
            {
                slot.1 = to;
            }
            for &(label, from, to) in &self.rename_value {
                if let Some(slot) = out.iter_mut().find(|(k, _)| *k == label)
                    && slot.1 == from
                {
                    slot.1 = to;
                }
            }
        } else {
            out.extend_from_slice(labels);
        }
        out.retain(|&(n, _)| {
            n == self.alertname || !self.ignore.get(n as usize).copied().unwrap_or(false)
        });
        if self.renames {
            out.sort_by_key(|&(n, _)| self.rank.get(n as usize).copied().unwrap_or(u32::MAX));
        }
    }

    /// The normalised labels of a table, or `None` when they are as read.
    fn normalise(&self, table: &AlertTable) -> Option<Norm> {
        if !(0..table.len()).any(|i| self.touches(table.labels(i))) {
            return None;
        }
        let mut norm = Norm {
            pairs: Vec::with_capacity(table.len() * 6),
            spans: Vec::with_capacity(table.len()),
        };
        let mut buf = Vec::new();
        for i in 0..table.len() {
            self.apply(table.labels(i), &mut buf);
            let start = norm.pairs.len() as u32;
            norm.pairs.extend_from_slice(&buf);
            norm.spans.push((start, buf.len() as u32));
        }
        Some(norm)
    }
}

/// One dump in the shared vocabulary, with its normalised labels.
struct Side {
    parsed: TableParsed,
    norm: Option<Norm>,
}

impl Side {
    fn view(&self) -> View<'_> {
        View {
            table: &self.parsed.table,
            norm: self.norm.as_ref(),
        }
    }

    fn len(&self) -> usize {
        self.parsed.table.len()
    }

    fn table(&self) -> &AlertTable {
        &self.parsed.table
    }

    /// Normalised labels of alert `i` (including `alertname`).
    #[inline]
    fn labels(&self, i: usize) -> &[(u32, u32)] {
        self.view().labels(i)
    }
}

/// Alerts with their normalised labels.
#[derive(Clone, Copy)]
struct View<'a> {
    table: &'a AlertTable,
    norm: Option<&'a Norm>,
}

impl<'a> View<'a> {
    fn len(&self) -> usize {
        self.table.len()
    }

    #[inline]
    fn labels(&self, i: usize) -> &'a [(u32, u32)] {
        match self.norm {
            Some(n) => {
                let (s, l) = n.spans[i];
                &n.pairs[s as usize..(s + l) as usize]
            }
            None => self.table.labels(i),
        }
    }
}

/// Result of matching two sides.
struct Matching {
    /// Key id of each alert of side A, then of side B.
    keys_a: Vec<u32>,
    keys_b: Vec<u32>,
    /// Partner in B of each alert of A, or [`NONE`].
    partner: Vec<u32>,
    /// Whether each alert of B has a partner.
    taken: Vec<bool>,
    matched: usize,
    /// A representative `(side is B, alert)` of each key.
    reps: Vec<(bool, u32)>,
}

/// Match key of an alert: its alert name value (or the empty string's id)
/// and its other labels.
fn key_hash(alertname: u32, empty: u32, labels: &[(u32, u32)]) -> u64 {
    let mut h = hasher().build_hasher();
    let mut name = empty;
    for &(n, v) in labels {
        if n == alertname {
            name = v;
        } else {
            h.write_u64(u64::from(n) << 32 | u64::from(v));
        }
    }
    h.write_u32(name);
    h.finish()
}

fn key_eq(alertname: u32, empty: u32, a: &[(u32, u32)], b: &[(u32, u32)]) -> bool {
    let name = |l: &[(u32, u32)]| {
        l.iter()
            .find(|&&(n, _)| n == alertname)
            .map_or(empty, |&(_, v)| v)
    };
    let rest_a = a.iter().filter(|&&(n, _)| n != alertname);
    let rest_b = b.iter().filter(|&&(n, _)| n != alertname);
    name(a) == name(b) && rest_a.eq(rest_b)
}

/// Key hashes of all alerts of a side.
fn key_hashes(v: View<'_>, alertname: u32, empty: u32) -> Vec<u64> {
    (0..v.len())
        .map(|i| key_hash(alertname, empty, v.labels(i)))
        .collect()
}

/// Intern the match keys of both sides and match episodes key by key.
fn match_sides(a: View<'_>, b: View<'_>, alertname: u32, empty: u32, tol: i64) -> Matching {
    let (na, nb) = (a.len(), b.len());
    let side = |is_b: bool| if is_b { b } else { a };
    let (ha, hb) = std::thread::scope(|s| {
        let hb = s.spawn(|| key_hashes(b, alertname, empty));
        let ha = key_hashes(a, alertname, empty);
        (
            ha,
            hb.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
        )
    });
    let (sa, sb) = (a.table.starts(), b.table.starts());
    // Keys are split in two by a hash bit, each half interned on its own
    // thread. Both sides are visited in start order together: an alert's
    // partner was usually seen moments ago, so comparing with it hits the
    // cache.
    const HALF: u64 = 1 << 40;
    let intern = |upper: bool| -> (Vec<(bool, u32)>, Vec<u32>, Vec<u32>) {
        let mut table: hashbrown::HashTable<u32> =
            hashbrown::HashTable::with_capacity((na + nb) / 2 + 16);
        let mut reps: Vec<(bool, u32)> = Vec::new();
        let mut keys_a = vec![NONE; na];
        let mut keys_b = vec![NONE; nb];
        let (mut i, mut j) = (0, 0);
        while i < na || j < nb {
            let is_b = i >= na || (j < nb && sb[j] < sa[i]);
            let (idx, h) = if is_b { (j, hb[j]) } else { (i, ha[i]) };
            if is_b {
                j += 1;
            } else {
                i += 1;
            }
            if (h & HALF != 0) != upper {
                continue;
            }
            let l = side(is_b).labels(idx);
            let found = table.find(h, |&k| {
                let (rb, ri) = reps[k as usize];
                key_eq(alertname, empty, side(rb).labels(ri as usize), l)
            });
            let k = match found {
                Some(&k) => k,
                None => {
                    let k = reps.len() as u32;
                    reps.push((is_b, idx as u32));
                    table.insert_unique(h, k, |&k| {
                        let (rb, ri) = reps[k as usize];
                        if rb { hb[ri as usize] } else { ha[ri as usize] }
                    });
                    k
                }
            };
            if is_b {
                keys_b[idx] = k;
            } else {
                keys_a[idx] = k;
            }
        }
        (reps, keys_a, keys_b)
    };
    let ((mut reps, mut keys_a, mut keys_b), (reps_hi, hi_a, hi_b)) = std::thread::scope(|s| {
        let hi = s.spawn(|| intern(true));
        let lo = intern(false);
        (
            lo,
            hi.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
        )
    });
    let offset = reps.len() as u32;
    reps.extend(reps_hi);
    for (k, hi) in keys_a
        .iter_mut()
        .zip(hi_a)
        .chain(keys_b.iter_mut().zip(hi_b))
    {
        if *k == NONE {
            *k = hi + offset;
        }
    }
    drop((ha, hb));
    // Members of each key in alert order, which is start order.
    let group = |keys: &[u32]| -> (Vec<u32>, Vec<u32>) {
        let mut start = vec![0u32; reps.len() + 1];
        for &k in keys {
            start[k as usize + 1] += 1;
        }
        for k in 0..reps.len() {
            start[k + 1] += start[k];
        }
        let mut fill = start.clone();
        let mut members = vec![0u32; keys.len()];
        for (i, &k) in keys.iter().enumerate() {
            members[fill[k as usize] as usize] = i as u32;
            fill[k as usize] += 1;
        }
        (start, members)
    };
    let (start_a, members_a) = group(&keys_a);
    let (start_b, members_b) = group(&keys_b);
    let mut partner = vec![NONE; na];
    let mut taken = vec![false; nb];
    let mut matched = 0;
    for k in 0..reps.len() {
        let olds = &members_a[start_a[k] as usize..start_a[k + 1] as usize];
        let news = &members_b[start_b[k] as usize..start_b[k + 1] as usize];
        if olds.is_empty() || news.is_empty() {
            continue;
        }
        greedy(
            olds.len(),
            news.len(),
            |x| sa[olds[x] as usize],
            |y| sb[news[y] as usize],
            tol,
            |x, y| {
                partner[olds[x] as usize] = news[y];
                taken[news[y] as usize] = true;
                matched += 1;
            },
        );
    }
    Matching {
        keys_a,
        keys_b,
        partner,
        taken,
        matched,
        reps,
    }
}

/// Build the rules of `opts` over the vocabulary (interning rename targets).
fn rules(vocab: &mut Vocab, opts: &CompareOptions, renames: bool) -> Rules {
    let alertname = vocab.names.intern("alertname");
    let mut rename_alert = Vec::new();
    let mut rename_value = Vec::new();
    let mut label_pairs = Vec::new();
    if renames {
        for (from, to) in &opts.rename_labels {
            label_pairs.push((vocab.names.intern(from), vocab.names.intern(to)));
        }
        for (from, to) in &opts.rename_alerts {
            rename_alert.push((vocab.values.intern(from), vocab.values.intern(to)));
        }
        for (label, from, to) in &opts.rename_values {
            rename_value.push((
                vocab.names.intern(label),
                vocab.values.intern(from),
                vocab.values.intern(to),
            ));
        }
    }
    for l in &opts.ignore_labels {
        vocab.names.intern(l);
    }
    let n = vocab.names.len();
    let mut rename_label: Vec<u32> = (0..n as u32).collect();
    let mut renamed = vec![false; n];
    for (from, to) in label_pairs {
        // The first rename of a name wins.
        if !renamed[from as usize] {
            renamed[from as usize] = true;
            rename_label[from as usize] = to;
        }
    }
    let mut ignore = vec![false; n];
    for l in &opts.ignore_labels {
        if let Some(id) = vocab.names.find(l)
            && id != alertname
        {
            ignore[id as usize] = true;
        }
    }
    let mut by_name: Vec<u32> = (0..n as u32).collect();
    by_name.sort_by(|&x, &y| vocab.names.get(x).cmp(vocab.names.get(y)));
    let mut rank = vec![0u32; n];
    for (r, &id) in by_name.iter().enumerate() {
        rank[id as usize] = r as u32;
    }
    Rules {
        rename_label,
        rename_alert,
        rename_value,
        ignore,
        rank,
        alertname,
        renames: renames
            && !(opts.rename_labels.is_empty()
                && opts.rename_alerts.is_empty()
                && opts.rename_values.is_empty()),
    }
}

/// Everything the report and its lists are made from.
struct Comparison<'o> {
    opts: &'o CompareOptions,
    vocab: Vocab,
    old: Side,
    new: Side,
    m: Matching,
    alertname: u32,
    empty: u32,
    noise: Option<NoiseFloor>,
    plain: Plain,
}

impl<'o> Comparison<'o> {
    fn new(
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

    fn name(&self, id: u32) -> &str {
        self.vocab.names.get(id)
    }

    fn value(&self, id: u32) -> &str {
        self.vocab.values.get(id)
    }

    /// Alert name of normalised labels (empty when absent).
    fn alertname_of(&self, labels: &[(u32, u32)]) -> u32 {
        labels
            .iter()
            .find(|&&(n, _)| n == self.alertname)
            .map_or(self.empty, |&(_, v)| v)
    }

    /// Display of the key of normalised labels (`AlertKey`'s format).
    fn key_string(&self, labels: &[(u32, u32)], out: &mut String) {
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

    /// The key of normalised labels as a JSON string: plain copies when no
    /// part needs escaping (the usual case), else via [`Self::key_string`].
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
        if self.plain.values_json[v as usize] {
            buf.push(b'"');
            buf.extend_from_slice(self.value(v).as_bytes());
            buf.push(b'"');
        } else {
            json_str(buf, self.value(v));
        }
    }

    /// A vocabulary name as a JSON string.
    #[inline]
    fn name_json(&self, n: u32, buf: &mut Vec<u8>) {
        if self.plain.names[n as usize] {
            buf.push(b'"');
            buf.extend_from_slice(self.name(n).as_bytes());
            buf.push(b'"');
        } else {
            json_str(buf, self.name(n));
        }
    }

    /// The report with empty alert lists (they are streamed).
    fn report(&self, old_path: &Path, new_path: &Path) -> Report {
        let (old, new, m, opts) = (&self.old, &self.new, &self.m, self.opts);
        let total_old = old.len();
        let total_new = new.len();
        let matched = m.matched;
        let missing = total_old - matched;
        let extra = total_new - matched;
        let match_rate = (total_old > 0).then(|| matched as f64 / total_old as f64);
        let (so, sn) = (old.table().starts(), new.table().starts());
        let delays: Vec<f64> = m
            .partner
            .iter()
            .enumerate()
            .filter(|&(_, &j)| j != NONE)
            .map(|(i, &j)| sn[j as usize].wrapping_sub(so[i]) as f64 / 1000.0)
            .collect();
        let delay_seconds = DelayStats::from_delays(&delays);
        drop(delays);
        phase("delays");
        let (risk_level, verdict) = assess(total_old, total_new, match_rate, missing, extra, opts);
        let mut names = vec![Some(self.alertname), self.vocab.names.find("severity")];
        if let Some(l) = &opts.breakdown_label {
            names.push(self.vocab.names.find(l));
        }
        let mut groups = self.breakdowns(&names).into_iter();
        let by_alertname = groups.next().unwrap_or_default();
        let by_severity = groups.next().unwrap_or_default();
        let by_label = opts
            .breakdown_label
            .as_ref()
            .map(|_| groups.next().unwrap_or_default());
        phase("breakdowns");
        let mut report = Report {
            schema: REPORT_SCHEMA.to_string(),
            total_old,
            total_new,
            matched,
            missing,
            extra,
            match_rate,
            risk_level,
            verdict,
            delay_seconds,
            recommendations: Vec::new(),
            noise_floor: None,
            inputs: None,
            missing_alerts: Vec::new(),
            extra_alerts: Vec::new(),
            matched_alerts: Vec::new(),
            by_alertname,
            by_severity,
            by_label,
            options: opts.clone(),
            time_range: self.time_range(),
        };
        report.recommendations = self.recommendations(&report);
        let info = |path: &Path, side: &Side| InputInfo {
            origin: path.display().to_string(),
            format: side.parsed.format,
            alerts: side.len(),
            stats: side.parsed.stats.clone(),
        };
        report = report.with_inputs(Inputs {
            old: info(old_path, old),
            new: info(new_path, new),
        });
        if let Some(noise) = &self.noise {
            report = report.with_noise_floor(noise.clone());
        }
        report
    }

    /// Counts grouped by the value of each label of `names` in the
    /// normalised labels (matched pairs and missing alerts by the old side's
    /// value), all in one pass.
    fn breakdowns(&self, names: &[Option<u32>]) -> Vec<BTreeMap<String, Breakdown>> {
        // Per grouping: value id -> slot (dense), slot counts; slot 0 is "absent".
        let nvalues = self.vocab.values.len();
        let mut slot_of: Vec<Vec<u32>> = names.iter().map(|_| vec![NONE; nvalues]).collect();
        let mut slots: Vec<Vec<(u32, Breakdown)>> = names
            .iter()
            .map(|_| vec![(NONE, Breakdown::default())])
            .collect();
        let mut count = |g: usize, labels: &[(u32, u32)], f: &dyn Fn(&mut Breakdown)| {
            let value = names[g]
                .and_then(|n| labels.iter().find(|&&(k, _)| k == n))
                .map(|&(_, v)| v);
            let slot = match value {
                None => 0,
                Some(v) => {
                    let s = &mut slot_of[g][v as usize];
                    if *s == NONE {
                        *s = slots[g].len() as u32;
                        slots[g].push((v, Breakdown::default()));
                    }
                    *s as usize
                }
            };
            f(&mut slots[g][slot].1);
        };
        for i in 0..self.old.len() {
            let labels = self.old.labels(i);
            let matched = self.m.partner[i] != NONE;
            for g in 0..names.len() {
                count(g, labels, &|b| {
                    b.old += 1;
                    if matched {
                        b.matched += 1;
                    } else {
                        b.missing += 1;
                    }
                });
            }
        }
        for j in 0..self.new.len() {
            let labels = self.new.labels(j);
            let extra = !self.m.taken[j];
            for g in 0..names.len() {
                count(g, labels, &|b| {
                    b.new += 1;
                    if extra {
                        b.extra += 1;
                    }
                });
            }
        }
        slots
            .into_iter()
            .map(|slots| {
                let mut out: BTreeMap<String, Breakdown> = BTreeMap::new();
                for (id, b) in slots {
                    if b.old + b.new == 0 {
                        continue;
                    }
                    let name = if id == NONE {
                        NONE_GROUP
                    } else {
                        self.value(id)
                    };
                    let e = out.entry(name.to_string()).or_default();
                    e.old += b.old;
                    e.new += b.new;
                    e.matched += b.matched;
                    e.missing += b.missing;
                    e.extra += b.extra;
                }
                for b in out.values_mut() {
                    b.match_rate = (b.old > 0).then(|| b.matched as f64 / b.old as f64);
                }
                out
            })
            .collect()
    }

    /// Earliest start to latest start or end (`TimeRange::of`).
    fn time_range(&self) -> Option<TimeRange> {
        let sides = [&self.old, &self.new];
        let from = sides
            .iter()
            .filter_map(|s| s.table().starts().first())
            .min()?;
        let mut to = *from;
        for s in sides {
            let t = s.table();
            for i in 0..t.len() {
                to = to.max(t.starts_at(i));
                if let Some(e) = t.ends_at(i) {
                    to = to.max(e);
                }
            }
        }
        Some(TimeRange { from: *from, to })
    }

    /// Distinct keys of the unmatched alerts of a side, in alert order.
    fn unmatched_keys(&self, keys: &[u32], unmatched: impl Fn(usize) -> bool) -> Vec<u32> {
        let mut seen = vec![false; self.m.reps.len()];
        let mut out = Vec::new();
        for (i, &k) in keys.iter().enumerate() {
            if unmatched(i) && !std::mem::replace(&mut seen[k as usize], true) {
                out.push(k);
            }
        }
        out
    }

    fn rep_labels(&self, key: u32) -> &[(u32, u32)] {
        let (is_b, i) = self.m.reps[key as usize];
        if is_b {
            self.new.labels(i as usize)
        } else {
            self.old.labels(i as usize)
        }
    }

    fn recommendations(&self, report: &Report) -> Vec<String> {
        let missing = self.unmatched_keys(&self.m.keys_a, |i| self.m.partner[i] == NONE);
        let extra = self.unmatched_keys(&self.m.keys_b, |j| !self.m.taken[j]);
        // Key strings of each list in one buffer: distinct count and the
        // smallest few, as the recommendation lines show them.
        let key_list = |keys: &[u32], text: &mut String, spans: &mut Vec<(usize, usize)>| {
            let mut s = String::new();
            for &k in keys {
                self.key_string(self.rep_labels(k), &mut s);
                spans.push((text.len(), text.len() + s.len()));
                text.push_str(&s);
            }
        };
        let (mut missing_text, mut missing_spans) = (String::new(), Vec::new());
        let (mut extra_text, mut extra_spans) = (String::new(), Vec::new());
        key_list(&missing, &mut missing_text, &mut missing_spans);
        key_list(&extra, &mut extra_text, &mut extra_spans);
        let missing_list = key_list_of(&missing_text, &missing_spans);
        let extra_list = key_list_of(&extra_text, &extra_spans);
        phase("key strings");
        // Keys as the hint search sees them: alert name and the other labels.
        let mut hk = HintTable::default();
        let mut local: HashMap<u32, u32, _> = HashMap::with_hasher(hasher());
        let mut add = |k: u32, hk: &mut HintTable| -> u32 {
            *local.entry(k).or_insert_with(|| {
                let labels = self.rep_labels(k);
                hk.alertnames.push(self.alertname_of(labels));
                let start = hk.pairs.len() as u32;
                hk.pairs
                    .extend(labels.iter().filter(|&&(n, _)| n != self.alertname));
                hk.spans.push((start, hk.pairs.len() as u32 - start));
                hk.alertnames.len() as u32 - 1
            })
        };
        let missing_local: Vec<u32> = missing.iter().map(|&k| add(k, &mut hk)).collect();
        let extra_local: Vec<u32> = extra.iter().map(|&k| add(k, &mut hk)).collect();
        let hints = find_hints(&hk, &missing_local, &extra_local);
        phase("hints");
        let lines = recommend::hint_lines(
            hints
                .renames
                .iter()
                .map(|&(a, b)| (self.value(a), self.value(b))),
            hints.differing.iter().map(|&n| self.name(n)),
        );
        recommend::recommendations_with(report, &missing_list, &extra_list, lines)
    }
}

/// The [`recommend::KeyList`] of strings `text[a..b]` for each span.
fn key_list_of<'t>(text: &'t str, spans: &[(usize, usize)]) -> recommend::KeyList<'t> {
    use std::collections::HashSet;
    let strings = spans.iter().map(|&(a, b)| text.get(a..b).unwrap_or(""));
    let mut distinct: HashSet<&str, _> = HashSet::with_hasher(hasher());
    distinct.extend(strings.clone());
    // The smallest few, kept sorted.
    let mut first: Vec<&str> = Vec::with_capacity(recommend::LIST_MAX + 1);
    for s in strings {
        if first.len() == recommend::LIST_MAX && first.last().is_some_and(|&l| s >= l) {
            continue;
        }
        if let Err(at) = first.binary_search(&s) {
            first.insert(at, s);
            first.truncate(recommend::LIST_MAX);
        }
    }
    recommend::KeyList {
        first,
        distinct: distinct.len(),
    }
}

/// Keys for [`find_hints`].
#[derive(Default)]
struct HintTable {
    alertnames: Vec<u32>,
    pairs: Vec<(u32, u32)>,
    spans: Vec<(u32, u32)>,
}

impl HintKeys for HintTable {
    fn alertname(&self, key: u32) -> u32 {
        self.alertnames[key as usize]
    }
    fn labels(&self, key: u32) -> &[(u32, u32)] {
        let (s, l) = self.spans[key as usize];
        &self.pairs[s as usize..(s + l) as usize]
    }
}

/// Where a streamed list comes from.
#[derive(Clone, Copy)]
enum List {
    Missing,
    Extra,
    Matched,
}

/// Items formatted per chunk (by one worker thread).
const CHUNK: usize = 4096;

impl Comparison<'_> {
    /// Write `report` as `render_json` writes it, with the three alert
    /// lists streamed from the compact data.
    fn write_json(&self, report: &Report, out: &mut dyn Write) -> Result<(), CompareError> {
        let text = serde_json::to_vec_pretty(report).map_err(CompareError::Serialize)?;
        // Top-level fields are the only lines indented by exactly two spaces
        // (strings cannot hold a raw newline), so the markers are unique.
        let lists: [(&[u8], List); 3] = [
            (b"\n  \"missing_alerts\": []", List::Missing),
            (b"\n  \"extra_alerts\": []", List::Extra),
            (b"\n  \"matched_alerts\": []", List::Matched),
        ];
        let mut at = 0;
        for (marker, list) in lists {
            let pos = text[at..]
                .windows(marker.len())
                .position(|w| w == marker)
                .ok_or_else(|| {
                    CompareError::Output(std::io::Error::other(
                        "report layout unexpected: alert list not found",
                    ))
                })?;
            let open = at + pos + marker.len() - 2;
            out.write_all(&text[at..open])?;
            self.write_list(list, out)?;
            at = open + 2;
        }
        out.write_all(&text[at..])?;
        out.write_all(b"\n")?;
        Ok(())
    }

    fn write_list(&self, list: List, out: &mut dyn Write) -> std::io::Result<()> {
        let m = &self.m;
        let idx: Vec<u32> = match list {
            List::Missing | List::Matched => {
                let want_matched = matches!(list, List::Matched);
                (0..self.old.len() as u32)
                    .filter(|&i| (m.partner[i as usize] != NONE) == want_matched)
                    .collect()
            }
            List::Extra => (0..self.new.len() as u32)
                .filter(|&j| !m.taken[j as usize])
                .collect(),
        };
        if idx.is_empty() {
            return out.write_all(b"[]");
        }
        out.write_all(b"[")?;
        let item = |k: usize, buf: &mut Vec<u8>, s: &mut Scratch| {
            buf.extend_from_slice(if k == 0 { b"\n    " } else { b",\n    " });
            let i = idx[k] as usize;
            match list {
                List::Missing => self.write_unmatched(&self.old, i, buf, s),
                List::Extra => self.write_unmatched(&self.new, i, buf, s),
                List::Matched => self.write_matched(i, m.partner[i] as usize, buf, s),
            }
        };
        write_chunks(idx.len(), out, &item)?;
        out.write_all(b"\n  ]")
    }

    /// One `UnmatchedAlert`, as serde_json's pretty printer writes it.
    fn write_unmatched(&self, side: &Side, i: usize, buf: &mut Vec<u8>, s: &mut Scratch) {
        let labels = side.labels(i);
        let t = side.table();
        buf.extend_from_slice(b"{\n      \"key\": ");
        self.key_json(labels, buf, &mut s.text);
        buf.extend_from_slice(b",\n      \"alertname\": ");
        self.value_json(self.alertname_of(labels), buf);
        buf.extend_from_slice(b",\n      \"labels\": ");
        self.labels_json(t.labels(i), buf);
        buf.extend_from_slice(b",\n      \"starts_at\": ");
        json_time(buf, Some(t.starts_at(i)), &mut s.days);
        buf.extend_from_slice(b",\n      \"ends_at\": ");
        json_time(buf, t.ends_at(i), &mut s.days);
        buf.extend_from_slice(b",\n      \"fingerprint\": ");
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
        buf.extend_from_slice(b"\n    }");
    }

    /// One `MatchedAlert`, as serde_json's pretty printer writes it.
    fn write_matched(&self, i: usize, j: usize, buf: &mut Vec<u8>, s: &mut Scratch) {
        let labels = self.old.labels(i);
        let (to, tn) = (self.old.table(), self.new.table());
        buf.extend_from_slice(b"{\n      \"key\": ");
        self.key_json(labels, buf, &mut s.text);
        buf.extend_from_slice(b",\n      \"alertname\": ");
        self.value_json(self.alertname_of(labels), buf);
        buf.extend_from_slice(b",\n      \"labels\": ");
        self.labels_json(labels, buf);
        buf.extend_from_slice(b",\n      \"starts_at\": ");
        json_time(buf, Some(to.starts_at(i)), &mut s.days);
        buf.extend_from_slice(b",\n      \"new_starts_at\": ");
        json_time(buf, Some(tn.starts_at(j)), &mut s.days);
        buf.extend_from_slice(b",\n      \"delay_seconds\": ");
        let delay = tn.starts_at(j).wrapping_sub(to.starts_at(i)) as f64 / 1000.0;
        json_f64(buf, delay);
        buf.extend_from_slice(b",\n      \"ends_at\": ");
        json_time(buf, to.ends_at(i), &mut s.days);
        buf.extend_from_slice(b",\n      \"new_ends_at\": ");
        json_time(buf, tn.ends_at(j), &mut s.days);
        buf.extend_from_slice(b"\n    }");
    }

    /// A label map at the depth of an alert's fields.
    fn labels_json(&self, labels: &[(u32, u32)], buf: &mut Vec<u8>) {
        if labels.is_empty() {
            buf.extend_from_slice(b"{}");
            return;
        }
        buf.push(b'{');
        for (k, &(n, v)) in labels.iter().enumerate() {
            buf.extend_from_slice(if k == 0 {
                b"\n        "
            } else {
                b",\n        "
            });
            self.name_json(n, buf);
            buf.extend_from_slice(b": ");
            self.value_json(v, buf);
        }
        buf.extend_from_slice(b"\n      }");
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

/// Format items `0..n` in chunks on worker threads (one chunk each in turn,
/// so the output is written in order with two chunks in flight per worker).
fn write_chunks(
    n: usize,
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
        let (mut buf, mut s) = (Vec::new(), Scratch::default());
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
                let mut s = Scratch::default();
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
    while let Some(i) = crate::parse::scan::find_special(b, start) {
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

/// Per-worker scratch space of the list writers.
#[derive(Default)]
struct Scratch {
    text: String,
    days: DayCache,
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

/// A string as `{:?}` shows it (`AlertKey` displays values that way).
fn debug_str(v: &str, out: &mut String) {
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

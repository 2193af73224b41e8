//! The two sides of a streaming comparison and their matching: match keys
//! interned across both sides, then episodes matched key by key in one
//! linear pass.

use crate::matching::greedy;
use crate::model::{AlertTable, hasher};
use crate::parse::TableParsed;
use crate::streaming::vocab::Norm;
use std::hash::{BuildHasher, Hasher};

/// No partner / no key.
pub(super) const NONE: u32 = u32::MAX;

/// One dump in the shared vocabulary, with its normalised labels.
pub(super) struct Side {
    pub(super) parsed: TableParsed,
    pub(super) norm: Option<Norm>,
}

impl Side {
    pub(super) fn view(&self) -> View<'_> {
        View {
            table: &self.parsed.table,
            norm: self.norm.as_ref(),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.parsed.table.len()
    }

    pub(super) fn table(&self) -> &AlertTable {
        &self.parsed.table
    }

    /// Normalised labels of alert `i` (including `alertname`).
    #[inline]
    pub(super) fn labels(&self, i: usize) -> &[(u32, u32)] {
        self.view().labels(i)
    }
}

/// Alerts with their normalised labels.
#[derive(Clone, Copy)]
pub(super) struct View<'a> {
    pub(super) table: &'a AlertTable,
    pub(super) norm: Option<&'a Norm>,
}

impl<'a> View<'a> {
    pub(super) fn len(&self) -> usize {
        self.table.len()
    }

    #[inline]
    pub(super) fn labels(&self, i: usize) -> &'a [(u32, u32)] {
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
pub(super) struct Matching {
    /// Key id of each alert of side A, then of side B.
    pub(super) keys_a: Vec<u32>,
    pub(super) keys_b: Vec<u32>,
    /// Partner in B of each alert of A, or [`NONE`].
    pub(super) partner: Vec<u32>,
    /// Whether each alert of B has a partner.
    pub(super) taken: Vec<bool>,
    pub(super) matched: usize,
    /// A representative `(side is B, alert)` of each key.
    pub(super) reps: Vec<(bool, u32)>,
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
pub(super) fn match_sides(
    a: View<'_>,
    b: View<'_>,
    alertname: u32,
    empty: u32,
    tol: i64,
) -> Matching {
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

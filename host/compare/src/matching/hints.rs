//! The rename and ignore-label hints of the recommendations: which missing
//! and extra keys look alike (same labels under another name, or the same
//! name with one label different).

use crate::model::hasher;

/// Match keys as the hint search sees them: an alert name and the other
/// labels, both as ids (any consistent interning). Distinct key ids must name
/// distinct keys, and every key's labels must be in one common name order.
pub(crate) trait HintKeys {
    /// Id of the key's alert name.
    fn alertname(&self, key: u32) -> u32;
    /// `(name, value)` ids of the key's other labels, each name once.
    fn labels(&self, key: u32) -> &[(u32, u32)];
}

/// What the recommendations suggest when missing and extra alerts look alike.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Hints {
    /// `(old alertname, new alertname)` of missing/extra keys with the same
    /// labels and different names.
    pub(crate) renames: Vec<(u32, u32)>,
    /// Label names that differ between a missing key and its closest extra
    /// key of the same name.
    pub(crate) differing: Vec<u32>,
}

/// Labels that differ between two label sets: present in `a` with another
/// (or no) value in `b`, or present only in `b`.
fn label_diff(a: &[(u32, u32)], b: &[(u32, u32)], out: &mut Vec<u32>, limit: usize) {
    out.clear();
    for &(k, v) in a {
        if !b.iter().any(|&(k2, v2)| k2 == k && v2 == v) {
            out.push(k);
            if out.len() >= limit {
                return;
            }
        }
    }
    for &(k, _) in b {
        if !a.iter().any(|&(k2, _)| k2 == k) {
            out.push(k);
            if out.len() >= limit {
                return;
            }
        }
    }
}

fn hash_key(tag: u64, alertname: Option<u32>, pairs: impl Iterator<Item = (u32, u32)>) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = hasher().build_hasher();
    h.write_u64(tag);
    if let Some(a) = alertname {
        h.write_u32(a);
    }
    for (k, v) in pairs {
        h.write_u64(u64::from(k) << 32 | u64::from(v));
    }
    h.finish()
}

const WILD: u32 = u32::MAX;

/// The rename and differing-label hints for distinct missing keys and
/// distinct extra keys (each in order of first occurrence), exactly as a scan
/// of every missing/extra pair finds them: for each missing key, the first
/// extra key of the same name with the fewest differing labels.
///
/// Instead of comparing every pair, keys with no difference (the same key)
/// or one difference (one value changed, one label added, one removed) are
/// found through hash indexes; only keys whose closest partner differs in two
/// labels or more scan the extra keys of their name, stopping at the first
/// with two differences.
pub(crate) fn find_hints(keys: &(impl HintKeys + Sync), missing: &[u32], extra: &[u32]) -> Hints {
    use std::collections::{BTreeSet, HashMap, HashSet};
    let mut hints = Hints::default();
    if missing.is_empty() || extra.is_empty() {
        return hints;
    }
    // Two threads for large inputs: index entries, then the queries.
    let parallel = missing.len() + extra.len() > 20_000;
    let labels_of = |k: u32| keys.labels(k);
    // Index entries of extra keys `first..` (ordinal = position in `extra`).
    let entries = |first: usize, part: &[u32]| -> Vec<(u64, u32)> {
        let mut index = Vec::with_capacity(part.len() * 14);
        for (k, &e) in part.iter().enumerate() {
            let ord = (first + k) as u32;
            let a = keys.alertname(e);
            let l = labels_of(e);
            // Same labels, any name (renames).
            index.push((hash_key(0, None, l.iter().copied()), ord));
            // Same name and labels (a missing key with one label more).
            index.push((hash_key(1, Some(a), l.iter().copied()), ord));
            for p in 0..l.len() {
                // One value changed.
                let wild = l
                    .iter()
                    .enumerate()
                    .map(|(i, &(k, v))| (k, if i == p { WILD } else { v }));
                index.push((hash_key(2, Some(a), wild), ord));
                // One label more than the missing key.
                let less = l
                    .iter()
                    .enumerate()
                    .filter(|&(i, _)| i != p)
                    .map(|(_, &kv)| kv);
                index.push((hash_key(1, Some(a), less), ord));
            }
        }
        index
    };
    let halves = |n: usize| if parallel { n / 2 } else { n };
    // A multimap per half of the extra keys: every entry under its own
    // hash. Each half is indexed on its own thread; a lookup reads both.
    let table_of = |first: usize, part: &[u32]| {
        let index = entries(first, part);
        let mut table: hashbrown::HashTable<(u64, u32)> =
            hashbrown::HashTable::with_capacity(index.len());
        for (h, ord) in index {
            table.insert_unique(h, (h, ord), |&(h, _)| h);
        }
        table
    };
    let ((table, by_name, extra_set), table_hi) = std::thread::scope(|s| {
        let mid = halves(extra.len());
        let table_of = &table_of;
        let hi = s.spawn(move || table_of(mid, &extra[mid..]));
        let lo = table_of(0, &extra[..mid]);
        // Extra keys by name, in order, and as a set.
        let mut by_name: HashMap<u32, Vec<u32>, _> = HashMap::with_hasher(hasher());
        for (ord, &e) in extra.iter().enumerate() {
            by_name
                .entry(keys.alertname(e))
                .or_default()
                .push(ord as u32);
        }
        let mut extra_set: HashSet<u32, _> = HashSet::with_hasher(hasher());
        extra_set.extend(extra.iter().copied());
        (
            (lo, by_name, extra_set),
            hi.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
        )
    });
    // Ordinals from both halves; the callers sort candidates by ordinal,
    // so the order of the two tables does not matter.
    let lookup = |h: u64| {
        table
            .iter_hash(h)
            .chain(table_hi.iter_hash(h))
            .filter(move |&&(x, _)| x == h)
            .map(|&(_, o)| o)
    };
    let query = |part: &[u32]| -> (BTreeSet<(u32, u32)>, BTreeSet<u32>) {
        let mut renames = BTreeSet::new();
        let mut differing = BTreeSet::new();
        let mut diff = Vec::new();
        let mut best_diff = Vec::new();
        let mut candidates: Vec<u32> = Vec::new();
        for &m in part {
            let a = keys.alertname(m);
            let l = labels_of(m);
            for ord in lookup(hash_key(0, None, l.iter().copied())) {
                let e = extra[ord as usize];
                if keys.alertname(e) != a && labels_of(e) == l {
                    renames.insert((a, keys.alertname(e)));
                }
            }
            if extra_set.contains(&m) {
                // The same key is extra (outside the tolerance): no difference.
                continue;
            }
            // Closest partner with one difference, if any: the first in
            // order. Candidates come from the indexes; the earliest that
            // really differs in one label (hashes may collide) wins.
            candidates.clear();
            candidates.extend(lookup(hash_key(1, Some(a), l.iter().copied())));
            for p in 0..l.len() {
                let wild = l
                    .iter()
                    .enumerate()
                    .map(|(i, &(k, v))| (k, if i == p { WILD } else { v }));
                candidates.extend(lookup(hash_key(2, Some(a), wild)));
                let less = l
                    .iter()
                    .enumerate()
                    .filter(|&(i, _)| i != p)
                    .map(|(_, &kv)| kv);
                candidates.extend(lookup(hash_key(1, Some(a), less)));
            }
            candidates.sort_unstable();
            candidates.dedup();
            let mut best: Option<u32> = None;
            for &ord in &candidates {
                let e = extra[ord as usize];
                if keys.alertname(e) != a {
                    continue;
                }
                label_diff(l, labels_of(e), &mut diff, 2);
                if diff.len() == 1 {
                    best = Some(diff[0]);
                    break;
                }
            }
            if let Some(name) = best {
                differing.insert(name);
                continue;
            }
            // Two differences or more: the first extra key of the name with
            // the fewest (two is the least possible now).
            let Some(same_name) = by_name.get(&a) else {
                continue;
            };
            let mut best_len = usize::MAX;
            for &ord in same_name {
                label_diff(l, labels_of(extra[ord as usize]), &mut diff, best_len);
                if diff.len() < best_len {
                    best_len = diff.len();
                    std::mem::swap(&mut best_diff, &mut diff);
                    if best_len <= 2 {
                        break;
                    }
                }
            }
            if best_len != usize::MAX {
                differing.extend(best_diff.iter().copied());
            }
        }
        (renames, differing)
    };
    let ((mut renames, mut differing), (renames_hi, differing_hi)) = std::thread::scope(|s| {
        let mid = halves(missing.len());
        let query = &query;
        let hi = s.spawn(move || query(&missing[mid..]));
        let lo = query(&missing[..mid]);
        (
            lo,
            hi.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
        )
    });
    renames.extend(renames_hi);
    differing.extend(differing_hi);
    hints.renames = renames.into_iter().collect();
    hints.differing = differing.into_iter().collect();
    hints
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A small deterministic generator for the property tests.
    pub(in crate::matching) struct Lcg(pub(in crate::matching) u64);
    impl Lcg {
        pub(in crate::matching) fn below(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 33) % n
        }
    }

    struct Keys(Vec<(u32, Vec<(u32, u32)>)>);
    impl HintKeys for Keys {
        fn alertname(&self, key: u32) -> u32 {
            self.0[key as usize].0
        }
        fn labels(&self, key: u32) -> &[(u32, u32)] {
            &self.0[key as usize].1
        }
    }

    /// The hint search as first written: every missing/extra pair.
    fn hints_by_scan(keys: &Keys, missing: &[u32], extra: &[u32]) -> Hints {
        use std::collections::BTreeSet;
        let mut renames = BTreeSet::new();
        let mut differing = BTreeSet::new();
        for &m in missing {
            let (a, l) = &keys.0[m as usize];
            let mut best: Option<Vec<u32>> = None;
            for &e in extra {
                let (b, le) = &keys.0[e as usize];
                if a != b {
                    if l == le {
                        renames.insert((*a, *b));
                    }
                    continue;
                }
                let mut diff = Vec::new();
                label_diff(l, le, &mut diff, usize::MAX);
                if best.as_ref().is_none_or(|b| diff.len() < b.len()) {
                    best = Some(diff);
                }
            }
            differing.extend(best.unwrap_or_default());
        }
        Hints {
            renames: renames.into_iter().collect(),
            differing: differing.into_iter().collect(),
        }
    }

    #[test]
    fn indexed_hints_equal_the_pairwise_scan() {
        let mut rng = Lcg(11);
        for _ in 0..3000 {
            // Few names and values, so that equal, one-off and far keys abound.
            let nkeys = 1 + rng.below(12) as usize;
            let mut keys = Keys(Vec::new());
            for _ in 0..nkeys {
                let mut labels: Vec<(u32, u32)> = Vec::new();
                for name in 0..4u32 {
                    if rng.below(3) > 0 {
                        labels.push((name, rng.below(3) as u32));
                    }
                }
                let key = (rng.below(3) as u32, labels);
                // Key ids name distinct keys.
                if !keys.0.contains(&key) {
                    keys.0.push(key);
                }
            }
            let nkeys = keys.0.len();
            let pick = |rng: &mut Lcg| -> Vec<u32> {
                let mut v: Vec<u32> = (0..nkeys as u32).filter(|_| rng.below(2) == 0).collect();
                // Any order of first occurrence.
                for i in (1..v.len()).rev() {
                    v.swap(i, rng.below(i as u64 + 1) as usize);
                }
                v
            };
            let (missing, extra) = (pick(&mut rng), pick(&mut rng));
            assert_eq!(
                find_hints(&keys, &missing, &extra),
                hints_by_scan(&keys, &missing, &extra),
                "keys {:?} missing {missing:?} extra {extra:?}",
                keys.0
            );
        }
    }
}

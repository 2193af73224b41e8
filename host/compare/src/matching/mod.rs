//! Label normalisation, match keys and greedy episode matching.

pub(crate) mod hints;

use crate::model::Alert;
use crate::options::CompareOptions;
use serde::Serialize;
use std::collections::BTreeMap;

/// Match key: alertname plus the normalised labels (without `alertname`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct AlertKey {
    /// Alert name in the new system's vocabulary.
    pub alertname: String,
    /// Remaining labels after renames and ignores.
    pub labels: BTreeMap<String, String>,
}

impl std::fmt::Display for AlertKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.alertname)?;
        if !self.labels.is_empty() {
            f.write_str("{")?;
            for (i, (k, v)) in self.labels.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                write!(f, "{k}={v:?}")?;
            }
            f.write_str("}")?;
        }
        Ok(())
    }
}

/// Applies [`CompareOptions`] renames and ignores to label sets.
#[derive(Debug, Clone, Copy)]
pub struct Normalizer<'a> {
    opts: &'a CompareOptions,
}

impl<'a> Normalizer<'a> {
    /// Wrap options.
    pub fn new(opts: &'a CompareOptions) -> Self {
        Normalizer { opts }
    }

    /// Labels of an OLD-system alert in the new vocabulary (renames applied,
    /// ignored labels dropped). `alertname` is kept.
    pub fn old_labels(&self, labels: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for (k, v) in labels {
            let name = self
                .opts
                .rename_labels
                .iter()
                .find(|(from, _)| from == k)
                .map(|(_, to)| to.clone())
                .unwrap_or_else(|| k.clone());
            out.insert(name, v.clone());
        }
        if let Some(name) = out.get_mut("alertname")
            && let Some((_, to)) = self
                .opts
                .rename_alerts
                .iter()
                .find(|(from, _)| from == name)
        {
            *name = to.clone();
        }
        for (label, from, to) in &self.opts.rename_values {
            if let Some(v) = out.get_mut(label)
                && v == from
            {
                *v = to.clone();
            }
        }
        self.drop_ignored(out)
    }

    /// Labels of a NEW-system alert with ignored labels dropped.
    pub fn new_labels(&self, labels: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        self.drop_ignored(labels.clone())
    }

    fn drop_ignored(&self, mut labels: BTreeMap<String, String>) -> BTreeMap<String, String> {
        for l in &self.opts.ignore_labels {
            if l != "alertname" {
                labels.remove(l);
            }
        }
        labels
    }

    /// Key of normalised labels.
    pub fn key(normalised: &BTreeMap<String, String>) -> AlertKey {
        let mut labels = normalised.clone();
        let alertname = labels.remove("alertname").unwrap_or_default();
        AlertKey { alertname, labels }
    }
}

/// Which alerts matched, were missing from NEW, or were extra in NEW.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatchOutcome {
    /// `(old index, new index)` pairs, in old start-time order.
    pub pairs: Vec<(usize, usize)>,
    /// Indices of old alerts without a partner.
    pub missing: Vec<usize>,
    /// Indices of new alerts without a partner.
    pub extra: Vec<usize>,
    /// Normalised labels (incl. alertname) of each old alert.
    pub old_labels: Vec<BTreeMap<String, String>>,
    /// Normalised labels (incl. alertname) of each new alert.
    pub new_labels: Vec<BTreeMap<String, String>>,
    /// Key of each old alert.
    pub old_keys: Vec<AlertKey>,
    /// Key of each new alert.
    pub new_keys: Vec<AlertKey>,
}

/// Match episodes greedily in time order: each old episode (earliest first)
/// takes the earliest unmatched new episode with the same key whose start is
/// within `opts.tolerance` (inclusive) of its own.
pub fn match_alerts(old: &[Alert], new: &[Alert], opts: &CompareOptions) -> MatchOutcome {
    let norm = Normalizer::new(opts);
    let old_labels: Vec<_> = old.iter().map(|a| norm.old_labels(&a.labels)).collect();
    let new_labels: Vec<_> = new.iter().map(|a| norm.new_labels(&a.labels)).collect();
    let old_keys: Vec<_> = old_labels.iter().map(Normalizer::key).collect();
    let new_keys: Vec<_> = new_labels.iter().map(Normalizer::key).collect();

    let mut groups: BTreeMap<&AlertKey, (Vec<usize>, Vec<usize>)> = BTreeMap::new();
    for (i, k) in old_keys.iter().enumerate() {
        groups.entry(k).or_default().0.push(i);
    }
    for (j, k) in new_keys.iter().enumerate() {
        groups.entry(k).or_default().1.push(j);
    }
    let tol = tolerance_ms(opts);
    let mut pairs = Vec::new();
    let mut missing = Vec::new();
    let mut extra = Vec::new();
    for (_, (mut olds, mut news)) in groups {
        olds.sort_by_key(|&i| (old[i].starts_at, i));
        news.sort_by_key(|&j| (new[j].starts_at, j));
        let mut taken = vec![false; news.len()];
        let mut partner = vec![None; olds.len()];
        greedy(
            olds.len(),
            news.len(),
            |a| old[olds[a]].starts_at,
            |b| new[news[b]].starts_at,
            tol,
            |a, b| partner[a] = Some(b),
        );
        for (&i, p) in olds.iter().zip(partner) {
            match p {
                Some(n) => {
                    taken[n] = true;
                    pairs.push((i, news[n]));
                }
                None => missing.push(i),
            }
        }
        extra.extend(
            news.iter()
                .zip(&taken)
                .filter(|(_, t)| !**t)
                .map(|(j, _)| *j),
        );
    }
    pairs.sort_by_key(|&(i, j)| (old[i].starts_at, i, j));
    missing.sort_by_key(|&i| (old[i].starts_at, i));
    extra.sort_by_key(|&j| (new[j].starts_at, j));
    MatchOutcome {
        pairs,
        missing,
        extra,
        old_labels,
        new_labels,
        old_keys,
        new_keys,
    }
}

/// The tolerance in milliseconds (saturating).
pub(crate) fn tolerance_ms(opts: &CompareOptions) -> i64 {
    i64::try_from(opts.tolerance.as_millis()).unwrap_or(i64::MAX)
}

/// Whether a new start `n` is within `tol` of an old start `s`.
#[inline]
fn within(n: i64, s: i64, tol: i64) -> bool {
    n.saturating_sub(s).saturating_abs() <= tol
}

/// Greedy matching of the episodes of one key, in time order: each old
/// episode (earliest first) takes the earliest unmatched new episode whose
/// start is within `tol` (inclusive) of its own. Starts must be ascending
/// (ties in input order). Calls `matched(old, new)` for each pair.
///
/// Linear: a new episode too early for one old episode is too early for all
/// later ones, and everything taken lies before the first candidate, so one
/// cursor over the new episodes finds what a scan from the start would.
#[inline]
pub(crate) fn greedy(
    n_old: usize,
    n_new: usize,
    old_start: impl Fn(usize) -> i64,
    new_start: impl Fn(usize) -> i64,
    tol: i64,
    mut matched: impl FnMut(usize, usize),
) {
    let mut p = 0;
    for a in 0..n_old {
        let s = old_start(a);
        while p < n_new {
            let n = new_start(p);
            if n < s && !within(n, s, tol) {
                p += 1;
            } else {
                break;
            }
        }
        if p < n_new && within(new_start(p), s, tol) {
            matched(a, p);
            p += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::hints::tests::Lcg;
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn renames_then_ignores_on_old_side_only() {
        let opts = CompareOptions {
            ignore_labels: vec!["instance".into()],
            rename_alerts: vec![("ServiceDown".into(), "InstanceDown".into())],
            rename_labels: vec![("svc".into(), "service".into())],
            rename_values: vec![("severity".into(), "crit".into(), "critical".into())],
            ..CompareOptions::default()
        };
        let n = Normalizer::new(&opts);
        let old = n.old_labels(&labels(&[
            ("alertname", "ServiceDown"),
            ("svc", "api"),
            ("severity", "crit"),
            ("instance", "a:9100"),
        ]));
        assert_eq!(
            old,
            labels(&[
                ("alertname", "InstanceDown"),
                ("service", "api"),
                ("severity", "critical")
            ])
        );
        // New side: no renames, only ignores.
        let new = n.new_labels(&labels(&[("alertname", "ServiceDown"), ("svc", "x")]));
        assert_eq!(new, labels(&[("alertname", "ServiceDown"), ("svc", "x")]));
        let key = Normalizer::key(&old);
        assert_eq!(
            key.to_string(),
            "InstanceDown{service=\"api\",severity=\"critical\"}"
        );
    }

    #[test]
    fn greedy_equals_the_scan_from_the_start() {
        let mut rng = Lcg(7);
        for round in 0..2000 {
            let tol = rng.below(5) as i64 * 10;
            let mut olds: Vec<i64> = (0..rng.below(8)).map(|_| rng.below(100) as i64).collect();
            let mut news: Vec<i64> = (0..rng.below(8)).map(|_| rng.below(100) as i64).collect();
            if round % 50 == 0 {
                olds.push(i64::MAX - rng.below(3) as i64);
                news.push(i64::MIN + rng.below(3) as i64);
            }
            olds.sort();
            news.sort();
            // The original: each old takes the first untaken new in tolerance.
            let mut taken = vec![false; news.len()];
            let mut want = Vec::new();
            for (a, &s) in olds.iter().enumerate() {
                if let Some(b) = (0..news.len()).find(|&b| !taken[b] && within(news[b], s, tol)) {
                    taken[b] = true;
                    want.push((a, b));
                }
            }
            let mut got = Vec::new();
            greedy(
                olds.len(),
                news.len(),
                |a| olds[a],
                |b| news[b],
                tol,
                |a, b| got.push((a, b)),
            );
            assert_eq!(got, want, "olds {olds:?} news {news:?} tol {tol}");
        }
    }
}

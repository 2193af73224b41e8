//! Delay statistics: percentiles, mean and a cumulative histogram.

use serde::{Serialize, Serializer};

/// Upper bounds (seconds) of the delay histogram buckets, before `+Inf`.
pub const BUCKETS: [f64; 9] = [0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0];

/// Upper bound of a histogram bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Le {
    /// Finite bound in seconds.
    Finite(f64),
    /// `+Inf`, serialised as the string `"+Inf"`.
    Inf,
}

impl Serialize for Le {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Le::Finite(v) => s.serialize_f64(*v),
            Le::Inf => s.serialize_str("+Inf"),
        }
    }
}

/// One cumulative bucket: how many delays are `<= le` (Prometheus semantics;
/// negative delays fall in every bucket).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistogramBucket {
    /// Upper bound.
    pub le: Le,
    /// Cumulative count.
    pub count: usize,
}

/// Statistics over `new.starts_at - old.starts_at` (seconds) of matched pairs.
/// Interpolated values (p50, p95, mean) are rounded to the millisecond.
/// All values are `None` when nothing matched.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DelayStats {
    /// Number of delays.
    pub count: usize,
    /// Median (linear interpolation between closest ranks).
    pub p50: Option<f64>,
    /// 95th percentile (linear interpolation between closest ranks).
    pub p95: Option<f64>,
    /// Largest delay.
    pub max: Option<f64>,
    /// Smallest delay (negative when NEW fired first).
    pub min: Option<f64>,
    /// Arithmetic mean.
    pub mean: Option<f64>,
    /// Cumulative histogram.
    pub histogram: Vec<HistogramBucket>,
}

impl DelayStats {
    /// Compute statistics over delays in seconds.
    pub fn from_delays(delays: &[f64]) -> DelayStats {
        let mut sorted: Vec<f64> = delays.iter().copied().filter(|d| d.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let mut histogram: Vec<HistogramBucket> = BUCKETS
            .iter()
            .map(|&le| HistogramBucket {
                le: Le::Finite(le),
                count: sorted.iter().filter(|&&d| d <= le).count(),
            })
            .collect();
        histogram.push(HistogramBucket {
            le: Le::Inf,
            count: n,
        });
        DelayStats {
            count: n,
            p50: percentile(&sorted, 0.50).map(round_ms),
            p95: percentile(&sorted, 0.95).map(round_ms),
            max: sorted.last().copied(),
            min: sorted.first().copied(),
            mean: (n > 0).then(|| round_ms(sorted.iter().sum::<f64>() / n as f64)),
            histogram,
        }
    }
}

/// Round seconds to millisecond precision (inputs are whole milliseconds).
fn round_ms(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// Percentile `q` (0..=1) of sorted values with linear interpolation between
/// closest ranks (rank = q * (n - 1)); `None` when empty.
pub fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let rank = q.clamp(0.0, 1.0) * last as f64;
    let lo = rank.floor() as usize;
    let hi = rank.ceil() as usize;
    let (a, b) = (*sorted.get(lo)?, *sorted.get(hi)?);
    Some(a + (b - a) * (rank - lo as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_interpolates() {
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[4.0], 0.95), Some(4.0));
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 0.5), Some(2.5));
        // rank = 0.95 * 4 = 3.8 -> 4 + 0.8 * (10 - 4)
        let p = percentile(&[0.0, 1.0, 2.0, 4.0, 10.0], 0.95).unwrap_or(f64::NAN);
        assert!((p - 8.8).abs() < 1e-9, "{p}");
    }

    #[test]
    fn histogram_is_cumulative() {
        let s = DelayStats::from_delays(&[-1.0, 0.4, 0.7, 3.0, 500.0]);
        let counts: Vec<usize> = s.histogram.iter().map(|b| b.count).collect();
        assert_eq!(counts, vec![2, 3, 3, 4, 4, 4, 4, 4, 4, 5]);
        assert_eq!(s.min, Some(-1.0));
        assert_eq!(s.max, Some(500.0));
    }
}

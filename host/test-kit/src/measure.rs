//! Measurements benches share: the process's peak resident set and the
//! median wall time of a repeated call.

use std::time::Instant;

/// Peak resident set of this process so far, in bytes (`VmHWM` of
/// `/proc/self/status`); `None` where there is no such file (not Linux).
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse::<u64>()
        .ok()?;
    Some(kib * 1024)
}

/// What [`time_runs`] measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Timed<T> {
    /// Median wall time of one call, in milliseconds.
    pub median_ms: f64,
    /// Fastest call, in milliseconds.
    pub min_ms: f64,
    /// Slowest call, in milliseconds.
    pub max_ms: f64,
    /// What the last call returned.
    pub last: T,
}

/// Calls `f` `runs` times (at least once) and times each call.
pub fn time_runs<T>(runs: usize, mut f: impl FnMut() -> T) -> Timed<T> {
    let mut timed = || {
        let t0 = Instant::now();
        let v = f();
        (t0.elapsed().as_secs_f64() * 1000.0, v)
    };
    let (first, mut last) = timed();
    let mut ms = vec![first];
    for _ in 1..runs {
        let (t, v) = timed();
        ms.push(t);
        last = v;
    }
    ms.sort_by(f64::total_cmp);
    Timed {
        median_ms: ms[ms.len() / 2],
        min_ms: ms[0],
        max_ms: ms[ms.len() - 1],
        last,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_rss_grows_with_a_touched_allocation() {
        let before = peak_rss_bytes().expect("VmHWM on Linux");
        let big = vec![1u8; 64 << 20];
        let after = peak_rss_bytes().expect("VmHWM on Linux");
        assert!(big.iter().all(|&b| b == 1));
        assert!(after >= before + (60 << 20), "{before} -> {after}");
    }

    #[test]
    fn time_runs_orders_its_figures_and_keeps_the_last_value() {
        let mut n = 0;
        let t = time_runs(5, || {
            n += 1;
            std::thread::sleep(std::time::Duration::from_millis(n));
            n
        });
        assert_eq!(t.last, 5);
        assert!(t.min_ms >= 1.0 && t.min_ms <= t.median_ms && t.median_ms <= t.max_ms);
        assert!(t.max_ms >= 5.0, "{t:?}");
        assert_eq!(time_runs(0, || 7).last, 7, "runs at least once");
    }
}

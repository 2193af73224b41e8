//! UTC timestamps and time-sortable ids without a date library.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest as _, Sha256};

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

struct Parts {
    y: i64,
    mo: u32,
    d: u32,
    h: i64,
    mi: i64,
    s: i64,
    ms: i64,
}

fn parts(ms: i64) -> Parts {
    let secs = ms.div_euclid(1000);
    let (y, mo, d) = civil(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    Parts {
        y,
        mo,
        d,
        h: sod / 3600,
        mi: sod % 3600 / 60,
        s: sod % 60,
        ms: ms.rem_euclid(1000),
    }
}

/// RFC 3339 UTC with milliseconds, e.g. `2026-11-27T03:04:05.678Z`.
pub fn rfc3339(ms: i64) -> String {
    let p = parts(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        p.y, p.mo, p.d, p.h, p.mi, p.s, p.ms
    )
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A backup id `b-YYYYMMDDTHHMMSSZ-<6 hex>`; the suffix is unique per process
/// call (hash of time, pid and a counter).
pub fn backup_id(ms: i64) -> String {
    let p = parts(ms);
    let mut h = Sha256::new();
    h.update(ms.to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    h.update(COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    h.update(nanos.to_le_bytes());
    let suffix = hex::encode(&h.finalize()[..3]);
    format!(
        "b-{:04}{:02}{:02}T{:02}{:02}{:02}Z-{suffix}",
        p.y, p.mo, p.d, p.h, p.mi, p.s
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        // 2024-02-29T12:34:56.789Z (leap day)
        assert_eq!(rfc3339(1_709_210_096_789), "2024-02-29T12:34:56.789Z");
        let id = backup_id(1_709_210_096_789);
        assert!(id.starts_with("b-20240229T123456Z-"), "{id}");
        assert_eq!(id.len(), "b-20240229T123456Z-".len() + 6);
        assert_ne!(backup_id(0), backup_id(0));
    }
}

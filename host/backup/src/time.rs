//! Time-sortable backup ids; the clock and RFC 3339 timestamps are
//! [`cutover_base::time`]'s, re-exported for the backup's users.

use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest as _, Sha256};

pub use cutover_base::time::{now_ms, rfc3339};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A backup id `b-YYYYMMDDTHHMMSSZ-<6 hex>` of the instant `ms`: ids sort by
/// time; the suffix is unique per call (hash of the time, the pid, a counter
/// and the clock's nanoseconds).
pub fn backup_id(ms: i64) -> String {
    let mut h = Sha256::new();
    h.update(ms.to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    h.update(COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    h.update(nanos.to_le_bytes());
    let suffix = hex::encode(&h.finalize()[..3]);
    format!("b-{}-{suffix}", cutover_base::time::compact_utc(ms))
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
        assert!(id[19..].bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
        assert_ne!(backup_id(0), backup_id(0));
        assert!(backup_id(1_000) < backup_id(2_000));
    }
}

//! Fast paths for the common RFC 3339 shapes, exact against
//! [`crate::timefmt`] (jiff): anything else returns `None` and the caller
//! uses jiff. The calendar arithmetic is the guests' dependency-free one
//! ([`translate_core::time`]); only the byte handling is specific to here.

use translate_core::time::{civil_from_days, days_from_civil, days_in_month};

/// The last date parsed or written, as text and as days since the epoch:
/// times of one dump mostly fall on a few days.
#[derive(Debug, Default, Clone)]
pub(crate) struct DayCache {
    text: [u8; 10],
    day: i64,
    valid: bool,
}

/// Parse `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z` (years 0001 to 9998) into unix
/// milliseconds, sub-millisecond digits truncated toward zero (as jiff's
/// `as_millisecond` does).
/// `None` for any other shape or an invalid date; use jiff then.
#[cfg(test)]
pub(crate) fn parse_utc_millis(s: &str) -> Option<i64> {
    parse_utc_millis_cached(s, &mut DayCache::default())
}

/// [`parse_utc_millis`], reusing the day of the previous call when the date
/// is the same.
#[inline]
pub(crate) fn parse_utc_millis_cached(s: &str, cache: &mut DayCache) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
        return None;
    }
    if b[13] != b':' || b[16] != b':' || b[b.len() - 1] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let mut v = 0i64;
        for &c in b.get(r)? {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(c - b'0');
        }
        Some(v)
    };
    let days = if cache.valid && b[..10] == cache.text {
        cache.day
    } else {
        let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        if y == 0 || y > 9998 || !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) {
            return None;
        }
        let days = days_from_civil(y, mo, d);
        cache.text.copy_from_slice(&b[..10]);
        cache.day = days;
        cache.valid = true;
        days
    };
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    let mut ms = 0i64;
    let mut sub_ms = false;
    match b.len() - 20 {
        0 => {}
        n => {
            // ".f" with 1 to 9 digits.
            if b[19] != b'.' || !(2..=10).contains(&n) {
                return None;
            }
            let frac = &b[20..b.len() - 1];
            for (i, &c) in frac.iter().enumerate() {
                if !c.is_ascii_digit() {
                    return None;
                }
                if i < 3 {
                    ms = ms * 10 + i64::from(c - b'0');
                } else if c != b'0' {
                    sub_ms = true;
                }
            }
            for _ in frac.len()..3 {
                ms *= 10;
            }
        }
    }
    let floor = ((days * 24 + h) * 60 + mi) * 60_000 + sec * 1000 + ms;
    Some(if floor < 0 && sub_ms {
        floor + 1
    } else {
        floor
    })
}

/// Milliseconds of 0001-01-01T00:00:00Z and of 9999-01-01T00:00:00Z (jiff's
/// range ends in the last days of 9999).
const FAST_MIN: i64 = -62_135_596_800_000;
const FAST_END: i64 = 253_370_764_800_000;

/// Append unix milliseconds as RFC 3339 UTC the way jiff's `Timestamp`
/// displays it (`2026-11-20T10:00:01.5Z`: fraction trimmed, none when zero).
/// Returns false, appending nothing, outside years 0001 to 9998.
#[cfg(test)]
pub(crate) fn write_utc_millis(out: &mut Vec<u8>, ms: i64) -> bool {
    write_utc_millis_cached(out, ms, &mut DayCache::default())
}

/// [`write_utc_millis`], reusing the date text of the previous call when the
/// day is the same.
#[inline]
pub(crate) fn write_utc_millis_cached(out: &mut Vec<u8>, ms: i64, cache: &mut DayCache) -> bool {
    if !(FAST_MIN..FAST_END).contains(&ms) {
        return false;
    }
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let two = |v: i64| [b'0' + (v / 10) as u8, b'0' + (v % 10) as u8];
    if !(cache.valid && cache.day == days) {
        let (y, m, d) = civil_from_days(days);
        let y = y as u32;
        let (m, d) = (two(i64::from(m)), two(i64::from(d)));
        cache.text = [
            b'0' + (y / 1000) as u8,
            b'0' + (y / 100 % 10) as u8,
            b'0' + (y / 10 % 10) as u8,
            b'0' + (y % 10) as u8,
            b'-',
            m[0],
            m[1],
            b'-',
            d[0],
            d[1],
        ];
        cache.day = days;
        cache.valid = true;
    }
    let secs = in_day / 1000;
    let frac = in_day % 1000;
    out.extend_from_slice(&cache.text);
    out.push(b'T');
    out.extend_from_slice(&two(secs / 3600));
    out.push(b':');
    out.extend_from_slice(&two(secs / 60 % 60));
    out.push(b':');
    out.extend_from_slice(&two(secs % 60));
    if frac != 0 {
        let digits = [
            b'0' + (frac / 100) as u8,
            b'0' + (frac / 10 % 10) as u8,
            b'0' + (frac % 10) as u8,
        ];
        let len = if frac % 100 == 0 {
            1
        } else if frac % 10 == 0 {
            2
        } else {
            3
        };
        out.push(b'.');
        out.extend_from_slice(&digits[..len]);
    }
    out.push(b'Z');
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timefmt::{format_millis, parse_rfc3339_millis};

    /// A deterministic spread of instants over years 1 to 9999.
    fn samples() -> impl Iterator<Item = i64> {
        let mut x: u64 = 0x1234_5678_9abc_def0;
        let span = (FAST_END - FAST_MIN) as u64;
        (0..200_000).map(move |i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let ms = FAST_MIN + (x % span) as i64;
            // Every fourth sample on a whole second, every eighth on a 10 ms step.
            match i % 8 {
                0 => ms - ms.rem_euclid(1000),
                4 => ms - ms.rem_euclid(10),
                _ => ms,
            }
        })
    }

    #[test]
    fn formatting_matches_jiff() {
        let mut buf = Vec::new();
        let edges = [
            FAST_MIN,
            FAST_END - 1,
            0,
            -1,
            1_795_165_200_000,
            951_782_400_000, // 2000-02-29
        ];
        let mut cache = DayCache::default();
        for ms in edges.into_iter().chain(samples()) {
            for same_day in [ms, ms - ms.rem_euclid(86_400_000) + 1] {
                buf.clear();
                assert!(write_utc_millis_cached(&mut buf, same_day, &mut cache));
                let want = format_millis(same_day);
                assert_eq!(String::from_utf8_lossy(&buf), want, "{same_day}");
                buf.clear();
                assert!(write_utc_millis(&mut buf, same_day));
                assert_eq!(String::from_utf8_lossy(&buf), want, "{same_day}");
            }
        }
        assert!(!write_utc_millis(&mut buf, FAST_MIN - 1));
        assert!(!write_utc_millis(&mut buf, FAST_END));
    }

    #[test]
    fn parsing_matches_jiff() {
        let mut cache = DayCache::default();
        for ms in samples() {
            let s = format_millis(ms);
            assert_eq!(parse_utc_millis(&s), Some(ms), "{s}");
            assert_eq!(parse_utc_millis_cached(&s, &mut cache), Some(ms), "{s}");
            let later = format!("{}T23:59:59Z", &s[..10]);
            let want = parse_rfc3339_millis(&later).ok();
            assert_eq!(parse_utc_millis_cached(&later, &mut cache), want, "{later}");
            // With nanoseconds: truncated toward the past like jiff.
            let with_ns = format!("{}.{:03}456789Z", &s[..19], ms.rem_euclid(1000));
            assert_eq!(
                parse_utc_millis(&with_ns),
                parse_rfc3339_millis(&with_ns).ok(),
                "{with_ns}"
            );
        }
        for s in [
            "2026-11-20T10:00:00Z",
            "2026-11-20T10:00:00.1Z",
            "2026-11-20T10:00:00.123456789Z",
            "2024-02-29T23:59:59.999Z",
            "0001-01-01T00:00:00Z",
            "9998-12-31T23:59:59.999999999Z",
            "1969-12-31T23:59:59.9995Z",
            "1960-01-01T00:00:00.000001Z",
        ] {
            assert_eq!(parse_utc_millis(s), parse_rfc3339_millis(s).ok(), "{s}");
            assert!(parse_utc_millis(s).is_some(), "{s}");
        }
        // Shapes left to jiff (offsets, lowercase, leap seconds, bad dates).
        for s in [
            "2026-11-20T10:00:00+01:00",
            "2026-11-20t10:00:00z",
            "2026-11-20T10:00:60Z",
            "2023-02-29T10:00:00Z",
            "2026-13-01T10:00:00Z",
            "2026-11-20T10:00:00.Z",
            "2026-11-20T10:00:00.1234567890Z",
            "2026-11-20 10:00:00Z",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
        ] {
            assert_eq!(parse_utc_millis(s), None, "{s}");
        }
    }
}

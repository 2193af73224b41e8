//! Timestamps and durations for every cutover crate, on `jiff`.
//!
//! Timestamps are unix milliseconds (`i64`, UTC):
//!
//! - [`now_ms`] reads the clock;
//! - [`rfc3339`] writes `2026-11-27T03:04:05.678Z` (always three fraction
//!   digits: backups, notifications), [`rfc3339_short`] writes
//!   `2026-11-20T10:00:01.5Z` (the fraction only as long as it needs to be:
//!   comparison reports), [`compact_utc`] writes `20261127T030405Z` (ids and
//!   file names that sort by time);
//! - [`parse_rfc3339`] reads any RFC 3339 timestamp, [`parse_instant`] reads
//!   a command-line flag: RFC 3339 or a unix number in the unit the flag
//!   documents.
//!
//! Durations have one grammar for plans and command-line flags alike:
//! [`parse_duration`] and its inverse [`format_duration_ms`] (see
//! [`duration`]).

pub mod duration;

pub use duration::{DurationError, format_duration_ms, parse_duration, parse_duration_ms};

use std::time::SystemTime;

use jiff::Timestamp;

use crate::exit::{ExitClass, HasExitClass};

/// Milliseconds since the Unix epoch (0 if the clock is set before 1970 or
/// past jiff's range).
pub fn now_ms() -> i64 {
    Timestamp::try_from(SystemTime::now()).map_or(0, |t| t.as_millisecond().max(0))
}

/// What a unix millisecond count outside jiff's range (years -9999 to 9999)
/// is written as: `@<ms>ms`.
fn out_of_range(ms: i64) -> String {
    format!("@{ms}ms")
}

/// RFC 3339 UTC with exactly three fraction digits, e.g.
/// `2026-11-27T03:04:05.678Z` and `1970-01-01T00:00:00.000Z`: fixed width,
/// so such timestamps sort as text. `@<ms>ms` outside years -9999 to 9999.
pub fn rfc3339(ms: i64) -> String {
    Timestamp::from_millisecond(ms).map_or_else(|_| out_of_range(ms), |t| format!("{t:.3}"))
}

/// RFC 3339 UTC with the fraction only as long as it needs to be (none on a
/// whole second), e.g. `2026-11-20T10:00:01.5Z`: jiff's display of a
/// timestamp. `@<ms>ms` outside years -9999 to 9999.
pub fn rfc3339_short(ms: i64) -> String {
    Timestamp::from_millisecond(ms).map_or_else(|_| out_of_range(ms), |t| t.to_string())
}

/// ISO 8601 basic format in UTC to the second, e.g. `20240229T123456Z`: for
/// ids and file names that sort by time. `@<ms>ms` outside years -9999 to
/// 9999.
pub fn compact_utc(ms: i64) -> String {
    Timestamp::from_millisecond(ms).map_or_else(
        |_| out_of_range(ms),
        |t| t.strftime("%Y%m%dT%H%M%SZ").to_string(),
    )
}

/// Why a timestamp could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// Not an RFC 3339 timestamp.
    #[error("invalid RFC 3339 timestamp {text:?}: {reason}")]
    Rfc3339 {
        /// The text as given.
        text: String,
        /// What jiff found wrong with it.
        reason: String,
    },
    /// Neither a unix number nor an RFC 3339 timestamp.
    #[error(
        "{text:?} is neither unix {unit} nor an RFC 3339 timestamp (e.g. 2026-11-20T10:00:00Z): {reason}"
    )]
    Instant {
        /// The text as given.
        text: String,
        /// `seconds` or `milliseconds`.
        unit: &'static str,
        /// What jiff found wrong with it as RFC 3339.
        reason: String,
    },
    /// A unix number too large for milliseconds in an `i64`.
    #[error("{text:?} is out of range for a timestamp")]
    OutOfRange {
        /// The text as given.
        text: String,
    },
}

impl HasExitClass for TimeError {
    fn exit_class(&self) -> ExitClass {
        match self {
            TimeError::Rfc3339 { .. }
            | TimeError::Instant { .. }
            | TimeError::OutOfRange { .. } => ExitClass::Usage,
        }
    }
}

/// Reads an RFC 3339 timestamp (any offset, fraction of any length; jiff's
/// grammar) into unix milliseconds, sub-millisecond digits truncated toward
/// zero (jiff's `as_millisecond`).
pub fn parse_rfc3339(text: &str) -> Result<i64, TimeError> {
    text.parse::<Timestamp>()
        .map(Timestamp::as_millisecond)
        .map_err(|e| TimeError::Rfc3339 {
            text: text.to_string(),
            reason: e.to_string(),
        })
}

/// What a plain integer means where a flag takes a point in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnixUnit {
    /// Unix seconds.
    Seconds,
    /// Unix milliseconds.
    Millis,
}

/// Reads a point in time given on the command line: an integer (optionally
/// negative) in the flag's documented [`UnixUnit`], or an RFC 3339
/// timestamp. Returns unix milliseconds.
pub fn parse_instant(text: &str, unit: UnixUnit) -> Result<i64, TimeError> {
    let t = text.trim();
    let digits = t.strip_prefix('-').unwrap_or(t);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        let out_of_range = || TimeError::OutOfRange {
            text: text.to_string(),
        };
        let n: i64 = t.parse().map_err(|_| out_of_range())?;
        return match unit {
            UnixUnit::Millis => Ok(n),
            UnixUnit::Seconds => n.checked_mul(1000).ok_or_else(out_of_range),
        };
    }
    t.parse::<Timestamp>()
        .map(Timestamp::as_millisecond)
        .map_err(|e| TimeError::Instant {
            text: text.to_string(),
            unit: match unit {
                UnixUnit::Seconds => "seconds",
                UnixUnit::Millis => "milliseconds",
            },
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 20,000 instants spread evenly over jiff's whole range, each moved
    /// into its day by a varying amount; a quarter on a whole second and a
    /// quarter on a 10 ms step.
    fn samples() -> impl Iterator<Item = i64> {
        let min = Timestamp::MIN.as_millisecond();
        let step = (Timestamp::MAX.as_millisecond() - min) / 20_000;
        (0..20_000i64).map(move |i| {
            let ms = min + i * step + (i * i * 7_919) % 86_400_000;
            ms - ms.rem_euclid([1000, 10, 1, 1][(i % 4) as usize])
        })
    }

    #[test]
    fn known_instants_in_every_format() {
        // 2024-02-29T12:34:56.789Z, a leap day.
        let leap = 1_709_210_096_789;
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(leap), "2024-02-29T12:34:56.789Z");
        assert_eq!(rfc3339(951_782_400_120), "2000-02-29T00:00:00.120Z");
        assert_eq!(rfc3339(-500), "1969-12-31T23:59:59.500Z");
        assert_eq!(rfc3339_short(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_short(leap), "2024-02-29T12:34:56.789Z");
        assert_eq!(rfc3339_short(1_795_168_801_500), "2026-11-20T10:00:01.5Z");
        assert_eq!(compact_utc(leap), "20240229T123456Z");
        assert_eq!(compact_utc(-1), "19691231T235959Z");
        for f in [rfc3339, rfc3339_short, compact_utc] {
            assert_eq!(f(i64::MAX), format!("@{}ms", i64::MAX));
            assert_eq!(f(i64::MIN), format!("@{}ms", i64::MIN));
        }
    }

    #[test]
    fn formats_round_trip_through_jiff() {
        for ms in samples() {
            let ts = Timestamp::from_millisecond(ms).unwrap();
            let fixed = rfc3339(ms);
            assert_eq!(fixed.parse::<Timestamp>().unwrap(), ts, "{fixed}");
            assert_eq!(parse_rfc3339(&fixed), Ok(ms), "{fixed}");
            assert_eq!(fixed.as_bytes()[fixed.len() - 5], b'.', "{fixed}");
            let short = rfc3339_short(ms);
            assert_eq!(short, ts.to_string());
            assert_eq!(parse_rfc3339(&short), Ok(ms), "{short}");
            if (0..253_402_300_800_000).contains(&ms) {
                // Years 0000 to 9999: the fixed form without separators.
                let want: String = fixed[..19]
                    .chars()
                    .filter(|c| !matches!(c, '-' | ':'))
                    .collect();
                assert_eq!(compact_utc(ms), want + "Z", "{fixed}");
            }
        }
    }

    #[test]
    fn fixed_width_sorts_like_the_instants() {
        let mut by_ms: Vec<i64> = samples()
            .filter(|&ms| (0..253_402_300_800_000).contains(&ms))
            .collect();
        by_ms.sort_unstable();
        let texts: Vec<String> = by_ms.iter().map(|&ms| rfc3339(ms)).collect();
        assert!(texts.windows(2).all(|w| w[0] <= w[1]));
        assert!(texts.iter().all(|t| t.len() == 24));
    }

    #[test]
    fn parses_rfc3339_with_offsets_and_fractions() {
        let a = parse_rfc3339("2026-11-20T10:00:00.123456789Z").unwrap();
        let b = parse_rfc3339("2026-11-20T12:00:00.123+02:00").unwrap();
        assert_eq!(a, b);
        assert_eq!(a % 1000, 123);
        // Sub-millisecond digits are truncated toward zero.
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59.9995Z"), Ok(0));
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59.9985Z"), Ok(-1));
        let e = parse_rfc3339("2026-11-20 10:00").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("invalid RFC 3339 timestamp \"2026-11-20 10:00\": "),
            "{e}"
        );
        assert!(parse_rfc3339("").is_err());
        assert!(parse_rfc3339("2023-02-29T00:00:00Z").is_err());
    }

    #[test]
    fn parses_instants_in_the_documented_unit() {
        let rfc = parse_rfc3339("2026-11-20T10:00:00Z").unwrap();
        assert_eq!(parse_instant("1795168800000", UnixUnit::Millis), Ok(rfc));
        assert_eq!(parse_instant(" 1795168800 ", UnixUnit::Seconds), Ok(rfc));
        assert_eq!(parse_instant("-1", UnixUnit::Seconds), Ok(-1000));
        assert_eq!(parse_instant("-1", UnixUnit::Millis), Ok(-1));
        for unit in [UnixUnit::Seconds, UnixUnit::Millis] {
            assert_eq!(parse_instant("2026-11-20T11:00:00+01:00", unit), Ok(rfc));
            let e = parse_instant("yesterday", unit).unwrap_err();
            assert!(matches!(e, TimeError::Instant { .. }), "{e}");
            assert!(e.to_string().contains("nor an RFC 3339 timestamp"), "{e}");
            assert!(parse_instant("-", unit).is_err());
            assert!(parse_instant("", unit).is_err());
            assert_eq!(
                parse_instant("99999999999999999999", unit),
                Err(TimeError::OutOfRange {
                    text: "99999999999999999999".into()
                })
            );
        }
        assert!(matches!(
            parse_instant(&(i64::MAX / 10).to_string(), UnixUnit::Seconds),
            Err(TimeError::OutOfRange { .. })
        ));
        assert_eq!(
            parse_instant("yesterday", UnixUnit::Seconds)
                .unwrap_err()
                .exit_class(),
            ExitClass::Usage
        );
    }

    #[test]
    fn now_is_after_this_code_was_written() {
        let now = now_ms();
        assert!(now > 1_767_225_600_000, "{now}"); // 2026-01-01
        assert!(now <= now_ms());
    }
}

//! Unix-millisecond timestamps without a date library, for code that cannot
//! use the host's `cutover_base::time` (on jiff): the guests, which keep
//! their components small, and the host's hand-tuned RFC 3339 fast path in
//! `cutover-compare`, which shares the calendar arithmetic below.
//!
//! - [`days_from_civil`], [`civil_from_days`], [`days_in_month`]: the
//!   proleptic Gregorian calendar (Howard Hinnant's algorithms);
//! - [`parse_millis`]: RFC 3339 to unix milliseconds, errors with a byte
//!   offset;
//! - [`format_millis`]: unix milliseconds to `YYYY-MM-DDTHH:MM:SS.mmmZ`;
//! - [`now_ms`]: the clock.

/// The latest instant [`format_millis`] writes: 9999-12-31T23:59:59.999Z.
pub const MAX_MS: i64 = 253_402_300_799_999;

/// The earliest instant [`format_millis`] writes: 0000-01-01T00:00:00.000Z.
pub const MIN_MS: i64 = -62_167_219_200_000;

/// The current time in unix milliseconds (0 if the clock is before 1970).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Whether `y` is a leap year.
#[inline]
pub fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

/// Days in month `m` (1 to 12) of year `y`.
#[inline]
pub fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
#[inline]
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `(year, month, day)` of a day count since 1970-01-01.
#[inline]
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Unix milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ` (what Alertmanager's API
/// takes); instants outside years 0000 to 9999 are clamped to that range.
pub fn format_millis(ms: i64) -> String {
    let ms = ms.clamp(MIN_MS, MAX_MS);
    let (y, m, d) = civil_from_days(ms.div_euclid(86_400_000));
    let in_day = ms.rem_euclid(86_400_000);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    )
}

/// Why a timestamp was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeError {
    /// Byte offset in the input where parsing failed.
    pub offset: usize,
    /// What was expected there.
    pub reason: &'static str,
}

impl std::fmt::Display for TimeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "invalid RFC 3339 timestamp at byte {}: {}",
            self.offset, self.reason
        )
    }
}

impl std::error::Error for TimeError {}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn err(&self, reason: &'static str) -> TimeError {
        TimeError {
            offset: self.pos,
            reason,
        }
    }

    fn digits(&mut self, n: usize, what: &'static str) -> Result<i64, TimeError> {
        let mut v = 0i64;
        for _ in 0..n {
            match self.bytes.get(self.pos) {
                Some(b) if b.is_ascii_digit() => {
                    v = v * 10 + i64::from(b - b'0');
                    self.pos += 1;
                }
                _ => return Err(self.err(what)),
            }
        }
        Ok(v)
    }

    fn expect(&mut self, accepted: &[u8], what: &'static str) -> Result<u8, TimeError> {
        match self.bytes.get(self.pos) {
            Some(b) if accepted.contains(b) => {
                self.pos += 1;
                Ok(*b)
            }
            _ => Err(self.err(what)),
        }
    }

    /// `.f…` (any number of digits) as milliseconds, 0 when absent.
    fn fraction_ms(&mut self) -> Result<i64, TimeError> {
        if self.bytes.get(self.pos) != Some(&b'.') {
            return Ok(0);
        }
        self.pos += 1;
        let start = self.pos;
        let mut millis = 0i64;
        while let Some(b) = self.bytes.get(self.pos).filter(|b| b.is_ascii_digit()) {
            if self.pos - start < 3 {
                millis = millis * 10 + i64::from(b - b'0');
            }
            self.pos += 1;
        }
        let n = self.pos - start;
        if n == 0 {
            return Err(self.err("expected digits after `.`"));
        }
        Ok(millis * 10i64.pow(3 - n.min(3) as u32))
    }

    /// `Z` or `±HH:MM` as minutes east of UTC.
    fn offset_minutes(&mut self) -> Result<i64, TimeError> {
        let sign = self.expect(b"Zz+-", "expected `Z` or `±HH:MM` offset")?;
        if matches!(sign, b'Z' | b'z') {
            return Ok(0);
        }
        let h = self.digits(2, "expected 2-digit offset hours")?;
        self.expect(b":", "expected `:` in offset")?;
        let m = self.digits(2, "expected 2-digit offset minutes")?;
        if h > 23 || m > 59 {
            return Err(self.err("offset out of range"));
        }
        Ok(if sign == b'-' {
            -(h * 60 + m)
        } else {
            h * 60 + m
        })
    }
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` into unix milliseconds.
/// Fractions beyond milliseconds are truncated; leap second 60 is accepted
/// and folded into the next second.
pub fn parse_millis(text: &str) -> Result<i64, TimeError> {
    let mut c = Cursor {
        bytes: text.as_bytes(),
        pos: 0,
    };
    let year = c.digits(4, "expected 4-digit year")?;
    c.expect(b"-", "expected `-` after year")?;
    let month = c.digits(2, "expected 2-digit month")?;
    if !(1..=12).contains(&month) {
        return Err(TimeError {
            offset: 5,
            reason: "month out of range 01-12",
        });
    }
    c.expect(b"-", "expected `-` after month")?;
    let day = c.digits(2, "expected 2-digit day")?;
    if day < 1 || day > days_in_month(year, month) {
        return Err(TimeError {
            offset: 8,
            reason: "day out of range for month",
        });
    }
    c.expect(b"Tt ", "expected `T` between date and time")?;
    let hour = c.digits(2, "expected 2-digit hour")?;
    c.expect(b":", "expected `:` after hour")?;
    let minute = c.digits(2, "expected 2-digit minute")?;
    c.expect(b":", "expected `:` after minute")?;
    let second = c.digits(2, "expected 2-digit second")?;
    if hour > 23 || minute > 59 || second > 60 {
        return Err(TimeError {
            offset: 11,
            reason: "time of day out of range",
        });
    }
    let millis = c.fraction_ms()?;
    let offset_minutes = c.offset_minutes()?;
    if c.pos != c.bytes.len() {
        return Err(c.err("unexpected trailing characters"));
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Ok(secs * 1000 + millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_and_known_instants() {
        assert_eq!(parse_millis("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(
            parse_millis("2024-02-29T12:34:56.789Z"),
            Ok(1_709_210_096_789)
        );
        assert_eq!(
            parse_millis("2000-01-01T00:00:00+01:00"),
            Ok(946_681_200_000)
        );
        assert_eq!(parse_millis("1969-12-31T23:59:59.5Z"), Ok(-500));
        assert_eq!(
            parse_millis("2021-06-01t10:00:00.123456789-02:30"),
            Ok(1_622_550_600_123)
        );
        assert_eq!(parse_millis("2016-12-31T23:59:60Z"), Ok(1_483_228_800_000));
    }

    #[test]
    fn rejects_bad_input_with_offset() {
        assert_eq!(parse_millis("2023-02-29T00:00:00Z").unwrap_err().offset, 8);
        assert_eq!(parse_millis("2023-01-01 00:00:00").unwrap_err().offset, 19);
        assert_eq!(
            parse_millis("2023-01-01T00:00:00Zx").unwrap_err().offset,
            20
        );
        assert_eq!(parse_millis("2023-1-01T00:00:00Z").unwrap_err().offset, 6);
        assert!(parse_millis("2023-01-01T24:00:00Z").is_err());
        assert_eq!(
            parse_millis("2023-01-01T00:00:00.Z").unwrap_err().offset,
            20
        );
        assert_eq!(
            parse_millis("2023-01-01T00:00:00+24:00")
                .unwrap_err()
                .to_string(),
            "invalid RFC 3339 timestamp at byte 25: offset out of range"
        );
    }

    #[test]
    fn formats_known_instants_and_round_trips() {
        assert_eq!(format_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_millis(1_709_210_096_789), "2024-02-29T12:34:56.789Z");
        assert_eq!(format_millis(-500), "1969-12-31T23:59:59.500Z");
        assert_eq!(format_millis(MAX_MS), "9999-12-31T23:59:59.999Z");
        assert_eq!(format_millis(i64::MAX), "9999-12-31T23:59:59.999Z");
        assert_eq!(format_millis(i64::MIN), "0000-01-01T00:00:00.000Z");
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let ms = MIN_MS + (x % (MAX_MS - MIN_MS) as u64) as i64;
            assert_eq!(parse_millis(&format_millis(ms)), Ok(ms), "{ms}");
        }
    }

    #[test]
    fn calendar_arithmetic_agrees_both_ways() {
        for days in (-800_000..3_000_000).step_by(97) {
            let (y, m, d) = civil_from_days(days);
            assert!((1..=12).contains(&m) && d >= 1, "{days}");
            assert!(i64::from(d) <= days_in_month(y, i64::from(m)), "{days}");
            assert_eq!(days_from_civil(y, i64::from(m), i64::from(d)), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert!(is_leap(2000) && is_leap(2024) && !is_leap(1900) && !is_leap(2023));
    }
}

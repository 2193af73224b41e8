//! RFC 3339 timestamps to Unix milliseconds (UTC), without dependencies.

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
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` into Unix milliseconds.
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
    let mut millis = 0i64;
    if c.bytes.get(c.pos) == Some(&b'.') {
        c.pos += 1;
        let start = c.pos;
        while let Some(b) = c.bytes.get(c.pos).filter(|b| b.is_ascii_digit()) {
            if c.pos - start < 3 {
                millis = millis * 10 + i64::from(b - b'0');
            }
            c.pos += 1;
        }
        let n = c.pos - start;
        if n == 0 {
            return Err(c.err("expected digits after `.`"));
        }
        for _ in n..3 {
            millis *= 10;
        }
    }
    let offset_minutes = match c.expect(b"Zz+-", "expected `Z` or `±HH:MM` offset")? {
        b'Z' | b'z' => 0,
        sign => {
            let h = c.digits(2, "expected 2-digit offset hours")?;
            c.expect(b":", "expected `:` in offset")?;
            let m = c.digits(2, "expected 2-digit offset minutes")?;
            if h > 23 || m > 59 {
                return Err(c.err("offset out of range"));
            }
            let total = h * 60 + m;
            if sign == b'-' { -total } else { total }
        }
    };
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
        assert!(parse_millis("2023-01-01T00:00:00.Z").is_err());
    }
}

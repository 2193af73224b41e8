//! Human duration ("1h30m") and memory size ("64MiB") parsing.

use std::time::Duration;

/// Parses a duration such as `500ms`, `30s`, `15m`, `4h`, `2d`, `1w` or a
/// combination like `1h30m`. Returns a message saying what is wrong.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("empty duration; expected e.g. \"30s\", \"15m\", \"1h30m\"".into());
    }
    let mut total: u128 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.chars().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return Err(format!(
                "`{text}` is not a duration: expected a number at `{rest}`; use units ms, s, m, h, d, w (e.g. \"1h30m\")"
            ));
        }
        let number: u128 = rest[..digits]
            .parse()
            .map_err(|_| format!("`{text}`: number too large"))?;
        rest = &rest[digits..];
        let unit_len = rest.chars().take_while(|c| c.is_ascii_alphabetic()).count();
        let unit = &rest[..unit_len];
        let millis: u128 = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 604_800_000,
            "" if rest.starts_with('.') => {
                return Err(format!(
                    "`{text}` has a fraction; write whole units instead (e.g. \"1m30s\" for 1.5m)"
                ));
            }
            "" if rest.starts_with(char::is_whitespace) => {
                return Err(format!(
                    "`{text}` contains a space; write the number and unit together (e.g. \"{number}s\")"
                ));
            }
            "" => {
                return Err(format!(
                    "`{text}` is missing a unit after `{number}`; use ms, s, m, h, d or w (e.g. \"{number}s\")"
                ));
            }
            other => {
                return Err(format!(
                    "`{text}` has unknown unit `{other}`; use ms, s, m, h, d or w (e.g. \"30s\", \"4h\", \"2d\")"
                ));
            }
        };
        total = total
            .checked_add(number.saturating_mul(millis))
            .ok_or_else(|| format!("`{text}`: duration too large"))?;
        rest = &rest[unit_len..];
    }
    let millis = u64::try_from(total).map_err(|_| format!("`{text}`: duration too large"))?;
    Ok(Duration::from_millis(millis))
}

/// Which part of a duration range `MIN..MAX` a problem is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangePart {
    /// The text before `..`.
    Min,
    /// The text after `..`.
    Max,
    /// The range as a whole (e.g. MIN longer than MAX).
    Whole,
}

/// Why a duration or a duration range could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeError {
    /// Where the problem is.
    pub part: RangePart,
    /// Byte range of that part within the text.
    pub at: std::ops::Range<usize>,
    /// What is wrong.
    pub message: String,
}

/// Parses a phase duration: one duration (`"2d"`, both the minimum and the
/// maximum) or a range `"MIN..MAX"` (`"1w..2w"`) with MIN <= MAX. Returns
/// `(min_ms, max_ms)`.
pub fn parse_duration_range(text: &str) -> Result<(u64, u64), RangeError> {
    let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    let Some(dots) = text.find("..") else {
        return parse_duration(text)
            .map(|d| (ms(d), ms(d)))
            .map_err(|message| RangeError {
                part: RangePart::Whole,
                at: 0..text.len(),
                message,
            });
    };
    let (min_text, max_text) = (&text[..dots], &text[dots + 2..]);
    let part = |part, at: std::ops::Range<usize>, what: &str, t: &str| {
        if t.trim().is_empty() {
            return Err(RangeError {
                part,
                at: if at.is_empty() { dots..dots + 2 } else { at },
                message: format!(
                    "`{text}` is a range without a {what}; write MIN..MAX, e.g. \"1w..2w\""
                ),
            });
        }
        parse_duration(t).map(ms).map_err(|e| RangeError {
            part,
            at,
            message: format!("the {what} of `{text}`: {e}"),
        })
    };
    let min = part(RangePart::Min, 0..dots, "minimum", min_text)?;
    let max = part(RangePart::Max, dots + 2..text.len(), "maximum", max_text)?;
    if min > max {
        return Err(RangeError {
            part: RangePart::Whole,
            at: 0..text.len(),
            message: format!(
                "`{text}`: the minimum {} is longer than the maximum {}; write the shorter duration first",
                format_duration_ms(min),
                format_duration_ms(max)
            ),
        });
    }
    Ok((min, max))
}

/// Formats a phase duration: `2d`, or `1w..2w` when the maximum differs.
pub fn format_duration_range(min_ms: u64, max_ms: u64) -> String {
    if min_ms == max_ms {
        format_duration_ms(min_ms)
    } else {
        format!(
            "{}..{}",
            format_duration_ms(min_ms),
            format_duration_ms(max_ms)
        )
    }
}

/// Formats milliseconds back to the compact form (`90000` -> `1m30s`).
pub fn format_duration_ms(ms: u64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let units = [
        ("w", 604_800_000u64),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ];
    let mut rest = ms;
    let mut out = String::new();
    for (name, size) in units {
        if rest >= size {
            out.push_str(&format!("{}{}", rest / size, name));
            rest %= size;
        }
    }
    out
}

/// Parses a memory size such as `64MiB`, `512KiB`, `1GiB`, `10MB` or plain bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let s = text.trim();
    let digits = s.chars().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return Err(format!(
            "`{text}` is not a memory size; expected e.g. \"64MiB\", \"512KiB\", \"1GiB\""
        ));
    }
    let number: u64 = s[..digits]
        .parse()
        .map_err(|_| format!("`{text}`: number too large"))?;
    let factor: u64 = match s[digits..].trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "KB" | "kB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        other => {
            return Err(format!(
                "`{text}` has unknown size unit `{other}`; use B, KiB, MiB, GiB, KB, MB or GB"
            ));
        }
    };
    number
        .checked_mul(factor)
        .ok_or_else(|| format!("`{text}`: size too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_combos() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("4h"), Ok(Duration::from_secs(14_400)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
        assert_eq!(parse_duration("1w"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5_400)));
    }

    #[test]
    fn rejects_bad_durations() {
        for bad in ["", "10", "5x", "h", "1h 30", "-1s", "1.5h"] {
            assert!(parse_duration(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn formats_round_trip() {
        for text in ["1h30m", "2d", "500ms", "1w2d3h4m5s6ms"] {
            let ms = parse_duration(text).map(|d| d.as_millis() as u64);
            assert_eq!(ms.map(format_duration_ms), Ok(text.to_string()));
        }
    }

    #[test]
    fn parses_ranges_and_single_values() {
        assert_eq!(parse_duration_range("2d"), Ok((172_800_000, 172_800_000)));
        assert_eq!(
            parse_duration_range("1w..2w"),
            Ok((604_800_000, 1_209_600_000))
        );
        assert_eq!(parse_duration_range("1d..1d"), Ok((86_400_000, 86_400_000)));
        assert_eq!(format_duration_range(604_800_000, 1_209_600_000), "1w..2w");
        assert_eq!(format_duration_range(5_400_000, 5_400_000), "1h30m");
    }

    #[test]
    fn range_errors_name_the_part() {
        let e = parse_duration_range("2w..1w").unwrap_err();
        assert_eq!((e.part, e.at.clone()), (RangePart::Whole, 0..6));
        assert!(
            e.message
                .contains("minimum 2w is longer than the maximum 1w"),
            "{e:?}"
        );
        let e = parse_duration_range("1w..2x").unwrap_err();
        assert_eq!((e.part, e.at.clone()), (RangePart::Max, 4..6));
        assert!(e.message.contains("unknown unit `x`"), "{e:?}");
        let e = parse_duration_range("soon..2w").unwrap_err();
        assert_eq!((e.part, e.at.clone()), (RangePart::Min, 0..4));
        let e = parse_duration_range("1w..").unwrap_err();
        assert_eq!((e.part, e.at.clone()), (RangePart::Max, 2..4));
        assert!(e.message.contains("without a maximum"), "{e:?}");
        let e = parse_duration_range("..1w").unwrap_err();
        assert_eq!(e.part, RangePart::Min);
        let e = parse_duration_range("1w...2w").unwrap_err();
        assert_eq!(e.part, RangePart::Max);
        let e = parse_duration_range("2days").unwrap_err();
        assert_eq!(e.part, RangePart::Whole);
    }

    #[test]
    fn parses_sizes() {
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("64 apples").is_err());
        assert!(parse_size("MiB").is_err());
    }
}

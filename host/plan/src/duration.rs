//! Plan-specific durations and sizes: a phase's duration range
//! (`"1w..2w"`) and memory sizes (`"64MiB"`). Single durations use the one
//! grammar of [`cutover_base::time`], re-exported here for the plan's users.

pub use cutover_base::time::{
    DurationError, format_duration_ms, parse_duration, parse_duration_ms,
};

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
    let Some(dots) = text.find("..") else {
        return parse_duration_ms(text)
            .map(|ms| (ms, ms))
            .map_err(|e| RangeError {
                part: RangePart::Whole,
                at: 0..text.len(),
                message: e.to_string(),
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
        parse_duration_ms(t).map_err(|e| RangeError {
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

/// Parses a memory size such as `64MiB`, `512KiB`, `1GiB`, `10MB` or plain bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let s = text.trim();
    let (number, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    if number.is_empty() {
        return Err(format!(
            "`{text}` is not a memory size; expected e.g. \"64MiB\", \"512KiB\", \"1GiB\""
        ));
    }
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}`: number too large"))?;
    let factor: u64 = match unit.trim() {
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
        assert_eq!(parse_size(" 1 GiB "), Ok(1 << 30));
        assert_eq!(parse_size("10MB"), Ok(10_000_000));
        assert!(
            parse_size("99999999999GiB")
                .unwrap_err()
                .contains("too large")
        );
        assert!(
            parse_size("99999999999999999999")
                .unwrap_err()
                .contains("too large")
        );
    }
}

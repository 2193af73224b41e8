//! The one duration grammar of cutover, for plans (`duration = "2d"`,
//! `deadline = "30s"`) and command-line flags (`--tolerance 60s`,
//! `--extend 1h`) alike.
//!
//! A duration is one or more parts `<whole number><unit>` written together,
//! units `ms`, `s`, `m`, `h`, `d` (24 h) and `w` (7 d), e.g. `500ms`,
//! `1h30m`, `1w2d`; surrounding whitespace is ignored. A bare number such as
//! `60` is an error everywhere: in a plan and on the command line alike it
//! would be a guess whether seconds or milliseconds were meant.

use std::time::Duration;

use crate::exit::{ExitClass, HasExitClass};

/// The units, longest first, with their length in milliseconds.
const UNITS: [(&str, u64); 6] = [
    ("w", 604_800_000),
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// Why a text is not a duration; the message says how to write it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Nothing (or only whitespace) was given.
    #[error("empty duration; expected e.g. \"30s\", \"15m\", \"1h30m\"")]
    Empty,
    /// A number without any unit, e.g. `60`.
    #[error("`{text}` is a bare number; add a unit, e.g. \"{number}s\" (units ms, s, m, h, d, w)")]
    BareNumber {
        /// The text as given.
        text: String,
        /// The number.
        number: String,
    },
    /// A leading minus sign.
    #[error("`{text}` is negative; a duration is zero or longer, e.g. \"30s\"")]
    Negative {
        /// The text as given.
        text: String,
    },
    /// Something other than a number where a part has to start.
    #[error(
        "`{text}` is not a duration: expected a number at `{rest}`; use units ms, s, m, h, d, w (e.g. \"1h30m\")"
    )]
    ExpectedNumber {
        /// The text as given.
        text: String,
        /// The text from where a number was expected.
        rest: String,
    },
    /// A decimal fraction such as `1.5h`.
    #[error("`{text}` has a fraction; write whole units instead (e.g. \"1m30s\" for 1.5m)")]
    Fraction {
        /// The text as given.
        text: String,
    },
    /// Whitespace between a number and its unit, e.g. `30 seconds`.
    #[error("`{text}` contains a space; write the number and unit together (e.g. \"{number}s\")")]
    SpaceInPart {
        /// The text as given.
        text: String,
        /// The number before the space.
        number: String,
    },
    /// Whitespace between two parts, e.g. `1h 30m`.
    #[error("`{text}` contains a space; write its parts together (e.g. \"1h30m\")")]
    SpaceBetweenParts {
        /// The text as given.
        text: String,
    },
    /// A number not followed by a unit in a longer text, e.g. `1h30`.
    #[error(
        "`{text}` is missing a unit after `{number}`; use ms, s, m, h, d or w (e.g. \"{number}s\")"
    )]
    MissingUnit {
        /// The text as given.
        text: String,
        /// The number without a unit.
        number: String,
    },
    /// A unit other than ms, s, m, h, d or w.
    #[error(
        "`{text}` has unknown unit `{unit}`; use ms, s, m, h, d or w (e.g. \"30s\", \"4h\", \"2d\")"
    )]
    UnknownUnit {
        /// The text as given.
        text: String,
        /// The unit as written.
        unit: String,
    },
    /// Longer than `u64::MAX` milliseconds (about 584 million years).
    #[error("`{text}` is too long a duration")]
    TooLarge {
        /// The text as given.
        text: String,
    },
}

impl HasExitClass for DurationError {
    fn exit_class(&self) -> ExitClass {
        match self {
            DurationError::Empty
            | DurationError::BareNumber { .. }
            | DurationError::Negative { .. }
            | DurationError::ExpectedNumber { .. }
            | DurationError::Fraction { .. }
            | DurationError::SpaceInPart { .. }
            | DurationError::SpaceBetweenParts { .. }
            | DurationError::MissingUnit { .. }
            | DurationError::UnknownUnit { .. }
            | DurationError::TooLarge { .. } => ExitClass::Usage,
        }
    }
}

/// Reads a duration such as `500ms`, `30s`, `15m`, `4h`, `2d`, `1w` or
/// `1h30m` (see the [module](self) for the grammar).
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    parse_duration_ms(text).map(Duration::from_millis)
}

/// [`parse_duration`] in milliseconds.
pub fn parse_duration_ms(text: &str) -> Result<u64, DurationError> {
    let s = text.trim();
    let given = || text.to_string();
    if s.is_empty() {
        return Err(DurationError::Empty);
    }
    if s.starts_with('-') {
        return Err(DurationError::Negative { text: given() });
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DurationError::BareNumber {
            text: given(),
            number: s.to_string(),
        });
    }
    let mut total: u64 = 0;
    let mut at = 0;
    while at < s.len() {
        let (number, unit, next) = split_part(s, at);
        if number.is_empty() {
            let rest = &s[at..];
            return Err(if rest.starts_with(char::is_whitespace) {
                DurationError::SpaceBetweenParts { text: given() }
            } else {
                DurationError::ExpectedNumber {
                    text: given(),
                    rest: rest.to_string(),
                }
            });
        }
        let Some(&(_, size)) = UNITS.iter().find(|(name, _)| *name == unit) else {
            return Err(bad_unit(given(), number, unit, &s[next..]));
        };
        let part = number.parse::<u64>().ok().and_then(|n| n.checked_mul(size));
        total = part
            .and_then(|p| total.checked_add(p))
            .ok_or_else(|| DurationError::TooLarge { text: given() })?;
        at = next;
    }
    Ok(total)
}

/// The part of `s` starting at byte `at`: its digits, the letters after
/// them, and where the part after it starts.
fn split_part(s: &str, at: usize) -> (&str, &str, usize) {
    let digits_end = s[at..]
        .find(|c: char| !c.is_ascii_digit())
        .map_or(s.len(), |i| at + i);
    let unit_end = s[digits_end..]
        .find(|c: char| !c.is_alphabetic())
        .map_or(s.len(), |i| digits_end + i);
    (&s[at..digits_end], &s[digits_end..unit_end], unit_end)
}

/// The error for a part `number` followed by `unit` (not a known unit) and
/// then `after`.
fn bad_unit(text: String, number: &str, unit: &str, after: &str) -> DurationError {
    if !unit.is_empty() {
        return DurationError::UnknownUnit {
            text,
            unit: unit.to_string(),
        };
    }
    let number = number.to_string();
    match after.chars().next() {
        Some('.') => DurationError::Fraction { text },
        Some(c) if c.is_whitespace() => DurationError::SpaceInPart { text, number },
        _ => DurationError::MissingUnit { text, number },
    }
}

/// Writes milliseconds in the grammar's compact form, largest units first:
/// `90000` is `1m30s`, `0` is `0s`. [`parse_duration_ms`] reads it back.
pub fn format_duration_ms(ms: u64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let mut rest = ms;
    let mut out = String::new();
    for (name, size) in UNITS {
        if rest >= size {
            out.push_str(&(rest / size).to_string());
            out.push_str(name);
            rest %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> Result<u64, DurationError> {
        parse_duration_ms(text)
    }

    #[test]
    fn every_unit_and_combinations_in_any_order() {
        let accepted = [
            ("500ms", 500),
            ("30s", 30_000),
            ("15m", 900_000),
            ("4h", 14_400_000),
            ("2d", 172_800_000),
            ("1w", 604_800_000),
            ("0s", 0),
            ("0ms", 0),
            ("1h30m", 5_400_000),
            ("1m30s", 90_000),
            ("1w2d3h4m5s6ms", 788_645_006),
            ("30m1h", 5_400_000),
            ("1s1s", 2_000),
            ("007s", 7_000),
        ];
        for (text, want) in accepted {
            assert_eq!(ms(text), Ok(want), "{text}");
            assert_eq!(parse_duration(text), Ok(Duration::from_millis(want)));
        }
    }

    #[test]
    fn surrounding_whitespace_is_ignored_inner_is_not() {
        assert_eq!(ms("  15m\t"), Ok(900_000));
        assert_eq!(ms("\n1h30m "), Ok(5_400_000));
        let e = ms("30 seconds").unwrap_err();
        assert_eq!(
            e.to_string(),
            "`30 seconds` contains a space; write the number and unit together (e.g. \"30s\")"
        );
        let e = ms("1h 30m").unwrap_err();
        assert_eq!(
            e,
            DurationError::SpaceBetweenParts {
                text: "1h 30m".into()
            }
        );
        assert!(e.to_string().contains("write its parts together"), "{e}");
    }

    #[test]
    fn empty_and_bare_numbers() {
        assert_eq!(ms(""), Err(DurationError::Empty));
        assert_eq!(ms("   "), Err(DurationError::Empty));
        for bare in ["60", "0", " 90 "] {
            let e = ms(bare).unwrap_err();
            assert!(matches!(e, DurationError::BareNumber { .. }), "{bare}: {e}");
            let want = format!("add a unit, e.g. \"{}s\"", bare.trim());
            assert!(e.to_string().contains(&want), "{e}");
        }
    }

    #[test]
    fn negative_fraction_and_unknown() {
        for neg in ["-1s", " -5m", "-0s", "-60"] {
            let e = ms(neg).unwrap_err();
            assert!(matches!(e, DurationError::Negative { .. }), "{neg}: {e}");
            assert!(e.to_string().contains("is negative"), "{e}");
        }
        assert!(matches!(ms("1.5h"), Err(DurationError::Fraction { .. })));
        assert!(matches!(ms("1h0.5m"), Err(DurationError::Fraction { .. })));
        assert_eq!(
            ms("2days").unwrap_err().to_string(),
            "`2days` has unknown unit `days`; use ms, s, m, h, d or w (e.g. \"30s\", \"4h\", \"2d\")"
        );
        assert!(matches!(ms("5µs"), Err(DurationError::UnknownUnit { unit, .. }) if unit == "µs"));
        assert!(matches!(ms("1H"), Err(DurationError::UnknownUnit { .. })));
        assert_eq!(
            ms("1h30").unwrap_err().to_string(),
            "`1h30` is missing a unit after `30`; use ms, s, m, h, d or w (e.g. \"30s\")"
        );
        assert!(matches!(ms("5%"), Err(DurationError::MissingUnit { .. })));
        assert_eq!(
            ms("soon").unwrap_err().to_string(),
            "`soon` is not a duration: expected a number at `soon`; use units ms, s, m, h, d, w (e.g. \"1h30m\")"
        );
        assert!(matches!(ms("h"), Err(DurationError::ExpectedNumber { .. })));
        assert!(matches!(
            ms("+5s"),
            Err(DurationError::ExpectedNumber { .. })
        ));
        assert!(
            matches!(ms("1h..2h"), Err(DurationError::ExpectedNumber { rest, .. }) if rest == "..2h")
        );
    }

    #[test]
    fn overflow_is_an_error_not_a_wrap() {
        let max = u64::MAX;
        assert_eq!(ms(&format!("{max}ms")), Ok(max));
        for big in [
            format!("{max}s"),
            format!("{max}ms1ms"),
            "99999999999999999999999ms".to_string(),
            "30600000000w".to_string(),
        ] {
            let e = ms(&big).unwrap_err();
            assert_eq!(e, DurationError::TooLarge { text: big.clone() });
            assert!(e.to_string().contains("too long"), "{e}");
        }
    }

    #[test]
    fn formats_and_reads_back() {
        assert_eq!(format_duration_ms(0), "0s");
        assert_eq!(format_duration_ms(90_000), "1m30s");
        assert_eq!(format_duration_ms(788_645_006), "1w2d3h4m5s6ms");
        for text in ["1h30m", "2d", "500ms", "1w2d3h4m5s6ms", "0s"] {
            assert_eq!(ms(text).map(format_duration_ms), Ok(text.to_string()));
        }
        for n in [1, 999, 1_000, 59_999, 86_400_001, u64::MAX] {
            assert_eq!(ms(&format_duration_ms(n)), Ok(n), "{n}");
        }
    }

    #[test]
    fn every_error_is_a_usage_error() {
        for bad in [
            "",
            "60",
            "-1s",
            "x",
            "1.5h",
            "1 s",
            "1h 1m",
            "1h1",
            "1y",
            "99999999999w",
        ] {
            assert_eq!(ms(bad).unwrap_err().exit_class(), ExitClass::Usage, "{bad}");
        }
    }
}

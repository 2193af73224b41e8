//! Prometheus durations as used in rule files (`for`, `keep_firing_for`,
//! `interval`): `[0-9]+` followed by a unit, units `y w d h m s ms` in that
//! order and each at most once (`1h30m`, `5m`, `10s`, `1d`, `0`).

const UNITS: [(&str, u64); 7] = [
    ("y", 365 * 24 * 3_600_000),
    ("w", 7 * 24 * 3_600_000),
    ("d", 24 * 3_600_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// Parses a Prometheus duration to milliseconds.
pub fn parse_ms(text: &str) -> Result<u64, String> {
    if text.is_empty() {
        return Err("empty duration".into());
    }
    if text == "0" {
        return Ok(0);
    }
    let mut rest = text;
    let mut next_unit = 0;
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!(
                "invalid duration {text:?}: expected a number at {rest:?} (use e.g. 1h30m, 5m, 10s, 1d)"
            ));
        }
        let n: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("invalid duration {text:?}: number too large"))?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = &rest[..unit_len];
        let Some(pos) = UNITS.iter().position(|(u, _)| *u == unit) else {
            return Err(format!(
                "invalid duration {text:?}: {} (units: y, w, d, h, m, s, ms)",
                if unit.is_empty() {
                    "missing unit".to_owned()
                } else {
                    format!("unknown unit {unit:?}")
                }
            ));
        };
        if pos < next_unit {
            return Err(format!(
                "invalid duration {text:?}: units must be in the order y, w, d, h, m, s, ms, each at most once"
            ));
        }
        next_unit = pos + 1;
        total = n
            .checked_mul(UNITS[pos].1)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| format!("invalid duration {text:?}: too large"))?;
        rest = &rest[unit_len..];
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid() {
        assert_eq!(parse_ms("0"), Ok(0));
        assert_eq!(parse_ms("0s"), Ok(0));
        assert_eq!(parse_ms("5m"), Ok(300_000));
        assert_eq!(parse_ms("1h30m"), Ok(5_400_000));
        assert_eq!(parse_ms("1d"), Ok(86_400_000));
        assert_eq!(parse_ms("1w2d"), Ok(9 * 86_400_000));
        assert_eq!(parse_ms("1y"), Ok(365 * 86_400_000));
        assert_eq!(parse_ms("1s500ms"), Ok(1_500));
    }

    #[test]
    fn invalid() {
        assert_eq!(parse_ms(""), Err("empty duration".into()));
        assert!(parse_ms("5").unwrap_err().contains("missing unit"));
        assert!(parse_ms("5 minutes").unwrap_err().contains("missing unit"));
        assert!(
            parse_ms("5min")
                .unwrap_err()
                .contains("unknown unit \"min\"")
        );
        assert!(parse_ms("30m1h").unwrap_err().contains("order"));
        assert!(parse_ms("1m1m").unwrap_err().contains("order"));
        assert!(parse_ms("1.5h").unwrap_err().contains("missing unit"));
        assert!(parse_ms("-5m").unwrap_err().contains("expected a number"));
        assert!(parse_ms("h").is_err());
        assert!(
            parse_ms("99999999999999999999y")
                .unwrap_err()
                .contains("too large")
        );
    }
}

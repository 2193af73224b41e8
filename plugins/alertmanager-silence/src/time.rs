//! The clock and RFC 3339 output (Alertmanager's API takes `endsAt` as
//! RFC 3339); input goes through `cutover_adapter_util::rfc3339`.

/// The latest instant written: 9999-12-31T23:59:59.999Z.
pub const MAX_MS: i64 = 253_402_300_799_999;

/// The current time in Unix milliseconds (0 if the clock is before 1970).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `(year, month, day)` of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Unix milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ`; instants outside years
/// 0000-9999 are clamped to that range.
pub fn format_millis(ms: i64) -> String {
    let ms = ms.clamp(-62_167_219_200_000, MAX_MS);
    let days = ms.div_euclid(86_400_000);
    let rest = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3_600_000,
        rest / 60_000 % 60,
        rest / 1000 % 60,
        rest % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use cutover_adapter_util::rfc3339::parse_millis;

    #[test]
    fn formats_known_instants_and_round_trips() {
        assert_eq!(format_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_millis(1_709_210_096_789), "2024-02-29T12:34:56.789Z");
        assert_eq!(format_millis(-500), "1969-12-31T23:59:59.500Z");
        assert_eq!(format_millis(MAX_MS), "9999-12-31T23:59:59.999Z");
        assert_eq!(format_millis(i64::MAX), "9999-12-31T23:59:59.999Z");
        for ms in [
            0,
            951_782_400_000,
            1_800_000_000_123,
            4_102_444_800_000,
            MAX_MS,
        ] {
            assert_eq!(parse_millis(&format_millis(ms)), Ok(ms), "{ms}");
        }
    }
}

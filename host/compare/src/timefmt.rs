//! Timestamp parsing and formatting (unix milliseconds internally).

use jiff::Timestamp;

/// Parse an RFC 3339 timestamp (fractional seconds and offsets allowed) into
/// unix milliseconds. Sub-millisecond precision is truncated toward the past.
pub fn parse_rfc3339_millis(s: &str) -> Result<i64, String> {
    let ts: Timestamp = s
        .parse()
        .map_err(|e| format!("invalid RFC 3339 timestamp {s:?}: {e}"))?;
    Ok(ts.as_millisecond())
}

/// Format unix milliseconds as an RFC 3339 UTC timestamp.
pub fn format_millis(ms: i64) -> String {
    match Timestamp::from_millisecond(ms) {
        Ok(ts) => ts.to_string(),
        Err(_) => format!("@{ms}ms"),
    }
}

/// Serde helper: serialise unix millis as RFC 3339.
pub(crate) mod as_rfc3339 {
    use serde::Serializer;

    pub fn serialize<S: Serializer>(ms: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_millis(*ms))
    }
}

/// Serde helper: serialise optional unix millis as RFC 3339 or null.
pub(crate) mod as_rfc3339_opt {
    use serde::Serializer;

    pub fn serialize<S: Serializer>(ms: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match ms {
            Some(v) => s.serialize_str(&super::format_millis(*v)),
            None => s.serialize_none(),
        }
    }
}

/// A timestamp field read from JSON: an RFC 3339 string, or (for cutover's
/// own format) an integer of unix milliseconds. Parse errors carry the JSON
/// position because they are raised during deserialisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct JsonTime(pub i64);

impl<'de> serde::Deserialize<'de> for JsonTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = JsonTime;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an RFC 3339 timestamp string or integer unix milliseconds")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<JsonTime, E> {
                parse_rfc3339_millis(v).map(JsonTime).map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<JsonTime, E> {
                Ok(JsonTime(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<JsonTime, E> {
                i64::try_from(v)
                    .map(JsonTime)
                    .map_err(|_| E::custom("timestamp out of range"))
            }
        }
        d.deserialize_any(V)
    }
}

/// Go's zero time (`0001-01-01T00:00:00Z`), which Alertmanager uses for "no end".
pub(crate) fn is_go_zero(ms: i64) -> bool {
    ms <= -62_135_596_800_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fraction_and_offset() {
        let a = parse_rfc3339_millis("2026-11-20T10:00:00.123456789Z").unwrap();
        let b = parse_rfc3339_millis("2026-11-20T12:00:00.123+02:00").unwrap();
        assert_eq!(a, b);
        assert_eq!(a % 1000, 123);
        assert!(parse_rfc3339_millis("2026-11-20 10:00").is_err());
        assert!(is_go_zero(
            parse_rfc3339_millis("0001-01-01T00:00:00Z").unwrap()
        ));
    }

    #[test]
    fn formats_round_trip() {
        let ms = parse_rfc3339_millis("2026-11-20T10:00:01.5Z").unwrap();
        assert_eq!(format_millis(ms), "2026-11-20T10:00:01.5Z");
    }
}

//! Timestamps in comparison input and output: unix milliseconds internally,
//! RFC 3339 in reports (the fraction only as long as it needs to be, see
//! [`cutover_base::time::rfc3339_short`]) and, in JSON input, RFC 3339 or
//! integer unix milliseconds.

pub use cutover_base::time::{
    parse_rfc3339 as parse_rfc3339_millis, rfc3339_short as format_millis,
};

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
    fn go_zero_is_no_end() {
        assert!(is_go_zero(
            parse_rfc3339_millis("0001-01-01T00:00:00Z").unwrap()
        ));
        assert!(!is_go_zero(
            parse_rfc3339_millis("0001-01-01T00:00:00.001Z").unwrap()
        ));
    }

    #[test]
    fn json_times_are_rfc3339_or_unix_millis() {
        let read = |json: &str| serde_json::from_str::<JsonTime>(json).map(|t| t.0);
        assert_eq!(
            read("\"2026-11-20T10:00:01.5Z\"").ok(),
            Some(1_795_168_801_500)
        );
        assert_eq!(read("1795168801500").ok(), Some(1_795_168_801_500));
        assert_eq!(read("-1").ok(), Some(-1));
        let e = read("\"2026-11-20 10:00\"").unwrap_err().to_string();
        assert!(e.starts_with("invalid RFC 3339 timestamp"), "{e}");
        assert!(read("18446744073709551615").is_err());
        assert!(read("true").is_err());
    }

    #[test]
    fn serialises_as_rfc3339() {
        #[derive(serde::Serialize)]
        struct T {
            #[serde(serialize_with = "as_rfc3339::serialize")]
            at: i64,
            #[serde(serialize_with = "as_rfc3339_opt::serialize")]
            end: Option<i64>,
        }
        let json = serde_json::to_string(&T {
            at: 1_795_168_801_500,
            end: None,
        });
        assert_eq!(
            json.ok().as_deref(),
            Some(r#"{"at":"2026-11-20T10:00:01.5Z","end":null}"#)
        );
    }
}

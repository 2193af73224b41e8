//! Deterministic alerts shaped like a real Alertmanager's `/api/v2/alerts`
//! records (the recorded dump in `host/compare/tests/fixtures/reference`):
//! its five alert kinds, 3 to 7 labels (about 85 bytes of names and values)
//! and 1 or 2 annotations (about 70 bytes), sorted by name, a 16-hex-digit
//! fingerprint, still firing (`ends-at` empty) like the Alertmanager adapter
//! reports them, one in ten suppressed.

use cutover_plugin_sdk::{Alert, AlertState, PluginError};

/// Alerts returned when config `count` is absent.
pub const DEFAULT_COUNT: usize = 100_000;

/// Config `count`: absent = [`DEFAULT_COUNT`].
pub fn count(value: Option<&str>) -> Result<usize, PluginError> {
    match value {
        None => Ok(DEFAULT_COUNT),
        Some(v) => v.trim().parse().map_err(|e| {
            PluginError::InvalidInput(format!(
                "config `count`: {v:?} is not a number of alerts: {e}"
            ))
        }),
    }
}

/// Config `keep`: `all` (absent) returns the alerts, `none` drops them.
pub fn keep(value: Option<&str>) -> Result<bool, PluginError> {
    match value.map(str::trim) {
        None | Some("all") => Ok(true),
        Some("none") => Ok(false),
        Some(other) => Err(PluginError::InvalidInput(format!(
            "config `keep`: {other:?} is neither `all` nor `none`"
        ))),
    }
}

/// A deliberate fault in the alert stream (config `framing`), for the
/// host's tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer one alert more than written.
    Count,
    /// Leave the stream's last 3 bytes out.
    Truncate,
    /// The first fingerprint's first byte becomes 0xff.
    Utf8,
    /// Version byte 2.
    Version,
    /// A reserved flag bit on the first alert.
    Flags,
}

/// Offsets in a version-1 stream: the version byte, then the first
/// alert's starts-at, flags (no ends-at: the generated alerts have none),
/// the two counts and the fingerprint's length.
const FIRST_FLAGS: usize = 1 + 8;
const FIRST_FINGERPRINT: usize = FIRST_FLAGS + 1 + 4 + 4 + 4;

impl Fault {
    /// Spoils a stream of at least one alert (and the count it answers).
    pub fn apply(self, bytes: &mut Vec<u8>, count: &mut u64) {
        match self {
            Fault::Count => *count += 1,
            Fault::Truncate => bytes.truncate(bytes.len().saturating_sub(3)),
            Fault::Utf8 => set(bytes, FIRST_FINGERPRINT, 0xff),
            Fault::Version => set(bytes, 0, 2),
            Fault::Flags => set(bytes, FIRST_FLAGS, 0b1000),
        }
    }
}

fn set(bytes: &mut [u8], at: usize, value: u8) {
    if let Some(b) = bytes.get_mut(at) {
        *b = value;
    }
}

/// Config `framing`: `ok` (absent) or one [`Fault`].
pub fn fault(value: Option<&str>) -> Result<Option<Fault>, PluginError> {
    Ok(Some(match value.map(str::trim) {
        None | Some("ok") => return Ok(None),
        Some("count") => Fault::Count,
        Some("truncate") => Fault::Truncate,
        Some("utf8") => Fault::Utf8,
        Some("version") => Fault::Version,
        Some("flags") => Fault::Flags,
        Some(other) => {
            return Err(PluginError::InvalidInput(format!(
                "config `framing`: {other:?} is not ok, count, truncate, utf8, version or flags"
            )));
        }
    }))
}

/// `n` alerts; alert `i` started `i mod 86400` seconds before `now_ms`.
pub fn alerts(n: usize, now_ms: i64) -> Vec<Alert> {
    (0..n as u64).map(|i| alert(i, now_ms)).collect()
}

fn pairs<const N: usize>(p: [(&str, String); N]) -> Vec<(String, String)> {
    // Written in name order already; `BTreeMap` order is what adapters emit.
    p.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn s(v: &str) -> String {
    v.to_owned()
}

/// Alert number `i`: kind `i mod 5`, instance number `i / 5`.
pub fn alert(i: u64, now_ms: i64) -> Alert {
    let k = i / 5;
    let (labels, annotations) = match i % 5 {
        0 => (
            pairs([
                ("alertname", s("ErrorRateHigh")),
                ("instance", format!("api-{k}:8080")),
                ("job", s("api")),
                ("service", s("api")),
                ("severity", s("critical")),
            ]),
            pairs([
                (
                    "runbook_url",
                    s("https://runbooks.example.com/ErrorRateHigh"),
                ),
                ("summary", format!("5xx ratio above 5% for api-{k}")),
            ]),
        ),
        1 => (
            pairs([
                ("alertname", s("HighQueueDepth")),
                ("instance", format!("rabbit-{}:15692", k % 8)),
                ("job", s("rabbitmq")),
                ("queue", format!("queue-{k}")),
                ("service", s("mail")),
                ("severity", s("warning")),
            ]),
            pairs([(
                "summary",
                format!("Queue queue-{k} has {} messages", 12_000 + k % 20_000),
            )]),
        ),
        2 => (
            pairs([
                ("alertname", s("ServiceDown")),
                ("instance", format!("checkout-{k}:8080")),
                ("job", s("checkout")),
                ("service", s("checkout")),
                ("severity", s("critical")),
            ]),
            pairs([("summary", format!("checkout-{k} is down"))]),
        ),
        3 => (
            pairs([
                ("alertname", s("DiskAlmostFull")),
                ("device", format!("/dev/sdb{}", k % 4 + 1)),
                ("instance", format!("db-{k}:9100")),
                ("job", s("node")),
                ("mountpoint", s("/var")),
                ("service", s("db")),
                ("severity", s("warning")),
            ]),
            pairs([(
                "summary",
                format!("Disk /var on db-{k} is {}% full", 80 + k % 20),
            )]),
        ),
        _ => (
            pairs([
                ("alertname", s("Watchdog")),
                ("prometheus", format!("monitoring/k8s-{k}")),
                ("severity", s("none")),
            ]),
            pairs([
                (
                    "description",
                    s(
                        "This is an alert meant to ensure that the entire alerting pipeline is functional.",
                    ),
                ),
                (
                    "summary",
                    s(
                        "An alert that should always be firing to certify that Alertmanager is working properly.",
                    ),
                ),
            ]),
        ),
    };
    Alert {
        labels,
        annotations,
        starts_at: now_ms - (i % 86_400) as i64 * 1000,
        ends_at: None,
        state: if i % 10 == 9 {
            AlertState::Suppressed
        } else {
            AlertState::Active
        },
        fingerprint: format!("{:016x}", splitmix64(i)),
    }
}

/// A well-mixed 64-bit value of `i` (SplitMix64's finaliser).
fn splitmix64(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn bytes(p: &[(String, String)]) -> usize {
        p.iter().map(|(k, v)| k.len() + v.len()).sum()
    }

    #[test]
    fn alerts_are_deterministic_and_shaped_like_the_recorded_dump() {
        let a = alerts(10_000, 1_800_000_000_000);
        assert_eq!(a, alerts(10_000, 1_800_000_000_000));
        assert_eq!(a.len(), 10_000);
        let fps: HashSet<&str> = a.iter().map(|x| x.fingerprint.as_str()).collect();
        assert_eq!(fps.len(), a.len(), "fingerprints are distinct");
        for x in &a {
            assert_eq!(x.fingerprint.len(), 16);
            assert!((3..=7).contains(&x.labels.len()), "{:?}", x.labels);
            assert!((1..=2).contains(&x.annotations.len()));
            assert!(x.labels.windows(2).all(|w| w[0].0 < w[1].0), "sorted");
            assert!(x.annotations.windows(2).all(|w| w[0].0 < w[1].0));
            assert_eq!(x.labels[0].0, "alertname");
            assert_eq!(x.ends_at, None);
        }
        // The recorded dump: ~83 bytes of labels, ~68 of annotations.
        let n = a.len();
        let labels = a.iter().map(|x| bytes(&x.labels)).sum::<usize>() / n;
        let annotations = a.iter().map(|x| bytes(&x.annotations)).sum::<usize>() / n;
        assert!((70..=100).contains(&labels), "labels {labels} bytes");
        assert!(
            (55..=85).contains(&annotations),
            "annotations {annotations} bytes"
        );
        let suppressed = a
            .iter()
            .filter(|x| x.state == AlertState::Suppressed)
            .count();
        assert_eq!(suppressed, n / 10);
    }

    #[test]
    fn a_sampled_alert_has_its_fields() {
        let x = alert(12_345, 1_800_000_000_000);
        assert_eq!(x.labels[0], (s("alertname"), s("ErrorRateHigh")));
        assert_eq!(x.labels[1], (s("instance"), s("api-2469:8080")));
        assert_eq!(x.starts_at, 1_800_000_000_000 - 12_345_000);
        assert_eq!(x.state, AlertState::Active);
    }

    #[test]
    fn config_is_checked() {
        assert_eq!(count(None).unwrap(), DEFAULT_COUNT);
        assert_eq!(count(Some(" 42 ")).unwrap(), 42);
        let e = count(Some("many")).unwrap_err();
        assert!(
            matches!(&e, PluginError::InvalidInput(m) if m.contains("config `count`")),
            "{e:?}"
        );
        assert!(keep(None).unwrap());
        assert!(!keep(Some("none")).unwrap());
        assert!(matches!(
            keep(Some("some")),
            Err(PluginError::InvalidInput(_))
        ));
    }
}

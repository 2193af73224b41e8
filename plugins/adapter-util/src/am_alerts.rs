//! `GET /api/v2/alerts` answers to WIT alerts.

use crate::labels::Tags;
use crate::rfc3339::parse_millis;
use cutover_plugin_sdk::{
    Alert, AlertState, AlertWriter, ChunkSink, PluginError, Window, decode_json,
};
use serde::Deserialize;

/// One alert as Alertmanager's API v2 returns it (fields we use).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiAlert {
    #[serde(flatten)]
    tags: Tags,
    starts_at: String,
    fingerprint: String,
    status: ApiStatus,
}

#[derive(Debug, Deserialize)]
struct ApiStatus {
    state: String,
}

/// Parses the JSON array of `GET /api/v2/alerts` and keeps the alerts that
/// started before the window ends. `endsAt` of a firing alert is only
/// Alertmanager's expiry estimate, so `ends-at` is left empty: the alert is
/// still firing. States: `active`/`unprocessed` -> active, `suppressed` ->
/// suppressed (silenced or inhibited).
pub fn parse(body: &str, window: &Window) -> Result<Vec<Alert>, String> {
    let alerts: Vec<ApiAlert> = decode_json("/api/v2/alerts answer", body)?;
    let mut out = Vec::new();
    for (i, a) in alerts.into_iter().enumerate() {
        let starts_at = parse_millis(&a.starts_at)
            .map_err(|e| format!("/api/v2/alerts answer: at `[{i}].startsAt`: {e}"))?;
        let state = match a.status.state.as_str() {
            "active" | "unprocessed" => AlertState::Active,
            "suppressed" => AlertState::Suppressed,
            other => {
                return Err(format!(
                    "/api/v2/alerts answer: at `[{i}].status.state`: unknown state {other:?}"
                ));
            }
        };
        if starts_at > window.end {
            continue;
        }
        out.push(a.tags.firing(starts_at, state, a.fingerprint));
    }
    Ok(out)
}

/// Writes `alerts` into `sink` in the alert framing of
/// `collect-alerts-into` (contract 0.1.3); the count it returns.
pub fn stream<S: ChunkSink + ?Sized>(alerts: &[Alert], sink: &S) -> Result<u64, PluginError> {
    let mut out = AlertWriter::new(sink);
    for a in alerts {
        out.push(a)?;
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shared with the host's streaming test.
    const BODY: &str = include_str!("../../../tests/fixtures/alertmanager/alerts-v2-two.json");

    #[test]
    fn maps_states_times_and_labels() {
        let all = parse(BODY, &Window::until(i64::MAX)).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].starts_at, 10_000);
        assert_eq!(all[0].state, AlertState::Active);
        assert_eq!(all[0].ends_at, None);
        assert_eq!(all[0].fingerprint, "448881ef475b9b26");
        assert_eq!(
            all[0].labels,
            vec![
                ("alertname".into(), "Watchdog".into()),
                ("severity".into(), "none".into())
            ]
        );
        assert_eq!(
            all[0].annotations,
            vec![("summary".into(), "always firing".into())]
        );
        assert_eq!(all[1].state, AlertState::Suppressed);
        assert_eq!(all[1].starts_at, 20_500);
    }

    #[test]
    fn window_end_excludes_later_alerts() {
        let some = parse(BODY, &Window::until(15_000)).unwrap();
        assert_eq!(some.len(), 1);
        assert_eq!(some[0].fingerprint, "448881ef475b9b26");
    }

    #[test]
    fn bad_answers_name_the_place() {
        let err = parse(r#"[{"startsAt":"x"}]"#, &Window::until(1)).unwrap_err();
        assert!(err.contains("line 1"), "{err}");
        let err = parse(
            r#"[{"startsAt":"never","fingerprint":"f","status":{"state":"active"}}]"#,
            &Window::until(1),
        )
        .unwrap_err();
        assert!(err.contains("[0].startsAt"), "{err}");
        let err = parse(
            r#"[{"startsAt":"1970-01-01T00:00:00Z","fingerprint":"f","status":{"state":"odd"}}]"#,
            &Window::until(1),
        )
        .unwrap_err();
        assert!(
            err.contains("[0].status.state") && err.contains("odd"),
            "{err}"
        );
    }

    /// What `collect-alerts-into` writes: the framing's version, then each
    /// alert's fields in order; the count returned.
    #[test]
    fn streams_the_parsed_alerts_in_the_alert_framing() {
        struct Memory(std::cell::RefCell<Vec<u8>>);
        impl ChunkSink for Memory {
            fn write_chunk(&self, chunk: &[u8]) -> Result<(), String> {
                self.0.borrow_mut().extend_from_slice(chunk);
                Ok(())
            }
        }
        let all = parse(BODY, &Window::until(i64::MAX)).unwrap();
        let sink = Memory(Default::default());
        assert_eq!(stream(&all, &sink).unwrap(), 2);
        let bytes = sink.0.into_inner();
        assert_eq!(bytes[0], cutover_plugin_sdk::ALERT_FRAMING_VERSION);
        assert_eq!(bytes[1..9], 10_000i64.to_le_bytes());
        assert_eq!(bytes[9], 0, "active, no ends-at");
        assert_eq!(bytes[10..14], 2u32.to_le_bytes(), "two labels");
        assert_eq!(bytes[14..18], 1u32.to_le_bytes(), "one annotation");
        assert_eq!(bytes[18..22], 16u32.to_le_bytes());
        assert_eq!(&bytes[22..38], b"448881ef475b9b26");
        let second = bytes
            .windows(8)
            .position(|w| w == 20_500i64.to_le_bytes())
            .expect("second alert");
        assert_eq!(bytes[second + 8], 1, "suppressed");
    }
}

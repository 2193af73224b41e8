//! `notifications-muted`: a check that confirms, through the old
//! Alertmanager's API, that an alert in scope would be silenced.
//!
//! Params (JSON, unknown fields rejected; errors name the JSON path):
//! `labels` (an example alert's label set, e.g. `{"alertname": "Probe",
//! "team": "core"}`) or `scope` (Prometheus label matchers; probe alerts
//! are built from its `=` matchers and its `=~` matchers over literals
//! such as `"checkout|cart"`, one probe per value, with `alertname`
//! `CutoverProbe` unless the scope fixes it; a scope with no such matcher,
//! `*` included, is `invalid-input`).
//!
//! Config: `url` (the old Alertmanager; grant it as a host), `timeout_ms`,
//! `auth` (`none` | `basic`, which reads the secrets `alertmanager_user` and
//! `alertmanager_password`).
//!
//! It reads `GET /api/v2/silences`, keeps the active silences and passes
//! when every probe alert is muted by one of them (Alertmanager semantics:
//! all matchers of the silence match, regexes anchored, a missing label is
//! `""`), naming the silence ids. It fails naming what is not silenced, and
//! also when Alertmanager has no active silence at all (nothing is muted).
//! Measurements: `active_silences`, `matching_silences` (active silences
//! muting at least one probe).

mod probe;
mod silences;

use cutover_adapter_util::client::Client;
use cutover_plugin_sdk::{
    Context, Descriptor, Measurement, PluginError, PluginKind, Verdict, VerdictKind, check, log,
    unavailable,
};

use probe::{Labels, Params, labels_text};
use silences::Silences;
use translate_core::time::now_ms;

/// The collection endpoint.
const SILENCES: &str = "/api/v2/silences";

/// Secret name prefix for basic auth.
const SECRETS: &str = "alertmanager";

struct NotificationsMuted;

impl check::Guest for NotificationsMuted {
    fn describe() -> Descriptor {
        Descriptor {
            capabilities: cutover_adapter_util::client::capabilities(SECRETS),
            ..cutover_plugin_sdk::descriptor(
                "notifications-muted",
                env!("CARGO_PKG_VERSION"),
                PluginKind::Check,
                "Passes when an alert with params.labels (or probe alerts built from \
                 params.scope) would be silenced by an active silence of the Alertmanager at \
                 config `url`. Measures active_silences and matching_silences.",
            )
        }
    }

    fn evaluate(ctx: Context) -> Result<Verdict, PluginError> {
        let p: Params = cutover_plugin_sdk::params(&ctx)?;
        let probes = p.probes()?;
        let am = Client::from_config(SECRETS, false)?;
        let text = am.get_ok(SILENCES)?;
        let silences = silences::parse(&text, now_ms())
            .map_err(|e| unavailable(format!("GET {}: {e}", am.url(SILENCES))))?;
        for why in &silences.skipped {
            log::warn(format!("not judged: {why}"));
        }
        Ok(judge(&silences, &probes))
    }
}

/// The verdict for the probe alerts against the active silences.
fn judge(silences: &Silences, probes: &[Labels]) -> Verdict {
    let per_probe = silences::muting(silences, probes);
    let mut matching: Vec<&str> = per_probe.iter().flatten().copied().collect();
    matching.sort_unstable();
    matching.dedup();
    let active = silences.active.len();
    let skipped = if silences.skipped.is_empty() {
        String::new()
    } else {
        format!(
            "; {} active silences not judged: {}",
            silences.skipped.len(),
            silences.skipped.join("; ")
        )
    };
    let unmuted: Vec<String> = probes
        .iter()
        .zip(&per_probe)
        .filter(|(_, ids)| ids.is_empty())
        .map(|(p, _)| labels_text(p))
        .collect();
    let (verdict, message) = if active == 0 && silences.skipped.is_empty() {
        (
            VerdictKind::Fail,
            "nothing is muted: Alertmanager has no active silence".to_owned(),
        )
    } else if unmuted.is_empty() {
        let each: Vec<String> = probes
            .iter()
            .zip(&per_probe)
            .map(|(p, ids)| format!("{} by {}", labels_text(p), ids.join(", ")))
            .collect();
        (
            VerdictKind::Pass,
            format!(
                "silenced: {} ({} of {active} active silences match){skipped}",
                each.join("; "),
                matching.len()
            ),
        )
    } else {
        (
            VerdictKind::Fail,
            format!(
                "not silenced: {} ({} of {} probe alerts; {} of {active} active silences match \
                 a probe alert){skipped}",
                unmuted.join(", "),
                unmuted.len(),
                probes.len(),
                matching.len()
            ),
        )
    };
    Verdict {
        verdict,
        message,
        measurements: vec![
            Measurement {
                name: "active_silences".to_owned(),
                value: active as f64,
            },
            Measurement {
                name: "matching_silences".to_owned(),
                value: matching.len() as f64,
            },
        ],
    }
}

cutover_plugin_sdk::export_check!(NotificationsMuted);

#[cfg(test)]
mod tests {
    use super::*;
    use translate_core::Scope;

    const NOW: i64 = 1_800_000_000_000;

    fn silences(entries: &[(&str, &str)]) -> Silences {
        let items: Vec<String> = entries
            .iter()
            .map(|(id, matchers)| {
                format!(
                    r#"{{"id":"{id}","status":{{"state":"active"}},"endsAt":"2030-01-01T00:00:00Z","matchers":{matchers}}}"#
                )
            })
            .collect();
        silences::parse(&format!("[{}]", items.join(",")), NOW).unwrap()
    }

    fn probes(scope: &str) -> Vec<Labels> {
        probe::from_scope(&Scope::parse(scope).unwrap()).unwrap()
    }

    fn values(v: &Verdict) -> Vec<f64> {
        v.measurements.iter().map(|m| m.value).collect()
    }

    const CORE: &str = r#"[{"name":"team","value":"core","isRegex":false,"isEqual":true}]"#;
    const ALL: &str = r#"[{"name":"alertname","value":".+","isRegex":true,"isEqual":true}]"#;
    const CART: &str = r#"[{"name":"service","value":"cart","isRegex":false,"isEqual":true}]"#;

    #[test]
    fn passes_naming_the_silences() {
        let s = silences(&[("s1", CORE), ("s2", ALL), ("s3", CART)]);
        let v = judge(&s, &probes(r#"{team="core"}"#));
        assert_eq!(v.verdict, VerdictKind::Pass, "{}", v.message);
        assert_eq!(
            v.message,
            r#"silenced: {alertname="CutoverProbe", team="core"} by s1, s2 (2 of 3 active silences match)"#
        );
        assert_eq!(values(&v), [3.0, 2.0]);
    }

    #[test]
    fn fails_naming_what_is_not_silenced() {
        let s = silences(&[("s3", CART)]);
        let v = judge(&s, &probes(r#"{service=~"checkout|cart"}"#));
        assert_eq!(v.verdict, VerdictKind::Fail);
        assert!(
            v.message.starts_with(
                r#"not silenced: {alertname="CutoverProbe", service="checkout"} (1 of 2 probe alerts"#
            ),
            "{}",
            v.message
        );
        assert_eq!(values(&v), [1.0, 1.0]);
    }

    #[test]
    fn no_active_silence_is_a_fail() {
        let v = judge(&silences(&[]), &probes(r#"{team="core"}"#));
        assert_eq!(v.verdict, VerdictKind::Fail);
        assert!(v.message.contains("nothing is muted"), "{}", v.message);
        assert_eq!(values(&v), [0.0, 0.0]);
    }
}

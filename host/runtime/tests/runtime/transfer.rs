//! `list<alert>` transfer from an adapter guest: the `bulk-alerts` bench
//! plugin's 100 000 generated alerts (about 48 MB as the host holds them)
//! against the default output cap, and intact once a sandbox raises it.
//! The throughput figures are in `benches/alerts.rs`.

use std::collections::HashSet;

use cutover_base::exit::{ExitClass, HasExitClass};
use cutover_runtime::{CallError, Limit, wit};

use super::{END_MS, limit_of, load, rt, window, with_config};

fn pair(k: &str, v: &str) -> (String, String) {
    (k.to_owned(), v.to_owned())
}

#[test]
fn default_output_cap_refuses_100k_alerts_as_a_typed_output_limit() {
    let p = load("bulk-alerts");
    let sb = with_config(&[]);
    let err = rt().collect_alerts(&p, &sb, window()).unwrap_err();
    assert_eq!(limit_of(&err), Some(Limit::Output), "{err:?}");
    assert_eq!(err.exit_class(), ExitClass::PluginCall, "{err}");
    // A smaller list under the same defaults crosses.
    let sb = with_config(&[("count", "1000")]);
    let alerts = rt().collect_alerts(&p, &sb, window()).expect("1000 alerts");
    assert_eq!(alerts.len(), 1000);
}

#[test]
fn bulk_alerts_arrive_intact_with_the_output_cap_raised() {
    let p = load("bulk-alerts");
    let mut sb = with_config(&[]);
    sb.limits.max_output_bytes = 256 << 20;
    let alerts = rt().collect_alerts(&p, &sb, window()).expect("100k alerts");
    assert_eq!(alerts.len(), 100_000);
    // Alert 12 345: kind 0 (12 345 mod 5), instance 2 469.
    let a = &alerts[12_345];
    assert_eq!(
        a.labels,
        vec![
            pair("alertname", "ErrorRateHigh"),
            pair("instance", "api-2469:8080"),
            pair("job", "api"),
            pair("service", "api"),
            pair("severity", "critical"),
        ]
    );
    assert_eq!(
        a.annotations,
        vec![
            pair("runbook_url", "https://runbooks.example.com/ErrorRateHigh"),
            pair("summary", "5xx ratio above 5% for api-2469"),
        ]
    );
    assert_eq!(a.starts_at, END_MS - 12_345_000);
    assert_eq!(a.ends_at, None);
    assert_eq!(a.state, wit::AlertState::Active);
    // The last one: kind 4 (Watchdog), instance 19 999, one in ten suppressed.
    let last = &alerts[99_999];
    assert_eq!(last.labels[1], pair("prometheus", "monitoring/k8s-19999"));
    assert_eq!(last.state, wit::AlertState::Suppressed);
    assert_eq!(last.starts_at, END_MS - (99_999 % 86_400) * 1000);
    let suppressed = alerts
        .iter()
        .filter(|a| a.state == wit::AlertState::Suppressed)
        .count();
    assert_eq!(suppressed, 10_000);
    let fingerprints: HashSet<&str> = alerts.iter().map(|a| a.fingerprint.as_str()).collect();
    assert_eq!(fingerprints.len(), 100_000, "every fingerprint distinct");
    assert!(
        alerts
            .iter()
            .all(|a| a.fingerprint.len() == 16
                && a.fingerprint.bytes().all(|b| b.is_ascii_hexdigit()))
    );
}

#[test]
fn bulk_alerts_keep_none_and_bad_config_answer_as_documented() {
    let p = load("bulk-alerts");
    let sb = with_config(&[("keep", "none")]);
    let alerts = rt()
        .collect_alerts(&p, &sb, window())
        .expect("generated, none returned");
    assert!(alerts.is_empty());
    let sb = with_config(&[("count", "lots")]);
    match rt().collect_alerts(&p, &sb, window()) {
        Err(CallError::Plugin { error, .. }) => assert!(
            matches!(&error, cutover_runtime::PluginError::InvalidInput(m) if m.contains("config `count`")),
            "{error:?}"
        ),
        other => panic!("expected invalid-input, got {other:?}"),
    }
}

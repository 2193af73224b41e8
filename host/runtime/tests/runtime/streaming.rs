//! `collect-alerts-into` (contract 0.1.3, the `streaming-adapter` world):
//! alerts streamed into a host sink in the alert framing and decoded into an
//! [`AlertBatch`]. Real components: `bulk-alerts` (with its deliberate
//! `framing` faults), `alertmanager` against a canned `/api/v2/alerts`, and
//! a 0.1.2 build of `bulk-alerts` that has only `collect-alerts` (the
//! fallback). The decoder itself against a table of malformed framings and
//! random damage.

use cutover_base::exit::{ExitClass, HasExitClass};
use cutover_runtime::{
    AlertBatch, CallError, Field, FramingError, Grants, Limit, Origin, Sandbox, World,
    decode_alerts, encode_alerts, wit,
};
use cutover_test_kit::http::CannedServer;
use cutover_test_kit::repo_path;

use super::{END_MS, limit_of, load, rt, window, with_config};

fn bulk_0_1_2() -> cutover_runtime::Plugin {
    let path = repo_path("tests/fixtures/contract-0.1.2/bulk-alerts.wasm");
    rt().load_file(&path, None).expect("a 0.1.2 adapter loads")
}

#[test]
fn streamed_alerts_equal_the_listed_ones() {
    let p = load("bulk-alerts");
    assert!(p.streams_alerts());
    assert_eq!(p.info().contract_version.as_deref(), Some("0.1.3"));
    let sb = with_config(&[("count", "2000")]);
    let batch = rt().collect_alert_batch(&p, &sb, window()).expect("batch");
    let list = rt().collect_alerts(&p, &sb, window()).expect("list");
    assert_eq!(batch.len(), 2000);
    assert_eq!(batch.to_alerts(), list);
    // Views borrow from the batch.
    let a = batch.get(1232).unwrap();
    assert_eq!(a.label("alertname"), Some("ServiceDown"));
    assert_eq!(a.label("instance"), Some("checkout-246:8080"));
    assert_eq!(a.fingerprint(), list[1232].fingerprint);
    assert_eq!(a.ends_at(), None);
    assert_eq!(a.state(), wit::AlertState::Active);
    assert_eq!(
        batch.iter().next_back().unwrap().starts_at(),
        list[1999].starts_at
    );
    // `keep: none` writes nothing and answers 0.
    let sb = with_config(&[("count", "50"), ("keep", "none")]);
    assert!(
        rt().collect_alert_batch(&p, &sb, window())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn the_default_output_cap_refuses_a_100k_stream_as_a_typed_output_limit() {
    let p = load("bulk-alerts");
    let err = rt()
        .collect_alert_batch(&p, &with_config(&[]), window())
        .unwrap_err();
    assert_eq!(limit_of(&err), Some(Limit::Output), "{err:?}");
    assert_eq!(err.exit_class(), ExitClass::PluginCall);
    // Raised, the 100 000 alerts arrive intact.
    let mut sb = with_config(&[]);
    sb.limits.max_output_bytes = 256 << 20;
    let batch = rt().collect_alert_batch(&p, &sb, window()).expect("100k");
    assert_eq!(batch.len(), 100_000);
    let a = batch.get(12_345).unwrap();
    assert_eq!(
        a.labels().collect::<Vec<_>>(),
        vec![
            ("alertname", "ErrorRateHigh"),
            ("instance", "api-2469:8080"),
            ("job", "api"),
            ("service", "api"),
            ("severity", "critical"),
        ]
    );
    assert_eq!(a.starts_at(), END_MS - 12_345_000);
    let suppressed = batch
        .iter()
        .filter(|a| a.state() == wit::AlertState::Suppressed)
        .count();
    assert_eq!(suppressed, 10_000);
    let fps: std::collections::HashSet<&str> = batch.iter().map(|a| a.fingerprint()).collect();
    assert_eq!(fps.len(), 100_000);
}

/// The cap is `max_output_bytes`, by the measure `collect-alerts`' result
/// is counted with (`output_size`): exactly the batch's size lets the
/// stream through, one byte less refuses it with the typed output limit,
/// as it refuses the list (which wasmtime's hostcall fuel also bounds by
/// its larger canonical-ABI form).
#[test]
fn the_stream_is_held_to_the_lists_output_cap() {
    let p = load("bulk-alerts");
    let sb = with_config(&[("count", "1000")]);
    let batch = rt().collect_alert_batch(&p, &sb, window()).unwrap();
    let size = batch.output_size();
    assert_eq!(
        size,
        cutover_runtime::AlertBatch::from_alerts(&rt().collect_alerts(&p, &sb, window()).unwrap())
            .unwrap()
            .output_size()
    );
    let mut exact = sb.clone();
    exact.limits.max_output_bytes = size;
    assert_eq!(
        rt().collect_alert_batch(&p, &exact, window())
            .unwrap()
            .len(),
        1000
    );
    let mut under = sb.clone();
    under.limits.max_output_bytes = size - 1;
    for err in [
        rt().collect_alerts(&p, &under, window())
            .map(|v| v.len())
            .unwrap_err(),
        rt().collect_alert_batch(&p, &under, window())
            .map(|b| b.len())
            .unwrap_err(),
    ] {
        assert_eq!(limit_of(&err), Some(Limit::Output), "{err:?}");
    }
    let mut roomy = sb;
    roomy.limits.max_output_bytes = 2 * size;
    assert_eq!(
        rt().collect_alerts(&p, &roomy, window()).unwrap().len(),
        1000
    );
}

#[test]
fn a_malformed_stream_from_a_real_component_is_a_typed_error() {
    let p = load("bulk-alerts");
    for fault in ["count", "truncate", "utf8", "version", "flags"] {
        let sb = with_config(&[("count", "10"), ("framing", fault)]);
        let err = rt().collect_alert_batch(&p, &sb, window()).unwrap_err();
        let CallError::AlertFraming { plugin, error } = &err else {
            panic!("{fault}: expected AlertFraming, got {err:?}");
        };
        assert_eq!(plugin, "bulk-alerts");
        assert_eq!(err.kind(), "invalid-output");
        assert_eq!(err.exit_class(), ExitClass::PluginCall);
        let ok = match fault {
            "count" => matches!(
                error,
                FramingError::CountMismatch {
                    returned: 11,
                    framed: 10
                }
            ),
            "truncate" => matches!(
                error,
                FramingError::Truncated {
                    alert: 9,
                    field: Field::AnnotationValue,
                    ..
                }
            ),
            "utf8" => matches!(
                error,
                FramingError::Utf8 {
                    alert: 0,
                    field: Field::Fingerprint,
                    offset: 18
                }
            ),
            "version" => matches!(error, FramingError::Version { found: 2 }),
            _ => matches!(
                error,
                FramingError::Flags {
                    alert: 0,
                    offset: 9,
                    flags: 0b1000
                }
            ),
        };
        assert!(ok, "{fault}: {error:?}");
    }
    let sb = with_config(&[("framing", "sideways")]);
    assert!(matches!(
        rt().collect_alert_batch(&p, &sb, window()),
        Err(CallError::Plugin { .. })
    ));
}

#[test]
fn a_0_1_2_adapter_falls_back_to_collect_alerts() {
    let old = bulk_0_1_2();
    assert_eq!(old.info().contract_version.as_deref(), Some("0.1.2"));
    assert_eq!(old.world(), World::Adapter);
    assert!(!old.streams_alerts());
    assert!(
        !old.info()
            .exports
            .iter()
            .any(|e| e == "collect-alerts-into")
    );
    let sb = with_config(&[("count", "500")]);
    let batch = rt()
        .collect_alert_batch(&old, &sb, window())
        .expect("fallback");
    let list = rt().collect_alerts(&old, &sb, window()).expect("list");
    assert_eq!(batch.len(), 500);
    assert_eq!(batch.to_alerts(), list);
    // The same alerts as the streamed ones of the current build.
    let new = rt()
        .collect_alert_batch(&load("bulk-alerts"), &sb, window())
        .unwrap();
    assert_eq!(new, batch);
    // The same cap, the same typed refusal.
    let err = rt()
        .collect_alert_batch(&old, &with_config(&[]), window())
        .unwrap_err();
    assert_eq!(limit_of(&err), Some(Limit::Output), "{err:?}");
}

#[test]
fn alert_batches_come_only_from_adapters() {
    let p = load("noop-action");
    assert!(matches!(
        rt().collect_alert_batch(&p, &Sandbox::default(), window()),
        Err(CallError::WorldMismatch {
            expected: World::Adapter,
            found: World::Action,
            ..
        })
    ));
}

/// Two alerts as Alertmanager's `/api/v2/alerts` answers (one suppressed,
/// a non-ASCII label value), shared with the adapter's unit tests.
const AM_ALERTS: &str = include_str!("../../../../tests/fixtures/alertmanager/alerts-v2-two.json");

#[test]
fn the_alertmanager_adapter_streams_its_alerts() {
    let server = CannedServer::always(200, AM_ALERTS);
    let p = load("alertmanager");
    assert!(p.streams_alerts());
    let mut grants = Grants {
        hosts: vec![Origin::parse_grant(&server.origin()).unwrap()],
        ..Grants::default()
    };
    grants.config.insert("url".into(), server.origin());
    let sb = Sandbox::with_grants(grants);
    let w = wit::Window {
        start: 0,
        end: i64::MAX,
    };
    let batch = rt().collect_alert_batch(&p, &sb, w).expect("streamed");
    let list = rt().collect_alerts(&p, &sb, w).expect("listed");
    assert_eq!(batch.len(), 2);
    assert_eq!(batch.to_alerts(), list);
    let b = batch.get(1).unwrap();
    assert_eq!(b.label("queue"), Some("émails"));
    assert_eq!(b.state(), wit::AlertState::Suppressed);
    assert_eq!(b.starts_at(), 20_500);
    assert_eq!(b.annotations().len(), 0);
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "one GET per call");
}

fn sample() -> Vec<wit::Alert> {
    (0..5)
        .map(|i| wit::Alert {
            labels: vec![
                ("alertname".into(), format!("Ä{i}")),
                ("sev".into(), "x".into()),
            ],
            annotations: if i == 2 {
                vec![]
            } else {
                vec![("summary".into(), "✓ ok".into())]
            },
            starts_at: -i,
            ends_at: (i % 2 == 1).then_some(i64::MAX - i),
            state: [
                wit::AlertState::Active,
                wit::AlertState::Suppressed,
                wit::AlertState::Resolved,
            ][i as usize % 3],
            fingerprint: format!("{i:x}"),
        })
        .collect()
}

#[test]
fn the_decoder_reads_back_what_the_encoder_wrote() {
    let alerts = sample();
    let bytes = encode_alerts(&alerts);
    let batch = decode_alerts(&bytes, 5).unwrap();
    assert_eq!(batch.to_alerts(), alerts);
    assert_eq!(batch, AlertBatch::from_alerts(&alerts).unwrap());
    assert_eq!(decode_alerts(&[1], 0).unwrap().len(), 0);
}

/// Offsets in the sample's stream: the version byte, then alert 0's
/// starts-at (1), flags (9), counts (10, 14), fingerprint (18: length,
/// 22: "0"), first label name (23).
#[test]
fn malformed_framings_are_typed_errors() {
    let good = encode_alerts(&sample());
    let with = |at: usize, b: u8| {
        let mut v = good.clone();
        v[at] = b;
        v
    };
    let le = |at: usize, n: u32| {
        let mut v = good.clone();
        v[at..at + 4].copy_from_slice(&n.to_le_bytes());
        v
    };
    type Check = fn(&FramingError) -> bool;
    let table: Vec<(&str, Vec<u8>, u64, Check)> = vec![
        ("empty", vec![], 0, |e| *e == FramingError::Empty),
        ("version 0", with(0, 0), 5, |e| {
            *e == FramingError::Version { found: 0 }
        }),
        ("version 2", with(0, 2), 5, |e| {
            *e == FramingError::Version { found: 2 }
        }),
        ("reserved flag", with(9, 0b1000), 5, |e| {
            matches!(
                e,
                FramingError::Flags {
                    alert: 0,
                    offset: 9,
                    flags: 8
                }
            )
        }),
        ("state 3", with(9, 0b011), 5, |e| {
            matches!(e, FramingError::Flags { flags: 3, .. })
        }),
        ("cut in starts-at", good[..5].to_vec(), 5, |e| {
            matches!(
                e,
                FramingError::Truncated {
                    alert: 0,
                    field: Field::StartsAt,
                    needed: 8,
                    left: 4,
                    ..
                }
            )
        }),
        ("cut in a count", good[..12].to_vec(), 5, |e| {
            matches!(
                e,
                FramingError::Truncated {
                    field: Field::LabelCount,
                    ..
                }
            )
        }),
        (
            "fingerprint longer than the stream",
            le(18, u32::MAX),
            5,
            |e| matches!(e, FramingError::Truncated { alert: 0, field: Field::Fingerprint, offset: 18, needed, .. } if *needed == u32::MAX as u64 + 4),
        ),
        ("huge label count", le(10, u32::MAX), 5, |e| {
            matches!(e, FramingError::Truncated { alert: 0, .. })
        }),
        ("huge annotation count", le(14, 1 << 30), 5, |e| {
            matches!(e, FramingError::Truncated { alert: 0, .. })
        }),
        ("bad utf-8", with(22, 0xff), 5, |e| {
            *e == FramingError::Utf8 {
                alert: 0,
                field: Field::Fingerprint,
                offset: 18,
            }
        }),
        ("lone continuation byte", with(23 + 4, 0x80), 5, |e| {
            matches!(
                e,
                FramingError::Utf8 {
                    alert: 0,
                    field: Field::LabelName,
                    offset: 23
                }
            )
        }),
        ("one alert fewer", good.clone(), 6, |e| {
            *e == FramingError::CountMismatch {
                returned: 6,
                framed: 5,
            }
        }),
        ("one alert more", good.clone(), 4, |e| {
            *e == FramingError::CountMismatch {
                returned: 4,
                framed: 5,
            }
        }),
        ("trailing byte", [&good[..], &[0]].concat(), 5, |e| {
            matches!(
                e,
                FramingError::Truncated {
                    alert: 5,
                    field: Field::StartsAt,
                    ..
                }
            )
        }),
    ];
    for (what, bytes, returned, check) in table {
        match decode_alerts(&bytes, returned) {
            Err(e) => assert!(check(&e), "{what}: {e:?}"),
            Ok(b) => panic!("{what}: decoded {} alerts", b.len()),
        }
    }
}

/// Two strings that are not UTF-8 on their own but are together: the
/// first ends with the lead byte of `é`, the second starts with its
/// continuation byte. Refused, not sliced mid-character.
#[test]
fn strings_are_utf8_each_on_its_own() {
    let mut a = sample();
    a.truncate(1);
    a[0].labels = vec![("k".into(), "v".into())];
    let mut bytes = encode_alerts(&a);
    // "k" (at 23 + 4) becomes 0xc3 and "v" (its length at 28) 0xa9.
    assert_eq!(bytes[27], b'k');
    assert_eq!(bytes[32], b'v');
    bytes[27] = 0xc3;
    bytes[32] = 0xa9;
    assert!(matches!(
        decode_alerts(&bytes, 1),
        Err(FramingError::Utf8 {
            alert: 0,
            field: Field::LabelName,
            ..
        })
    ));
}

/// Every cut of a good stream is refused; random damage never panics and
/// what decodes is consistent.
#[test]
fn damaged_streams_never_panic() {
    let good = encode_alerts(&sample());
    for cut in 0..good.len() {
        let r = decode_alerts(&good[..cut], 5);
        assert!(r.is_err(), "a stream cut at {cut} decoded");
    }
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rand = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let (mut ok, mut refused) = (0, 0);
    for _ in 0..20_000 {
        let mut v = good.clone();
        for _ in 0..1 + rand() % 4 {
            let at = (rand() % v.len() as u64) as usize;
            v[at] = rand() as u8;
        }
        if rand() % 4 == 0 {
            v.truncate((rand() % v.len() as u64) as usize);
        }
        match decode_alerts(&v, 5) {
            Ok(b) => {
                ok += 1;
                assert_eq!(b.len(), 5);
                for a in b.iter() {
                    let _ = (a.fingerprint(), a.labels().count(), a.annotations().count());
                }
            }
            Err(_) => refused += 1,
        }
    }
    assert!(ok > 0 && refused > 0, "ok {ok}, refused {refused}");
}

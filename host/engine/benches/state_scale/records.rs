//! The journal of a run over `SERVICES` services in `WAVES` waves, five
//! steps each, as the engine writes it: `step-started` / `step-finished`
//! events with the details each step kind records.

use std::collections::BTreeMap;

use cutover_engine::consistency::Consistency;
use cutover_engine::details::{
    ActionDetails, BackupDetails, BackupTypeDetails, CheckDetails, MigrateDetails, MigrateOutcome,
    MigrateTypes, MigratedType,
};
use cutover_engine::{Event, PhaseStatus, StepDetails, StepStatus};
use cutover_plan::LoadedPlan;

/// Services of the run.
pub const SERVICES: usize = 10_000;
/// Waves (phases) they are moved in.
pub const WAVES: usize = 100;

fn digest_of(s: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!(
        "sha256:{:016x}{:016x}{:016x}{:016x}",
        h,
        h.rotate_left(17),
        !h,
        h.rotate_left(41)
    )
}

/// One step of a service as the engine journals it.
struct ServiceStep {
    id: String,
    kind: &'static str,
    idempotent: bool,
    plugin: Option<&'static str>,
    details: StepDetails,
    summary: String,
}

/// The five steps of one service.
fn service_steps(svc: usize) -> Vec<ServiceStep> {
    let name = format!("svc-{svc:05}");
    let team = ["web", "payments", "platform", "data", "search"][svc % 5];
    let scope = format!("team={team},service={name}");
    let rules = 40 + (svc * 7) % 160;
    let dashboards = 3 + svc % 9;
    let silences = svc % 4;
    let types = [
        ("alert-rules", rules),
        ("dashboards", dashboards),
        ("silences", silences),
    ];
    let backup = StepDetails::Backup(BackupDetails {
        backup_id: format!("bk-{name}-20261206T1800Z"),
        system: "old".to_string(),
        results: types
            .iter()
            .map(|(kind, n)| BackupTypeDetails {
                kind: (*kind).to_string(),
                ok: true,
                error: None,
                digest: Some(digest_of(&format!("{name}/{kind}"))),
                size: (*n as u64) * 1_450,
            })
            .collect(),
    });
    let untranslatable = u64::from(svc.is_multiple_of(23));
    let consistency: Vec<Consistency> = types
        .iter()
        .map(|(kind, n)| Consistency {
            data_type: (*kind).to_string(),
            agreeing: *n as u64
                - if *kind == "alert-rules" {
                    untranslatable
                } else {
                    0
                },
            total: *n as u64,
        })
        .collect();
    let migrate = StepDetails::Migrate(MigrateDetails {
        migrate: MigrateTypes {
            types: Some(
                types
                    .iter()
                    .map(|(kind, n)| MigratedType {
                        data_type: (*kind).to_string(),
                        scope: scope.clone(),
                        ok: *n as u64 - if *kind == "alert-rules" { untranslatable } else { 0 },
                        warning: if *kind == "alert-rules" { (*n as u64) / 20 } else { 0 },
                        untranslatable: if *kind == "alert-rules" { untranslatable } else { 0 },
                        documents: 1 + n / 25,
                        outcome: MigrateOutcome::Imported,
                        notes: if untranslatable > 0 && *kind == "alert-rules" {
                            vec![format!("{name}: 1 rule uses absent_over_time with a subquery; kept on the old system")]
                        } else {
                            Vec::new()
                        },
                    })
                    .collect(),
            ),
            point: Some(format!("before-wave-{:03}", svc / (SERVICES / WAVES))),
            ..MigrateTypes::default()
        },
        consistency: Some(consistency.clone()),
    });
    let mut measurements = BTreeMap::new();
    measurements.insert("error_rate".to_string(), Some(0.0004 * (svc % 7) as f64));
    measurements.insert(
        "latency_p99_ms".to_string(),
        Some(80.0 + (svc % 113) as f64),
    );
    measurements.insert("alerts_firing".to_string(), Some((svc % 3) as f64));
    for c in &consistency {
        measurements.insert(
            format!("consistency.{}.agreeing", c.data_type),
            Some(c.agreeing as f64),
        );
        measurements.insert(
            format!("consistency.{}.total", c.data_type),
            Some(c.total as f64),
        );
    }
    let check = StepDetails::Check(CheckDetails {
        measurements,
        error_kind: None,
        shadow: false,
        consistency,
    });
    let mut outcome = BTreeMap::new();
    outcome.insert("record".to_string(), format!("{name}.alerts.internal"));
    outcome.insert(
        "target".to_string(),
        "alertmanager-new.internal:9093".to_string(),
    );
    outcome.insert("ttl_s".to_string(), "60".to_string());
    let action = StepDetails::Action(ActionDetails { outcome });
    let step = |id: String, kind, idempotent, plugin, details, summary| ServiceStep {
        id,
        kind,
        idempotent,
        plugin,
        details,
        summary,
    };
    vec![
        step(
            format!("backup-{name}"),
            "backup",
            true,
            Some("file-adapter"),
            backup,
            format!("backed up alert-rules, dashboards, silences of {name} (3 types)"),
        ),
        step(
            format!("migrate-{name}"),
            "migrate",
            true,
            Some("prometheus-rules"),
            migrate,
            format!(
                "{rules} alert-rules, {dashboards} dashboards, {silences} silences imported for {name}"
            ),
        ),
        step(
            format!("check-{name}"),
            "check",
            true,
            Some("http-check"),
            check,
            "check passed: 3 measurements within thresholds".to_string(),
        ),
        step(
            format!("cutover-{name}"),
            "action",
            false,
            Some("dns-switch"),
            action,
            format!("{name} now routes to the new system"),
        ),
        step(
            format!("soak-{name}"),
            "wait",
            true,
            None,
            StepDetails::None,
            "waited 0s".to_string(),
        ),
    ]
}

/// The records of a run over `SERVICES` services in `WAVES` waves.
pub fn run_events(loaded: &LoadedPlan) -> Vec<Event> {
    let mut evs = vec![Event::RunStarted {
        run_id: "run-1765044000000-4242".to_string(),
        plan: loaded.plan.meta.name.clone(),
        fingerprint: loaded.fingerprint(),
        normalized: loaded.plan.normalized(&loaded.digests),
    }];
    let per_wave = SERVICES / WAVES;
    for w in 0..WAVES {
        let phase = format!("wave-{w:03}");
        evs.push(Event::PhaseStarted {
            phase: phase.clone(),
            at_ms: Some(1_765_044_000_000 + w as i64 * 60_000),
        });
        for svc in w * per_wave..(w + 1) * per_wave {
            for (i, st) in service_steps(svc).into_iter().enumerate() {
                evs.push(Event::StepStarted {
                    phase: phase.clone(),
                    step: st.id.clone(),
                    step_kind: st.kind.to_string(),
                    idempotent: st.idempotent,
                });
                evs.push(Event::StepFinished {
                    phase: phase.clone(),
                    step: st.id,
                    status: StepStatus::Succeeded,
                    summary: st.summary,
                    verdict: (st.kind == "check").then(|| "pass".to_string()),
                    details: st.details,
                    duration_ms: 40 + ((svc * 31 + i * 7) % 900) as u64,
                    plugin: st.plugin.map(str::to_string),
                    digest: st.plugin.map(digest_of),
                });
            }
        }
        evs.push(Event::PhaseFinished {
            phase,
            status: PhaseStatus::Passed,
        });
    }
    evs
}

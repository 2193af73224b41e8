//! The bench's data: the services' rules (four shapes of real mixins, two
//! per service, one group per service) and the alerts both systems fire,
//! shaped like a real Alertmanager alert, in the file adapter's
//! `alerts.json` format.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::path::Path;

use super::{FILES, RULES_PER_SERVICE, Size};

const TEAMS: [&str; 8] = [
    "web",
    "payments",
    "platform",
    "data",
    "search",
    "identity",
    "messaging",
    "checkout",
];

pub(crate) fn service(s: usize) -> String {
    format!("svc-{:05}", s + 1)
}

fn team(s: usize) -> &'static str {
    TEAMS[s % TEAMS.len()]
}

/// One of the four rule shapes of `benches/migrate.rs` (real mixins),
/// each firing alerts with these fixed parts.
struct Shape {
    alert: &'static str,
    severity: &'static str,
    job: &'static str,
    runbook: &'static str,
}

const SHAPES: [Shape; 4] = [
    Shape {
        alert: "KubePodCrashLooping",
        severity: "warning",
        job: "kube-state-metrics",
        runbook: "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping",
    },
    Shape {
        alert: "NodeFilesystemSpaceFillingUp",
        severity: "critical",
        job: "node",
        runbook: "https://runbooks.prometheus-operator.dev/runbooks/node/nodefilesystemspacefillingup",
    },
    Shape {
        alert: "HighErrorRate",
        severity: "critical",
        job: "http",
        runbook: "https://runbooks.example.com/http/higherrorrate",
    },
    Shape {
        alert: "TargetDown",
        severity: "warning",
        job: "prometheus",
        runbook: "https://runbooks.prometheus-operator.dev/runbooks/general/targetdown",
    },
];

/// Rule `r` (of service `s`), in the shape `r % 4`, with its service and
/// team labels.
fn rule(r: usize, s: usize, out: &mut String) {
    let (team, svc) = (team(s), service(s));
    let sh = &SHAPES[r % 4];
    let (name, sev) = (format!("{}{r}", sh.alert), sh.severity);
    let head = format!("  - alert: {name}\n");
    let labels =
        format!("    labels:\n      severity: {sev}\n      team: {team}\n      service: {svc}\n");
    let _ = match r % 4 {
        0 => write!(
            out,
            "{head}    expr: max_over_time(kube_pod_container_status_waiting_reason{{reason=\"CrashLoopBackOff\", job=\"kube-state-metrics\", team=\"{team}\", service=\"{svc}\"}}[5m]) >= 1\n    for: 15m\n{labels}    annotations:\n      description: 'Pod {{{{ $labels.namespace }}}}/{{{{ $labels.pod }}}} ({{{{ $labels.container }}}}) is in waiting state (reason: \"CrashLoopBackOff\").'\n      runbook_url: {}\n      summary: Pod is crash looping.\n",
            sh.runbook
        ),
        1 => write!(
            out,
            "{head}    expr: |\n      (\n        node_filesystem_avail_bytes{{job=\"node\", fstype!=\"\", service=\"{svc}\"}} / node_filesystem_size_bytes{{job=\"node\", fstype!=\"\", service=\"{svc}\"}} * 100 < 15\n      and\n        predict_linear(node_filesystem_avail_bytes{{job=\"node\", fstype!=\"\", service=\"{svc}\"}}[6h], 4*60*60) < 0\n      )\n    for: 1h\n{labels}    annotations:\n      summary: Filesystem is predicted to run out of space within the next 4 hours.\n      description: Filesystem on {{{{ $labels.device }}}} at {{{{ $labels.instance }}}} has only {{{{ printf \"%.2f\" $value }}}}% available space left.\n      runbook_url: {}\n",
            sh.runbook
        ),
        2 => write!(
            out,
            "{head}    expr: sum by (job, instance) (rate(http_requests_total{{code=~\"5..\", team=\"{team}\", service=\"{svc}\"}}[5m])) / sum by (job, instance) (rate(http_requests_total{{team=\"{team}\", service=\"{svc}\"}}[5m])) > 0.05\n    for: 10m\n{labels}    annotations:\n      summary: 'High 5xx rate on {{{{ $labels.instance }}}}'\n      description: '{{{{ printf \"%.1f\" $value }}}}% of the requests to {{{{ $labels.instance }}}} failed with 5xx.'\n      runbook_url: {}\n",
            sh.runbook
        ),
        _ => write!(
            out,
            "{head}    expr: 100 * (count by (job, namespace, service) (up{{team=\"{team}\", service=\"{svc}\"}} == 0) / count by (job, namespace, service) (up{{team=\"{team}\", service=\"{svc}\"}})) > 10\n    for: 10m\n{labels}    annotations:\n      description: '{{{{ printf \"%.4g\" $value }}}}% of the {{{{ $labels.job }}}}/{{{{ $labels.service }}}} targets in {{{{ $labels.namespace }}}} namespace are down.'\n      runbook_url: {}\n      summary: One or more targets are unreachable.\n",
            sh.runbook
        ),
    };
}

/// `FILES` rule files (fewer for fewer services), one group per service.
pub(crate) fn rule_files(size: Size) -> Vec<(String, String)> {
    let files = FILES.min(size.services);
    (0..files)
        .map(|f| {
            let mut text = String::from("groups:\n");
            for s in (f * size.services / files)..((f + 1) * size.services / files) {
                let _ = writeln!(text, "- name: {}\n  interval: 30s\n  rules:", service(s));
                for k in 0..RULES_PER_SERVICE {
                    rule(s * RULES_PER_SERVICE + k, s, &mut text);
                }
            }
            (format!("rules-{f:02}.yml"), text)
        })
        .collect()
}

/// Alert `a` of service `s` as both systems fire it: labels, annotations,
/// the old and the new start.
pub(crate) struct Fired {
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) annotations: BTreeMap<String, String>,
    pub(crate) old_start: i64,
    pub(crate) new_start: i64,
}

pub(crate) fn fired(s: usize, a: usize, base_ms: i64) -> Fired {
    let r = s * RULES_PER_SERVICE + a % RULES_PER_SERVICE;
    let sh = &SHAPES[r % 4];
    let (team, svc) = (team(s), service(s));
    let namespace = format!("{team}-prod");
    let instance = format!(
        "10.{}.{}.{}:{}",
        (s >> 8) & 255,
        s & 255,
        a % 250 + 1,
        9100 + a / 250
    );
    let (summary, description) = match r % 4 {
        0 => (
            "Pod is crash looping.".to_string(),
            format!(
                "Pod {namespace}/{svc}-{a:04x} ({svc}) is in waiting state (reason: \"CrashLoopBackOff\")."
            ),
        ),
        1 => (
            "Filesystem is predicted to run out of space within the next 4 hours.".to_string(),
            format!(
                "Filesystem on /dev/nvme0n1p1 at {instance} has only 12.{a:02}% available space left."
            ),
        ),
        2 => (
            format!("High 5xx rate on {instance}"),
            format!(
                "7.{}% of the requests to {instance} failed with 5xx.",
                a % 10
            ),
        ),
        _ => (
            "One or more targets are unreachable.".to_string(),
            format!(
                "12.5% of the {}/{svc} targets in {namespace} namespace are down.",
                sh.job
            ),
        ),
    };
    let labels = [
        ("alertname", format!("{}{r}", sh.alert)),
        ("severity", sh.severity.to_string()),
        ("service", svc),
        ("team", team.to_string()),
        ("instance", instance),
        ("job", sh.job.to_string()),
        ("namespace", namespace),
    ];
    let annotations = [
        ("summary", summary),
        ("description", description),
        ("runbook_url", sh.runbook.to_string()),
    ];
    // A few seconds before the run; the new system a second or three later.
    let jitter = ((s * 7919 + a * 104_729) % 5000) as i64;
    let old_start = base_ms - 10_000 + jitter;
    Fired {
        labels: labels.map(|(k, v)| (k.to_string(), v)).into(),
        annotations: annotations.map(|(k, v)| (k.to_string(), v)).into(),
        old_start,
        new_start: old_start + 1000 + jitter % 2000,
    }
}

/// A system's own fingerprint of a label set (FNV-1a, salted per system).
pub(crate) fn fingerprint(labels: &BTreeMap<String, String>, salt: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in salt.bytes().chain(
        labels
            .iter()
            .flat_map(|(k, v)| k.bytes().chain([0]).chain(v.bytes()).chain([1])),
    ) {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    format!("{h:016x}")
}

/// One record of the file adapter's `alerts.json`
/// (plugins/file-adapter/src/alerts.rs).
#[derive(serde::Serialize)]
struct Record<'a> {
    labels: &'a BTreeMap<String, String>,
    annotations: &'a BTreeMap<String, String>,
    starts_at: String,
    ends_at: Option<String>,
    state: &'static str,
    fingerprint: String,
}

/// Writes `old/alerts.json` and `new/alerts.json`; returns their sizes.
pub(crate) fn write_alerts(dir: &Path, size: Size, base_ms: i64) -> [u64; 2] {
    let open = |side: &str| {
        let p = dir.join(side).join("alerts.json");
        BufWriter::with_capacity(
            1 << 20,
            std::fs::File::create(&p).expect("create alerts.json"),
        )
    };
    let (mut old, mut new) = (open("old"), open("new"));
    for w in [&mut old, &mut new] {
        w.write_all(b"[\n").expect("write");
    }
    for s in 0..size.services {
        for a in 0..size.alerts_per {
            let f = fired(s, a, base_ms);
            for (w, salt, start) in [
                (&mut old, "old", f.old_start),
                (&mut new, "new", f.new_start),
            ] {
                if s + a > 0 {
                    w.write_all(b",\n").expect("write");
                }
                let rec = Record {
                    labels: &f.labels,
                    annotations: &f.annotations,
                    starts_at: cutover_base::time::rfc3339(start),
                    ends_at: None,
                    state: "active",
                    fingerprint: fingerprint(&f.labels, salt),
                };
                serde_json::to_writer(&mut *w, &rec).expect("write alert");
            }
        }
    }
    [old, new].map(|mut w| {
        w.write_all(b"\n]\n").expect("write");
        let f = w.into_inner().expect("flush");
        f.sync_all().expect("sync");
        f.metadata().expect("size").len()
    })
}

//! Deterministic generator of Alertmanager `GET /api/v2/alerts` dumps of an
//! OLD and a NEW system, with a known mix of matched, delayed, late (beyond
//! the default 60 s tolerance), missing and extra episodes.
//!
//! Each alert has the fields, field order, status fields, common labels,
//! annotation keys, receivers and size spread of a real Alertmanager's
//! answer, read from the saved sample (`shape.rs`); the label values and
//! times come from the plan below.
//!
//! Every label set is unique within a dump (as in a real Alertmanager, which
//! keys alerts by fingerprint). The planted outcome is exact, so the expected
//! totals are known without running any comparison (see [`Plan::expected`]).

#[path = "shape.rs"]
pub mod shape;

use shape::{Field, Shape, StatusField, Template};
use std::io::{self, Write};

/// Start of the generated window: 2026-11-20T00:00:00Z in unix milliseconds.
pub const WINDOW_START: i64 = 1_795_132_800_000;
/// Length of the window (24 h).
pub const WINDOW_MS: i64 = 86_400_000;

/// How many episodes of each kind to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Fired by both within the tolerance (with a delay of 0 to 60 s).
    pub matched: u64,
    /// Fired by both, but NEW started 61 s to 10 min late: one missing plus one extra.
    pub late: u64,
    /// Fired by OLD only.
    pub missing: u64,
    /// Fired by NEW only.
    pub extra: u64,
    /// Seed of every random choice.
    pub seed: u64,
}

/// Totals a correct comparison (default options) must report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    pub total_old: u64,
    pub total_new: u64,
    pub matched: u64,
    pub missing: u64,
    pub extra: u64,
}

impl Plan {
    /// 1,000,000 alerts on each side (90% matched, 3% late, 7% missing, 7% extra).
    pub const MILLION: Plan = Plan {
        matched: 900_000,
        late: 30_000,
        missing: 70_000,
        extra: 70_000,
        seed: 0x5eed_c0de,
    };

    /// The same mix scaled to `n` alerts per side.
    pub fn scaled(n: u64, seed: u64) -> Plan {
        let late = n * 3 / 100;
        let missing = n * 7 / 100;
        Plan {
            matched: n - late - missing,
            late,
            missing,
            extra: missing,
            seed,
        }
    }

    pub fn expected(&self) -> Expected {
        Expected {
            total_old: self.matched + self.late + self.missing,
            total_new: self.matched + self.late + self.extra,
            matched: self.matched,
            missing: self.late + self.missing,
            extra: self.late + self.extra,
        }
    }

    fn keys(&self) -> u64 {
        self.matched + self.late + self.missing + self.extra
    }
}

/// Which system a dump is from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Old,
    New,
}

/// SplitMix64: a tiny, good-enough deterministic generator.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// An alerting rule of the generated systems: name, severity, job, the
/// label telling its series apart and that label's two values, summary.
type Rule = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    [&'static str; 2],
    &'static str,
);

// One rule a line reads as the table it is.
#[rustfmt::skip]
const RULES: [Rule; 40] = [
    ("HostDown", "critical", "node", "probe", ["icmp", "tcp"], "Host is unreachable"),
    ("HighCPU", "warning", "node", "mode", ["user", "system"], "CPU usage above 90%"),
    ("HighMemory", "warning", "node", "area", ["anon", "cache"], "Memory usage above 90%"),
    ("DiskAlmostFull", "warning", "node", "mountpoint", ["/", "/var"], "Disk almost full"),
    ("DiskFull", "critical", "node", "mountpoint", ["/data", "/srv"], "Disk full"),
    ("DiskIOSaturated", "warning", "node", "device", ["sda", "nvme0n1"], "Disk IO saturated"),
    ("NetworkErrors", "warning", "node", "device", ["eth0", "eth1"], "Network interface errors"),
    ("ClockSkew", "warning", "node", "source", ["ntp", "chrony"], "Clock skew detected"),
    ("HighLoad", "info", "node", "window", ["5m", "15m"], "Load average high"),
    ("SwapUsage", "info", "node", "area", ["swap", "zswap"], "Swap in use"),
    ("ErrorRateHigh", "critical", "api", "route", ["/orders", "/users"], "5xx ratio above 5%"),
    ("LatencyHigh", "warning", "api", "route", ["/search", "/cart"], "p99 latency above 1s"),
    ("ServiceDown", "critical", "api", "port", ["8080", "8443"], "Service is down"),
    ("CertExpiring", "warning", "blackbox", "domain", ["example.com", "example.net"], "TLS certificate expires soon"),
    ("ProbeFailed", "critical", "blackbox", "module", ["http_2xx", "tcp_connect"], "Blackbox probe failed"),
    ("HighQueueDepth", "warning", "rabbitmq", "queue", ["orders", "emails"], "Queue depth above threshold"),
    ("ConsumerDown", "critical", "rabbitmq", "queue", ["payments", "invoices"], "Queue has no consumer"),
    ("KafkaLag", "warning", "kafka", "topic", ["events", "audit"], "Consumer lag growing"),
    ("KafkaUnderReplicated", "critical", "kafka", "topic", ["billing", "clicks"], "Under-replicated partitions"),
    ("PostgresDown", "critical", "postgres", "db", ["main", "reports"], "PostgreSQL is down"),
    ("PostgresReplicationLag", "warning", "postgres", "db", ["main", "analytics"], "Replication lag above 30s"),
    ("PostgresConnections", "warning", "postgres", "db", ["main", "sessions"], "Too many connections"),
    ("RedisDown", "critical", "redis", "role", ["master", "replica"], "Redis is down"),
    ("RedisMemory", "warning", "redis", "role", ["cache", "queue"], "Redis memory above 90%"),
    ("PodCrashLooping", "warning", "kube-state-metrics", "container", ["app", "sidecar"], "Pod is crash looping"),
    ("PodNotReady", "warning", "kube-state-metrics", "container", ["web", "worker"], "Pod not ready"),
    ("DeploymentReplicasMismatch", "warning", "kube-state-metrics", "deployment", ["frontend", "backend"], "Deployment replicas mismatch"),
    ("NodeNotReady", "critical", "kube-state-metrics", "condition", ["Ready", "MemoryPressure"], "Node not ready"),
    ("PVCAlmostFull", "warning", "kubelet", "persistentvolumeclaim", ["data-0", "data-1"], "PVC almost full"),
    ("JobFailed", "warning", "kube-state-metrics", "job_name", ["backup", "cleanup"], "Job failed"),
    ("CronJobLate", "info", "kube-state-metrics", "cronjob", ["report", "sync"], "CronJob did not run"),
    ("EtcdNoLeader", "critical", "etcd", "member", ["etcd-0", "etcd-1"], "etcd has no leader"),
    ("EtcdHighFsync", "warning", "etcd", "member", ["etcd-2", "etcd-3"], "etcd fsync slow"),
    ("NginxErrors", "warning", "nginx", "server", ["www", "static"], "nginx 5xx errors"),
    ("HAProxyBackendDown", "critical", "haproxy", "backend", ["web", "api"], "HAProxy backend down"),
    ("ElasticsearchYellow", "warning", "elasticsearch", "index", ["logs", "metrics"], "Cluster health yellow"),
    ("ElasticsearchHeap", "warning", "elasticsearch", "node_role", ["data", "master"], "JVM heap above 85%"),
    ("SMTPDeliveryFailed", "warning", "postfix", "queue", ["deferred", "active"], "Mail delivery failing"),
    ("BackupTooOld", "critical", "backup", "target", ["s3", "tape"], "Last backup too old"),
    ("LicenseExpiring", "info", "inventory", "product", ["db", "os"], "License expires soon"),
];

const HOSTS: u64 = 14_000;
const SERVICES: u64 = 60;

/// Labels of key `k`: `(rule, host, spec value index)`, a bijection for
/// `k < RULES.len() * HOSTS * 2`.
fn key_parts(k: u64) -> (usize, u64, usize) {
    let rules = RULES.len() as u64;
    (
        (k % rules) as usize,
        (k / rules) % HOSTS,
        (k / (rules * HOSTS)) as usize,
    )
}

/// `x -> (x * a + b) mod n` with `gcd(a, n) == 1`: a cheap permutation.
fn permutation(n: u64, salt: u64) -> impl Fn(u64) -> u64 {
    let mut a = (0x9e37_79b9u64 % n.max(2)) | 1;
    while gcd(a, n) != 1 {
        a += 2;
    }
    let b = salt % n.max(1);
    move |x| ((x as u128 * a as u128 + b as u128) % n as u128) as u64
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Kind of the episode at planted position `p`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Matched,
    Late,
    Missing,
    Extra,
}

fn kind(plan: &Plan, p: u64) -> Kind {
    if p < plan.matched {
        Kind::Matched
    } else if p < plan.matched + plan.late {
        Kind::Late
    } else if p < plan.matched + plan.late + plan.missing {
        Kind::Missing
    } else {
        Kind::Extra
    }
}

/// Mean compact size of a generated alert in bytes: what real dumps of
/// production Alertmanagers measured (issue 19). The spread around it is the
/// real sample's (each alert takes the size of a sample alert, scaled).
pub const MEAN_ALERT_BYTES: f64 = 485.0;

/// Write one dump in the shape of the saved real Alertmanager answer
/// (`shape.rs`). Returns the number of alerts written.
pub fn write_dump(plan: &Plan, side: Side, out: &mut impl Write) -> io::Result<u64> {
    let shape = Shape::load().map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let keys = plan.keys();
    assert!(
        keys <= RULES.len() as u64 * HOSTS * 2,
        "plan too large for the label space"
    );
    let scale = MEAN_ALERT_BYTES / shape.mean_bytes();
    // Position -> key: which label set plays which part.
    let key_of = permutation(keys, plan.seed);
    // The positions present on this side, in file order (shuffled).
    let present: Vec<u64> = match side {
        Side::Old => (0..plan.matched + plan.late + plan.missing).collect(),
        Side::New => (0..plan.matched + plan.late)
            .chain(plan.matched + plan.late + plan.missing..keys)
            .collect(),
    };
    let n = present.len() as u64;
    let salt = match side {
        Side::Old => 0x01d,
        Side::New => 0x9e3,
    };
    let order = permutation(n, plan.seed ^ salt);
    // Snapshot time: the end of the window; alerts ending before it are resolved.
    let updated = WINDOW_START + WINDOW_MS;
    let mut buf = String::with_capacity(4096);
    out.write_all(b"[")?;
    for i in 0..n {
        let p = present[order(i) as usize];
        let k = key_of(p);
        let mut rng = Rng::new(plan.seed ^ k.wrapping_mul(0xd1b5_4a32_d192_ed03));
        // Episode start in the old system (ms) and its sub-millisecond digits.
        let old_start = WINDOW_START + rng.below((WINDOW_MS - 3_600_000) as u64) as i64;
        let sub_ms = rng.below(1_000_000);
        let delay = match rng.below(100) {
            0..70 => rng.below(2_000),
            70..90 => 2_000 + rng.below(13_000),
            90..98 => 15_000 + rng.below(30_000),
            _ => 45_000 + rng.below(15_001),
        } as i64;
        let late = 61_000 + rng.below(540_000) as i64;
        let (start, nanos) = match (side, kind(plan, p)) {
            (Side::Old, _) => (old_start, Some(sub_ms)),
            (Side::New, Kind::Matched) => (old_start + delay, None),
            (Side::New, Kind::Late) => (old_start + late, None),
            (Side::New, _) => (old_start + rng.below(1_000) as i64, None),
        };
        let resolved = rng.below(100) < 30;
        let ends = if resolved {
            start + 60_000 + rng.below(1_800_000) as i64
        } else {
            updated + 240_000
        };
        let state = match rng.below(100) {
            0..85 => "active",
            85..95 => "suppressed",
            _ => "unprocessed",
        };
        // Shape choices of this label set, the same on both sides.
        let mut looks = Rng::new(plan.seed ^ k.wrapping_mul(0x2545_f491_4f6c_dd1d));
        let template = &shape.templates[looks.below(shape.templates.len() as u64) as usize];
        let jitter = 0.9 + looks.below(201) as f64 / 1000.0;
        let target = (template.bytes as f64 * scale * jitter) as usize;
        let a = Alert {
            k,
            side,
            start: rfc3339(start, nanos),
            ends: rfc3339(ends, None),
            updated: rfc3339(updated, None),
            state,
            template,
            silence: silence_id(&mut looks, shape.silence_id_len),
            filler_seed: looks.next(),
        };
        buf.clear();
        if i > 0 {
            buf.push(',');
        }
        let at = buf.len();
        alert_json(&mut buf, &shape, &a, 0);
        let short = target.saturating_sub(buf.len() - at);
        if short > 0 && !template.annotations.is_empty() {
            buf.truncate(at);
            alert_json(&mut buf, &shape, &a, short);
        }
        out.write_all(buf.as_bytes())?;
    }
    out.write_all(b"]\n")?;
    Ok(n)
}

/// The per-alert values of one generated alert.
struct Alert<'a> {
    k: u64,
    side: Side,
    start: String,
    ends: String,
    updated: String,
    state: &'static str,
    template: &'a Template,
    silence: String,
    filler_seed: u64,
}

/// A silence id of the sample's length (UUID-formatted when 36 long).
fn silence_id(rng: &mut Rng, len: usize) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    (0..len)
        .map(|i| {
            if len == 36 && matches!(i, 8 | 13 | 18 | 23) {
                '-'
            } else {
                HEX[rng.below(16) as usize] as char
            }
        })
        .collect()
}

/// Words of the padding text that brings annotations to the target size.
const FILLER: [&str; 16] = [
    "current",
    "value",
    "is",
    "above",
    "the",
    "threshold",
    "for",
    "more",
    "than",
    "5m",
    "see",
    "runbook",
    "and",
    "dashboard",
    "check",
    "recent",
];

/// Append about `n` bytes of annotation text (JSON-safe).
fn filler(s: &mut String, n: usize, seed: u64) {
    let end = s.len() + n;
    let mut rng = Rng::new(seed);
    while s.len() < end {
        s.push(' ');
        s.push_str(FILLER[rng.below(FILLER.len() as u64) as usize]);
    }
    s.truncate(end);
}

/// Go's `url.QueryEscape`.
fn query_escape(s: &mut String, raw: &str) {
    use std::fmt::Write as _;
    for b in raw.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                s.push(b as char)
            }
            b' ' => s.push('+'),
            _ => {
                let _ = write!(s, "%{b:02X}");
            }
        }
    }
}

/// One alert as JSON, fields in the sample's order; `pad` bytes of text go
/// into the first annotation.
fn alert_json(s: &mut String, shape: &Shape, a: &Alert, pad: usize) {
    use std::fmt::Write as _;
    let (r, h, v) = key_parts(a.k);
    let (name, severity, job, spec_label, values, summary) = RULES[r];
    let service = format!("svc-{:02}", h % SERVICES);
    let spec = values[v];
    let instance = format!("10.{}.{}.{}:9100", h / 4096, h / 64 % 64, h % 64);
    let mut labels: Vec<(&str, &str)> = vec![
        ("alertname", name),
        ("instance", &instance),
        ("job", job),
        ("service", &service),
        ("severity", severity),
        (spec_label, spec),
    ];
    // Labels most real alerts carry beyond these (the fixture's `team`),
    // with the values the real dump has.
    for (key, seen) in &shape.common_labels {
        if !labels.iter().any(|(k, _)| k == key) {
            labels.push((key, &seen[(h as usize + r) % seen.len()]));
        }
    }
    labels.sort_by(|x, y| x.0.cmp(y.0));
    let fp = fnv(&labels);
    let origin = match a.side {
        Side::Old => "http://prom-old-0:9090",
        Side::New => "http://mimir-ruler:9090",
    };
    s.push('{');
    for (i, field) in shape.fields.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        match field {
            Field::Annotations => {
                s.push_str("\"annotations\":{");
                for (j, key) in a.template.annotations.iter().enumerate() {
                    if j > 0 {
                        s.push(',');
                    }
                    let _ = write!(s, "\"{key}\":\"");
                    if key == "summary" {
                        s.push_str(summary);
                    } else {
                        let _ = write!(s, "{name} {spec_label}={spec}");
                    }
                    if j == 0 {
                        filler(s, pad, a.filler_seed);
                    }
                    s.push('"');
                }
                s.push('}');
            }
            Field::EndsAt => {
                let _ = write!(s, "\"endsAt\":\"{}\"", a.ends);
            }
            Field::Fingerprint => {
                let _ = write!(s, "\"fingerprint\":\"{fp:016x}\"");
            }
            Field::Receivers => {
                s.push_str("\"receivers\":[");
                for (j, r) in a.template.receivers.iter().enumerate() {
                    if j > 0 {
                        s.push(',');
                    }
                    let _ = write!(s, "{{\"name\":\"{r}\"}}");
                }
                s.push(']');
            }
            Field::StartsAt => {
                let _ = write!(s, "\"startsAt\":\"{}\"", a.start);
            }
            Field::Status => {
                s.push_str("\"status\":{");
                for (j, f) in shape.status_fields.iter().enumerate() {
                    if j > 0 {
                        s.push(',');
                    }
                    match f {
                        StatusField::InhibitedBy => s.push_str("\"inhibitedBy\":[]"),
                        StatusField::SilencedBy if a.state == "suppressed" => {
                            let _ = write!(s, "\"silencedBy\":[\"{}\"]", a.silence);
                        }
                        StatusField::SilencedBy => s.push_str("\"silencedBy\":[]"),
                        StatusField::State => {
                            let _ = write!(s, "\"state\":\"{}\"", a.state);
                        }
                    }
                }
                s.push('}');
            }
            Field::UpdatedAt => {
                let _ = write!(s, "\"updatedAt\":\"{}\"", a.updated);
            }
            Field::GeneratorUrl => {
                let _ = write!(s, "\"generatorURL\":\"{origin}{}", shape.url_before_expr);
                let expr = format!(
                    "{}{{{spec_label}=\"{spec}\"}} > 0.9",
                    name.to_ascii_lowercase()
                );
                query_escape(s, &expr);
                s.push_str(&shape.url_after_expr);
                s.push('"');
            }
            Field::Labels => {
                s.push_str("\"labels\":{");
                for (j, (k, v)) in labels.iter().enumerate() {
                    if j > 0 {
                        s.push(',');
                    }
                    let _ = write!(s, "\"{k}\":\"{v}\"");
                }
                s.push('}');
            }
        }
    }
    s.push('}');
}

fn fnv(labels: &[(&str, &str)]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (k, v) in labels {
        for b in k.bytes().chain([0xff]).chain(v.bytes()).chain([0xfe]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// Go's RFC3339Nano in UTC (trailing zeros of the fraction trimmed).
/// `sub_ms` adds nanoseconds below the millisecond.
pub fn rfc3339(ms: i64, sub_ms: Option<u64>) -> String {
    let secs = ms.div_euclid(1000);
    let frac_ns = ms.rem_euclid(1000) as u64 * 1_000_000 + sub_ms.unwrap_or(0);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let mut s = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    );
    if frac_ns > 0 {
        let f = format!("{frac_ns:09}");
        s.push('.');
        s.push_str(f.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

/// Days since 1970-01-01 to (year, month, day) (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

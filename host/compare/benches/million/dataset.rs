//! Deterministic generator of Alertmanager `GET /api/v2/alerts` dumps of an
//! OLD and a NEW system, with a known mix of matched, delayed, late (beyond
//! the default 60 s tolerance), missing and extra episodes.
//!
//! Every label set is unique within a dump (as in a real Alertmanager, which
//! keys alerts by fingerprint). The planted outcome is exact, so the expected
//! totals are known without running any comparison (see [`Plan::expected`]).

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

/// Write one dump. Returns the number of alerts written.
pub fn write_dump(plan: &Plan, side: Side, out: &mut impl Write) -> io::Result<u64> {
    let keys = plan.keys();
    assert!(
        keys <= RULES.len() as u64 * HOSTS * 2,
        "plan too large for the label space"
    );
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
    let mut buf = String::with_capacity(1024);
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
        buf.clear();
        if i > 0 {
            buf.push(',');
        }
        alert_json(&mut buf, k, side, start, nanos, ends, updated, state);
        out.write_all(buf.as_bytes())?;
    }
    out.write_all(b"]\n")?;
    Ok(n)
}

#[allow(clippy::too_many_arguments)]
fn alert_json(
    s: &mut String,
    k: u64,
    side: Side,
    start: i64,
    nanos: Option<u64>,
    ends: i64,
    updated: i64,
    state: &str,
) {
    use std::fmt::Write as _;
    let (r, h, v) = key_parts(k);
    let (name, severity, job, spec_label, values, summary) = RULES[r];
    let service = format!("svc-{:02}", h % SERVICES);
    let spec = values[v];
    let instance = format!("10.{}.{}.{}:9100", h / 4096, h / 64 % 64, h % 64);
    let labels: [(&str, &str); 6] = [
        ("alertname", name),
        ("instance", &instance),
        ("job", job),
        ("service", &service),
        ("severity", severity),
        (spec_label, spec),
    ];
    let mut labels = labels.to_vec();
    labels.sort_by(|a, b| a.0.cmp(b.0));
    let fp = fnv(&labels);
    let (prom, receiver) = match side {
        Side::Old => ("prom-old-0", "pagerduty"),
        Side::New => ("mimir-ruler", "opsgenie"),
    };
    let silenced = if state == "suppressed" {
        "\"silence-7f3a\""
    } else {
        ""
    };
    let _ = write!(
        s,
        "{{\"annotations\":{{\"summary\":\"{summary}\"}},\
         \"endsAt\":\"{ends}\",\"fingerprint\":\"{fp:016x}\",\"receivers\":[{{\"name\":\"{receiver}\"}}],\
         \"startsAt\":\"{start}\",\"status\":{{\"inhibitedBy\":[],\"silencedBy\":[{silenced}],\
         \"state\":\"{state}\"}},\"updatedAt\":\"{updated}\",\
         \"generatorURL\":\"http://{prom}:9090/graph?g0.expr={name}\",\"labels\":{{",
        ends = rfc3339(ends, None),
        start = rfc3339(start, nanos),
        updated = rfc3339(updated, None),
    );
    for (i, (k, v)) in labels.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "\"{k}\":\"{v}\"");
    }
    s.push_str("}}");
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

//! Backups and rollback points of real systems through `cutover-backup`:
//! Alertmanager (configuration file + silences) and Prometheus (rule files)
//! are backed up through the real alertmanager.wasm / prometheus.wasm
//! adapters, changed on the live systems, then restored (and, separately,
//! rolled back to a captured point), and must come back equal: file bytes
//! equal, silences equal but for the ids and timestamps Alertmanager assigns,
//! and Prometheus serving the original rules.
//!
//! Runs its own fixture on ports 19200/19290/19291/19293/19294 (sink 19299)
//! so it does not collide with the main systems test.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use cutover_backup::{
    BackupManifest, BackupStore, Lineage, OutcomeRecord, RestoreStatus, RollbackReport,
};
use cutover_runtime::{Plugin, Runtime, Sandbox};
use cutover_systest::{Fixture, http};

use cutover_test_kit::plugin_path;

use super::{Env, Watchdog, am_status_config, eventually, load_plugin, root};

const PORTS: [(&str, &str); 6] = [
    ("FIXTURE_NODE_PORT", "19200"),
    ("FIXTURE_PROM_A_PORT", "19290"),
    ("FIXTURE_PROM_B_PORT", "19291"),
    ("FIXTURE_AM_A_PORT", "19293"),
    ("FIXTURE_AM_B_PORT", "19294"),
    ("FIXTURE_SINK_PORT", "19299"),
];

fn lineage() -> Lineage {
    Lineage {
        plan_fingerprint: "systest-backup".into(),
        journal_seq: 0,
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// A silence as an operator sees it: matchers (sorted), author, comment and
/// end. Ids, `startsAt` and `updatedAt` are assigned by Alertmanager.
type SilenceKey = (String, String, String, String);

/// The active silences of Alertmanager on `port`, ids and timestamps left out.
fn active_silences(port: u16) -> BTreeSet<SilenceKey> {
    let (st, body) = http::request("GET", port, "/api/v2/silences", None).expect("silences");
    assert_eq!(st, 200, "{body}");
    let all: Vec<serde_json::Value> = serde_json::from_str(&body).expect("silences JSON");
    all.iter()
        .filter(|s| s["status"]["state"] == "active")
        .map(|s| {
            let mut m: Vec<String> = s["matchers"]
                .as_array()
                .expect("matchers")
                .iter()
                .map(|m| m.to_string())
                .collect();
            m.sort();
            let text = |k: &str| s[k].as_str().unwrap_or_default().to_owned();
            (
                m.join(","),
                text("createdBy"),
                text("comment"),
                text("endsAt"),
            )
        })
        .collect()
}

/// Creates an active silence on `alertname`; returns its id.
fn add_silence(port: u16, alertname: &str, comment: &str) -> String {
    let body = format!(
        r#"{{"matchers":[{{"name":"alertname","value":"{alertname}","isRegex":false,"isEqual":true}}],
            "startsAt":"2020-01-01T00:00:00Z","endsAt":"2099-01-01T00:00:00Z",
            "createdBy":"systest-backup","comment":"{comment}"}}"#
    );
    let (st, answer) =
        http::request("POST", port, "/api/v2/silences", Some(&body)).expect("post silence");
    assert_eq!(st, 200, "{answer}");
    let v: serde_json::Value = serde_json::from_str(&answer).expect("silence id JSON");
    v["silenceID"].as_str().expect("silenceID").to_owned()
}

/// The id of the active silence with `comment`.
fn silence_id(port: u16, comment: &str) -> String {
    let (_, body) = http::request("GET", port, "/api/v2/silences", None).expect("silences");
    let all: Vec<serde_json::Value> = serde_json::from_str(&body).expect("silences JSON");
    all.iter()
        .find(|s| s["comment"] == comment && s["status"]["state"] == "active")
        .and_then(|s| s["id"].as_str())
        .unwrap_or_else(|| panic!("no active silence {comment:?} in {body}"))
        .to_owned()
}

fn expire_silence(port: u16, id: &str) {
    let (st, body) = http::request("DELETE", port, &format!("/api/v2/silence/{id}"), None)
        .expect("delete silence");
    assert_eq!(st, 200, "{body}");
}

fn reload(port: u16, what: &str) {
    let (st, body) = http::request("POST", port, "/-/reload", None).expect("reload");
    assert_eq!(st, 200, "{what} reload: {body}");
}

/// Every file of a directory, by name.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read"),
            )
        })
        .collect()
}

/// Alerting rule names Prometheus on `port` has loaded, by group.
fn loaded_rules(port: u16) -> BTreeSet<String> {
    let (st, body) = http::request("GET", port, "/api/v1/rules", None).expect("rules");
    assert_eq!(st, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("rules JSON");
    v["data"]["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .flat_map(|g| {
            let group = g["name"].as_str().unwrap_or_default().to_owned();
            g["rules"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |r| format!("{group}/{}", r["name"].as_str().unwrap_or_default()))
        })
        .collect()
}

/// What the test compares before and after.
#[derive(Debug, PartialEq)]
struct Snapshot {
    am_config: Vec<u8>,
    silences: BTreeSet<SilenceKey>,
    rule_files: BTreeMap<String, Vec<u8>>,
    rules: BTreeSet<String>,
}

struct Live {
    am_port: u16,
    prom_port: u16,
    am_dir: PathBuf,
    rules_dir: PathBuf,
}

impl Live {
    fn snapshot(&self) -> Snapshot {
        Snapshot {
            am_config: std::fs::read(self.am_dir.join("alertmanager.yml")).expect("config"),
            silences: active_silences(self.am_port),
            rule_files: files(&self.rules_dir),
            rules: loaded_rules(self.prom_port),
        }
    }

    /// Changes everything the backup covers, on the live systems.
    fn change(&self, tag: &str, drop_silence: &str) {
        // Configuration: edit the file and reload.
        let cfg = self.am_dir.join("alertmanager.yml");
        let text = std::fs::read_to_string(&cfg).expect("config");
        assert!(text.contains("group_wait: 1s"), "{text}");
        std::fs::write(&cfg, text.replace("group_wait: 1s", "group_wait: 7s")).expect("edit");
        reload(self.am_port, "Alertmanager");
        assert!(am_status_config(self.am_port).contains("group_wait: 7s"));
        // Silences: one expired, one added.
        expire_silence(self.am_port, &silence_id(self.am_port, drop_silence));
        add_silence(self.am_port, "ErrorRateHigh", &format!("added {tag}"));
        // Rules: one renamed, a new file, reload.
        let v1 = self.rules_dir.join("v1-old.rules.yml");
        let rules = std::fs::read_to_string(&v1).expect("rules");
        std::fs::write(
            &v1,
            rules.replace("alert: DiskAlmostFull", &format!("alert: Disk{tag}")),
        )
        .expect("rewrite rules");
        std::fs::write(
            self.rules_dir.join("extra.yml"),
            format!(
                "groups:\n  - name: extra\n    rules:\n      - alert: Extra{tag}\n        expr: vector(1)\n"
            ),
        )
        .expect("extra rules");
        reload(self.prom_port, "Prometheus");
        let rules = loaded_rules(self.prom_port);
        assert!(
            rules.contains(&format!("fixture/Disk{tag}"))
                && rules.contains(&format!("extra/Extra{tag}"))
                && !rules.contains("fixture/DiskAlmostFull"),
            "{rules:?}"
        );
    }

    /// Waits until Prometheus serves `want`; returns what it serves.
    fn rules_become(&self, want: &BTreeSet<String>) -> BTreeSet<String> {
        eventually(20, || {
            let now = loaded_rules(self.prom_port);
            (&now == want, now)
        })
    }
}

/// One adapter of the old system, with its sandbox, against the store.
struct Adapter<'a> {
    name: &'a str,
    rt: &'a Runtime,
    plugin: &'a Plugin,
    sb: &'a Sandbox,
}

impl Adapter<'_> {
    /// `export-data` of `kinds` into a backup, which must be complete.
    fn backup(&self, store: &BackupStore, kinds: &[&str]) -> BackupManifest {
        let m = store
            .backup(
                self.rt,
                self.plugin,
                self.sb,
                "old",
                &strings(kinds),
                lineage(),
            )
            .unwrap_or_else(|e| panic!("back up {}: {e:?}", self.name));
        assert!(m.complete(), "{m:#?}");
        m
    }

    /// `import-data` of backup `id`: every type must be accepted.
    fn restore(&self, store: &BackupStore, id: &str) {
        let r = store
            .restore(self.rt, self.plugin, self.sb, id, None)
            .unwrap_or_else(|e| panic!("restore {}: {e:?}", self.name));
        assert!(r.ok(), "{r:#?}");
    }

    /// `capture-state` of `categories` into point `name`: each captured.
    fn capture(&self, store: &BackupStore, name: &str, categories: &[&str]) {
        let p = store
            .capture_point(
                self.rt,
                self.plugin,
                self.sb,
                "old",
                name,
                &strings(categories),
                lineage(),
            )
            .unwrap_or_else(|e| panic!("capture {}: {e:?}", self.name));
        assert!(p.results.iter().all(|r| r.ok), "{p:#?}");
    }

    /// `restore-state` from point `name`: every category must be applied.
    fn rollback(&self, store: &BackupStore, name: &str) -> RollbackReport {
        let r = store
            .rollback(self.rt, self.plugin, self.sb, name, None)
            .unwrap_or_else(|e| panic!("roll {} back: {e:?}", self.name));
        assert!(r.ok(), "{r:#?}");
        r
    }
}

/// What the adapter reported for `kind` in a rollback.
fn outcome<'r>(r: &'r RollbackReport, kind: &str) -> &'r OutcomeRecord {
    r.results
        .iter()
        .find(|t| t.kind == kind)
        .and_then(|t| t.outcome.as_ref())
        .unwrap_or_else(|| panic!("{kind} outcome"))
}

struct Adapters<'a> {
    am: Adapter<'a>,
    prom: Adapter<'a>,
}

#[test]
fn backups_and_rollback_points_of_real_systems_round_trip() {
    let started = Instant::now();
    for name in ["alertmanager", "prometheus"] {
        plugin_path(name);
    }
    let run = tempfile::tempdir().expect("run dir");
    let fx = Fixture::start_with(&root().join("tests/fixture"), run.path(), &PORTS).unwrap_or_else(
        |e| {
            panic!(
                "the real-systems fixture did not start (needs prometheus, \
                 prometheus-alertmanager and prometheus-node-exporter): {e}"
            )
        },
    );
    let _watchdog = Watchdog::arm(&fx);
    let cache = tempfile::tempdir().expect("cache dir");
    let rt = Runtime::new(Some(cache.path())).expect("runtime");
    let am = load_plugin(&rt, "alertmanager");
    let prom = load_plugin(&rt, "prometheus");
    let env = Env {
        rt,
        fx: &fx,
        errors: Vec::new(),
    };
    assert_eq!(env.port("FIXTURE_AM_A_PORT"), 19293, "own ports in use");
    let am_sb = env.am_sandbox("a");
    let prom_sb = env.prom_sandbox("a");
    let live = Live {
        am_port: env.port("FIXTURE_AM_A_PORT"),
        prom_port: env.port("FIXTURE_PROM_A_PORT"),
        am_dir: env.dir("FIXTURE_AM_A_CONFIG_DIR"),
        rules_dir: env.dir("FIXTURE_PROM_A_RULES_DIR"),
    };
    let a = Adapters {
        am: Adapter {
            name: "Alertmanager",
            rt: &env.rt,
            plugin: &am,
            sb: &am_sb,
        },
        prom: Adapter {
            name: "Prometheus",
            rt: &env.rt,
            plugin: &prom,
            sb: &prom_sb,
        },
    };
    let state = tempfile::tempdir().expect("state dir");
    let store = BackupStore::open(state.path()).expect("store");

    add_silence(live.am_port, "Watchdog", "keep");
    add_silence(live.am_port, "ServiceDown", "maintenance");
    backup_restore(&store, &a, &live);
    point_rollback(&store, &a, &live);

    drop(_watchdog);
    drop(env);
    let mut fx = fx;
    let stopped = fx.stop();
    // Two Prometheus, two Alertmanager, node-exporter and the webhook sink.
    assert_eq!(stopped.matches("stopped").count(), 6, "{stopped}");
    eprintln!("backup round trip wall time: {:?}", started.elapsed());
}

/// `export-data` into the store, change, `import-data` from the store.
fn backup_restore(store: &BackupStore, a: &Adapters, live: &Live) {
    let before = live.snapshot();
    assert_eq!(before.silences.len(), 2, "{:?}", before.silences);
    assert!(
        before.rules.contains("fixture/DiskAlmostFull"),
        "{:?}",
        before.rules
    );
    let am_b = a.am.backup(store, &["configurations", "silences"]);
    let prom_b = a.prom.backup(store, &["alert_rules"]);
    let config = am_b
        .results
        .iter()
        .find(|r| r.kind == "configurations")
        .expect("config");
    assert_eq!(
        config.size,
        before.am_config.len() as u64,
        "the file, byte for byte"
    );
    assert!(store.verify(None).expect("verify").iter().all(|i| i.ok));

    live.change("Backup", "maintenance");
    assert_ne!(live.snapshot(), before);

    a.am.restore(store, &am_b.id);
    a.prom.restore(store, &prom_b.id);

    let after = live.snapshot();
    assert_eq!(
        String::from_utf8_lossy(&after.am_config),
        String::from_utf8_lossy(&before.am_config),
        "configuration file restored byte for byte"
    );
    assert!(am_status_config(live.am_port).contains("group_wait: 1s"));
    assert_eq!(after.rule_files, before.rule_files, "rule files restored");
    assert_eq!(live.rules_become(&before.rules), before.rules);
    // import-data merges silences: every backed-up silence is live again
    // (new id); one created after the backup is kept.
    let extra: BTreeSet<_> = after
        .silences
        .difference(&before.silences)
        .cloned()
        .collect();
    assert!(
        before.silences.is_subset(&after.silences),
        "missing after restore: {:?}",
        before
            .silences
            .difference(&after.silences)
            .collect::<Vec<_>>()
    );
    assert_eq!(
        extra.iter().map(|s| s.2.as_str()).collect::<Vec<_>>(),
        ["added Backup"],
        "{extra:?}"
    );
}

/// `capture-state` into a point, change, `restore-state` from the point:
/// the live systems become equal to the point, silences included.
fn point_rollback(store: &BackupStore, a: &Adapters, live: &Live) {
    let before = live.snapshot();
    assert_eq!(before.silences.len(), 3, "{:?}", before.silences);
    a.am.capture(store, "before-am", &["configurations", "silences"]);
    a.prom
        .capture(store, "before-prom", &["configurations", "active_alerts"]);

    live.change("Point", "keep");
    assert_ne!(live.snapshot(), before);

    let r = a.am.rollback(store, "before-am");
    let silences = outcome(&r, "silences");
    assert_eq!(
        silences.summary, "silences rolled back: 1 created, 1 expired",
        "{silences:?}"
    );
    let r = a.prom.rollback(store, "before-prom");
    // active_alerts is capture-only: reported unsupported (never ok),
    // nothing applied, the capture kept as evidence.
    let evidence = r
        .results
        .iter()
        .find(|t| t.kind == "active_alerts")
        .expect("active_alerts reported");
    assert_eq!(evidence.status, RestoreStatus::Unsupported, "{evidence:?}");
    assert!(
        evidence
            .reason
            .as_deref()
            .is_some_and(|w| w.contains("capture only")),
        "{evidence:?}"
    );
    assert!(
        store
            .progress("before-am")
            .expect("progress")
            .is_some_and(|p| p.finished)
    );

    let after = live.snapshot();
    assert_eq!(
        String::from_utf8_lossy(&after.am_config),
        String::from_utf8_lossy(&before.am_config)
    );
    assert!(am_status_config(live.am_port).contains("group_wait: 1s"));
    assert_eq!(
        after.silences, before.silences,
        "exactly the captured silences"
    );
    assert_eq!(after.rule_files, before.rule_files);
    assert!(!live.rules_dir.join("extra.yml").exists());
    assert_eq!(live.rules_become(&before.rules), before.rules);
}

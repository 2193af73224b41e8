//! The migration plan end to end against real systems: Prometheus A/B,
//! Alertmanager A/B and node-exporter started by `tests/fixture/start.sh` on
//! 127.0.0.1 (distinct ports per test), driven only through the `cutover`
//! binary. Plans come from `tests/fixture/plan/*.toml.in`.

use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use cutover_systest::Fixture;
use serde_json::Value;

use super::{code, cutover, err, expect, free_port, out, root, scrape};

/// A running fixture, the rendered plans and a scratch directory.
struct Stage {
    fixture: Fixture,
    dir: tempfile::TempDir,
    _run: tempfile::TempDir,
}

impl Stage {
    /// Starts the fixture on ports `base+0..base+10` and renders the plans
    /// with a parallel-run window of `window`.
    fn start(base: u16, new_rules: &str, window: &str) -> Stage {
        let run_dir = tempfile::tempdir().expect("tempdir");
        let port = |off: u16| (base + off).to_string();
        let (node, pa, pb, aa, ab, sink) = (port(0), port(1), port(2), port(3), port(4), port(9));
        let fixture = Fixture::start_with(
            &root().join("tests/fixture"),
            run_dir.path(),
            &[
                ("FIXTURE_NODE_PORT", &node),
                ("FIXTURE_PROM_A_PORT", &pa),
                ("FIXTURE_PROM_B_PORT", &pb),
                ("FIXTURE_AM_A_PORT", &aa),
                ("FIXTURE_AM_B_PORT", &ab),
                ("FIXTURE_SINK_PORT", &sink),
                ("FIXTURE_NEW_RULES", new_rules),
            ],
        )
        .unwrap_or_else(|e| panic!("fixture: {e}"));
        let dir = tempfile::tempdir().expect("tempdir");
        let o = std::process::Command::new("bash")
            .arg(root().join("tests/fixture/plan/render.sh"))
            .arg(run_dir.path())
            .arg(dir.path())
            .arg(window)
            .output()
            .expect("render.sh");
        assert!(o.status.success(), "render.sh: {}", err(&o));
        // The new stack's plugin authenticates to Prometheus with basic
        // auth (Prometheus without a web config ignores it): the password
        // is a canary that must never show up in output, journal or reports.
        let migration = dir.path().join("migration.toml");
        let text = std::fs::read_to_string(&migration).expect("plan");
        let pb = format!("config = {{ url = \"http://127.0.0.1:{pb}\"");
        assert!(text.contains(&pb), "plan template changed: {pb}");
        std::fs::write(
            &migration,
            text.replace(
                &pb,
                &pb.replace("config = {", "config = { auth = \"basic\","),
            ),
        )
        .expect("write plan");
        let stage = Stage {
            fixture,
            dir,
            _run: run_dir,
        };
        for plan in ["migration.toml", "parity.toml"] {
            let o = stage.cutover(&["plugin", "lock", plan]);
            expect(&o, 0);
        }
        stage
    }

    /// Approves the pilot's "deploy the migrated rules" step.
    fn approve_deploy(&self, plan: &str) {
        let step = "pilot-core/deploy-migrated-rules";
        expect(
            &self.cutover(&["approve", plan, step, "--by", "sre-lead"]),
            0,
        );
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn cutover(&self, args: &[&str]) -> Output {
        let o = with_secrets(cutover(self.path()))
            .args(args)
            .output()
            .expect("spawn cutover");
        assert_no_canary(&format!("cutover {args:?}"), &out(&o));
        assert_no_canary(&format!("cutover {args:?}"), &err(&o));
        o
    }

    fn spawn(&self, args: &[&str]) -> Child {
        with_secrets(cutover(self.path()))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn cutover")
    }

    fn port(&self, key: &str) -> u16 {
        self.fixture
            .var(key)
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("fixture.env lacks {key}"))
    }

    fn dir_var(&self, key: &str) -> PathBuf {
        PathBuf::from(
            self.fixture
                .var(key)
                .unwrap_or_else(|| panic!("fixture.env lacks {key}")),
        )
    }

    /// Alert names (with `queue` where present) Alertmanager holds now.
    fn am_alerts(&self, key: &str) -> Vec<String> {
        let body = get(self.port(key), "/api/v2/alerts").unwrap_or_default();
        let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        let mut names: Vec<String> = v
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| {
                        let l = &x["labels"];
                        match l["queue"].as_str() {
                            Some(q) => format!("{}{{{q}}}", l["alertname"].as_str().unwrap_or("")),
                            None => l["alertname"].as_str().unwrap_or("").to_string(),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// Rewrites the textfile the node-exporter serves (atomically).
    fn set_metric(&self, from: &str, to: &str) {
        let path = self.dir_var("FIXTURE_TEXTFILE");
        let text = std::fs::read_to_string(&path).expect("textfile");
        assert!(text.contains(from), "{from} not in the textfile");
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text.replace(from, to)).expect("write textfile");
        std::fs::rename(&tmp, &path).expect("rename textfile");
    }

    /// Replaces stack B's rule files with `file` from tests/fixture/rules
    /// (as a team's config management would) and reloads Prometheus B.
    fn deploy_rules_b(&self, file: &str) {
        let dir = self.dir_var("FIXTURE_PROM_B_RULES_DIR");
        for e in std::fs::read_dir(&dir).expect("rules dir").flatten() {
            std::fs::remove_file(e.path()).expect("remove rule file");
        }
        let tmp = dir.join(".deploy.tmp");
        std::fs::copy(root().join("tests/fixture/rules").join(file), &tmp).expect("copy");
        std::fs::rename(&tmp, dir.join(file)).expect("rename");
        let answer = post(self.port("FIXTURE_PROM_B_PORT"), "/-/reload");
        assert_eq!(answer, Some(200), "Prometheus B reload");
    }

    fn history(&self, plan: &str) -> Vec<Value> {
        let o = self.cutover(&["history", plan, "--json"]);
        expect(&o, 0);
        serde_json::from_str::<Value>(&out(&o))
            .expect("history json")
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The JSON report the parallel-run step `step` wrote.
    fn report(&self, state: &str, step: &str) -> Value {
        let p = self
            .path()
            .join(state)
            .join("reports")
            .join(format!("{step}.json"));
        let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        serde_json::from_str(&text).expect("report json")
    }
}

/// The password the new stack's plugin sends; never to be seen anywhere.
const CANARY: &str = "canary-pw-3f9c1e";

fn with_secrets(mut c: std::process::Command) -> std::process::Command {
    c.env("CUTOVER_SECRET_PROMETHEUS_USER", "cutover")
        .env("CUTOVER_SECRET_PROMETHEUS_PASSWORD", CANARY);
    c
}

#[track_caller]
fn assert_no_canary(what: &str, text: &str) {
    assert!(!text.contains(CANARY), "the secret leaked into {what}");
}

/// Every file under `dir` (journal, backups, points, reports) is free of
/// the secret.
fn assert_no_canary_in(dir: &Path) {
    for e in std::fs::read_dir(dir).expect("read dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            assert_no_canary_in(&p);
        } else {
            let bytes = std::fs::read(&p).expect("read");
            assert_no_canary(&p.display().to_string(), &String::from_utf8_lossy(&bytes));
        }
    }
}

/// GET on 127.0.0.1:port; the body of any answer, `None` when nothing
/// answers.
fn get(port: u16, path: &str) -> Option<String> {
    cutover_systest::http::request("GET", port, path, None)
        .ok()
        .map(|(_, body)| body)
}

/// POST with an empty body; the status code.
fn post(port: u16, path: &str) -> Option<u16> {
    cutover_systest::http::request("POST", port, path, None)
        .ok()
        .map(|(status, _)| status)
}

/// Logs a stage with the time since the test started (shown on failure
/// and with --nocapture).
fn stage(t0: Instant, what: &str) {
    eprintln!("[e2e {:>6.1} s] {what}", t0.elapsed().as_secs_f64());
}

/// Polls `f` every 200 ms for up to `secs`; panics naming `what`.
fn eventually(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !f() {
        assert!(
            t0.elapsed() < Duration::from_secs(secs),
            "timed out after {secs} s waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn wait_child(child: Child, secs: u64) -> Output {
    let t0 = Instant::now();
    let mut child = child;
    loop {
        if child.try_wait().expect("try_wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if t0.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            let o = child.wait_with_output().expect("output");
            panic!(
                "cutover did not finish in {secs} s\n--- stdout\n{}\n--- stderr\n{}",
                out(&o),
                err(&o)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn names(list: &Value) -> Vec<String> {
    let mut v: Vec<String> = list
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x["key"].as_str().or_else(|| x.as_str()))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn records<'a>(h: &'a [Value], kind: &str) -> Vec<&'a Value> {
    h.iter().filter(|r| r["kind"] == kind).collect()
}

/// `side:fingerprint` of every episode the journal's parallel polls hold.
fn episodes(h: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for r in records(h, "parallel-poll") {
        for side in ["old", "new"] {
            for a in r["payload"][side].as_array().into_iter().flatten() {
                out.push(format!(
                    "{side}:{}",
                    a["fingerprint"].as_str().unwrap_or("")
                ));
            }
        }
    }
    out
}

const V1_SET: [&str; 6] = [
    "DiskAlmostFull",
    "ErrorRateHigh",
    "HighQueueDepth{emails}",
    "HighQueueDepth{orders}",
    "ServiceDown",
    "Watchdog",
];

const V2_SET: [&str; 4] = [
    "ErrorRateHigh",
    "HighQueueDepth{emails}",
    "InstanceDown",
    "Watchdog",
];

#[test]
fn migration_on_real_systems_halts_rolls_back_and_reaches_parity() {
    let st = Stage::start(19600, "v1", "15s");
    let plan = "migration.toml";
    expect(&st.cutover(&["validate", plan]), 0);

    // Preparation runs (backups, probe, rules diff, rollback point), then
    // the core pilot waits for the migrated rules to be deployed.
    let o = st.cutover(&["run", plan]);
    expect(&o, 5);
    assert!(
        out(&o).contains("cutover approve") && out(&o).contains("deploy-migrated-rules"),
        "{}",
        out(&o)
    );
    let o = st.cutover(&["backup", "list", "--plan", plan, "--json"]);
    expect(&o, 0);
    let listed: Value = serde_json::from_str(&out(&o)).expect("backup list json");
    let text = listed.to_string();
    assert!(
        text.contains("\"system\":\"old\"") && text.contains("\"system\":\"new\""),
        "backups of both systems: {text}"
    );
    expect(&st.cutover(&["backup", "verify", "--plan", plan]), 0);
    let h = st.history(plan);
    assert!(
        records(&h, "point-captured")
            .iter()
            .any(|r| r["payload"]["name"] == "pre-migration"),
        "the pre-migration rollback point is captured"
    );
    let diff = records(&h, "step-finished")
        .into_iter()
        .find(|r| r["payload"]["step"] == "rules-diff")
        .expect("rules-diff step journaled");
    let msg = diff["payload"]["summary"]
        .as_str()
        .unwrap_or("")
        .to_string();
    for finding in [
        "ServiceDown",
        "DiskAlmostFull",
        "HighQueueDepth",
        "ErrorRateHigh",
    ] {
        assert!(msg.contains(finding), "rules diff names {finding}: {msg}");
    }

    // The team deploys the migrated rules; ErrorRateHigh is quiet on both
    // stacks so that the pilot sees it start during the window.
    st.set_metric(
        "fixture_error_rate{service=\"api\"} 0.2",
        "fixture_error_rate{service=\"api\"} 0.01",
    );
    st.deploy_rules_b("v2-new.rules.yml");
    let quiet_b: Vec<String> = V2_SET
        .iter()
        .filter(|n| **n != "ErrorRateHigh")
        .map(|s| s.to_string())
        .collect();
    let quiet_a: Vec<String> = V1_SET
        .iter()
        .filter(|n| **n != "ErrorRateHigh")
        .map(|s| s.to_string())
        .collect();
    eventually("the migrated rules to settle on stack B", 60, || {
        st.am_alerts("FIXTURE_AM_B_PORT") == quiet_b && st.am_alerts("FIXTURE_AM_A_PORT") == quiet_a
    });

    st.approve_deploy(plan);
    let child = st.spawn(&["resume", plan]);
    std::thread::sleep(Duration::from_secs(4));
    st.set_metric(
        "fixture_error_rate{service=\"api\"} 0.01",
        "fixture_error_rate{service=\"api\"} 0.2",
    );
    let o = wait_child(child, 90);
    // The critical match-rate item fails and halts the phase.
    expect(&o, 1);
    let all = format!("{}{}", out(&o), err(&o));
    assert!(all.contains("Match rate >= 0.95"), "{all}");

    let report = st.report("state", "parallel-core");
    assert_eq!(report["total_old"], 6, "{report:#}");
    assert_eq!(report["total_new"], 4, "{report:#}");
    assert_eq!(report["matched"], 3, "{report:#}");
    assert_eq!(report["missing"], 3, "{report:#}");
    assert_eq!(report["extra"], 1, "{report:#}");
    assert_eq!(report["match_rate"], 0.5, "{report:#}");
    assert_eq!(report["risk_level"], "high", "{report:#}");
    let missing = names(&report["missing_alerts"]).join(" ");
    for m in ["DiskAlmostFull", "ServiceDown", "orders"] {
        assert!(missing.contains(m), "missing {m}: {missing}");
    }
    assert!(
        names(&report["extra_alerts"])
            .join(" ")
            .contains("InstanceDown"),
        "{report:#}"
    );
    // ErrorRateHigh's `for:` grew from 0 to 2 s: the new stack fires later.
    let matched = report["matched_alerts"].as_array().expect("matched_alerts");
    let erh = matched
        .iter()
        .find(|m| {
            m["key"]
                .as_str()
                .is_some_and(|k| k.contains("ErrorRateHigh"))
        })
        .unwrap_or_else(|| panic!("ErrorRateHigh matched: {report:#}"));
    let delay = erh["delay_seconds"].as_f64().expect("delay_seconds");
    assert!(
        (1.0..=5.0).contains(&delay),
        "ErrorRateHigh delay {delay} s"
    );
    let html = std::fs::read_to_string(st.path().join("state/reports/parallel-core.html"))
        .expect("html report");
    assert!(
        html.contains("InstanceDown") && html.contains("<svg"),
        "html report"
    );
    assert!(st.path().join("state/reports/parallel-core.md").exists());

    let o = st.cutover(&["status", plan, "--json"]);
    expect(&o, 0);
    let status: Value = serde_json::from_str(&out(&o)).expect("status json");
    assert_eq!(status["status"], "failed", "{status:#}");

    // Roll back: the old rules go back on the new stack.
    let o = st.cutover(&["rollback", "--plan", plan, "--to", "pre-migration"]);
    expect(&o, 0);
    let rules_b = st.dir_var("FIXTURE_PROM_B_RULES_DIR");
    assert!(rules_b.join("v1-old.rules.yml").exists(), "old rules back");
    assert!(
        !rules_b.join("v2-new.rules.yml").exists(),
        "migrated rules gone"
    );
    let rules_api = get(st.port("FIXTURE_PROM_B_PORT"), "/api/v1/rules").unwrap_or_default();
    assert!(
        rules_api.contains("ServiceDown") && !rules_api.contains("InstanceDown"),
        "Prometheus B reloaded the old rules: {rules_api}"
    );
    let h = st.history(plan);
    assert!(
        !records(&h, "rolled-back").is_empty(),
        "the rollback is journaled"
    );

    // A second parallel run: both stacks fire the same alerts again.
    let v1: Vec<String> = V1_SET.iter().map(|s| s.to_string()).collect();
    eventually("stack B to fire the old rule set", 60, || {
        st.am_alerts("FIXTURE_AM_B_PORT") == v1
    });
    let o = st.cutover(&["run", "parity.toml"]);
    expect(&o, 0);
    let parity = st.report("state-parity", "parallel-parity");
    assert_eq!(parity["match_rate"], 1.0, "{parity:#}");
    assert_eq!(parity["missing"], 0, "{parity:#}");
    assert_eq!(parity["extra"], 0, "{parity:#}");
    assert_no_canary_in(&st.path().join("state"));
}

#[test]
fn new_alertmanager_killed_mid_window_pauses_and_loses_nothing() {
    let t0 = Instant::now();
    let st = Stage::start(19700, "v2", "20s");
    stage(t0, "fixture up");
    let plan = "migration.toml";
    let o = st.cutover(&["run", plan]);
    expect(&o, 5);
    st.approve_deploy(plan);
    // The plan's on_alert opens the emergency procedure `new-stack-down`.
    let child = st.spawn(&["resume", plan]);
    let polls = |h: &[Value]| records(h, "parallel-poll").len();
    eventually("three parallel-run polls", 30, || {
        polls(&st.history(plan)) >= 3
    });
    stage(t0, "killing Alertmanager B");
    let argv = st.fixture.kill("am-b").unwrap_or_else(|e| panic!("{e}"));
    let o = wait_child(child, 60);
    // The emergency procedure's first step pauses the run.
    expect(&o, 5);
    stage(t0, "run paused");
    let h = st.history(plan);
    let down = records(&h, "health-checked")
        .into_iter()
        .any(|r| r["payload"]["system"] == "new" && r["payload"]["available"] == false);
    assert!(down, "new system recorded unavailable");
    let triggered = records(&h, "alert-triggered");
    assert!(
        triggered
            .iter()
            .any(|r| r["payload"]["alert"] == "system-unavailable"),
        "system-unavailable triggered"
    );
    assert!(
        !records(&h, "incident-opened").is_empty(),
        "incident opened"
    );

    stage(t0, "checked journal");
    // Availability 0 on the metrics the journal feeds.
    let port = free_port();
    let mut server = cutover(st.path())
        .args([
            "serve-metrics",
            plan,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve-metrics");
    let mut metrics = String::new();
    eventually("serve-metrics", 20, || {
        metrics = scrape(port).unwrap_or_default();
        metrics.contains("system_availability")
    });
    let _ = server.kill();
    let _ = server.wait();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("system_availability{")
                && l.contains("\"new\"")
                && l.ends_with(" 0")),
        "system_availability of the new system is 0:\n{metrics}"
    );

    stage(t0, "checked metrics");
    // Everything seen before the outage is kept through the resume.
    let before = episodes(&h);
    assert!(!before.is_empty(), "episodes were seen before the outage");

    // While the new stack is down, an alert of the old one resolves: it was
    // seen before the outage and must still count after the resume.
    st.set_metric(
        "fixture_disk_used_ratio{mount=\"/data\"} 0.95",
        "fixture_disk_used_ratio{mount=\"/data\"} 0.5",
    );
    eventually("DiskAlmostFull to resolve on stack A", 60, || {
        !st.am_alerts("FIXTURE_AM_A_PORT")
            .contains(&"DiskAlmostFull".to_string())
    });
    assert!(
        before.iter().any(|e| e.starts_with("old:")),
        "old episodes seen before the outage"
    );
    stage(t0, "respawning Alertmanager B");
    st.fixture
        .respawn("am-b", &argv)
        .unwrap_or_else(|e| panic!("{e}"));
    eventually(
        "Alertmanager B back with the new stack's alerts",
        60,
        || st.am_alerts("FIXTURE_AM_B_PORT").len() == V2_SET.len(),
    );
    stage(t0, "Alertmanager B back");
    let inc = st.cutover(&["incident", "list", plan, "--json"]);
    expect(&inc, 0);
    let incidents: Value = serde_json::from_str(&out(&inc)).expect("incident json");
    let id = incidents[0]["id"]
        .as_str()
        .expect("incident id")
        .to_string();
    expect(
        &st.cutover(&["incident", "ack", plan, &id, "2", "--by", "oncall"]),
        0,
    );
    stage(t0, "resuming");
    let o = st.cutover(&["resume", plan]);
    // The window completes; the migrated rules then fail the match-rate item.
    expect(&o, 1);
    stage(t0, "resumed run finished");
    let h = st.history(plan);
    let after = episodes(&h);
    for e in &before {
        assert!(after.contains(e), "episode {e} kept");
    }
    let report = st.report("state", "parallel-core");
    assert_eq!(report["total_old"], 6, "{report:#}");
    assert_eq!(report["total_new"], 4, "{report:#}");
    assert_eq!(report["matched"], 3, "{report:#}");
    assert!(
        names(&report["missing_alerts"])
            .join(" ")
            .contains("DiskAlmostFull"),
        "the alert that resolved during the outage still counts: {report:#}"
    );
    assert_eq!(code(&o), 1);
}

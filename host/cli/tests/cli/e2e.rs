//! The migration plan end to end against real systems: Prometheus A/B,
//! Alertmanager A/B and node-exporter started by `tests/fixture/start.sh`
//! (`FIXTURE_SCENARIO=migration`) on 127.0.0.1 (distinct ports per test),
//! driven only through the `cutover` binary. The plan comes from
//! `tests/fixture/plan/migration.toml.in`; the reference run and the broken
//! wave are in `e2e_migration.rs`, the shared stage and an outage here.

use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use cutover_base::exit::ExitClass;
use cutover_systest::Fixture;
use serde_json::Value;

use super::{cutover, err, expect, free_port, out, root, scrape};

/// A running fixture, the rendered plans and a scratch directory.
pub(crate) struct Stage {
    pub(crate) fixture: Fixture,
    dir: tempfile::TempDir,
    _run: tempfile::TempDir,
}

impl Stage {
    /// Starts the migration scenario of the fixture on ports
    /// `base+0..base+10` and renders the plan with a parallel-run window of
    /// `window`; `payments_params` is the TOML line given to the core
    /// pilot's rules migrate step (a broken translation), if any.
    pub(crate) fn start(base: u16, window: &str, payments_params: Option<&str>) -> Stage {
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
                ("FIXTURE_SCENARIO", "migration"),
            ],
        )
        .unwrap_or_else(|e| panic!("fixture: {e}"));
        let dir = tempfile::tempdir().expect("tempdir");
        let o = std::process::Command::new("bash")
            .arg(root().join("tests/fixture/plan/render.sh"))
            .arg(run_dir.path())
            .arg(dir.path())
            .arg(window)
            .env("PAYMENTS_RULES_PARAMS", payments_params.unwrap_or(""))
            .env_remove("WEB_RULES_PARAMS")
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
        expect(
            &stage.cutover(&["plugin", "lock", "migration.toml"]),
            ExitClass::Ok.into(),
        );
        stage
    }

    /// Confirms the non-critical pilot's manual checklist item (team web
    /// saw its pages arrive from the new stack).
    pub(crate) fn confirm_web_pilot(&self, plan: &str) {
        let o = self.cutover(&[
            "approve",
            plan,
            "pilot-noncritical",
            "--item",
            "1",
            "--by",
            "web-lead",
        ]);
        expect(&o, ExitClass::Ok.into());
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn cutover(&self, args: &[&str]) -> Output {
        let o = with_secrets(cutover(self.path()))
            .args(args)
            .output()
            .expect("spawn cutover");
        assert_no_canary(&format!("cutover {args:?}"), &out(&o));
        assert_no_canary(&format!("cutover {args:?}"), &err(&o));
        o
    }

    pub(crate) fn spawn(&self, args: &[&str]) -> Child {
        with_secrets(cutover(self.path()))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn cutover")
    }

    pub(crate) fn port(&self, key: &str) -> u16 {
        self.fixture
            .var(key)
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("fixture.env lacks {key}"))
    }

    pub(crate) fn dir_var(&self, key: &str) -> PathBuf {
        PathBuf::from(
            self.fixture
                .var(key)
                .unwrap_or_else(|| panic!("fixture.env lacks {key}")),
        )
    }

    /// Alert names (with `queue` where present) Alertmanager holds now.
    pub(crate) fn am_alerts(&self, key: &str) -> Vec<String> {
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
    pub(crate) fn set_metric(&self, from: &str, to: &str) {
        let path = self.dir_var("FIXTURE_TEXTFILE");
        let text = std::fs::read_to_string(&path).expect("textfile");
        assert!(text.contains(from), "{from} not in the textfile");
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text.replace(from, to)).expect("write textfile");
        std::fs::rename(&tmp, &path).expect("rename textfile");
    }

    pub(crate) fn history(&self, plan: &str) -> Vec<Value> {
        let o = self.cutover(&["history", plan, "--json"]);
        expect(&o, ExitClass::Ok.into());
        serde_json::from_str::<Value>(&out(&o))
            .expect("history json")
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The JSON report the parallel-run step `step` wrote.
    pub(crate) fn report(&self, state: &str, step: &str) -> Value {
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
pub(crate) fn assert_no_canary_in(dir: &Path) {
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
pub(crate) fn get(port: u16, path: &str) -> Option<String> {
    cutover_systest::http::request("GET", port, path, None)
        .ok()
        .map(|(_, body)| body)
}

/// Logs a stage with the time since the test started (shown on failure
/// and with --nocapture).
pub(crate) fn stage(t0: Instant, what: &str) {
    eprintln!("[e2e {:>6.1} s] {what}", t0.elapsed().as_secs_f64());
}

/// Polls `f` every 200 ms for up to `secs`; panics naming `what`.
pub(crate) fn eventually(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !f() {
        assert!(
            t0.elapsed() < Duration::from_secs(secs),
            "timed out after {secs} s waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

pub(crate) fn wait_child(child: Child, secs: u64) -> Output {
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

pub(crate) fn names(list: &Value) -> Vec<String> {
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

pub(crate) fn records<'a>(h: &'a [Value], kind: &str) -> Vec<&'a Value> {
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

#[test]
fn new_alertmanager_killed_mid_window_pauses_and_loses_nothing() {
    let t0 = Instant::now();
    let st = Stage::start(19700, "20s", None);
    stage(t0, "fixture up");
    let plan = "migration.toml";
    // Here the operator picks the plan's emergency procedure `wave-failed`
    // (pause and decide) over rolling back: it opens when the new stack
    // stops answering during the web pilot's window.
    let path = st.path().join(plan);
    let text = std::fs::read_to_string(&path).expect("plan");
    let policy = "on_alert = \"rollback\"";
    assert!(text.contains(policy), "plan template changed: {policy}");
    std::fs::write(
        &path,
        text.replace(policy, "on_alert = \"emergency:wave-failed\""),
    )
    .expect("write plan");
    let child = st.spawn(&["run", plan]);
    // Both stacks' web alerts have been polled: the migrated rules fire on B.
    eventually("parallel-run polls with both stacks' alerts", 60, || {
        let e = episodes(&st.history(plan));
        e.iter().filter(|e| e.starts_with("new:")).count() >= 2
    });
    stage(t0, "killing Alertmanager B");
    let argv = st.fixture.kill("am-b").unwrap_or_else(|e| panic!("{e}"));
    let o = wait_child(child, 60);
    // The emergency procedure's first step pauses the run.
    expect(&o, ExitClass::Paused.into());
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
    assert!(
        before.iter().any(|e| e.starts_with("old:"))
            && before.iter().any(|e| e.starts_with("new:")),
        "episodes of both stacks were seen before the outage: {before:?}"
    );

    // While the new stack is down, a web alert resolves on both stacks: it
    // was seen before the outage and must still count after the resume.
    st.set_metric(
        "fixture_error_rate{service=\"api\"} 0.2",
        "fixture_error_rate{service=\"api\"} 0.01",
    );
    eventually("WebErrorRateHigh to resolve on stack A", 60, || {
        !st.am_alerts("FIXTURE_AM_A_PORT")
            .contains(&"WebErrorRateHigh".to_string())
    });
    stage(t0, "respawning Alertmanager B");
    st.fixture
        .respawn("am-b", &argv)
        .unwrap_or_else(|e| panic!("{e}"));
    eventually("Alertmanager B back with the web pilot's alert", 60, || {
        st.am_alerts("FIXTURE_AM_B_PORT") == ["WebApiDown"]
    });
    stage(t0, "Alertmanager B back");
    let inc = st.cutover(&["incident", "list", plan, "--json"]);
    expect(&inc, ExitClass::Ok.into());
    let incidents: Value = serde_json::from_str(&out(&inc)).expect("incident json");
    let id = incidents[0]["id"]
        .as_str()
        .expect("incident id")
        .to_string();
    expect(
        &st.cutover(&["incident", "ack", plan, &id, "2", "--by", "oncall"]),
        ExitClass::Ok.into(),
    );
    stage(t0, "resuming");
    let o = st.cutover(&["resume", plan]);
    // The window completes and passes; the pilot's manual item then waits
    // for team web.
    expect(&o, ExitClass::Paused.into());
    assert!(out(&o).contains("Team web confirms"), "{}", out(&o));
    stage(t0, "resumed run finished");
    let h = st.history(plan);
    let after = episodes(&h);
    for e in &before {
        assert!(after.contains(e), "episode {e} kept");
    }
    let report = st.report("state", "parallel-web");
    assert_eq!(report["total_old"], 2, "{report:#}");
    assert_eq!(report["total_new"], 2, "{report:#}");
    assert_eq!(report["matched"], 2, "{report:#}");
    assert_eq!(report["missing"], 0, "{report:#}");
    // Report schema v2 summarises matched pairs per alertname.
    assert!(
        report["by_alertname"]["WebErrorRateHigh"]["matched"]
            .as_u64()
            .is_some_and(|n| n >= 1),
        "the alert that resolved during the outage still counts: {report:#}"
    );
}

//! The paging canary (`kind = "canary"`, plugin `alertmanager-canary`)
//! against the real fixture (`FIXTURE_SCENARIO=migration`): Alertmanager A
//! routes team web to receiver `web-team`, Alertmanager B has only its root
//! receiver `sink`; every receiver delivers to the fixture's webhook sink.
//! Through the `cutover` binary only. Ports 23110-23139; the reference
//! migration's canaries are asserted in `e2e_migration.rs` with the helpers
//! here.

use std::path::Path;
use std::process::Output;
use std::time::Instant;

use cutover_base::exit::ExitClass;
use cutover_systest::Fixture;
use cutover_test_kit::plan::PlanBuilder;
use serde_json::Value;

use super::e2e::{eventually, get, records, stage};
use super::{cutover, err, expect, out, root, run};

/// The label that marks a synthetic alert with its run.
const MARKER: &str = "cutover_canary";

/// Label sets of the synthetic alerts Alertmanager `port` holds as active
/// (firing, silenced or inhibited: anything not resolved).
pub(crate) fn synthetic_alerts(port: u16) -> Vec<Value> {
    let body = get(port, "/api/v2/alerts").unwrap_or_else(|| "[]".into());
    let all: Vec<Value> = serde_json::from_str(&body).unwrap_or_default();
    all.into_iter()
        .map(|a| a["labels"].clone())
        .filter(|l| l.get(MARKER).is_some())
        .collect()
}

/// No synthetic alert is left on either Alertmanager.
#[track_caller]
pub(crate) fn assert_no_synthetic_alert(ports: &[u16]) {
    for &port in ports {
        let left = synthetic_alerts(port);
        assert!(
            left.is_empty(),
            "synthetic alerts left on Alertmanager :{port}: {left:?}"
        );
    }
}

/// The typed details of the last `step-finished` of `step` in a history.
pub(crate) fn canary_details(history: &[Value], step: &str) -> Value {
    records(history, "step-finished")
        .into_iter()
        .rev()
        .find(|r| r["payload"]["step"] == step)
        .unwrap_or_else(|| panic!("no step-finished for {step}"))["payload"]
        .clone()
}

/// `(alertmanager, receiver, delivered, latency_ms)` of a canary's details.
pub(crate) fn receipts(details: &Value) -> Vec<(String, String, bool, Option<f64>)> {
    details["receivers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (
                r["alertmanager"].as_str().unwrap_or("").to_string(),
                r["receiver"].as_str().unwrap_or("").to_string(),
                r["delivered"].as_bool().unwrap_or(false),
                r["latency_ms"].as_f64(),
            )
        })
        .collect()
}

/// The fixture (no recorded history: the canary needs none) and a scratch
/// directory for the plan.
struct Bench {
    fixture: Fixture,
    dir: tempfile::TempDir,
    _run: tempfile::TempDir,
}

impl Bench {
    fn start(base: u16) -> Bench {
        let run_dir = tempfile::tempdir().expect("tempdir");
        let port = |off: u16| (base + off).to_string();
        let fixture = Fixture::start_with(
            &root().join("tests/fixture"),
            run_dir.path(),
            &[
                ("FIXTURE_NODE_PORT", &port(0)),
                ("FIXTURE_PROM_A_PORT", &port(1)),
                ("FIXTURE_PROM_B_PORT", &port(2)),
                ("FIXTURE_AM_A_PORT", &port(3)),
                ("FIXTURE_AM_B_PORT", &port(4)),
                ("FIXTURE_SINK_PORT", &port(9)),
                ("FIXTURE_SCENARIO", "migration"),
                ("FIXTURE_HISTORY", "0"),
            ],
        )
        .unwrap_or_else(|e| panic!("fixture: {e}"));
        Bench {
            fixture,
            dir: tempfile::tempdir().expect("tempdir"),
            _run: run_dir,
        }
    }

    fn port(&self, key: &str) -> u16 {
        self.fixture
            .var(key)
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("fixture.env lacks {key}"))
    }

    fn ams(&self) -> [u16; 2] {
        [
            self.port("FIXTURE_AM_A_PORT"),
            self.port("FIXTURE_AM_B_PORT"),
        ]
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes and pins a plan whose one phase runs canary step `canary`
    /// with `params` (a TOML inline table).
    fn plan(&self, params: &str) {
        let [a, b] = self.ams();
        let sink = self.port("FIXTURE_SINK_PORT");
        write_plan(self.path(), a, b, sink, params);
    }

    fn cutover(&self, args: &[&str]) -> Output {
        run(self.path(), args)
    }

    fn history(&self) -> Vec<Value> {
        let o = self.cutover(&["history", "plan.toml", "--json"]);
        expect(&o, ExitClass::Ok.into());
        serde_json::from_str::<Value>(&out(&o))
            .expect("history json")
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

/// A one-phase plan (file systems, the canary plugin granted the two
/// Alertmanagers and the sink) whose step `canary` runs with `params`.
fn write_plan(dir: &Path, am_a: u16, am_b: u16, sink: u16, params: &str) {
    let grants = format!(
        "grants = {{ hosts = [\"http://127.0.0.1:{am_a}\", \"http://127.0.0.1:{am_b}\", \"http://127.0.0.1:{sink}\"], config = {{ old_url = \"http://127.0.0.1:{am_a}\", new_url = \"http://127.0.0.1:{am_b}\", sink_url = \"http://127.0.0.1:{sink}\", timeout_ms = \"2000\" }}, secrets = [\"alertmanager_user\", \"alertmanager_password\"] }}\nlimits = {{ deadline = \"60s\" }}"
    );
    cutover_test_kit::plan::system_dirs(dir, |_| "x: 1\n".into());
    PlanBuilder::new("canary-test")
        .unpinned()
        .plugin("alertmanager-canary", "alertmanager-canary", &grants)
        .file_systems()
        .write(
            dir,
            &format!(
                r#"
[[phases]]
id = "pilot"
name = "Pilot"
risk = "low"
rollback_point = false
[[phases.steps]]
id = "canary"
kind = "canary"
plugin = "alertmanager-canary"
params = {params}
"#
            ),
        );
    expect(
        &run(dir, &["plugin", "lock", "plan.toml"]),
        ExitClass::Ok.into(),
    );
}

/// A receiver that never gets the alert fails the canary by name, and a
/// run killed while the canary waits leaves its alert firing only until
/// the resume: the canary run again resolves it first, and resolves its
/// own alert even though it fails.
#[test]
fn canary_names_the_missing_receiver_and_the_resume_resolves_a_killed_runs_alert() {
    let t0 = Instant::now();
    let b = Bench::start(23110);
    stage(t0, "fixture up");
    let [am_a, am_b] = b.ams();
    // Alertmanager B routes team web to `sink`: `web-team` never gets it.
    b.plan(
        r#"{ labels = { alertname = "CutoverCanary", team = "web" }, receivers = { old = ["web-team"], new = ["web-team"] }, timeout_ms = 8000, poll_ms = 200 }"#,
    );

    let mut child = cutover(b.path())
        .args(["run", "plan.toml"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn cutover");
    eventually("the synthetic alert on both Alertmanagers", 20, || {
        !synthetic_alerts(am_a).is_empty() && !synthetic_alerts(am_b).is_empty()
    });
    child.kill().expect("SIGKILL cutover");
    let _ = child.wait();
    stage(t0, "run killed mid-canary");
    // Killed before it could resolve it: the alert is still firing.
    let left = synthetic_alerts(am_a);
    assert_eq!(left.len(), 1, "{left:?}");
    let run_id = left[0][MARKER].as_str().expect("marker").to_string();
    assert!(run_id.starts_with("run-"), "{run_id}");
    assert_eq!(left[0]["cutover_canary_via"], "old");
    assert_eq!(synthetic_alerts(am_b)[0][MARKER], run_id.as_str());

    let o = b.cutover(&["resume", "plan.toml"]);
    expect(&o, ExitClass::Failed.into());
    let text = format!("{}{}", out(&o), err(&o));
    assert!(
        text.contains("never received the synthetic alert within 8.0 s: new/web-team"),
        "{text}"
    );
    stage(t0, "resumed");
    let p = canary_details(&b.history(), "canary");
    assert_eq!(p["status"], "failed", "{p:#}");
    assert_eq!(p["verdict"], "fail", "{p:#}");
    let d = &p["details"];
    assert_eq!(
        d["leftovers_resolved"], 2,
        "both Alertmanagers' leftovers: {d:#}"
    );
    let r = receipts(d);
    assert_eq!(r.len(), 2, "{d:#}");
    assert_eq!(
        (r[0].0.as_str(), r[0].1.as_str(), r[0].2),
        ("old", "web-team", true)
    );
    let latency = r[0].3.expect("old/web-team latency");
    assert!(latency > 0.0 && latency < 8000.0, "{latency}");
    assert_eq!(
        (r[1].0.as_str(), r[1].1.as_str(), r[1].2, r[1].3),
        ("new", "web-team", false, None)
    );
    // Nothing left firing on either Alertmanager: the leftovers and this
    // attempt's own alert are resolved.
    assert_no_synthetic_alert(&[am_a, am_b]);
}

/// An Alertmanager that rejects the synthetic alert fails the canary with
/// its answer (status and body); nothing is left firing.
#[test]
fn canary_rejected_by_alertmanager_fails_with_its_answer() {
    let t0 = Instant::now();
    let b = Bench::start(23120);
    stage(t0, "fixture up");
    let [am_a, am_b] = b.ams();
    // `bad-name` is no valid label name for Alertmanager.
    b.plan(
        r#"{ labels = { alertname = "CutoverCanary", "bad-name" = "x" }, receivers = { old = ["web-team"], new = ["sink"] }, timeout_ms = 5000 }"#,
    );
    let o = b.cutover(&["run", "plan.toml"]);
    expect(&o, ExitClass::Failed.into());
    let p = canary_details(&b.history(), "canary");
    let summary = p["summary"].as_str().unwrap_or("");
    assert!(
        summary.starts_with(&format!(
            "fail: Alertmanager old rejected the synthetic alert: POST http://127.0.0.1:{am_a}/api/v2/alerts answered HTTP 400: "
        )),
        "{p:#}"
    );
    assert!(
        summary.contains("bad-name"),
        "Alertmanager's answer: {summary}"
    );
    assert_eq!(p["details"]["receivers"][0]["delivered"], false, "{p:#}");
    assert_no_synthetic_alert(&[am_a, am_b]);
}

/// A canary that cannot reach its Alertmanagers cannot judge: never a pass,
/// the run waits for a person, who may run it again or accept it by name.
#[test]
fn canary_that_cannot_judge_waits_for_a_person() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Nothing listens on these ports (the range of these tests, unused here).
    write_plan(
        dir.path(),
        23137,
        23138,
        23139,
        r#"{ labels = { alertname = "CutoverCanary" }, receivers = { new = ["sink"] }, timeout_ms = 3000 }"#,
    );
    let o = run(dir.path(), &["run", "plan.toml"]);
    expect(&o, ExitClass::Inconclusive.into());
    let text = format!("{}{}", out(&o), err(&o));
    assert!(
        text.contains("canary pilot/canary could not judge"),
        "{text}"
    );
    assert!(text.contains("Alertmanager new"), "{text}");
    // Resuming asks again (still nothing there), approving accepts it.
    let o = run(dir.path(), &["resume", "plan.toml"]);
    expect(&o, ExitClass::Inconclusive.into());
    let o = run(
        dir.path(),
        &[
            "approve",
            "plan.toml",
            "pilot/canary",
            "--by",
            "oncall-lead",
        ],
    );
    expect(&o, ExitClass::Ok.into());
    let o = run(dir.path(), &["resume", "plan.toml"]);
    expect(&o, ExitClass::Ok.into());
    let o = run(dir.path(), &["history", "plan.toml", "--json"]);
    let h: Vec<Value> = serde_json::from_str(&out(&o)).expect("history");
    assert_eq!(records(&h, "step-inconclusive").len(), 2);
    let p = canary_details(&h, "canary");
    assert_eq!(p["status"], "succeeded", "{p:#}");
    assert_eq!(p["details"]["accepted_by"], "oncall-lead", "{p:#}");
    assert!(
        p["summary"].as_str().is_some_and(
            |s| s.starts_with("accepted by oncall-lead: canary pilot/canary could not judge")
        ),
        "{p:#}"
    );
}

/// The reference migration's paging canaries (`e2e_migration.rs`): each
/// pilot's canary step got the synthetic alert to its team's receiver on
/// both stacks, with a measured latency; each pilot's notification-channel
/// checklist item passed with the canary; nothing synthetic is left firing.
pub(crate) fn assert_pilot_canaries(st: &super::e2e::Stage, plan: &str) {
    let h = st.history(plan);
    for (step, receiver) in [
        ("canary-web", "web-team"),
        ("canary-payments", "payments-oncall"),
    ] {
        let p = canary_details(&h, step);
        assert_eq!(p["status"], "succeeded", "{step}: {p:#}");
        assert_eq!(p["plugin"], "alertmanager-canary", "{step}: {p:#}");
        let r = receipts(&p["details"]);
        let who: Vec<(&str, &str, bool)> = r
            .iter()
            .map(|x| (x.0.as_str(), x.1.as_str(), x.2))
            .collect();
        assert_eq!(
            who,
            [("old", receiver, true), ("new", receiver, true)],
            "{step}: {p:#}"
        );
        for x in &r {
            let ms =
                x.3.unwrap_or_else(|| panic!("{step}: no latency for {x:?}"));
            // group_wait is 1 s; group_interval 5 s for a group that exists.
            assert!((0.0..20_000.0).contains(&ms), "{step}: {x:?}");
        }
    }
    for item in [
        "Team web's pages arrive from both stacks (paging canary)",
        "Team payments' pages arrive from both stacks (paging canary)",
    ] {
        let rec = records(&h, "checklist-item")
            .into_iter()
            .rev()
            .find(|r| r["payload"]["item"] == item)
            .unwrap_or_else(|| panic!("checklist item {item:?} not journaled"));
        assert_eq!(rec["payload"]["verdict"], "pass", "{rec:#}");
        assert!(
            rec["payload"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("delivered to old/")),
            "{rec:#}"
        );
    }
    assert_no_synthetic_alert(&[st.port("FIXTURE_AM_A_PORT"), st.port("FIXTURE_AM_B_PORT")]);
}

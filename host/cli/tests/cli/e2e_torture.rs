//! Crash torture on the real fixture: the reference migration
//! (`tests/fixture/plan/migration.toml.in`) migrates every wave, is rolled
//! back to `pre-migration` and migrates again in a second run, and
//! `cutover` is SIGKILLed at random points throughout (at least 30 times,
//! some mid-import, some mid-rollback) and resumed each time. Afterwards
//! both stacks hold exactly what the reference run leaves, both journals
//! verify, and no step finished twice.
//!
//! Kills land at random instants, and every other one is aimed: it waits
//! until the journal shows a migrate step started and not finished (an
//! import under way), then kills within 150 ms. A kill counts as
//! mid-import when the journal at that instant has a migrate step started
//! and not finished, and as mid-rollback when `cutover rollback` was alive
//! and had not journaled its result. The seed is printed.

use std::path::Path;
use std::process::{Child, Output};
use std::time::{Duration, Instant};

use cutover_base::exit::ExitClass;
use cutover_test_kit::rng::Rng;
use serde_json::Value;

use super::e2e::{Stage, records, stage};
use super::e2e_migration::{
    ALL_RULES, FIXTURE_SILENCES, active_silences, am_config, prom_rules, strings,
};
use super::{class, err, expect, out};

/// Kills asked of the whole scenario (the issue asks for at least 30).
const MIN_KILLS: usize = 30;
/// Kills asked of each phase of the scenario: first run, rollback, second run.
const RUN_KILLS: usize = 14;
const ROLLBACK_KILLS: usize = 5;
/// Kills that must land while an import is under way.
const MID_IMPORT_KILLS: usize = 3;

/// The journal's records, read directly (the file may end in a torn line
/// while a process is being killed: that line is skipped).
fn journal(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("journal.log"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// A migrate step started and not finished in `j` (an import under way).
fn import_under_way(j: &[Value]) -> bool {
    let mut open: Vec<&str> = Vec::new();
    for r in j {
        let step = r["payload"]["step"].as_str().unwrap_or("");
        match r["kind"].as_str() {
            Some("step-started") if r["payload"]["step_kind"] == "migrate" => open.push(step),
            Some("step-finished") => open.retain(|s| *s != step),
            _ => {}
        }
    }
    !open.is_empty()
}

fn kill9(child: &mut Child) -> bool {
    let alive = matches!(child.try_wait(), Ok(None));
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    alive
}

#[derive(Default, Debug)]
struct Kills {
    total: usize,
    mid_import: usize,
    mid_rollback: usize,
}

struct Torture<'a> {
    st: &'a Stage,
    rng: Rng,
    seed: u64,
    kills: Kills,
}

impl Torture<'_> {
    /// Spawns `args` and SIGKILLs it: at a random instant, or (`aimed`)
    /// just after an import starts. `Ok` when it was killed alive, its
    /// output when it ended first.
    fn attempt(&mut self, state: &str, args: &[&str], aimed: bool) -> Result<(), Output> {
        let dir = self.st.path().join(state);
        let mut child = self.st.spawn(args);
        let t0 = Instant::now();
        let at = Duration::from_millis(80 + self.rng.below(2000));
        let lag = Duration::from_millis(self.rng.below(25));
        let mut aim_seen: Option<Instant> = None;
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                return Err(child.wait_with_output().expect("output"));
            }
            if aimed && aim_seen.is_none() && import_under_way(&journal(&dir)) {
                aim_seen = Some(Instant::now());
            }
            let due = match aim_seen {
                Some(seen) => seen.elapsed() >= lag,
                // An aimed kill that sees no import by its instant (later
                // than a random one) falls back to it.
                None => t0.elapsed() >= if aimed { at * 4 } else { at },
            };
            if due {
                let importing = import_under_way(&journal(&dir));
                if kill9(&mut child) {
                    self.kills.total += 1;
                    self.kills.mid_import += usize::from(importing);
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(if aimed { 2 } else { 10 }));
        }
    }

    /// What a person does when a resumed run waits: confirms team web's
    /// pilot, or settles an interrupted non-idempotent step by looking at
    /// the system (the decommission silence is there: done; not there:
    /// run it again).
    fn attend(&self, plan: &str, state: &str) {
        let o = self.st.cutover(&["status", plan, "--json"]);
        expect(&o, ExitClass::Ok.into());
        let s: Value = serde_json::from_str(&out(&o)).expect("status json");
        let target = s["waiting_for"].as_str().unwrap_or("").to_string();
        // A manual checklist item (team web's confirmation) awaiting a person.
        let item = s["phases"].as_array().into_iter().flatten().find_map(|p| {
            let i = p["checklist"]
                .as_array()?
                .iter()
                .find(|i| i["status"] == "awaiting-confirmation")?;
            Some((
                p["id"].as_str()?.to_string(),
                i["index"].as_u64()?.to_string(),
            ))
        });
        let o = match (target.as_str(), item) {
            ("", Some((phase, index))) => self.st.cutover(&[
                "approve", plan, &phase, "--item", &index, "--by", "web-lead",
            ]),
            ("decommission/silence-old", _) => {
                let muted = active_silences(self.st, "FIXTURE_AM_A_PORT")
                    .iter()
                    .any(|(by, _)| by == "cutover");
                let mut args = vec!["approve", plan, &target, "--by", "torture"];
                if !muted {
                    args.push("--retry");
                }
                self.st.cutover(&args)
            }
            (other, _) => panic!(
                "{state}: waiting for {other:?}, not a pause this plan has (seed {})\n{s:#}",
                self.seed
            ),
        };
        expect(&o, ExitClass::Ok.into());
    }

    /// `run`/`resume` of `plan` (state in `state`) with `kills` kills, then
    /// to completion.
    fn migrate(&mut self, plan: &str, state: &str, kills: usize) {
        let started = |dir: &Path| journal(dir).iter().any(|r| r["kind"] == "run-started");
        let dir = self.st.path().join(state);
        let before = self.kills.total;
        let mut n = 0;
        loop {
            let cmd = if started(&dir) { "resume" } else { "run" };
            let killing = self.kills.total - before < kills;
            let res = if killing {
                n += 1;
                // Aimed until enough kills landed mid-import, then every other one.
                let aimed = self.kills.mid_import < MID_IMPORT_KILLS || n % 2 == 0;
                self.attempt(state, &[cmd, plan], aimed)
            } else {
                Err(self.st.cutover(&[cmd, plan]))
            };
            let Err(o) = res else { continue };
            match o.status.code().and_then(class) {
                Some(ExitClass::Ok) => break,
                Some(ExitClass::Paused) => self.attend(plan, state),
                other => panic!(
                    "{cmd} {plan} ended {other:?} (seed {}); kills so far {:?}\n--- stdout\n{}\n--- stderr\n{}",
                    self.seed,
                    self.kills,
                    out(&o),
                    err(&o)
                ),
            }
        }
    }

    /// `cutover rollback --to pre-migration`, killed at random until
    /// `kills` kills landed mid-rollback (some category applied or being
    /// applied, the result not journaled yet) or it finished, then to
    /// completion. Each attempt resumes where the last one stopped.
    fn roll_back(&mut self, plan: &str, kills: usize) {
        let args = [
            "rollback",
            "--plan",
            plan,
            "--to",
            "pre-migration",
            "--now",
            "--by",
            "torture",
        ];
        let dir = self.st.path().join("state");
        let (mut mid, mut attempts) = (0, 0);
        while mid < kills && attempts < 40 {
            attempts += 1;
            // Aimed: within 5 ms of this attempt applying a category (a
            // rollback that commits fewer records now finishes soon after).
            let mut child = self.st.spawn(&args);
            let lag = Duration::from_millis(self.rng.below(5));
            let t0 = Instant::now();
            let before = rollback_progress(&dir);
            while rollback_progress(&dir) == before && t0.elapsed() < Duration::from_secs(30) {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            std::thread::sleep(lag);
            if !kill9(&mut child) {
                let o = child.wait_with_output().expect("output");
                expect(&o, ExitClass::Ok.into());
                return;
            }
            self.kills.total += 1;
            if !records(&journal(&dir), "rolled-back").is_empty() {
                return; // killed after its last record: nothing left to do
            }
            if rollback_under_way(&dir) {
                mid += 1;
                self.kills.mid_rollback += 1;
            }
        }
        let o = self.st.cutover(&args);
        expect(&o, ExitClass::Ok.into());
    }
}

/// The saved progress of the rollback to `pre-migration`, per side:
/// categories done and whether it finished (`None`: not begun).
fn rollback_progress(state: &Path) -> [Option<(usize, bool)>; 2] {
    ["old", "new"].map(|side| {
        let p = state.join(format!("points/pre-migration.{side}.rollback.json"));
        let v: Value = serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()?;
        let body = &v["body"];
        Some((
            body["done"].as_array().map_or(0, Vec::len),
            body["finished"].as_bool()?,
        ))
    })
}

/// A rollback to `pre-migration` has begun applying and not finished.
fn rollback_under_way(state: &Path) -> bool {
    let p = rollback_progress(state);
    p.iter().any(Option::is_some) && !p.iter().all(|s| matches!(s, Some((_, true))))
}

/// Stack B holds all of stack A's rules, team routes and silences, and
/// stack A one decommission silence beside its own: the reference outcome.
#[track_caller]
fn assert_migrated(st: &Stage, when: &str) {
    assert_eq!(
        prom_rules(st, "FIXTURE_PROM_B_PORT"),
        strings(&ALL_RULES),
        "{when}"
    );
    let cfg = am_config(st, "FIXTURE_AM_B_PORT");
    for part in [
        "receiver: web-team",
        "receiver: payments-oncall",
        "receiver: platform-team",
    ] {
        assert_eq!(
            cfg.matches(part).count(),
            1,
            "{when}: {part} once in\n{cfg}"
        );
    }
    let on_b: Vec<String> = active_silences(st, "FIXTURE_AM_B_PORT")
        .into_iter()
        .map(|(_, c)| c)
        .collect();
    assert_eq!(on_b, strings(&FIXTURE_SILENCES), "{when}");
    let on_a = active_silences(st, "FIXTURE_AM_A_PORT");
    let mine = on_a.iter().filter(|(by, _)| by == "cutover").count();
    assert_eq!(mine, 1, "{when}: one decommission silence on A: {on_a:?}");
    assert_eq!(
        prom_rules(st, "FIXTURE_PROM_A_PORT"),
        strings(&ALL_RULES),
        "{when}"
    );
}

/// The journal of `plan` verifies (`history` checks the hash chain), its
/// seqs are contiguous, and every step finished exactly once.
#[track_caller]
fn assert_journal(st: &Stage, plan: &str, seed: u64) {
    let h = st.history(plan);
    for (i, r) in h.iter().enumerate() {
        assert_eq!(
            r["seq"].as_u64(),
            Some(i as u64 + 1),
            "{plan}: contiguous seqs"
        );
    }
    let mut finished: Vec<String> = records(&h, "step-finished")
        .iter()
        .map(|r| {
            format!(
                "{}/{}",
                r["payload"]["phase"].as_str().unwrap_or(""),
                r["payload"]["step"].as_str().unwrap_or("")
            )
        })
        .collect();
    let total = finished.len();
    finished.sort();
    finished.dedup();
    assert_eq!(
        finished.len(),
        total,
        "{plan}: a step finished twice (seed {seed})"
    );
    assert!(
        total >= 15,
        "{plan}: every step of the plan finished: {finished:?}"
    );
}

#[test]
fn sigkilled_migration_rollback_and_migration_again_end_where_the_reference_does() {
    let t0 = Instant::now();
    let st = Stage::start(19800, "8s", None);
    stage(t0, "fixture up");
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    eprintln!("e2e torture seed {seed}");
    let mut t = Torture {
        st: &st,
        rng: Rng::seeded(seed),
        seed,
        kills: Kills::default(),
    };

    t.migrate("migration.toml", "state", RUN_KILLS);
    stage(t0, &format!("first migration done: {:?}", t.kills));
    assert_migrated(&st, "after the first migration");

    t.roll_back("migration.toml", ROLLBACK_KILLS);
    stage(t0, &format!("rolled back: {:?}", t.kills));
    assert!(
        prom_rules(&st, "FIXTURE_PROM_B_PORT").is_empty(),
        "B's rules rolled back"
    );
    let cfg = am_config(&st, "FIXTURE_AM_B_PORT");
    assert!(!cfg.contains("web-team"), "B's routes rolled back:\n{cfg}");
    assert!(
        active_silences(&st, "FIXTURE_AM_B_PORT").is_empty(),
        "B's silences rolled back"
    );
    let on_a: Vec<String> = active_silences(&st, "FIXTURE_AM_A_PORT")
        .into_iter()
        .map(|(_, c)| c)
        .collect();
    assert_eq!(on_a, strings(&FIXTURE_SILENCES), "A unmuted again");
    assert_eq!(prom_rules(&st, "FIXTURE_PROM_A_PORT"), strings(&ALL_RULES));

    // The second migration is a new run: the same plan on its own state.
    let plan = st.path().join("migration.toml");
    let text = std::fs::read_to_string(&plan).expect("plan");
    assert!(
        text.contains("state_dir = \"state\""),
        "plan template changed"
    );
    std::fs::write(
        st.path().join("again.toml"),
        text.replace("state_dir = \"state\"", "state_dir = \"state2\""),
    )
    .expect("write plan");
    let remaining = MIN_KILLS.saturating_sub(t.kills.total).max(RUN_KILLS);
    t.migrate("again.toml", "state2", remaining);
    stage(t0, &format!("second migration done: {:?}", t.kills));
    assert_migrated(&st, "after the second migration");

    assert_journal(&st, "migration.toml", seed);
    assert_journal(&st, "again.toml", seed);
    let k = &t.kills;
    eprintln!("e2e torture: {k:?} in {:?} (seed {seed})", t0.elapsed());
    assert!(k.total >= MIN_KILLS, "{k:?}");
    assert!(
        k.mid_import >= MID_IMPORT_KILLS,
        "kills mid-import: {k:?} (seed {seed})"
    );
    assert!(
        k.mid_rollback >= 2,
        "kills mid-rollback: {k:?} (seed {seed})"
    );
}

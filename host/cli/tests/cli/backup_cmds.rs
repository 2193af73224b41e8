//! `cutover backup show|create|restore|prune|point`: each changing command
//! takes the plan's lease (a runner and a backup command never run at
//! once: the second is refused naming the holder's pid), journals what it
//! did and who did it (`backup-started`, `backup-finished`, shown by
//! `history`), and a backup or point records the seq of its
//! `backup-started` record, which `backup show` prints. Bad input (an
//! unknown or invalid id, a corrupted manifest) is refused with its exit
//! class before anything is journaled. Human output under snapshots in
//! `snapshots/` (`scripts/bless.sh`).

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use cutover_base::exit::ExitClass;
use cutover_test_kit::plan::{PlanBuilder, dir_grant, system_dirs};
use cutover_test_kit::slow_am::{SlowAm, silence};

use super::{
    assert_has, cutover, err, expect, fixture, noop_step, out, phase, run, run_expect,
    spawn_run_until_waiting, wait_step,
};

/// `(regex, replacement)` for what varies between runs and machines.
fn redactions(dir: &Path) -> Vec<(String, &'static str)> {
    let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let mut r: Vec<(String, &'static str)> = [dir.to_path_buf(), canonical]
        .iter()
        .map(|p| (regex_escape(&p.display().to_string()), "[DIR]"))
        .collect();
    r.extend(
        [
            (r"\bb-\d{8}T\d{6}Z-[0-9a-f]{6}\b", "b-[ID]"),
            (
                r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z\b",
                "[TIME]",
            ),
            (r"\b[0-9a-f]{64}\b", "[SHA256]"),
            (r"\bsha256:[0-9a-f]{16}\b", "sha256:[SHA256-16]"),
            (r"\b[0-9a-f]{32}\b", "[HOLDER]"),
            (r"\b\d{13}\b", "[EPOCH-MS]"),
            (
                r"\bpid \d+ on \S+, last heartbeat [^)]+\)",
                "pid [PID] on [HOST], last heartbeat [AGE])",
            ),
        ]
        .map(|(p, with)| (p.to_string(), with)),
    );
    r
}

fn regex_escape(text: &str) -> String {
    text.chars().fold(String::new(), |mut s, c| {
        if r"\.+*?()|[]{}^$#&-~".contains(c) {
            s.push('\\');
        }
        s.push(c);
        s
    })
}

/// Asserts `text` (what `cutover ARGS` printed) against snapshot `name`.
#[track_caller]
fn assert_snapshot(name: &str, dir: &Path, args: &[&str], text: &str) {
    let mut settings = insta::Settings::clone_current();
    // Backup ids vary: the description names them as the output does.
    let shown: Vec<&str> = args
        .iter()
        .map(|a| if a.starts_with("b-2") { "b-[ID]" } else { a })
        .collect();
    settings.set_description(format!("cutover {}", shown.join(" ")));
    settings.set_omit_expression(true);
    for (pattern, with) in redactions(dir) {
        settings.add_filter(&pattern, with);
    }
    settings.bind(|| insta::assert_snapshot!(name, text));
}

/// Runs `cutover ARGS`, expects `want` and snapshots its standard output.
#[track_caller]
fn snap_out(name: &str, dir: &Path, args: &[&str], want: ExitClass) -> Output {
    let o = run_expect(dir, args, want.into());
    assert_snapshot(name, dir, args, &out(&o));
    o
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// The journal's records (`history --json`).
fn records(dir: &Path) -> Vec<serde_json::Value> {
    let o = run_expect(dir, &["history", "plan.toml", "--json"], 0);
    json(&out(&o)).as_array().cloned().unwrap_or_default()
}

/// The records of kind `kind`.
fn of_kind(dir: &Path, kind: &str) -> Vec<serde_json::Value> {
    records(dir)
        .into_iter()
        .filter(|r| r["kind"] == kind)
        .collect()
}

const PLAN: &[&str] = &["--plan", "plan.toml"];

fn args<'a>(head: &[&'a str], tail: &[&'a str]) -> Vec<&'a str> {
    head.iter().chain(PLAN).chain(tail).copied().collect()
}

#[test]
fn backup_commands_journal_who_and_record_their_journal_position() {
    let tmp = fixture(&phase(
        "one",
        "One",
        "rollback_point = false",
        &[noop_step("s1")],
    ));
    let dir = tmp.path();
    let config = dir.join("old/configurations.yml");

    // create: the backup's lineage is the seq of its `backup-started`.
    let a = args(
        &["backup", "create"],
        &[
            "--system",
            "old",
            "--types",
            "configurations",
            "--by",
            "ana",
        ],
    );
    let o = snap_out("backup_create", dir, &a, ExitClass::Ok);
    let id = out(&o)
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("backup "))
        .expect("backup ID")
        .to_string();
    let started = of_kind(dir, "backup-started");
    assert_eq!(started.len(), 1);
    assert_eq!(started[0]["payload"]["by"], "ana");
    assert_eq!(started[0]["payload"]["op"]["command"], "create");
    assert_eq!(started[0]["payload"]["op"]["id"], id.as_str());
    let seq = started[0]["seq"].as_u64().expect("seq");
    let finished = of_kind(dir, "backup-finished");
    assert_eq!(finished[0]["payload"]["started_seq"], seq);
    assert_eq!(finished[0]["payload"]["ok"], true);

    let a = args(&["backup", "show", &id], &["--json"]);
    let shown = json(&out(&run_expect(dir, &a, 0)));
    assert_eq!(shown["lineage"]["journal_seq"], seq);
    assert_ne!(seq, 0);
    snap_out(
        "backup_show",
        dir,
        &args(&["backup", "show", &id], &[]),
        ExitClass::Ok,
    );

    // point: the same, by $USER when --by is not given.
    let a = args(
        &["backup", "point"],
        &[
            "--system",
            "old",
            "--name",
            "p",
            "--categories",
            "configurations",
        ],
    );
    let o = cutover(dir)
        .args(&a)
        .env("USER", "dora")
        .output()
        .expect("spawn");
    expect(&o, 0);
    assert_snapshot("backup_point", dir, &a, &out(&o));
    let started = of_kind(dir, "backup-started");
    let point = started.last().expect("point record");
    assert_eq!(point["payload"]["by"], "dora");
    assert_eq!(point["payload"]["op"]["command"], "point");
    let a = args(&["backup", "verify", "point:p"], &["--json"]);
    run_expect(dir, &a, 0);
    let p: serde_json::Value = {
        let raw = std::fs::read_to_string(dir.join(".state/points/p.json")).expect("point");
        json(&raw)["body"].clone()
    };
    assert_eq!(p["lineage"]["journal_seq"], point["seq"]);

    // restore: applied, journaled by bob.
    std::fs::write(&config, "x: 2\n").expect("change");
    let a = args(&["backup", "restore", &id], &["--by", "bob"]);
    snap_out("backup_restore", dir, &a, ExitClass::Ok);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), "x: 1\n");

    // prune: a second backup (one type fails: exit 1), keep one.
    let a = args(
        &["backup", "create"],
        &[
            "--system",
            "old",
            "--types",
            "configurations,no_such_kind",
            "--by",
            "ana",
        ],
    );
    run_expect(dir, &a, ExitClass::Failed.into());
    let a = args(&["backup", "prune"], &["--keep", "1", "--by", "carol"]);
    let o = snap_out("backup_prune", dir, &a, ExitClass::Ok);
    assert_has(&out(&o), &format!("deleted backup {id}"));
    let a = args(&["backup", "show", &id], &[]);
    run_expect(dir, &a, ExitClass::Usage.into());

    // Every record, as `history` shows them.
    snap_out(
        "backup_history",
        dir,
        &["history", "plan.toml"],
        ExitClass::Ok,
    );
    let by: Vec<String> = of_kind(dir, "backup-finished")
        .iter()
        .map(|r| r["payload"]["by"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(by, ["ana", "dora", "bob", "ana", "carol"]);
}

#[test]
fn bad_input_is_refused_with_its_class_before_anything_is_journaled() {
    let tmp = fixture(&phase(
        "one",
        "One",
        "rollback_point = false",
        &[noop_step("s1")],
    ));
    let dir = tmp.path();

    // Unknown and invalid ids: usage errors naming them.
    for cmd in ["show", "restore"] {
        let o = run(dir, &args(&["backup", cmd, "b-nope"], &[]));
        expect(&o, ExitClass::Usage.into());
        assert_eq!(err(&o), "error: no backup named \"b-nope\"\n");
        let o = run(dir, &args(&["backup", cmd, "../x"], &[]));
        expect(&o, ExitClass::Usage.into());
        assert_has(&err(&o), "invalid backup id \"../x\": starts with a dot");
    }
    assert!(records(dir).is_empty(), "{:?}", records(dir));

    // A corrupted manifest: a state problem naming it; nothing applied.
    let a = args(
        &["backup", "create"],
        &["--system", "old", "--types", "configurations", "--json"],
    );
    let id = json(&out(&run_expect(dir, &a, 0)))["id"]
        .as_str()
        .expect("id")
        .to_string();
    let before = records(dir).len();
    let manifest = dir.join(format!(".state/backups/{id}.json"));
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("\"old\"", "\"new\"")).unwrap();
    std::fs::write(dir.join("old/configurations.yml"), "x: 2\n").unwrap();
    for cmd in ["show", "restore"] {
        let a = args(&["backup", cmd, &id], &[]);
        let o = run(dir, &a);
        expect(&o, ExitClass::State.into());
        assert_has(
            &err(&o),
            &format!("error: {id}: manifest is corrupt: expected "),
        );
        assert_snapshot(&format!("backup_{cmd}_corrupt_stderr"), dir, &a, &err(&o));
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("old/configurations.yml")).unwrap(),
        "x: 2\n"
    );
    assert_eq!(records(dir).len(), before, "a refused command journaled");
    // Prune cannot know what the corrupt manifest references: refused.
    let o = run(dir, &args(&["backup", "prune"], &["--keep", "0"]));
    expect(&o, ExitClass::State.into());
    assert_has(&err(&o), "manifest is corrupt");
    let failed = of_kind(dir, "backup-finished");
    assert_eq!(failed.last().expect("prune")["payload"]["ok"], false);
    let h = out(&run_expect(dir, &["history", "plan.toml"], 0));
    assert_has(&h, "prune keeping 0 backup(s) and 0 point(s) by ");
    assert_has(
        &h,
        &format!(": error: {id}: manifest is corrupt: expected "),
    );
    assert!(manifest.exists());
}

#[test]
fn a_runner_and_a_backup_command_never_hold_the_lease_at_once() {
    let steps = [wait_step("long", "3s"), noop_step("after")];
    let tmp = fixture(&phase("one", "One", "rollback_point = false", &steps));
    let dir = tmp.path();
    let runner = spawn_run_until_waiting(dir);
    let pid = format!("pid {}", runner.id());
    let cases: [(&str, Vec<&str>); 3] = [
        (
            "create",
            args(
                &["backup", "create"],
                &["--system", "old", "--types", "configurations"],
            ),
        ),
        (
            "point",
            args(&["backup", "point"], &["--system", "old", "--name", "p"]),
        ),
        ("prune", args(&["backup", "prune"], &["--keep", "0"])),
    ];
    for (name, a) in &cases {
        let o = run(dir, a);
        expect(&o, ExitClass::State.into());
        assert_has(&err(&o), "lease held by `cutover run`, holder ");
        assert_has(&err(&o), &pid);
        if *name == "create" {
            assert_snapshot("backup_create_lease_held_stderr", dir, a, &err(&o));
        }
    }
    expect(&runner.wait_with_output().expect("runner"), 0);
    assert!(of_kind(dir, "backup-started").is_empty());
    assert!(!dir.join(".state/points/p.json").exists());
    // Once the runner is done, the backup goes through.
    run_expect(dir, &cases[0].1, 0);
}

/// Plan whose new system is the `alertmanager` adapter over `am/` and the
/// API at `origin` (pinned with `cutover plugin lock`).
fn am_fixture(origin: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    system_dirs(tmp.path(), |_| "x: 1\n".into());
    std::fs::create_dir_all(tmp.path().join("am")).unwrap();
    std::fs::write(tmp.path().join("am/alertmanager.yml"), AM_CONFIG).unwrap();
    let grants = format!(
        "grants = {{ hosts = [\"{origin}\"], config = {{ url = \"{origin}\" }}, dirs = [{{ name = \"config\", path = \"am\", write = true }}], secrets = [\"alertmanager_user\", \"alertmanager_password\"] }}"
    );
    PlanBuilder::new("cli-test")
        .unpinned()
        .plugin("noop", "noop-action", "")
        .plugin("file-old", "file-adapter", &dir_grant("data", "old", true))
        .plugin("am", "alertmanager", &grants)
        .systems("file-old", "am")
        .write(
            tmp.path(),
            &phase("one", "One", "rollback_point = false", &[noop_step("s1")]),
        );
    run_expect(tmp.path(), &["plugin", "lock", "plan.toml"], 0);
    tmp
}

const AM_CONFIG: &str = "route:\n  receiver: ops\nreceivers:\n  - name: ops\n";

#[test]
fn a_backup_in_progress_holds_the_lease_and_is_never_pruned() {
    let (server, slow) = SlowAm::start(vec![silence("s1", "Watchdog")], true);
    let tmp = am_fixture(&server.origin());
    let dir = tmp.path();
    let a = args(
        &["backup", "create"],
        &[
            "--system",
            "new",
            "--types",
            "configurations,silences",
            "--by",
            "ana",
        ],
    );
    let backup = cutover(dir)
        .args(&a)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut backup = backup;
    let t0 = std::time::Instant::now();
    while !slow.wait_held(Duration::from_millis(100)) {
        let ended = backup.try_wait().expect("try_wait").is_some();
        if ended || t0.elapsed() > Duration::from_secs(60) {
            let _ = backup.kill();
            let o = backup.wait_with_output().expect("backup");
            panic!(
                "the backup never asked for the silences\n--- stdout\n{}\n--- stderr\n{}",
                out(&o),
                err(&o)
            );
        }
    }
    // Mid-write: one blob stored, no manifest, the lease held by the backup.
    let blobs = || {
        walk(&dir.join(".state/backups/blobs"))
            .into_iter()
            .filter(|p| !p.contains("/blobs/tmp/"))
            .count()
    };
    assert_eq!(blobs(), 1);
    let pid = format!("pid {}", backup.id());
    for (name, refused) in [
        (
            "backup_prune_lease_held_stderr",
            args(&["backup", "prune"], &["--keep", "0", "--by", "carol"]),
        ),
        ("run_lease_held_stderr", vec!["run", "plan.toml"]),
    ] {
        let o = run(dir, &refused);
        assert_snapshot(name, dir, &refused, &err(&o));
        expect(&o, ExitClass::State.into());
        assert_has(
            &err(&o),
            "lease held by `cutover backup create by ana`, holder ",
        );
        assert_has(&err(&o), &pid);
    }
    assert_eq!(blobs(), 1, "a blob of the backup in progress was deleted");
    // A long backup keeps its lease alive (the heartbeat runs every 3 s).
    let heartbeat = || {
        let text = std::fs::read_to_string(dir.join(".state/lease.json")).expect("lease");
        json(&text)["heartbeat_at"].as_i64().expect("heartbeat_at")
    };
    let first = heartbeat();
    std::thread::sleep(Duration::from_millis(3500));
    assert!(heartbeat() > first, "no heartbeat during the backup");

    slow.release();
    let o = backup.wait_with_output().expect("backup");
    expect(&o, 0);
    let id = out(&o)
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("backup "))
        .expect("backup ID")
        .to_string();
    assert_eq!(blobs(), 2);
    // Prune now runs and keeps the backup; the backup restores.
    run_expect(
        dir,
        &args(&["backup", "prune"], &["--keep", "1", "--by", "carol"]),
        0,
    );
    std::fs::write(dir.join("am/alertmanager.yml"), "route: {}\n").unwrap();
    slow.set_silences(Vec::new());
    let o = run_expect(dir, &args(&["backup", "restore", &id], &["--by", "bob"]), 0);
    assert_has(&out(&o), "2 of 2 types restored");
    assert_eq!(
        std::fs::read_to_string(dir.join("am/alertmanager.yml")).unwrap(),
        AM_CONFIG
    );
    assert_eq!(slow.silences().len(), 1);
    let commands: Vec<(String, String)> = of_kind(dir, "backup-started")
        .iter()
        .map(|r| {
            let p = &r["payload"];
            (
                p["op"]["command"].as_str().unwrap_or("").to_string(),
                p["by"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let want = [("create", "ana"), ("prune", "carol"), ("restore", "bob")]
        .map(|(c, b)| (c.to_string(), b.to_string()));
    assert_eq!(commands, want);
}

/// Every file under `dir`, as paths.
fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p.display().to_string());
        }
    }
    out
}

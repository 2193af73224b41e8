//! `cutover state migrate` into a real PostgreSQL, and what an operator is
//! told when the state database cannot be used (issue 18).

use std::path::Path;

use cutover_base::exit::ExitClass;
use cutover_test_kit::pg::{PgDb, PgFixture};

use super::two_runners::db_run;
use super::*;

/// Phase one captures a rollback point of both systems' configurations;
/// phase two waits at a gate.
fn captured_then_gated() -> String {
    let capture = r#"rollback_point = { categories = ["configurations"] }"#;
    let gate =
        "rollback_point = false\ngate = { approvers = [\"alice\"], message = \"ready for two?\" }";
    phase("one", "One", capture, &[noop_step("s1")])
        + &phase("two", "Two", gate, &[noop_step("s2")])
}

fn json_of(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_str(&out(o)).unwrap_or_else(|e| panic!("json: {e}\n{}", out(o)))
}

fn migrate(dir: &Path, db: &PgDb) -> std::process::Output {
    cutover(dir)
        .args(["state", "migrate", "--from", ".state", "--to", &db.url])
        .envs(db.env())
        .output()
        .expect("spawn")
}

#[test]
fn a_paused_run_moved_into_postgres_carries_on_there_and_the_directory_is_refused() {
    let db = PgFixture::start().fresh_db();
    let tmp = fixture(&captured_then_gated());
    let dir = tmp.path();
    let o = run(dir, &["run", "plan.toml"]);
    assert_eq!(class(code(&o)), Some(ExitClass::Paused), "{}", err(&o));
    run_expect(
        dir,
        &[
            "backup",
            "create",
            "--plan",
            "plan.toml",
            "--system",
            "old",
            "--types",
            "configurations",
        ],
        ExitClass::Ok.into(),
    );
    let before = status_json(dir);
    let history_before = json_of(&run(dir, &["history", "plan.toml", "--json"]));

    let o = migrate(dir, &db);
    expect(&o, ExitClass::Ok.into());
    assert_has(&out(&o), "verified");
    assert_has(&out(&o), "journal records");

    // The directory is not written again.
    let o = run(dir, &["resume", "plan.toml"]);
    expect(&o, ExitClass::State.into());
    assert_has(&err(&o), "was moved to postgres");

    // The database holds the same run: the same records, byte for byte.
    let after = json_of(&db_run(dir, &db, &["status", "plan.toml", "--json"]));
    for key in ["run_id", "status", "waiting_for", "records", "fingerprint"] {
        assert_eq!(after[key], before[key], "{key}");
    }
    let history_after = json_of(&db_run(dir, &db, &["history", "plan.toml", "--json"]));
    assert_eq!(history_after, history_before);
    // Its backups and rollback point verify from the database.
    let o = db_run(
        dir,
        &db,
        &["backup", "verify", "--plan", "plan.toml", "--json"],
    );
    expect(&o, ExitClass::Ok.into());
    let items = json_of(&o);
    let items = items.as_array().expect("verify items");
    assert!(items.len() >= 3, "a backup and a point: {items:?}");
    assert!(items.iter().all(|i| i["ok"] == true), "{items:?}");
    assert!(
        items
            .iter()
            .any(|i| i["id"].as_str().is_some_and(|id| id.starts_with("point:")))
    );

    // The run carries on from the database.
    expect(
        &db_run(dir, &db, &["approve", "plan.toml", "two", "--by", "alice"]),
        ExitClass::Ok.into(),
    );
    expect(
        &db_run(dir, &db, &["resume", "plan.toml"]),
        ExitClass::Ok.into(),
    );
    let done = json_of(&db_run(dir, &db, &["status", "plan.toml", "--json"]));
    assert_eq!(done["status"], "completed");

    // Moving it twice is refused.
    let o = migrate(dir, &db);
    expect(&o, ExitClass::Usage.into());
    assert_has(&err(&o), "already moved");
}

#[test]
fn a_wrong_password_an_unreachable_server_or_a_password_in_the_url_is_a_clear_state_error() {
    let db = PgFixture::start().fresh_db();
    let tmp = fixture(&captured_then_gated());
    let dir = tmp.path();
    let with = |url: &str, password: &str| {
        cutover(dir)
            .args(["status", "plan.toml"])
            .env("CUTOVER_STATE_URL", url)
            .env("CUTOVER_STATE_PASSWORD", password)
            .output()
            .expect("spawn")
    };
    let o = with(&db.url, "not-the-password");
    expect(&o, ExitClass::State.into());
    assert_has(&err(&o), "authentication failed");
    assert_has(&err(&o), &format!("/{}", db.name));
    assert!(!err(&o).contains("not-the-password"), "{}", err(&o));

    // Nothing listens on port 1.
    let o = with(
        &format!("postgres://cutover@127.0.0.1:1/{}", db.name),
        &db.password,
    );
    expect(&o, ExitClass::State.into());
    assert_has(&err(&o), "cannot connect");

    let o = with(
        &format!("postgres://cutover:{}@127.0.0.1:1/{}", db.password, db.name),
        &db.password,
    );
    expect(&o, ExitClass::State.into());
    assert_has(&err(&o), "password");
    assert!(!err(&o).contains(&db.password), "{}", err(&o));
}

#[test]
fn a_database_gone_mid_run_stops_the_runner_with_exit_8_and_resume_completes_once_it_is_back() {
    const STEPS: usize = 45;
    let pg = PgFixture::start_private();
    let db = pg.fresh_db();
    let tmp = fixture(&super::two_runners::slow_plan(STEPS));
    let dir = tmp.path();
    let mut runner = super::two_runners::spawn_run(dir, &db, "run");
    super::two_runners::wait_for_steps(dir, &db, 3);
    pg.stop();
    let (class_of, stderr) = super::two_runners::exit_of(
        &mut runner,
        60,
        "the runner did not stop when its database went away",
    );
    assert_eq!(class_of, Some(ExitClass::State), "{stderr}");
    assert!(
        stderr.contains("state database") && stderr.contains(&format!(":{}/", pg.port())),
        "the error names the database: {stderr}"
    );
    // While it is down, status says so (exit 8), without a panic.
    let o = db_run(dir, &db, &["status", "plan.toml"]);
    expect(&o, ExitClass::State.into());
    assert_has(&err(&o), "cannot connect");

    pg.restart();
    super::two_runners::finish(dir, &db);
    let recs = super::two_runners::records(dir, &db);
    super::two_runners::assert_each_step_once(&recs, STEPS);
}

#[test]
fn a_journal_row_edited_in_the_database_is_reported_as_corruption_with_exit_8() {
    let pg = PgFixture::start();
    let db = pg.fresh_db();
    let tmp = fixture(&super::two_runners::slow_plan(6));
    let dir = tmp.path();
    expect(
        &db_run(dir, &db, &["run", "plan.toml"]),
        ExitClass::Ok.into(),
    );
    expect(
        &db_run(dir, &db, &["history", "plan.toml"]),
        ExitClass::Ok.into(),
    );
    let table = format!(
        "cutover_journal_{}",
        cutover_state::pg::plan_key("cli-test")
    );
    pg.psql(
        &db.name,
        &format!(
            "UPDATE {table} SET line = overlay(line placing \
             (CASE substr(line, 20, 1) WHEN '1' THEN '2' ELSE '1' END) from 20 for 1) \
             WHERE seq = 5"
        ),
    );
    let o = db_run(dir, &db, &["history", "plan.toml"]);
    expect(&o, ExitClass::State.into());
    assert_has(&err(&o), "journal corrupt at record seq 5");
    assert_has(&err(&o), &table);
    // A runner refuses to continue on it too.
    let o = db_run(dir, &db, &["resume", "plan.toml"]);
    expect(&o, ExitClass::State.into());
    assert_has(&err(&o), "corrupt");
}
